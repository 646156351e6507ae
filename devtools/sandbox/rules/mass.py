"""Mass sends (群发): job ids, the 24-hour clientmsgid dedupe, and the 4-per-month cap.

WeChat accepts a mass job and delivers later; the sandbox delivers at once but keeps WeChat's
bookkeeping (WECHAT_API.md §5D): each user receives at most 4 mass messages per calendar month
(extra ones are filtered for that user, not an error), and the same clientmsgid — or, without
one, the same scope and content — within 24 h is refused with 45065 and the earlier msg_id.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from devtools.sandbox.errors import WxError
from devtools.sandbox.rules.clock import china_month

MONTHLY_CAP = 4
DEDUPE_SECONDS = 24 * 3600
MAX_CLIENTMSGID_BYTES = 64
MAX_OPENIDS = 10_000


@dataclass
class MassJob:
    msg_id: int
    msg_data_id: int | None
    created_at: float
    total_count: int  # openids addressed
    delivered: list[str] = field(default_factory=list)
    capped: list[str] = field(default_factory=list)  # over 4 this month: filtered out

    def status(self) -> dict[str, Any]:
        """`mass/get`; the count fields mirror MASSSENDJOBFINISH (sandbox extras)."""
        return {
            "msg_id": self.msg_id, "msg_status": "SEND_SUCCESS",
            "total_count": self.total_count, "filter_count": len(self.delivered),
            "sent_count": len(self.delivered), "error_count": 0,
            "capped_count": len(self.capped),
        }


class MassLedger:
    """Every accepted mass job and what each follower received this month."""

    def __init__(self) -> None:
        self._jobs: dict[int, MassJob] = {}
        self._recent: dict[str, tuple[int, float]] = {}
        self._received: dict[tuple[str, str], int] = {}
        self._next_id = 1_000_000_001

    def dedupe_key(self, clientmsgid: Any, scope: Any, body: dict[str, Any]) -> str:
        """The clientmsgid, or WeChat's fallback: a digest of scope and content."""
        if clientmsgid not in (None, ""):
            if len(str(clientmsgid).encode()) > MAX_CLIENTMSGID_BYTES:
                raise WxError(45067)
            return f"id:{clientmsgid}"
        msgtype = body.get("msgtype")
        raw = json.dumps([scope, msgtype, body.get(msgtype)], sort_keys=True, ensure_ascii=False)
        return "digest:" + hashlib.sha256(raw.encode()).hexdigest()

    def check_duplicate(self, key: str, now: float) -> None:
        seen = self._recent.get(key)
        if seen is not None and now - seen[1] < DEDUPE_SECONDS:
            raise WxError(45065, msg_id=seen[0])

    def submit(self, key: str | None, openids: list[str], now: float,
               with_data_id: bool = False, addressed: int | None = None) -> MassJob:
        """Accept a job for `openids` (followers only); apply the monthly cap per user.

        `addressed` is how many openids the request named, non-followers included.
        """
        total = len(openids) if addressed is None else addressed
        job = MassJob(self.new_id(), None, now, total)
        if with_data_id:
            job.msg_data_id = 2_247_000_000 + job.msg_id % 1_000_000
        month = china_month(now)
        for openid in openids:
            got = self._received.get((openid, month), 0)
            if got >= MONTHLY_CAP:
                job.capped.append(openid)
                continue
            self._received[(openid, month)] = got + 1
            job.delivered.append(openid)
        self._jobs[job.msg_id] = job
        if key is not None:
            self._recent[key] = (job.msg_id, now)
        return job

    def job(self, msg_id: Any) -> MassJob:
        try:
            return self._jobs[int(msg_id)]
        except (KeyError, TypeError, ValueError):
            raise WxError(40059) from None

    def received_this_month(self, openid: str, now: float) -> int:
        return self._received.get((openid, china_month(now)), 0)

    def new_id(self) -> int:
        msg_id, self._next_id = self._next_id, self._next_id + 1
        return msg_id
