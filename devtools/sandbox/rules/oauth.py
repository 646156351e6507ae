"""Web authorisation (网页授权) codes: issued by `connect/oauth2/authorize`, redeemed once.

WeChat's rules the shop's pages must survive: a code is good for 5 minutes and for one
exchange only; a second exchange answers 40163 "code been used", an unknown or expired code
40029 "invalid code". A page that reloads its own callback URL (the code still in it) hits
40163, which is exactly what the sandbox should make visible.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from devtools.sandbox.errors import WxError

CODE_LIFETIME = 300  # seconds a code may wait before it is exchanged
WEB_TOKEN_LIFETIME = 7200  # `expires_in` of the web access_token
SCOPES = ("snsapi_base", "snsapi_userinfo")
PRUNE_AFTER = 86400  # forget codes a day after they died (they then answer 40029, not 40163)


@dataclass
class OAuthCode:
    value: str
    openid: str
    scope: str
    issued_at: float
    used: bool = False


@dataclass
class WebGrant:
    """What one successful exchange hands out (the web token is not the account token)."""

    access_token: str
    refresh_token: str
    openid: str
    scope: str

    def as_dict(self) -> dict[str, object]:
        # No "is_snapshotuser": WeChat adds it only for visitors of a snapshot page (朋友圈
        # 快照页), whom the sandbox never simulates; no "unionid" either (no open platform).
        return {
            "access_token": self.access_token,
            "expires_in": WEB_TOKEN_LIFETIME,
            "refresh_token": self.refresh_token,
            "openid": self.openid,
            "scope": self.scope,
        }


class OAuthCodes:
    """Codes handed to visitors by the authorize redirect, and their single exchange."""

    def __init__(self) -> None:
        self._codes: dict[str, OAuthCode] = {}

    def issue(self, openid: str, scope: str, now: float) -> OAuthCode:
        self._prune(now)
        code = OAuthCode(secrets.token_urlsafe(24), openid, scope, now)
        self._codes[code.value] = code
        return code

    def redeem(self, value: str, now: float) -> WebGrant:
        """Exchange a code; raises the WxError WeChat answers for a used/unknown/old code."""
        code = self._codes.get(value)
        if code is None:
            raise WxError(40029)
        if code.used:
            raise WxError(40163)
        if now >= code.issued_at + CODE_LIFETIME:
            raise WxError(40029)
        code.used = True
        return WebGrant(secrets.token_urlsafe(64), secrets.token_urlsafe(64), code.openid,
                        code.scope)

    def _prune(self, now: float) -> None:
        dead = [v for v, c in self._codes.items()
                if c.issued_at + CODE_LIFETIME < now - PRUNE_AFTER]
        for value in dead:
            del self._codes[value]
