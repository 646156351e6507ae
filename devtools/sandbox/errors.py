"""WeChat's error vocabulary: codes, their usual errmsg, and the trailing request id.

Callers must branch on `errcode`, never on `errmsg`; every errmsg carries a random
" rid: ..." suffix (as WeChat's do) so a client that compares messages breaks here first.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

#: errcode → errmsg as WeChat words it (WECHAT_API.md §1, §3, §5). "(unverified)" rows are guesses.
ERRMSG: dict[int, str] = {
    -1: "system error",
    404: "sandbox: no such api",  # not WeChat's; the real host answers unknown paths differently
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40004: "invalid media type",
    40005: "invalid file type",
    40006: "invalid meida size",  # (sic) as WeChat spells it (unverified); docs: 不合法的文件大小
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40023: "invalid sub button size",
    40032: "invalid openid list size",
    40037: "invalid template_id",
    40052: "invalid action name",  # (unverified)
    40053: "invalid action info, please check document",  # (unverified)
    40059: "invalid msg id",
    40125: "invalid appsecret",
    40130: "invalid openid list size, at least two openid",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41005: "media data missing",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    44004: "empty content",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    45056: "too many tags",
    45057: "can't delete the tag that has too many fans",
    45058: "can't modify sys tag",
    45059: "tag count of user exceeds limit",  # (unverified wording)
    45065: "clientmsgid exist",
    45067: "clientmsgid size out of limit",
    45157: "invalid tag name, duplicate name",
    45158: "tag name too long",
    45159: "invalid tag id",
    46003: "menu no exist",
    40097: "invalid args",
    47001: "data format error",
    47003: "argument invalid!",
    48006: "forbid to clear quota because of reaching the limit",
    65416: "param invalid, please check hint",  # getmsglist (WX community thread, 2020)
}


class WxError(Exception):
    """A WeChat-style failure; the app turns it into HTTP 200 + {"errcode", "errmsg"}."""

    def __init__(self, errcode: int, detail: str | None = None, **extra: Any):
        self.errcode = errcode
        self.detail = detail
        self.extra = extra
        super().__init__(f"{errcode} {detail or ERRMSG.get(errcode, '')}")


def new_rid() -> str:
    """A request id shaped like WeChat's newer form, e.g. "5f3ded7d-22929d02-4ba1f5f6"."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def error_body(errcode: int, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON WeChat answers on failure; `detail` is appended after the usual errmsg."""
    text = ERRMSG.get(errcode, "error")
    if detail:
        text = f"{text} {detail}"
    return {"errcode": errcode, "errmsg": f"{text} rid: {new_rid()}", **extra}


def ok_body(errmsg: str = "ok", **extra: Any) -> dict[str, Any]:
    """The JSON WeChat answers on success for send-style APIs."""
    return {"errcode": 0, "errmsg": errmsg, **extra}
