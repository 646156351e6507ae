"""Did a customer-service push go out? WeChat's chat log (获取聊天记录) says.

WeChat gives customer-service messages no idempotency key, so a sender that loses the answer
to a call (it died, the connection dropped, WeChat said `-1` after delivering) cannot tell a
delivered message from one that never left. A message sent as a named agent
(`customservice.kf_account`, PUSH_KF_ACCOUNT) is filed in the account's chat log, which
`customservice/msgrecord/getmsglist` reads back by time: one record per message, with the
customer's openid, the agent and the text. So the sender (campaigns/sender.py) looks a doubtful
call up here: found, it was delivered; absent once the call is long over, it was not and may
be sent again.

What this rests on: WeChat documents the log as the messages agents sent (opercode 2002) and
received; a developer's report on WeChat's community says plain API sends (no agent named) are
not in it. That API sends naming an agent are is our reading of both; the sandbox behaves so,
and it has not been tried against a live account. Should a live log lag behind the send, a
check comes at least a minute after the call (CHECK_AFTER, the lease, the back-off).

The log is read by the wall clock (WeChat's clock), never by the `now` a sender was given, in
periods of at most 24 hours (WeChat refuses longer ones with 65416) and pages of at most
10,000 records. A record matches a lookup when openid, agent and text agree and it is no
older than the call (less CLOCK_SKEW); each record settles one lookup at most, so the same copy
sent to the same customer by an earlier run is never taken for this one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)

#: WeChat's largest query period and page.
PERIOD = timedelta(hours=24)
PAGE = 10_000
#: How far WeChat's clock may be behind ours when it files a message (servers keep NTP time;
#: kept short so the same copy sent to the same customer just before is not taken for it —
#: the frequency cap makes that rare anyway).
CLOCK_SKEW = timedelta(seconds=10)
#: A runaway paging loop stops here (10 million records in one period).
MAX_PAGES = 1_000
#: opercode of a message an agent sent.
SENT_BY_AGENT = 2002


class ChatLogUnavailable(Exception):
    """The log could not be read (a WeChat error or no answer): nothing can be settled now."""


@dataclass(frozen=True)
class Lookup:
    """One doubtful call: which delivery, to whom, as which agent, what text, and when it
    started by the wall clock."""

    delivery_id: int
    openid: str
    kf_account: str
    text: str
    called_at: datetime


def delivered(api: Any, lookups: Iterable[Lookup], wall_now: datetime) -> set[int]:
    """The delivery ids of `lookups` the chat log shows as sent.

    Raises ChatLogUnavailable when a page cannot be read, so a caller never takes "not read"
    for "not sent".
    """
    pending = sorted(lookups, key=lambda item: item.called_at)
    if not pending:
        return set()
    start = min(item.called_at for item in pending) - CLOCK_SKEW
    records: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for record in _read(api, start, wall_now):
        if record.get("opercode") != SENT_BY_AGENT:
            continue
        at = datetime.fromtimestamp(int(record.get("time") or 0), UTC)
        records[(str(record.get("openid")), str(record.get("worker")))].append(
            (at, str(record.get("text") or "")))
    found: set[int] = set()
    for item in pending:  # earliest call first, so it takes the earliest matching record
        candidates = records.get((item.openid, item.kf_account), [])
        for entry in sorted(candidates):
            at, text = entry
            if at >= item.called_at - CLOCK_SKEW and text.strip() == item.text.strip():
                found.add(item.delivery_id)
                candidates.remove(entry)  # one record settles one call
                break
    return found


def _read(api: Any, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    """Every record from `start` to `end`, period by period, page by page."""
    period_start = start
    end = end + timedelta(seconds=1)  # the log counts whole seconds: include this one
    while period_start < end:
        period_end = min(period_start + PERIOD, end)
        msgid = 1
        for _ in range(MAX_PAGES):
            try:
                page = api.chat_log(int(period_start.timestamp()), int(period_end.timestamp()),
                                    msgid, PAGE)
            except Exception as error:  # a WeChat error or no answer: nothing is known
                log.warning("chat log unreadable: %s", type(error).__name__)
                raise ChatLogUnavailable(str(error)[:200]) from error
            rows = page.get("recordlist") or []
            yield from rows
            next_id = int(page.get("msgid") or 0)
            if len(rows) < PAGE or next_id <= msgid:
                break
            msgid = next_id
        period_start = period_end
