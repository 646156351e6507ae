"""The webhook end to end: what WeChat posts, in every mode, and what it gets back."""

from __future__ import annotations

import base64
import time

import pytest

from bot.inbound import parse_xml_fields
from bot.wechat import sign
from tests.conftest import SAMPLES, TOKEN, WeChat


def signed_query(timestamp: str | None = None, nonce: str = "12345") -> str:
    ts = timestamp or str(int(time.time()))
    return f"signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"


def sent_by_sample_sender(wechat: WeChat, body: str) -> str:
    """WeChat puts the sender's openid in the query; make it the sample's FromUserName."""
    wechat.user.openid = parse_xml_fields(body.encode())["FromUserName"]
    return body


def test_url_verification_echoes(client):
    response = client.get(f"/wechat?{signed_query()}&echostr=hello123")
    assert (response.status_code, response.data) == (200, b"hello123")


def test_url_verification_with_a_bad_signature_is_403(client):
    ts = str(int(time.time()))
    response = client.get(f"/wechat?signature=deadbeef&timestamp={ts}&nonce=1&echostr=hi")
    assert response.status_code == 403
    assert b"hi" not in response.data


@pytest.mark.parametrize("aes", [False, True], ids=["plaintext", "safe"])
@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.xml")))
def test_every_documented_type_gets_200(client, name, aes):
    wechat = WeChat(client, aes=aes)
    # Give each sample a fresh id so dedup doesn't short-circuit the second mode.
    body = (SAMPLES / name).read_text().replace("1234567890123456", str(time.time_ns()))
    reply = wechat.reply(sent_by_sample_sender(wechat, body))
    assert reply == "success" or parse_xml_fields(reply.encode())["MsgType"]


def test_a_text_gets_the_menu_and_an_unknown_event_success(wechat):
    reply = parse_xml_fields(wechat.say("帮助").encode())
    assert reply["MsgType"] == "text" and "我的订单" in reply["Content"]
    assert reply["ToUserName"] == wechat.user.openid
    assert wechat.reply(wechat.user.event("some_future_event")) == "success"


def test_safe_mode_reply_is_encrypted(wechat_aes):
    response = wechat_aes.post(wechat_aes.user.text("帮助"))
    envelope = parse_xml_fields(response.data)
    assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert "我的订单" in parse_xml_fields(wechat_aes.crypto.decrypt(envelope["Encrypt"]))["Content"]


def test_user_text_with_cdata_end_cannot_break_the_reply(wechat):
    """The fallback doesn't echo, so echo through a handler that does."""
    body = (SAMPLES / "adversarial" / "cdata_breakout_in_content.xml").read_text()
    reply = parse_xml_fields(wechat.reply(sent_by_sample_sender(wechat, body)).encode())
    assert reply["MsgType"] == "text"


@pytest.mark.parametrize(
    "name",
    ["billion_laughs.xml", "xxe_external_entity.xml", "missing_msgtype.xml", "wrong_root.xml"],
)
def test_adversarial_bodies_get_4xx_not_500(client, name, caplog):
    response = client.post(
        f"/wechat?{signed_query()}", data=(SAMPLES / "adversarial" / name).read_bytes()
    )
    assert response.status_code == 400
    assert b"Traceback" not in response.data and b"<html" not in response.data.lower()
    assert "webhook rejected" in caplog.text


def test_forged_signature_runs_nothing(client, redis):
    wechat = WeChat(client)
    signed = wechat.user.sign(wechat.user.text("帮助"))
    forged = signed.query.replace("signature=", "signature=0")
    assert client.post(f"/wechat?{forged}", data=signed.body).status_code == 403
    assert not redis.keys("dedup:*")


def test_old_signed_request_is_a_replay(client):
    wechat = WeChat(client)
    response = wechat.post(wechat.user.text("帮助"), timestamp=int(time.time()) - 3600)
    assert response.status_code == 403 and b"replay" in response.data


def test_replay_window_zero_turns_the_check_off(make_app):
    app = make_app(WECHAT_REPLAY_WINDOW=0)
    wechat = WeChat(app.test_client())
    assert wechat.post(wechat.user.text("帮助"), timestamp=1).status_code == 200


def test_oversized_body_is_413(client):
    response = client.post(f"/wechat?{signed_query()}", data=b"<xml>" + b"a" * 70_000 + b"</xml>")
    assert response.status_code == 413


def test_safe_mode_with_a_wrong_msg_signature_is_403(client):
    wechat = WeChat(client, aes=True)
    signed = wechat.user.sign(wechat.user.text("帮助"))
    query = signed.query.replace("msg_signature=", "msg_signature=f")
    assert client.post(f"/wechat?{query}", data=signed.body).status_code == 403


def test_safe_mode_with_a_corrupt_ciphertext_is_400(client):
    ts, nonce = str(int(time.time())), "9"
    encrypted = base64.b64encode(bytes(64)).decode()
    query = (
        f"signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}&encrypt_type=aes"
        f"&msg_signature={sign(TOKEN, ts, nonce, encrypted)}"
    )
    body = f"<xml><ToUserName>x</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"
    response = client.post(f"/wechat?{query}", data=body)
    assert response.status_code == 400 and b"padding" in response.data


def test_encrypted_message_without_a_configured_key_is_400(make_app):
    app = make_app(WECHAT_AES_KEY=None)
    wechat = WeChat(app.test_client(), aes=True)
    response = wechat.post(wechat.user.text("帮助"))
    assert response.status_code == 400 and b"WECHAT_AES_KEY" in response.data


def test_official_vector_through_the_webhook(make_app, crypto_vectors):
    """WeChat's own safe-mode sample, posted as WeChat posted it (replay window off)."""
    v = next(x for x in crypto_vectors["vectors"] if x["id"] == "mp_official_sample_inbound_text")
    app = make_app(
        WECHAT_TOKEN=v["token"],
        WECHAT_AES_KEY=v["encoding_aes_key"],
        WECHAT_APP_ID=v["appid"],
        WECHAT_REPLAY_WINDOW=0,
    )
    q = v["query"]
    query = "&".join(
        f"{k}={q[k]}" for k in ("signature", "timestamp", "nonce", "encrypt_type", "msg_signature")
    )
    for body in (v["post_body_safe_mode"], v["post_body_compatible_mode"]):
        response = app.test_client().post(f"/wechat?{query}", data=body)
        assert response.status_code == 200
        assert parse_xml_fields(response.data)["Encrypt"]
