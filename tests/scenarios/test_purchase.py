"""The issue's whole path from `python -m bot chat`: find, order, pay in the sandbox, see it
shipped after a manager ships it in the console — then return it and get the money back."""

from __future__ import annotations

import io
from pathlib import Path

from console import accounts
from devtools.simulator import run_chat
from tests.conftest import AES_KEY, APP_ID, TOKEN
from tests.console.conftest import PASSWORD, signed_in
from tests.scenarios.test_simulator import exchanges

TRANSCRIPT = Path(__file__).resolve().parent / "transcripts" / "purchase.txt"
OPENID = "oPurchaseTestUser00000000000"


def chat(url: str, sandbox: str, lines: str) -> list[tuple[str, list[str]]]:
    out = io.StringIO()
    code = run_chat(f"{url}/wechat", sandbox, script=io.StringIO(lines), out=out, token=TOKEN,
                    app_id=APP_ID, aes_key=AES_KEY, openid=OPENID, wait=0.6)
    assert code == 0, out.getvalue()
    return exchanges(out.getvalue())


def test_find_order_pay_see_it_shipped_and_return_it(shop):
    base = shop.storage.wxpay.config.notify_url.removesuffix("/shop/wxpay/notify")
    seen = dict(chat(base, shop.sandbox, TRANSCRIPT.read_text(encoding="utf-8")))
    assert "丝绒哑光口红" in seen["唇膏"][0]
    assert seen["确认"][0].startswith("下单成功！订单号")
    assert "去支付：" in seen["确认"][0]
    assert any("支付成功" in message for message in seen["/pay"])
    assert "已付款 ¥129" in seen["我的订单"][0]
    assert "正在备货" in seen["快递到哪了"][0]

    with shop.storage.sessions.begin() as db:
        accounts.create(db, "manager", "manager", PASSWORD)
    manager = signed_in(shop.app, "manager")
    listing = manager.get("/admin/shop/orders").text
    order_id = int(listing.split("/admin/shop/orders/")[1].split('"')[0])
    manager.post(f"/admin/shop/orders/{order_id}/ship",
                 {"carrier": "SF", "tracking": "SF1234567890123"})

    later = dict(chat(base, shop.sandbox, "快递到哪了\n"))
    messages = later["快递到哪了"]
    assert any("已发货：顺丰速运 SF1234567890123" in m for m in messages)

    # The customer receives it, asks for a 7天无理由 return, and the manager approves it.
    after = dict(chat(base, shop.sandbox, "确认收货\n退货\n未拆封\n确认退货\n我的会员\n"))
    assert after["确认收货"][0].startswith("订单 ") and "已确认收货" in after["确认收货"][0]
    assert after["退货"][0].endswith("回复「未拆封」或「已拆封」。")
    assert "七天无理由退货退款" in after["未拆封"][0]
    assert after["确认退货"][0].startswith("退货申请已提交")
    assert after["我的会员"][0].startswith(
        "会员等级：普通会员\n再消费¥371升级青铜\n积分：129（100积分抵¥1，青铜会员起可用）")
    returns = manager.get("/admin/shop/returns").text
    request_id = int(returns.split('data-return="')[1].split('"')[0])
    shop.app.config["RETURN_ADDRESS"] = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"
    manager.post(f"/admin/shop/returns/{request_id}/approve")  # the address goes to the customer
    sent = dict(chat(base, shop.sandbox, "顺丰 SF1234567890124\n"))
    assert "SF1234567890124" in sent["顺丰 SF1234567890124"][0]
    manager.post(f"/admin/shop/returns/{request_id}/received")  # the goods are back: refund
    refunded = dict(chat(base, shop.sandbox, "退货进度\n我的会员\n"))
    assert any("已原路退回" in m for m in refunded["退货进度"])
    assert refunded["我的会员"][-1].startswith(
        "会员等级：普通会员\n再消费¥500升级青铜\n积分：0（100积分抵¥1，青铜会员起可用）")
