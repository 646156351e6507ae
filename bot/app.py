"""create_app(): configuration, storage, the webhook chain, blueprints — nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response

from bot.dedup import LEASE_MARGIN_SECONDS, Ledger
from bot.domains import build_registry, open_storage
from bot.inbound import Inbound
from bot.middleware import Decrypt, Deduplicate, Middleware, Parse, VerifySignature
from bot.outbox import Outbox
from bot.router import Dispatcher
from bot.runner import HandlerRunner
from bot.session import Conversation
from bot.wechat import MessageCrypto
from bot.wechat_api import WeChatAPI
from core import config as core_config
from core.storage import Storage


@dataclass
class Webhook:
    """What the `wechat` blueprint runs: the middleware steps, then the handler runner."""

    steps: list[Middleware]
    runner: HandlerRunner


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, overridden by `config` (tests, the demo)."""
    registry = build_registry()
    settings = core_config.validate(
        {**core_config.from_env(), **(config or {})}, checks=registry.config_checks
    )
    app = Flask(__name__)
    app.config.update(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    storage = app.config.get("STORAGE") or open_storage(settings)
    storage.settings = settings  # the jobs of this process read this app's configuration
    app.extensions["storage"] = storage
    app.extensions["registry"] = registry
    api = storage.wechat or WeChatAPI(
        settings["WECHAT_API_BASE"],
        settings["WECHAT_APP_ID"],
        settings["WECHAT_APP_SECRET"],
        storage.redis,
    )
    storage.wechat = api  # the jobs of this process send through the same client
    app.extensions["wechat_api"] = api
    app.extensions["outbox"] = Outbox(api)
    register_webhook(app, storage)
    register_blueprints(app)
    for init in registry.web:  # each area's pages, in the registry's (menu) order
        init(app)
    register_error_pages(app)
    trust_proxies(app, int(settings["TRUSTED_PROXIES"]))
    return app


def trust_proxies(app: Flask, count: int) -> None:
    """Behind `count` reverse proxies, take the client address and scheme from their headers.

    Without this every sign-in would seem to come from the proxy (one failing user would lock
    the address of everyone) and the console could not tell that it is served over HTTPS.
    With count 0 the headers are ignored, so a client cannot forge them.
    """
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]


def register_webhook(app: Flask, storage: Storage) -> None:
    """Assemble the chain in its one, visible order, and the dispatcher from handlers.ROUTERS."""
    from bot.middleware import BindNonce, MatchOpenid
    from handlers import ROUTERS
    from handlers.context import ChatContext

    settings = app.config
    crypto = None
    if settings.get("WECHAT_AES_KEY"):
        crypto = MessageCrypto(
            settings["WECHAT_TOKEN"], settings["WECHAT_AES_KEY"], settings["WECHAT_APP_ID"]
        )
    budget = float(settings["REPLY_BUDGET_SECONDS"])
    ledger = Ledger(
        storage.redis, settings["DEDUP_TTL_SECONDS"], settings["CONVERSATION_TTL_SECONDS"],
        lease_seconds=budget + LEASE_MARGIN_SECONDS,
    )
    api, outbox = app.extensions["wechat_api"], app.extensions["outbox"]
    handler_log = logging.getLogger("handlers")

    def make_context(msg: Inbound, conversation: Conversation) -> ChatContext:
        return ChatContext(
            msg=msg,
            conversation=conversation,
            config=settings,
            api=api,
            outbox=outbox,
            sessions=storage.sessions,
            redis=storage.redis,
            wxpay=storage.wxpay,
            log=handler_log,
        )

    window = settings["WECHAT_REPLAY_WINDOW"]
    steps: list[Middleware] = [
        VerifySignature(settings["WECHAT_TOKEN"], window),
        Decrypt(crypto, accept_plaintext=settings["WECHAT_MESSAGE_MODE"] != "safe"),
        BindNonce(window),  # after Decrypt: a bad msg_signature binds nothing
        Parse(),
        MatchOpenid(),
        Deduplicate(ledger, budget),
    ]
    routers = settings.get("ROUTERS") or ROUTERS  # tests and benchmarks may bring their own
    runner = HandlerRunner(
        Dispatcher(routers),
        ledger,
        make_context,
        outbox,
        crypto,
        budget,
        handler_threads(settings),
    )
    app.extensions["webhook"] = Webhook(steps, runner)


def handler_threads(settings: Mapping[str, Any]) -> int:
    """How many handlers may run at once in this process.

    Under gevent workers the pool's "threads" are greenlets: as many as the worker accepts
    connections (gunicorn's default 1000), or slow handlers would queue behind 32 of them.
    """
    if settings.get("HANDLER_THREADS"):
        return int(settings["HANDLER_THREADS"])
    try:
        from gevent import monkey
    except ImportError:
        return 32
    return 1000 if monkey.is_module_patched("threading") else 32


def close_app(app: Flask) -> None:
    """Stop the app's worker threads (handler pool, outbox) after sending what is queued."""
    app.extensions["webhook"].runner.pool.shutdown(wait=True)
    app.extensions["outbox"].close()


def register_blueprints(app: Flask) -> None:
    from bot.webhook import bp as webhook_bp

    app.register_blueprint(webhook_bp)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        """For a load balancer: 200 only when Redis and SQL both answer, else 503 naming which.

        It once said 200 while every console page gave 500 because Redis was gone.
        """
        checks = health_checks(app.extensions["storage"])
        healthy = all(state == "ok" for state in checks.values())
        return {"status": "ok" if healthy else "unavailable", **checks}, 200 if healthy else 503


def health_checks(storage: Storage) -> dict[str, str]:
    """"ok" or "down" for Redis and SQL; the reason goes to the log, not to the caller."""
    from sqlalchemy import text

    checks = {}
    try:
        storage.redis.ping()
        checks["redis"] = "ok"
    except Exception as error:
        logging.getLogger("bot.health").warning("health: redis down (%s)", type(error).__name__)
        checks["redis"] = "down"
    try:
        with storage.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["sql"] = "ok"
    except Exception as error:
        logging.getLogger("bot.health").warning("health: sql down (%s)", type(error).__name__)
        checks["sql"] = "down"
    return checks


def register_error_pages(app: Flask) -> None:
    """Short plain answers for HTTP errors: no HTML debug pages, no stack traces."""

    @app.errorhandler(413)
    def too_large(_error: Exception) -> Response:
        logging.getLogger("bot.webhook").warning("webhook rejected a request: body too large")
        return Response("body too large", 413, content_type="text/plain; charset=utf-8")

    @app.errorhandler(500)
    def internal(_error: Exception) -> Response:
        return Response("internal error", 500, content_type="text/plain; charset=utf-8")
