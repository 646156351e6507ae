"""`create_sandbox_app`: a Flask app that answers like api.weixin.qq.com.

Point `WECHAT_API_BASE` at it (tests, the chat simulator, local demos) and the shop's real
WeChat client runs unchanged against WeChat's paths, JSON shapes and error codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from devtools.demo import DEMO_ACCOUNT
from devtools.sandbox import (
    control,
    jssdk,
    kf,
    mass,
    media,
    menu,
    messages,
    oauth,
    tags,
    tokens,
    users,
    web,
)
from devtools.sandbox.rules.followers import PAGE_SIZE
from devtools.sandbox.state import SandboxState

DEFAULTS: dict[str, Any] = {
    "APP_ID": DEMO_ACCOUNT["WECHAT_APP_ID"],
    "APP_SECRET": DEMO_ACCOUNT["WECHAT_APP_SECRET"],
    "CLOCK": None,  # zero-argument callable returning unix seconds; None = time.time
    "DAILY_LIMITS": None,  # {path: calls per day} over rules.quotas.DEFAULT_DAILY_LIMITS
    "PAGE_SIZE": PAGE_SIZE,  # openids per user/get page; lower it to test paging
    "TEMPLATE_IDS": None,  # iterable of known template ids; None = accept any (else 40037)
    # 网页授权域名: hosts an oauth2 redirect_uri may use; None = accept any (else 10003).
    "OAUTH_DOMAINS": None,
    # WeChat Pay v3: {"mch_id", "api_v3_key", "merchant_public_pem", "platform_private_pem",
    # "retry_seconds"}; None = no payment endpoints.
    "PAY": None,
}

BLUEPRINTS = (tokens.bp, messages.bp, mass.bp, users.bp, tags.bp, menu.bp, control.bp, jssdk.bp,
              oauth.bp, media.bp, kf.bp)


def create_sandbox_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a fresh sandbox; its state is `app.extensions["sandbox"]`.

    Args:
        config: overrides for DEFAULTS (APP_ID, APP_SECRET, CLOCK, DAILY_LIMITS, PAGE_SIZE,
            TEMPLATE_IDS, OAUTH_DOMAINS); other keys are copied into `app.config` untouched.
    """
    settings = {**DEFAULTS, **(config or {})}
    app = Flask("devtools.sandbox")
    app.config.update({f"SANDBOX_{k}": v for k, v in settings.items()})
    app.json.ensure_ascii = False  # WeChat answers raw UTF-8 (tag names are Chinese)
    app.json.sort_keys = False
    app.extensions["sandbox"] = SandboxState(
        app_id=settings["APP_ID"],
        app_secret=settings["APP_SECRET"],
        clock=settings["CLOCK"],
        daily_limits=settings["DAILY_LIMITS"],
        page_size=int(settings["PAGE_SIZE"]),
        template_ids=settings["TEMPLATE_IDS"],
        oauth_domains=settings["OAUTH_DOMAINS"],
    )
    web.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    if settings["PAY"]:
        init_pay(app, settings["PAY"])
    return app


def init_pay(app: Flask, pay: Mapping[str, Any]) -> None:
    from devtools.sandbox import pay as pay_module
    from shop.wxpay import load_private_key, load_public_key

    keys = pay_module.PayKeys(
        mch_id=str(pay["mch_id"]),
        api_v3_key=pay["api_v3_key"],
        merchant_public=load_public_key(pay["merchant_public_pem"]),
        platform_private=load_private_key(pay["platform_private_pem"]),
    )
    retry = tuple(pay.get("retry_seconds") or pay_module.REAL_RETRY_SECONDS)
    app.extensions["sandbox_pay"] = pay_module.PaySandbox(keys, retry)
    app.register_blueprint(pay_module.bp)
