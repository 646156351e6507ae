"""Blueprint "wechat": the URL WeChat calls. Flask request in, our WebhookRequest down the chain.

Kept as thin as Bolt's Flask adapter: everything below this file is Flask-free.
"""

from __future__ import annotations

import logging

import redis
from flask import Blueprint, Response, current_app, request

from bot.middleware import Delivery, WebhookRequest, run_chain

bp = Blueprint("wechat", __name__)
log = logging.getLogger("bot.webhook")


@bp.route("/wechat", methods=["GET", "POST"])
def wechat() -> Response:
    """WeChat's URL check (GET) and every message or event it delivers (POST)."""
    webhook = current_app.extensions["webhook"]
    incoming = WebhookRequest(
        method=request.method,
        args=request.args.to_dict(),
        body=request.get_data(cache=False) if request.method == "POST" else b"",
        remote=request.remote_addr or "",
    )
    try:
        result = run_chain(webhook.steps, webhook.runner, Delivery(incoming))
    except redis.RedisError as error:
        # Without Redis we can't tell a retry from a new message; refusing is safer than
        # risking a handler running twice. WeChat shows the customer a "try later" notice.
        log.error("webhook unavailable, Redis error: %s", type(error).__name__)
        return Response("storage unavailable", 503, content_type="text/plain; charset=utf-8")
    return Response(result.body, result.status, content_type=result.content_type)
