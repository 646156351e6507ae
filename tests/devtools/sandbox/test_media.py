"""Temporary media uploads, and image customer-service messages that name them."""

from __future__ import annotations

import io

from tests.devtools.sandbox.conftest import START

UPLOAD = "/cgi-bin/media/upload"
CUSTOM = "/cgi-bin/message/custom/send"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 64
GIF = b"GIF89a" + b"\0" * 64
BMP = b"BM" + b"\0" * 64


def upload(wx, data: bytes | None, media_type: str | None = "image",
           filename: str = "qr.png") -> dict:
    params = {"access_token": wx.token}
    if media_type is not None:
        params["type"] = media_type
    form = {} if data is None else {"media": (io.BytesIO(data), filename)}
    return wx.http.post(UPLOAD, query_string=params, data=form,
                        content_type="multipart/form-data").json


def send_image(wx, openid: str, media_id: str) -> dict:
    return wx.post(CUSTOM, {"touser": openid, "msgtype": "image",
                            "image": {"media_id": media_id}})


def test_an_image_upload_answers_its_media_id_and_is_remembered(wx, state):
    for data in (PNG, JPEG, GIF, BMP):
        answer = upload(wx, data)
        assert answer["type"] == "image" and answer["created_at"] == int(START)
        stored = state.media[answer["media_id"]]
        assert (stored.type, stored.size) == ("image", len(data))


def test_a_thumb_answers_thumb_media_id(wx):
    answer = upload(wx, JPEG, "thumb", "t.jpg")
    assert answer["type"] == "thumb" and "thumb_media_id" in answer and "media_id" not in answer


def test_refusals_name_wechats_codes(wx):
    assert upload(wx, PNG, None)["errcode"] == 40004
    assert upload(wx, PNG, "news")["errcode"] == 40004
    assert upload(wx, None)["errcode"] == 41005
    assert upload(wx, b"")["errcode"] == 41005
    assert upload(wx, b"%PDF-1.7 not an image", filename="qr.png")["errcode"] == 40005
    assert upload(wx, PNG + b"\0" * (10 * 1024 * 1024))["errcode"] == 40006
    assert upload(wx, b"anything", "voice", "v.amr")["type"] == "voice"  # formats: images only


def test_an_upload_needs_a_valid_token_and_post(wx):
    answer = wx.http.post(UPLOAD, query_string={"type": "image", "access_token": "nope"},
                          data={"media": (io.BytesIO(PNG), "qr.png")})
    assert answer.json["errcode"] == 40001
    assert wx.http.get(UPLOAD, query_string={"type": "image"}).json["errcode"] == 43002


def test_an_image_message_needs_a_live_upload(wx):
    wx.inbound("oAlice", "message")
    media_id = upload(wx, PNG)["media_id"]
    assert send_image(wx, "oAlice", "never-uploaded")["errcode"] == 40007
    assert send_image(wx, "oAlice", media_id)["errcode"] == 0
    voice = upload(wx, b"amr", "voice", "v.amr")["media_id"]
    assert send_image(wx, "oAlice", voice)["errcode"] == 40007
    [sent] = wx.sent(touser="oAlice")["messages"]
    assert sent["msgtype"] == "image" and sent["body"]["image"]["media_id"] == media_id


def test_media_expire_after_three_days(wx):
    media_id = upload(wx, PNG)["media_id"]
    wx.advance(3 * 86400 - 1)
    wx.inbound("oAlice", "message")
    assert send_image(wx, "oAlice", media_id)["errcode"] == 0
    wx.advance(1)
    assert send_image(wx, "oAlice", media_id)["errcode"] == 40007


def test_reset_forgets_uploads(wx, state):
    upload(wx, PNG)
    wx.http.post("/sandbox/reset")
    assert state.media == {}
