"""WECHAT_MESSAGE_MODE: the account's encryption mode, and what the webhook then accepts."""

from __future__ import annotations

import pytest

from core.config import ConfigError, from_env, validate
from devtools.demo import demo_config
from tests.conftest import AES_KEY, APP_ID, WeChat

ACCOUNT = {"WECHAT_TOKEN": "abc123", "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": "s3cret"}


def mode_of(environ: dict[str, str]) -> str:
    return validate(from_env({**ACCOUNT, **environ}))["WECHAT_MESSAGE_MODE"]


def test_the_mode_defaults_from_the_aes_key():
    assert mode_of({"WECHAT_AES_KEY": AES_KEY}) == "compatible"
    assert mode_of({}) == "plaintext"


def test_the_mode_is_read_from_the_environment_in_any_case():
    assert mode_of({"WECHAT_AES_KEY": AES_KEY, "WECHAT_MESSAGE_MODE": " SAFE "}) == "safe"
    assert mode_of({"WECHAT_AES_KEY": AES_KEY, "WECHAT_MESSAGE_MODE": "plaintext"}) == "plaintext"


@pytest.mark.parametrize(
    "environ",
    [
        {"WECHAT_MESSAGE_MODE": "safe"},
        {"WECHAT_MESSAGE_MODE": "compatible"},
        {"WECHAT_MESSAGE_MODE": "encrypted", "WECHAT_AES_KEY": AES_KEY},
    ],
    ids=["safe-without-key", "compatible-without-key", "unknown-mode"],
)
def test_an_unusable_mode_is_one_line_naming_the_variable(environ):
    with pytest.raises(ConfigError) as caught:
        validate(from_env({**ACCOUNT, **environ}))
    assert [line.split(":")[0] for line in caught.value.problems] == ["WECHAT_MESSAGE_MODE"]


def test_the_demo_account_runs_in_compatible_mode():
    settings = validate({**from_env({}), **demo_config("http://127.0.0.1:8081")})
    assert settings["WECHAT_MESSAGE_MODE"] == "compatible"


def test_safe_mode_refuses_plaintext_and_accepts_encrypted(make_app, redis):
    client = make_app(WECHAT_MESSAGE_MODE="safe").test_client()
    plain = WeChat(client)
    response = plain.post(plain.user.text("帮助"))
    assert response.status_code == 403 and b"plaintext" in response.data
    assert not redis.keys("dedup:*")
    assert "我的订单" in WeChat(client, aes=True).say("帮助")


def test_safe_mode_still_answers_the_url_check(make_app):
    client = make_app(WECHAT_MESSAGE_MODE="safe").test_client()
    signed = WeChat(client).user.sign("")
    assert client.get(f"/wechat?{signed.query}&echostr=ok42").data == b"ok42"


@pytest.mark.parametrize("mode", ["compatible", "plaintext"])
def test_compatible_and_plaintext_modes_accept_both_as_before(make_app, mode):
    client = make_app(WECHAT_MESSAGE_MODE=mode).test_client()
    assert "我的订单" in WeChat(client).say("帮助")
    assert "我的订单" in WeChat(client, aes=True).say("帮助")
