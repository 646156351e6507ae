"""The agents' inbox in a real browser: claim, a customer's message arriving live, a reply."""

from __future__ import annotations

import requests
from playwright.sync_api import expect

from customer_service import handoff, tickets
from customer_service.tickets import Ticket
from tests.browser.conftest import ARTIFACTS, sign_in

OPENID = "o-browser-buyer"


def test_an_agent_claims_sees_new_messages_live_and_replies(page, live, sandbox):
    storage = live.app.extensions["storage"]
    with storage.sessions.begin() as db:
        ticket_id = handoff.hand_off(db, OPENID, "我的快递三天没动了", config=live.app.config
                                     ).ticket_id
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": OPENID, "kind": "message"},
                  timeout=5)

    sign_in(page, "agent")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="客服工作台").click()
    row = page.locator(f'tr[data-ticket="{ticket_id}"]')
    expect(row).to_contain_text("我的快递三天没动了")
    with storage.sessions.begin() as db:  # another customer asks: the queue refreshes itself
        later = handoff.hand_off(db, "o-later", "收到的是假货！", config=live.app.config)
    expect(page.locator(f'tr[data-ticket="{later.ticket_id}"]')).to_contain_text(
        "投诉词：假货", timeout=8_000)
    expect(page.locator('[data-stat="unclaimed"]')).to_have_text("2")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "service-inbox.png"), full_page=True)
    row.get_by_role("button", name="接入").click()
    page.wait_for_url(f"**/admin/service/tickets/{ticket_id}")
    expect(page.locator("#window-status")).to_contain_text("还可发送 5 条")

    page.evaluate("window.stillTheSamePage = true")
    with storage.sessions.begin() as db:  # the customer writes while the page is open
        tickets.add_customer_message(db, db.get(Ticket, ticket_id), kind="text",
                                     body="<b>单号</b> SF1234567890")
    history = page.locator("#history")
    expect(history.locator("li.msg-customer .body").last).to_have_text(
        "<b>单号</b> SF1234567890", timeout=8_000)  # polled every 3 s, no reload
    assert history.locator("b").count() == 0  # shown as text, never as markup
    assert page.evaluate("window.stillTheSamePage") is True

    page.get_by_label("常用回复").select_option("已为您查询，请稍等。")
    box = page.get_by_label("回复内容（最多 600 字）")
    expect(box).to_have_value("已为您查询，请稍等。")
    box.fill("已为您查询，包裹在转运中心，明天送达。")
    page.get_by_role("button", name="发送", exact=True).click()
    expect(page.locator("p.notice")).to_have_text("已发送")
    expect(history.locator("li.msg-agent").last).to_contain_text("已送达")
    sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": OPENID}, timeout=5).json()
    assert [m["body"]["text"]["content"] for m in sent["messages"]] == [
        "已为您查询，包裹在转运中心，明天送达。"]
    page.screenshot(path=str(ARTIFACTS / "service-ticket.png"), full_page=True)
