"""The content gate for what the chat says about a bargain (the invitation carries the
campaign's title, the manager's words), on this process's live rules."""

from __future__ import annotations

from content_audit import gate
from content_audit.rulestore import LiveRules
from core.storage import Storage

#: The live rules per process, built on first use (sessionmaker id →): building them reads
#: the rule set from SQL, too slow for every reply.
_rules: dict[int, LiveRules] = {}


def screen(storage: Storage, text: str) -> str | None:
    """None when `text` may go to a customer now, else why not (blocked or under review)."""
    rules = _rules.get(id(storage.sessions))
    if rules is None:
        rules = _rules[id(storage.sessions)] = LiveRules(storage.sessions, storage.redis,
                                                         background=False)
    with storage.sessions.begin() as db:
        outcome = gate.check(db, text, source="bargain", author="system",
                             screener=rules.screener())
    return None if outcome.may_send else outcome.message
