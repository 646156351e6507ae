"""Customer-service windows and quotas, template messages, subscription notices."""

from __future__ import annotations

HOURS = 3600
TEMPLATE = "/cgi-bin/message/template/send"
BIZSEND = "/cgi-bin/message/subscribe/bizsend"


def test_message_opens_five_sends_then_45047(wx):
    wx.inbound("oAlice", "message")
    assert [wx.custom_text("oAlice")["errcode"] for _ in range(6)] == [0] * 5 + [45047]


def test_new_message_renews_the_quota(wx):
    wx.inbound("oAlice", "message")
    for _ in range(5):
        wx.custom_text("oAlice")
    wx.inbound("oAlice", "message")
    assert wx.custom_text("oAlice")["errcode"] == 0


def test_click_opens_three_sends_for_one_minute(wx):
    wx.inbound("oBob", "click")
    assert [wx.custom_text("oBob")["errcode"] for _ in range(4)] == [0, 0, 0, 45047]
    wx.inbound("oBob", "click")
    wx.advance(61)
    assert wx.custom_text("oBob")["errcode"] == 45015


def test_window_closes_after_48_hours(wx):
    wx.inbound("oAlice", "message")
    wx.advance(48 * HOURS - 1)
    assert wx.custom_text("oAlice")["errcode"] == 0
    wx.advance(2)
    assert wx.custom_text("oAlice")["errcode"] == 45015


def test_inbound_time_in_the_past_counts(wx, clock):
    wx.inbound("oAlice", "message", time=clock.now - 49 * HOURS)
    assert wx.custom_text("oAlice")["errcode"] == 45015


def test_never_interacted_and_unknown_users_get_45015(wx):
    wx.http.post("/sandbox/users", json={"openids": ["oDormant"]})
    assert wx.custom_text("oDormant")["errcode"] == 45015
    assert wx.custom_text("oNeverSeen")["errcode"] == 45015
    assert wx.custom_text("bad openid!")["errcode"] == 40003


def test_unsubscribe_closes_the_window(wx):
    wx.inbound("oAlice", "message")
    wx.inbound("oAlice", "unsubscribe")
    assert wx.custom_text("oAlice")["errcode"] == 45015


def test_payment_window_is_unlimited(wx):
    wx.inbound("oAlice", "subscribe")
    wx.inbound("oAlice", "payment")
    assert {wx.custom_text("oAlice")["errcode"] for _ in range(10)} == {0}


def test_bad_message_type_and_empty_text(wx):
    wx.inbound("oAlice", "message")
    assert (
        wx.post("/cgi-bin/message/custom/send", {"touser": "oAlice", "msgtype": "fax"})["errcode"]
        == 40008
    )
    assert wx.custom_text("oAlice", "  ")["errcode"] == 44004


def template(openid: str, client_msg_id: str | None = None) -> dict:
    body = {"touser": openid, "template_id": "TID", "data": {"thing2": {"value": "x"}}}
    if client_msg_id:
        body["client_msg_id"] = client_msg_id
    return body


def test_template_needs_a_follower(wx):
    assert wx.post(TEMPLATE, template("oStranger"))["errcode"] == 43004
    wx.inbound("oAlice", "subscribe")
    answer = wx.post(TEMPLATE, template("oAlice"))
    assert answer["errcode"] == 0 and isinstance(answer["msgid"], int)
    wx.inbound("oAlice", "unsubscribe")
    assert wx.post(TEMPLATE, template("oAlice"))["errcode"] == 43004


def test_template_client_msg_id_sends_once_within_ten_minutes(wx):
    wx.inbound("oAlice", "subscribe")
    first = wx.post(TEMPLATE, template("oAlice", "order-42"))
    again = wx.post(TEMPLATE, template("oAlice", "order-42"))
    assert again["errcode"] == 0 and again["msgid"] == first["msgid"]
    assert len(wx.sent(api="template/send")["messages"]) == 1
    wx.advance(601)
    assert wx.post(TEMPLATE, template("oAlice", "order-42"))["msgid"] != first["msgid"]


def test_bizsend_spends_one_opt_in(wx):
    body = {"touser": "oAlice", "template_id": "T1", "data": {"thing1": {"value": "到货"}}}
    assert wx.post(BIZSEND, body)["errcode"] == 43101
    wx.inbound("oAlice", "subscribe_msg", template_id="T1")
    assert wx.post(BIZSEND, body)["errcode"] == 0
    assert wx.post(BIZSEND, body)["errcode"] == 43101
    long_body = {**body, "data": {"thing1": {"value": "字" * 21}}}
    assert wx.post(BIZSEND, long_body)["errcode"] == 47003
