"""Signatures and safe-mode envelopes, against WeChat's real test vectors."""

from __future__ import annotations

import pytest

from bot.inbound import parse_inbound, parse_xml_fields
from bot.wechat import MessageCrypto, ProtocolError, check_signature, check_timestamp, sign
from core.config import aes_key_problem


def vector(vectors: dict, vector_id: str) -> dict:
    return next(v for v in vectors["vectors"] if v["id"] == vector_id)


def test_url_signature_of_the_official_sample(crypto_vectors):
    v = vector(crypto_vectors, "mp_official_sample_inbound_text")
    q = v["query"]
    check_signature(v["token"], q["signature"], q["timestamp"], q["nonce"])
    with pytest.raises(ProtocolError) as caught:
        check_signature(v["token"], q["signature"][:-1] + "0", q["timestamp"], q["nonce"])
    assert caught.value.status == 403


@pytest.mark.parametrize("body_key", ["post_body_safe_mode", "post_body_compatible_mode"])
def test_official_sample_decrypts_to_the_text_message(crypto_vectors, body_key):
    v = vector(crypto_vectors, "mp_official_sample_inbound_text")
    q = v["query"]
    crypto = MessageCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    xml = crypto.decrypt_body(v[body_key].encode(), q["msg_signature"], q["timestamp"], q["nonce"])
    msg = parse_inbound(xml)
    assert (msg.kind, msg.text, msg.openid) == ("text", "abcdteT", "oyORnuP8q7ou2gfYjqLzSIWZf0rs")


@pytest.mark.parametrize("vector_id", ["mp_botbuilder_safe_mode_real", "mp_debugtool_capture"])
def test_real_captures_decrypt(crypto_vectors, vector_id):
    v = vector(crypto_vectors, vector_id)
    q = v["query"]
    check_signature(v["token"], q["signature"], q["timestamp"], q["nonce"])
    crypto = MessageCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    xml = crypto.decrypt_body(
        v["post_body_safe_mode"].encode(), q["msg_signature"], q["timestamp"], q["nonce"]
    )
    expected = v.get("expected_decrypted_xml") or v.get("observed_decrypted_xml")
    if expected:
        assert parse_xml_fields(xml) == parse_xml_fields(expected.encode())
    else:
        assert parse_inbound(xml).openid


def test_deterministic_encryption_matches_the_java_sample(crypto_vectors, monkeypatch):
    v = vector(crypto_vectors, "mp_official_java_sample_deterministic_encrypt")
    crypto = MessageCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    monkeypatch.setattr(crypto._prp, "get_random_string", lambda: v["random_prefix"])
    for case in v["cases"]:
        encrypted = crypto.encrypt(case["plaintext"])
        assert encrypted == case["expected_encrypt"]
        assert crypto.decrypt(encrypted).decode() == case["plaintext"]


def test_reply_envelope_capture_verifies_and_decrypts(crypto_vectors):
    v = vector(crypto_vectors, "mp_reply_envelope_capture")
    assert sign(v["token"], v["timestamp"], v["nonce"], v["encrypt"]) == v["msg_signature"]
    crypto = MessageCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    assert parse_xml_fields(crypto.decrypt(v["encrypt"]))


def test_our_reply_envelope_round_trips():
    crypto = MessageCrypto(
        "tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx0123456789abcdef"
    )
    envelope = parse_xml_fields(crypto.encrypt_reply("<xml><Content>好</Content></xml>").encode())
    assert (
        sign("tok", envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"])
        == envelope["MsgSignature"]
    )
    assert crypto.decrypt(envelope["Encrypt"]).decode() == "<xml><Content>好</Content></xml>"


def test_wrong_msg_signature_is_refused(crypto_vectors):
    v = vector(crypto_vectors, "mp_official_sample_inbound_text")
    q = v["query"]
    crypto = MessageCrypto(v["token"], v["encoding_aes_key"], v["appid"])
    with pytest.raises(ProtocolError, match="msg_signature"):
        crypto.decrypt_body(
            v["post_body_safe_mode"].encode(),
            q["msg_signature"][:-1] + "b",
            q["timestamp"],
            q["nonce"],
        )


def test_wrong_appid_is_refused(crypto_vectors):
    v = vector(crypto_vectors, "mp_official_sample_inbound_text")
    q = v["query"]
    crypto = MessageCrypto(v["token"], v["encoding_aes_key"], "wx0000000000000000")
    with pytest.raises(ProtocolError, match="another appid"):
        crypto.decrypt_body(
            v["post_body_safe_mode"].encode(), q["msg_signature"], q["timestamp"], q["nonce"]
        )


def test_wrong_aes_key_is_a_clean_protocol_error(crypto_vectors):
    """wechatpy 1.8.18 raises UnicodeDecodeError here; we must not."""
    v = vector(crypto_vectors, "mp_official_sample_inbound_text")
    q = v["query"]
    crypto = MessageCrypto(v["token"], "bcdefghijklmnopqrstuvwxyz0123456789ABCDEFGa", v["appid"])
    with pytest.raises(ProtocolError):
        crypto.decrypt_body(
            v["post_body_safe_mode"].encode(), q["msg_signature"], q["timestamp"], q["nonce"]
        )


@pytest.mark.parametrize("garbage", ["not base64!!", "YWJj", "A" * 44, ""])
def test_garbage_ciphertext_is_a_clean_protocol_error(garbage):
    crypto = MessageCrypto(
        "tok", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx0123456789abcdef"
    )
    with pytest.raises(ProtocolError):
        crypto.decrypt(garbage)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF", "43 characters"),
        ("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH", "43 characters"),
        ("abcdefghijklmnopqrstuvwxyz0123456789ABCDE!G", "base64"),
    ],
)
def test_malformed_aes_keys_are_named(key, problem):
    assert problem in aes_key_problem(key)


def test_replay_window():
    check_timestamp("1000", 300, now=1200)
    check_timestamp("1000", 0, now=99999)  # 0 turns the check off
    for stale in ("1000", "nonsense"):
        with pytest.raises(ProtocolError) as caught:
            check_timestamp(stale, 300, now=1400)
        assert caught.value.status == 403


def test_a_deep_envelope_is_refused_before_msg_signature_is_checked():
    crypto = MessageCrypto("testtoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx0")
    envelope = ("<xml><Encrypt>" + "<a>" * 500 + "x" + "</a>" * 500 + "</Encrypt></xml>").encode()
    with pytest.raises(ProtocolError, match="deeper") as caught:
        crypto.decrypt_body(envelope, "0" * 40, "1700000000", "1")
    assert caught.value.status == 400
