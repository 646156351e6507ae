"""Rules once edited: every rule-set version as a snapshot in SQL, the current one named in Redis.

The shipped TOML seeds the first version. An edit in the console saves a whole new version
(never an in-place change), so any past verdict can be replayed with the exact rules it was
made with. Each worker keeps a LiveRules: every couple of seconds it compares the version in
Redis with its own, and on a change builds the new screener beside the old one, in the
background, and swaps it in; screening never waits for a build.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime

import redis
from sqlalchemy import DateTime, Integer, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from content_audit.ruleset import Rule, RuleError, RuleSet, load_shipped, rule_from_dict
from content_audit.screener import Screener
from core.db import Base

log = logging.getLogger(__name__)

#: Redis key holding the current rule-set version; bumped by every save.
VERSION_KEY = "audit:ruleset-version"
CHECK_EVERY_SECONDS = 2.0


class RulesetVersion(Base):
    __tablename__ = "audit_ruleset_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    rules: Mapped[str] = mapped_column(Text)  # JSON list of rule dicts
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def rule_to_dict(rule: Rule) -> dict:
    data = asdict(rule)
    return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}


def _to_ruleset(row: RulesetVersion) -> RuleSet:
    return RuleSet(row.version, tuple(rule_from_dict(d) for d in json.loads(row.rules)))


def latest(db: Session) -> RuleSet:
    """The current rule set; the shipped one when none is stored or when only shipped
    versions are and the shipped file is newer (a deploy brings new rules)."""
    row = db.scalar(select(RulesetVersion).order_by(RulesetVersion.id.desc()).limit(1))
    shipped = load_shipped()
    if row is not None and (row.actor != "system" or row.version == shipped.version):
        # A reviewer's edit stays current over a newer shipped file: their rules, their call.
        return _to_ruleset(row)
    stored = select(RulesetVersion.id).where(RulesetVersion.version == shipped.version)
    if row is not None and db.scalar(stored) is not None:
        return _to_ruleset(row)  # this shipped version was stored before (a rolled-back deploy)
    save(db, shipped.rules, actor="system", note="shipped rules", version=shipped.version)
    return shipped


def by_version(db: Session, version: str) -> RuleSet | None:
    """The rules a past verdict was made with (for replay)."""
    row = db.scalar(select(RulesetVersion).where(RulesetVersion.version == version))
    if row is not None:
        return _to_ruleset(row)
    shipped = load_shipped()
    return shipped if shipped.version == version else None


def save(
    db: Session, rules: tuple[Rule, ...], *, actor: str, note: str = "", version: str = ""
) -> RuleSet:
    """Store `rules` as a new version (its name made from the time unless given)."""
    ids = [rule.id for rule in rules]
    if len(ids) != len(set(ids)):
        raise RuleError("规则编号不能重复")
    version = version or datetime.now(UTC).strftime("%Y.%m.%d-%H%M%S.%f")[:-3]
    db.add(
        RulesetVersion(
            version=version,
            rules=json.dumps([rule_to_dict(rule) for rule in rules], ensure_ascii=False),
            actor=actor,
            note=note,
            created_at=datetime.now(UTC),
        )
    )
    db.flush()
    return RuleSet(version, tuple(rules))


def replace_rule(db: Session, data: dict, *, actor: str, note: str = "") -> RuleSet:
    """A new version in which the rule `data["id"]` is added or replaced."""
    rule = rule_from_dict(data)
    current = latest(db)
    rules = tuple(r for r in current.rules if r.id != rule.id)
    position = next((i for i, r in enumerate(current.rules) if r.id == rule.id), len(rules))
    rules = (*rules[:position], rule, *rules[position:])
    Screener(RuleSet("check", rules))  # a rule that cannot build is refused before saving
    return save(db, rules, actor=actor, note=note or f"edited {rule.id}")


def history(db: Session, limit: int = 50) -> list[RulesetVersion]:
    query = select(RulesetVersion).order_by(RulesetVersion.id.desc()).limit(limit)
    return list(db.scalars(query))


def announce(client: redis.Redis, version: str) -> None:
    """Tell every worker (after the SQL commit) that `version` is now current."""
    client.set(VERSION_KEY, version)


class LiveRules:
    """This worker's screener on the current rules, swapped in when another version appears."""

    def __init__(self, sessions: sessionmaker, client: redis.Redis, *, background: bool = True):
        self._sessions = sessions
        self._redis = client
        self._background = background
        try:
            with sessions.begin() as db:
                ruleset = latest(db)
        except IntegrityError:  # another worker stored the shipped rules at the same moment
            with sessions() as db:
                ruleset = latest(db)
        self._screener = Screener(ruleset)
        self._checked = time.monotonic()
        self._building: str | None = None
        self._lock = threading.Lock()
        if not client.exists(VERSION_KEY):
            client.set(VERSION_KEY, ruleset.version, nx=True)

    def screener(self) -> Screener:
        """The screener to use now; may start a rebuild, never waits for one."""
        now = time.monotonic()
        if now - self._checked >= CHECK_EVERY_SECONDS:
            self._checked = now
            self.refresh()
        return self._screener

    def refresh(self) -> None:
        try:
            wanted = self._redis.get(VERSION_KEY)
        except redis.RedisError:
            return  # keep screening with the rules we have
        wanted = wanted.decode() if wanted else None
        if not wanted or wanted == self._screener.ruleset.version:
            return
        with self._lock:
            if self._building == wanted:
                return
            self._building = wanted
        if self._background:
            threading.Thread(target=self._build, args=(wanted,), daemon=True).start()
        else:
            self._build(wanted)

    def load_now(self, version: str) -> None:
        """The worker that saved a version uses it at once (the others within seconds)."""
        self._build(version)

    def _build(self, version: str) -> None:
        try:
            with self._sessions() as db:
                ruleset = by_version(db, version)
            if ruleset is not None:
                self._screener = Screener(ruleset)  # one assignment: the swap is atomic
                log.info("content rules now at version %s", version)
        except Exception:
            log.exception("could not build content rules version %s", version)
        finally:
            with self._lock:
                self._building = None
