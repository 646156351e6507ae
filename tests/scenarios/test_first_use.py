"""Issue 13 from `python -m bot chat`: the flows neither trap nor mishear a first-time customer
(tests/scenarios/transcripts/first_use.txt), and the agent's inbox shows the complaint first."""

from __future__ import annotations

import io
from pathlib import Path

from console import accounts
from devtools.demo import seed_faq
from devtools.simulator import run_chat
from tests.conftest import AES_KEY, APP_ID, TOKEN
from tests.console.conftest import PASSWORD, signed_in
from tests.scenarios.test_simulator import exchanges

TRANSCRIPT = Path(__file__).resolve().parent / "transcripts" / "first_use.txt"
OPENID = "oFirstUseTestUser00000000000"


def test_13_a_first_visit_that_neither_traps_nor_mishears(shop):
    base = shop.storage.wxpay.config.notify_url.removesuffix("/shop/wxpay/notify")
    seed_faq(shop.storage.sessions)
    out = io.StringIO()
    code = run_chat(f"{base}/wechat", shop.sandbox, out=out, token=TOKEN, app_id=APP_ID,
                    aes_key=AES_KEY, openid=OPENID, wait=0.3,
                    script=io.StringIO(TRANSCRIPT.read_text(encoding="utf-8")))
    assert code == 0, out.getvalue()
    said = exchanges(out.getvalue())
    assert [line for line, _ in said][1:] == [
        "在吗", "几点发货", "唇膏", "1", "买", "1", "我的订单", "继续下单", "1",
        "李四 杭州西湖区文一路5号", "确认", "13700137000", "确认", "谢谢", "😀",
        "我买的口红是假货，要投诉", "人工", "我的订单"]
    shown = [messages[0] for _, messages in said]
    assert shown[1].startswith("在的～")
    assert shown[2].startswith("付款后 48 小时内发货")
    assert shown[6].startswith("要买几件？")
    assert shown[7] == ("您还没有订单。回复「逛逛」看看吧～\n\n"
                        "（刚才的下单已暂停，回复「继续下单」接着来）")
    assert shown[8] == shown[6]
    assert shown[11].startswith(
        "「确认」不是收货信息，地址没有改动。\n已记下：李四 浙江省杭州市西湖区文一路5号")
    assert "寄到：李四 137****7000 浙江省杭州市西湖区文一路5号" in shown[12]
    assert shown[13].startswith("下单成功！订单号")
    assert shown[14].startswith("不客气～") and shown[15].startswith("😊")
    assert shown[16].startswith("非常抱歉给您带来不好的体验！")
    assert "（工单 #" in shown[17]  # in hours or not
    assert shown[18].startswith("您最近的订单：\n1. ") and "丝绒哑光口红×1" in shown[18]
    assert shown[18].endswith("（您仍在与客服的会话中，回复「结束」可结束会话。）")

    with shop.storage.sessions.begin() as db:
        accounts.create(db, "agent", "agent", PASSWORD)
    inbox = signed_in(shop.app, "agent").get("/admin/service/").text
    assert "投诉词：投诉" in inbox and "我的订单" in inbox  # the complaint, then the last message
