"""Mass sends: list size, the 4-per-month cap, clientmsgid dedupe, job status."""

from __future__ import annotations

SEND = "/cgi-bin/message/mass/send"
SENDALL = "/cgi-bin/message/mass/sendall"
GET = "/cgi-bin/message/mass/get"
DAY = 86400


def text(n: int) -> dict:
    return {"msgtype": "text", "text": {"content": f"news #{n}"}}


def follow(wx, *openids: str) -> None:
    for openid in openids:
        wx.inbound(openid, "subscribe")


def test_openid_list_needs_two_to_ten_thousand(wx):
    assert wx.post(SEND, {"touser": ["oA"], **text(1)})["errcode"] == 40130
    too_many = [f"o{i}" for i in range(10_001)]
    assert wx.post(SEND, {"touser": too_many, **text(1)})["errcode"] == 40130


def test_each_user_gets_at_most_four_a_month(wx):
    follow(wx, "oA", "oB")
    for n in range(4):
        assert wx.post(SEND, {"touser": ["oA", "oB"], **text(n)})["errcode"] == 0
    fifth = wx.post(SEND, {"touser": ["oA", "oB"], **text(5)})
    assert fifth["errcode"] == 0  # accepted, but filtered for both users
    status = wx.post(GET, {"msg_id": fifth["msg_id"]})
    assert status["msg_status"] == "SEND_SUCCESS"
    assert (status["total_count"], status["sent_count"], status["capped_count"]) == (2, 0, 2)
    assert len(wx.sent(api="mass/send")["messages"]) == 8


def test_cap_resets_with_the_calendar_month(wx):
    follow(wx, "oA", "oB")
    for n in range(4):
        wx.post(SEND, {"touser": ["oA", "oB"], **text(n)})
    wx.advance(31 * DAY)
    job = wx.post(SEND, {"touser": ["oA", "oB"], **text(9)})
    assert wx.post(GET, {"msg_id": job["msg_id"]})["sent_count"] == 2


def test_non_followers_are_filtered(wx):
    follow(wx, "oA")
    job = wx.post(SEND, {"touser": ["oA", "oGone"], **text(1)})
    status = wx.post(GET, {"msg_id": job["msg_id"]})
    assert (status["total_count"], status["sent_count"]) == (2, 1)


def test_same_clientmsgid_within_a_day_is_45065_with_msg_id(wx):
    follow(wx, "oA", "oB")
    first = wx.post(SEND, {"touser": ["oA", "oB"], "clientmsgid": "camp-7", **text(1)})
    again = wx.post(SEND, {"touser": ["oA", "oB"], "clientmsgid": "camp-7", **text(2)})
    assert again["errcode"] == 45065 and again["msg_id"] == first["msg_id"]
    wx.advance(DAY)
    assert (
        wx.post(SEND, {"touser": ["oA", "oB"], "clientmsgid": "camp-7", **text(3)})["errcode"] == 0
    )
    assert (
        wx.post(SEND, {"touser": ["oA", "oB"], "clientmsgid": "x" * 65, **text(4)})["errcode"]
        == 45067
    )


def test_same_content_without_clientmsgid_is_deduped(wx):
    follow(wx, "oA", "oB")
    assert wx.post(SEND, {"touser": ["oA", "oB"], **text(1)})["errcode"] == 0
    assert wx.post(SEND, {"touser": ["oB", "oA"], **text(1)})["errcode"] == 45065


def test_sendall_by_tag_and_to_all(wx):
    follow(wx, "oA", "oB", "oC")
    tagid = wx.post("/cgi-bin/tags/create", {"tag": {"name": "VIP"}})["tag"]["id"]
    wx.post("/cgi-bin/tags/members/batchtagging", {"openid_list": ["oA", "oB"], "tagid": tagid})
    by_tag = wx.post(SENDALL, {"filter": {"is_to_all": False, "tag_id": tagid}, **text(1)})
    assert wx.post(GET, {"msg_id": by_tag["msg_id"]})["sent_count"] == 2
    to_all = wx.post(SENDALL, {"filter": {"is_to_all": True}, **text(2)})
    assert to_all["errmsg"] == "send job submission success"
    assert wx.post(GET, {"msg_id": to_all["msg_id"]})["sent_count"] == 3
    news = wx.post(
        SENDALL, {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": "M1"}}
    )
    assert "msg_data_id" in news
    assert wx.post(GET, {"msg_id": 1})["errcode"] == 40059
