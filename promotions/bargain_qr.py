"""The launch's parametric QR code as a picture the chat can send (an image message).

`BargainLaunch.qr_url` is the URL WeChat returned for the launch's QR code (scene
bargain:<id>); drawn as a PNG and uploaded as temporary media, it follows the invitation
text in the chat, so a friend can scan it from the starter's phone without opening the page.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging

import redis
import segno

from bot.wechat_api import WeChatAPI

log = logging.getLogger(__name__)

#: WeChat keeps temporary media 3 days; an upload is reused for less than that.
REUSE_SECONDS = 60 * 60 * 60
SCALE = 8  # pixels per module: sharp when forwarded or shown on another phone
BORDER = 4  # the quiet zone scanners need, in modules


def qr_png(launch_url: str) -> bytes:
    """`launch_url` as a PNG QR code (error correction M, 4-module quiet zone)."""
    buffer = io.BytesIO()
    segno.make(launch_url, error="m").save(buffer, kind="png", scale=SCALE, border=BORDER)
    return buffer.getvalue()


def qr_media_id(api: WeChatAPI, qr_url: str, client: redis.Redis | None = None) -> str | None:
    """The media_id of `qr_url`'s QR code uploaded as a temporary image (valid 3 days), or
    None when there is no URL or the upload failed (logged; the invitation has the link).
    With `client`, an upload is reused for 2½ days: an invitation shown again costs no
    upload inside the reply's 5 seconds."""
    if not qr_url:
        log.info("bargain QR image skipped: the launch has no QR code")
        return None
    key = "bargain:qrmedia:" + hashlib.sha1(qr_url.encode()).hexdigest()
    if client is not None:
        with contextlib.suppress(redis.RedisError):
            if cached := client.get(key):
                return cached.decode() if isinstance(cached, bytes) else str(cached)
    try:
        media_id = api.upload_image(qr_png(qr_url), filename="bargain-qr.png")
    except Exception as error:  # an extra picture: never worth failing the invitation over
        log.info("bargain QR image not uploaded: %s %s", type(error).__name__,
                 getattr(error, "errcode", ""))
        return None
    if client is not None:
        with contextlib.suppress(redis.RedisError):
            client.set(key, media_id, ex=REUSE_SECONDS)
    return media_id
