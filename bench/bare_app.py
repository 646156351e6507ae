"""The bare baseline for bench/webhook_bench.py: a Flask app whose POST /wechat returns `success`.

It reads the body (as any real endpoint must) and does nothing else: no signature check, no
XML, no Redis. Served with the same gunicorn settings as the bot, its requests/s is the
ceiling the full webhook is compared against.
"""

from __future__ import annotations

from flask import Flask, Response, request

app = Flask(__name__)


@app.post("/wechat")
def wechat() -> Response:
    request.get_data(cache=False)
    return Response(b"success", 200, content_type="text/plain; charset=utf-8")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
