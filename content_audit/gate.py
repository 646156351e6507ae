"""The one gate every sender passes: pushes, product copy, replies, bargain invitations, agents.

    outcome = gate.check(db, text, screener=rules.screener(), source="push", author="lin")
    if outcome.may_send: send(text)
    else: tell the author outcome.message

block → not sent, and the caller learns why; review → queued, not sent until a reviewer
approves these exact words; pass → goes. Words approved once from a source go again without
asking, until they change.

The caller passes the screener on the live rules (content_audit.rulestore.LiveRules: the
console's `live_screener()`, or `LiveRules(...).screener()` in a command or a job). There is
no default on purpose: a fallback to the shipped rules once let a catalog import skip a rule
the compliance role had added in the console.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from console import audit_log
from content_audit import exemptions, review
from content_audit.review import ReviewItem
from content_audit.screener import Screener, Verdict

SCOPES = {"push": "push", "product": "product", "reply": "reply", "bargain": "push",
          "agent": "reply"}


#: What a refusal stops, by source: pushes and agents' replies are not sent; product copy and
#: reply templates (FAQ answers) are saved copy, which is not saved or not put to use. The
#: console once said 未发送 on a product it had not saved.
NOT_DONE = {"push": "未发送", "bargain": "未发送", "agent": "未发送", "product": "未保存",
            "reply": "未保存"}
#: What a copy waiting for the reviewer waits to do, by source.
AFTER_REVIEW = {"product": "通过后才会上架", "reply": "通过后才会启用"}


@dataclass(frozen=True)
class Outcome:
    status: str  # send | blocked | queued | rejected
    verdict: Verdict
    item: ReviewItem | None = None
    source: str = "push"

    @property
    def may_send(self) -> bool:
        return self.status == "send"

    @property
    def refused(self) -> bool:
        """Blocked outright or rejected by a reviewer: saved copy must not be kept."""
        return self.status in ("blocked", "rejected")

    @property
    def held(self) -> bool:
        """Waiting for a reviewer: saved copy is kept but not shown (off shelf, disabled)."""
        return self.status == "queued"

    @property
    def message(self) -> str:
        """What the author is told, in Chinese."""
        if self.status == "send":
            return "可以发送"
        if self.status == "blocked":
            reasons = "；".join(
                f"「{f.term}」{('，可改为「' + f.suggestion + '」') if f.suggestion else ''}"
                for f in self.verdict.flags
                if f.severity == "block"
            )
            return f"含有广告法或平台规则禁止的用语，{self.not_done}：{reasons}"
        if self.status == "rejected":
            reason = self.item.reason if self.item else ""
            return f"审核未通过，{self.not_done}：{reason}"
        return f"文案已提交合规审核，{AFTER_REVIEW.get(self.source, '通过后才会发送')}"

    @property
    def not_done(self) -> str:
        return NOT_DONE.get(self.source, "未发送")


def check(
    db: Session,
    text: str,
    *,
    source: str,
    author: str,
    screener: Screener,
    source_ref: str = "",
    send_at: datetime | None = None,
) -> Outcome:
    """Screen `text` with the live rules for `source` and decide whether it may go now."""
    verdict = screener.screen(text, SCOPES.get(source))
    if verdict.flags:
        granted = exemptions.active_for(db, source, source_ref)
        verdict, used = exemptions.apply(verdict, granted)
        for exemption in used:  # every use of an exemption is on the record
            audit_log.record(
                db, "audit.exemption_used", actor_name=author, target=f"exemption:{exemption.id}",
                rule=exemption.rule_id, term=exemption.term, source=source,
                source_ref=source_ref,
            )
    if verdict.verdict == "block":
        return Outcome("blocked", verdict, source=source)
    if verdict.verdict == "pass":
        return Outcome("send", verdict, source=source)
    item = review.submit(
        db, text, verdict, source=source, author=author, source_ref=source_ref, send_at=send_at
    )
    if item.state == "approved":
        return Outcome("send", verdict, item, source)
    if item.state in ("rejected", "changes_requested"):
        return Outcome("rejected", verdict, item, source)
    return Outcome("queued", verdict, item, source)
