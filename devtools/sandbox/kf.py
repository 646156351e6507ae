"""The customer-service chat log (获取聊天记录, `customservice/msgrecord/getmsglist`).

WeChat files a customer-service message in this log when it is sent as a named agent
(`customservice.kf_account`); a message sent without one is not there (a developer's report on
WeChat's community: the log stays empty for plain API sends). The sandbox keeps the same rule,
reading the log from its outbox: every delivered `custom/send` that named an agent is one
record, opercode 2002 (客服发送信息), its text, the agent, the time.

Paging: records come in outbox order from `msgid` on (1 = the start), at most `number`
(≤ 10,000) a call; the answer's `msgid` is where the next page starts (0 when this page is
empty). WeChat's own documentation does not say whether its `msgid` is the last record's or the
next one's; a caller that pages until a short page works with either. A period longer than 24
hours, an end before the start or a bad number is refused with 65416, as WeChat does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from devtools.sandbox.errors import WxError
from devtools.sandbox.web import get_state, json_body

bp = Blueprint("sandbox_kf", __name__, url_prefix="/customservice")

MAX_PERIOD_SECONDS = 24 * 3600
MAX_NUMBER = 10_000
SENT_BY_AGENT = 2002


@bp.post("/msgrecord/getmsglist")
def chat_log() -> Any:
    data = json_body()
    try:
        start, end = int(data["starttime"]), int(data["endtime"])
        msgid, number = int(data.get("msgid", 1)), int(data.get("number", MAX_NUMBER))
    except (KeyError, TypeError, ValueError):
        raise WxError(65416) from None
    if end < start or end - start > MAX_PERIOD_SECONDS or not 1 <= number <= MAX_NUMBER \
            or msgid < 1:
        raise WxError(65416)
    state = get_state()
    with state.lock:
        sent = state.outbox.since(msgid - 1, api="custom/send")
    records: list[dict[str, Any]] = []
    last = 0
    for entry in sent:
        worker = (entry["body"].get("customservice") or {}).get("kf_account")
        if not worker or not start <= int(entry["time"]) <= end:  # whole seconds, as WeChat
            continue
        message = entry["body"].get(entry["msgtype"]) or {}
        text = message.get("content") if entry["msgtype"] == "text" else f"[{entry['msgtype']}]"
        records.append({"openid": entry["touser"], "opercode": SENT_BY_AGENT, "text": text,
                        "time": int(entry["time"]), "worker": worker})
        last = entry["id"]
        if len(records) == number:
            break
    return {"recordlist": records, "number": len(records), "msgid": last + 1 if last else 0}
