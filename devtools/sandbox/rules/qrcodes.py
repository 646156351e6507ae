"""Parametric QR codes: tickets and the scene each one carries.

The simulator turns a ticket back into its scene when it fakes a scan, so the shop sees the
same `qrscene_<value>` it would get from WeChat (WECHAT_API.md §5F).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from devtools.sandbox.errors import WxError

TEMPORARY = {"QR_SCENE": int, "QR_STR_SCENE": str}
PERMANENT = {"QR_LIMIT_SCENE": int, "QR_LIMIT_STR_SCENE": str}
DEFAULT_EXPIRE = 60
MAX_EXPIRE = 30 * 86400
MAX_PERMANENT_SCENE_ID = 100_000


@dataclass
class QrCode:
    ticket: str
    action_name: str
    scene: int | str
    expires_at: float | None  # None = permanent


class QrCodes:
    """Tickets issued by `qrcode/create`."""

    def __init__(self) -> None:
        self._codes: dict[str, QrCode] = {}

    def create(self, body: dict[str, Any], now: float) -> QrCode:
        action = body.get("action_name")
        kind = (TEMPORARY.get(action) or PERMANENT.get(action)) if isinstance(action, str) else None
        if kind is None:
            raise WxError(40052)
        info = body.get("action_info") or {}
        scene_obj = (info.get("scene") or {}) if isinstance(info, dict) else None
        if not isinstance(scene_obj, dict):
            raise WxError(47001, "(action_info)")
        # A body without the "scene" level silently yields scene 0, as on the real platform.
        scene = scene_obj.get("scene_id", 0) if kind is int else scene_obj.get("scene_str", "")
        if kind is int and (not isinstance(scene, int) or scene < 0
                            or (action in PERMANENT and scene > MAX_PERMANENT_SCENE_ID)):
            raise WxError(40053, "(scene_id)")
        if kind is str and (not isinstance(scene, str) or not 0 < len(scene) <= 64):
            raise WxError(40053, "(scene_str)")
        expires_at = None
        if action in TEMPORARY:
            seconds = body.get("expire_seconds") or DEFAULT_EXPIRE
            if not isinstance(seconds, int | float):
                raise WxError(47001, "(expire_seconds)")
            expires_at = now + min(int(seconds), MAX_EXPIRE)
        code = QrCode(secrets.token_urlsafe(36), action, scene, expires_at)
        self._codes[code.ticket] = code
        return code

    def scene_of(self, ticket: str, now: float) -> int | str | None:
        """The scene behind a ticket still valid at `now`, else None."""
        code = self._codes.get(ticket)
        if code is None or (code.expires_at is not None and now >= code.expires_at):
            return None
        return code.scene
