"""Temporary media (新增临时素材): `POST /cgi-bin/media/upload?type=...`, multipart field `media`.

WeChat keeps an upload for 3 days and answers `{"type", "media_id", "created_at"}` (a `thumb`
upload answers `thumb_media_id` instead, a long-known quirk SDKs work around). Images must be
bmp/png/jpeg/jpg/gif of at most 10 MB; the sandbox tells the format from the file's first
bytes. Customer-service image messages name a media_id, which `check_media` verifies (40007).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, request

from devtools.sandbox.errors import WxError
from devtools.sandbox.state import SandboxState
from devtools.sandbox.web import get_state

bp = Blueprint("sandbox_media", __name__, url_prefix="/cgi-bin/media")

MEDIA_TYPES = ("image", "voice", "video", "thumb")
LIFETIME_SECONDS = 3 * 86400  # temporary media expire after 3 days
MB = 1024 * 1024
#: Size limits of temporary media per type (WeChat's 新增临时素材 page).
MAX_BYTES = {"image": 10 * MB, "voice": 2 * MB, "video": 10 * MB, "thumb": 64 * 1024}
#: Leading bytes of the image formats WeChat takes (bmp/png/jpeg/jpg/gif).
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


@dataclass(frozen=True)
class StoredMedia:
    media_id: str
    type: str
    size: int
    created_at: int

    def valid_at(self, now: float) -> bool:
        return now < self.created_at + LIFETIME_SECONDS


@bp.post("/upload")
def upload() -> Any:
    """Store one temporary media file: 40004 bad type, 41005 no file, 40005/40006 bad file."""
    media_type = request.args.get("type")
    if media_type not in MEDIA_TYPES:
        raise WxError(40004)
    file = request.files.get("media")
    data = file.read() if file is not None else b""
    if not data:
        raise WxError(41005)
    if media_type == "image" and not data.startswith(IMAGE_MAGIC):
        raise WxError(40005)
    if len(data) > MAX_BYTES[media_type]:
        raise WxError(40006)
    state = get_state()
    with state.lock:
        stored = StoredMedia(secrets.token_urlsafe(48), media_type, len(data), int(state.now()))
        state.media[stored.media_id] = stored
    key = "thumb_media_id" if media_type == "thumb" else "media_id"
    return {"type": media_type, key: stored.media_id, "created_at": stored.created_at}


def check_media(state: SandboxState, media_id: Any, media_type: str, now: float) -> None:
    """40007 unless `media_id` is an upload of `media_type` still valid at `now`.

    Call with `state.lock` held.
    """
    stored = state.media.get(media_id) if isinstance(media_id, str) else None
    if stored is None or stored.type != media_type or not stored.valid_at(now):
        raise WxError(40007)
