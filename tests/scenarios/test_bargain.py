"""The issue's transcript from `python -m bot chat`: a starter launches 「3人帮砍，1元带走」, three
friends cut it to the floor (a code, a follow through the QR code, a scan), and the starter
orders at ¥1 and pays in the sandbox."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from devtools.demo import seed_catalog, seed_demo_bargain
from devtools.simulator import run_chat
from promotions.bargains import BargainHelp, BargainLaunch
from shop.orders import Order
from tests.conftest import AES_KEY, APP_ID, TOKEN
from tests.scenarios.test_simulator import exchanges

TRANSCRIPT = Path(__file__).resolve().parent / "transcripts" / "bargain.txt"
OPENID = "oBargainStarter0000000000000"


def test_a_starter_and_three_friends_from_launch_to_payment(shop):
    from content_audit.rulestore import LiveRules

    screener = LiveRules(shop.storage.sessions, shop.storage.redis, background=False).screener()
    seed_catalog(shop.storage.sessions, screener)
    with shop.storage.sessions.begin() as db:
        assert seed_demo_bargain(db, datetime.now(UTC) - timedelta(seconds=5), screener)
    base = shop.storage.wxpay.config.notify_url.removesuffix("/shop/wxpay/notify")
    out = io.StringIO()
    code = run_chat(f"{base}/wechat", shop.sandbox, script=io.StringIO(TRANSCRIPT.read_text()),
                    out=out, token=TOKEN, app_id=APP_ID, aes_key=AES_KEY, openid=OPENID,
                    wait=0.6)
    assert code == 0, out.getvalue()
    seen = exchanges(out.getvalue())
    said = dict(seen)
    assert "3人帮砍，1元带走" in said["砍价"][0]
    invitation = said["发起砍价"][0]
    assert "砍价码：" in invitation and "不需要关注公众号" in invitation
    with shop.storage.sessions() as db:
        launch = db.scalar(select(BargainLaunch))
        helpers = list(db.scalars(select(BargainHelp.source).order_by(BargainHelp.id)))
    assert said[f"帮砍 {launch.code}"][0].startswith("帮砍成功！")
    assert "帮砍成功" in said[f"/subscribe bargain:{launch.code}"][0]
    assert "正好砍到底价 ¥1" in said[f"/scan bargain:{launch.code}"][0]
    assert helpers == ["code", "scan", "scan"]
    assert "已砍到底价 ¥1" in said["我的砍价"][0]
    assert said["确认"][0].startswith("下单成功！") and "应付 ¥1。" in said["确认"][0]
    assert any("支付成功" in message for message in said["/pay"])
    assert "已付款 ¥1" in said["我的订单"][0]
    with shop.storage.sessions() as db:
        order = db.scalar(select(Order).where(Order.openid == OPENID))
        assert (order.total_fen, order.state) == (100, "paid")
        assert db.get(BargainLaunch, launch.id).order_id == order.id
