"""The webhook's guards beyond the signature: nonce bound to its body, openid, nesting depth."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl, urlencode

import pytest
import redis as redis_lib
from redis.backoff import NoBackoff
from redis.retry import Retry

from bot.middleware import NONCE_PREFIX
from bot.wechat import sign
from core.db import make_sessionmaker
from core.storage import Storage
from devtools.wechat_user import read_reply
from tests.bot.test_redis_outage import RedisProcess, free_port
from tests.conftest import TOKEN, WeChat, fresh_engine


def without(query: str, *names: str) -> str:
    """The query with some parameters dropped (none of them is covered by the signature)."""
    return urlencode([(k, v) for k, v in parse_qsl(query) if k not in names])


def rejections(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.webhook"]


def assert_no_traceback_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.stack_info]
    assert "Traceback" not in caplog.text


# --- a signed (timestamp, nonce) is bound to the first body it came with ---------------------


def test_a_captured_query_cannot_carry_another_customers_message(client, redis, caplog):
    customer, victim = WeChat(client), WeChat(client)
    signed = customer.user.sign(customer.user.text("帮助"))
    assert client.post(f"/wechat?{signed.query}", data=signed.body).status_code == 200
    # The probe keeps the signed timestamp and nonce, drops the unsigned openid, swaps the body.
    forged = victim.user.text("取消订单 probe-words").encode()
    caplog.clear()
    response = client.post(f"/wechat?{without(signed.query, 'openid')}", data=forged)
    assert response.status_code == 403
    assert len(redis.keys("dedup:*")) == 1, "the forged message never reached a handler"
    assert [r.levelno for r in rejections(caplog)] == [logging.WARNING]
    assert "another body" in rejections(caplog)[0].getMessage()
    assert "probe-words" not in caplog.text and b"probe-words" not in response.data


def test_a_second_message_under_a_used_nonce_is_refused(client, redis):
    wechat = WeChat(client)
    first = wechat.user.sign(wechat.user.text("帮助"))
    assert client.post(f"/wechat?{first.query}", data=first.body).status_code == 200
    second = wechat.user.text("我的订单").encode()
    assert client.post(f"/wechat?{first.query}", data=second).status_code == 403


def test_compatible_mode_plaintext_swapped_into_an_encrypted_query_is_refused(client):
    """msg_signature covers the ciphertext only if encrypt_type=aes stays in the query."""
    wechat = WeChat(client, aes=True)
    signed = wechat.user.sign(wechat.user.text("帮助"))
    assert client.post(f"/wechat?{signed.query}", data=signed.body).status_code == 200
    plain = without(signed.query, "encrypt_type", "msg_signature")
    forged = wechat.user.text("取消订单").encode()
    assert client.post(f"/wechat?{plain}", data=forged).status_code == 403


def test_a_retry_encrypted_again_under_the_same_query_is_still_a_retry(client):
    """Safe mode: the same message under the same timestamp and nonce, with a new IV."""
    from bot.wechat import MessageCrypto
    from tests.conftest import AES_KEY, APP_ID

    wechat = WeChat(client, aes=True)
    message = wechat.user.text("帮助")
    signed = wechat.user.sign(message)
    first = client.post(f"/wechat?{signed.query}", data=signed.body)
    query = dict(parse_qsl(signed.query))
    encrypted = MessageCrypto(TOKEN, AES_KEY, APP_ID).encrypt(message)
    query["msg_signature"] = sign(TOKEN, query["timestamp"], query["nonce"], encrypted)
    body = (f"<xml><ToUserName><![CDATA[x]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    assert body.encode() != signed.body
    again = client.post(f"/wechat?{urlencode(query)}", data=body.encode())
    assert (first.status_code, again.status_code) == (200, 200)
    assert read_reply(again.data, wechat.crypto) == read_reply(first.data, wechat.crypto)


@pytest.mark.parametrize("aes", [False, True], ids=["plaintext", "safe"])
def test_wechats_retry_of_the_same_request_gets_the_first_reply(client, aes):
    wechat = WeChat(client, aes=aes)
    signed = wechat.user.sign(wechat.user.text("帮助"))
    first = client.post(f"/wechat?{signed.query}", data=signed.body)
    again = client.post(f"/wechat?{signed.query}", data=signed.body)
    assert (first.status_code, again.status_code) == (200, 200)
    reply = read_reply(first.data, wechat.crypto)
    assert "我的订单".encode() in reply
    assert read_reply(again.data, wechat.crypto) == reply


def test_the_binding_lasts_while_the_timestamp_is_accepted(client, redis):
    """A timestamp is accepted up to the window either side of now: 2 × 300 s from first use."""
    wechat = WeChat(client)
    signed = wechat.user.sign(wechat.user.text("帮助"))
    client.post(f"/wechat?{signed.query}", data=signed.body)
    args = dict(parse_qsl(signed.query))
    key = f"{NONCE_PREFIX}{args['timestamp']}:{args['nonce']}"
    assert 300 < redis.ttl(key) <= 600


def test_replay_window_zero_binds_nothing(make_app, redis):
    client = make_app(WECHAT_REPLAY_WINDOW=0).test_client()
    wechat = WeChat(client)
    signed = wechat.user.sign(wechat.user.text("帮助"))
    other = wechat.user.text("我的订单").encode()
    assert client.post(f"/wechat?{signed.query}", data=signed.body).status_code == 200
    assert client.post(f"/wechat?{signed.query}", data=other).status_code == 200
    assert not redis.keys(NONCE_PREFIX + "*")


def test_without_redis_the_nonce_check_answers_503_not_500(tmp_path, make_app, caplog):
    """As for every Redis outage (test_redis_outage.py): refuse cleanly, never run unchecked."""
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    try:
        engine = fresh_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
        no_retry = Retry(NoBackoff(), 0)  # the outage shows at once, not after retries
        client = redis_lib.Redis(port=server.port, socket_timeout=2, retry=no_retry)
        storage = Storage(engine=engine, sessions=make_sessionmaker(engine), redis=client)
        wechat = WeChat(make_app(storage, TESTING=False).test_client())
    finally:
        server.stop()
    caplog.clear()
    response = wechat.post(wechat.user.text("帮助"))
    assert response.status_code == 503
    assert "Redis error" in caplog.text
    assert_no_traceback_logged(caplog)
    engine.dispose()


# --- the query's openid is the sender --------------------------------------------------------


@pytest.mark.parametrize("aes", [False, True], ids=["plaintext", "safe"])
def test_query_openid_must_name_the_sender(client, redis, aes):
    customer, other = WeChat(client, aes=aes), WeChat(client, aes=aes)
    response = customer.post(other.user.text("帮助"))  # customer's openid, other's message
    assert response.status_code == 403 and b"openid" in response.data
    assert not redis.keys("dedup:*")


def test_a_query_without_openid_is_still_accepted(client):
    wechat = WeChat(client)
    signed = wechat.user.sign(wechat.user.text("帮助"))
    response = client.post(f"/wechat?{without(signed.query, 'openid')}", data=signed.body)
    assert response.status_code == 200 and "我的订单".encode() in response.data


# --- deeply nested XML: one 400 and one log line, never a 500 --------------------------------


def nested_message(openid: str, depth: int = 500) -> str:
    """A signed-looking text message whose Content hides `depth` nested elements (~3.8 KB)."""
    return (
        "<xml><ToUserName><![CDATA[gh_demo00000000]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{'<a>' * depth}x{'</a>' * depth}</Content><MsgId>1</MsgId></xml>"
    )


def assert_refused_in_one_line(response, caplog: pytest.LogCaptureFixture) -> None:
    assert response.status_code == 400 and b"deeper" in response.data
    assert [r.levelno for r in rejections(caplog)] == [logging.WARNING]
    assert_no_traceback_logged(caplog)


def test_deep_xml_in_plaintext_mode_is_a_400(make_app, caplog):
    caplog.set_level(logging.INFO)
    wechat = WeChat(make_app(TESTING=False).test_client())
    body = nested_message(wechat.user.openid)
    assert 3500 < len(body) < 4000
    assert_refused_in_one_line(wechat.post(body), caplog)


def test_deep_safe_mode_envelope_is_a_400_before_msg_signature(make_app, caplog):
    caplog.set_level(logging.INFO)
    client = make_app(TESTING=False, WECHAT_MESSAGE_MODE="safe").test_client()
    ts, nonce = str(int(time.time())), "20240101"
    query = (
        f"signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"
        f"&encrypt_type=aes&msg_signature={'0' * 40}"
    )
    envelope = "<xml><Encrypt>" + "<a>" * 500 + "x" + "</a>" * 500 + "</Encrypt></xml>"
    assert_refused_in_one_line(client.post(f"/wechat?{query}", data=envelope), caplog)


def test_deep_xml_inside_a_valid_safe_mode_envelope_is_a_400(make_app, caplog):
    caplog.set_level(logging.INFO)
    client = make_app(TESTING=False, WECHAT_MESSAGE_MODE="safe").test_client()
    wechat = WeChat(client, aes=True)
    assert_refused_in_one_line(wechat.post(nested_message(wechat.user.openid)), caplog)
