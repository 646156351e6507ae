"""Business hours and holidays: when people answer, and what to tell a customer outside them.

Hours are Shanghai wall-clock times (SERVICE_HOURS, e.g. "09:00-21:00"; an end before the
start runs past midnight); holidays are Shanghai dates (SERVICE_HOLIDAYS). Everything is
computed from a UTC instant, so tests and the console pass their own `now`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from core.clock import SHANGHAI

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Hours:
    opens: time
    closes: time
    holidays: frozenset[date] = frozenset()

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(SHANGHAI)
        if local.date() in self.holidays:
            return False
        clock = local.time().replace(tzinfo=None)
        if self.opens <= self.closes:
            return self.opens <= clock < self.closes
        return clock >= self.opens or clock < self.closes  # e.g. 20:00-02:00

    def next_open(self, now: datetime) -> datetime:
        """When people are next there (now, if they are)."""
        if self.is_open(now):
            return now
        local = now.astimezone(SHANGHAI)
        for days in range(0, 60):
            day = local.date() + timedelta(days=days)
            start = datetime.combine(day, self.opens, tzinfo=SHANGHAI)
            if start > local and day not in self.holidays:
                return start.astimezone(now.tzinfo)
        return now + timedelta(days=60)  # holidays all year: the merchant's setting says so

    def label(self) -> str:
        return f"{self.opens:%H:%M}–{self.closes:%H:%M}"


def when_text(at: datetime, now: datetime) -> str:
    """"今天 14:00", "明天 09:00" or "10月3日 09:00", as the customer reads it."""
    local, today = at.astimezone(SHANGHAI), now.astimezone(SHANGHAI).date()
    days = (local.date() - today).days
    prefix = {0: "今天", 1: "明天", 2: "后天"}.get(days, f"{local.month}月{local.day}日")
    return f"{prefix} {local:%H:%M}"


def parse_hours(text: str, holidays: str = "") -> Hours:
    """SERVICE_HOURS and SERVICE_HOLIDAYS → Hours; ValueError with a one-line reason."""
    match = _RANGE.match(text or "")
    if not match:
        raise ValueError("must look like 09:00-21:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (h1 < 24 and h2 <= 24 and m1 < 60 and m2 < 60) or (h1, m1) == (h2, m2):
        raise ValueError("not a time range")
    closes = time(23, 59, 59) if h2 == 24 else time(h2, m2)
    days = set()
    for part in filter(None, (p.strip() for p in (holidays or "").replace("，", ",").split(","))):
        try:
            days.add(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"holiday {part!r} is not YYYY-MM-DD") from None
    return Hours(time(h1, m1), closes, frozenset(days))


def hours_from(config: dict) -> Hours:
    """The configured hours (parsed by core/config.py, or raw text), else 09:00–21:00 daily."""
    value = config.get("SERVICE_HOURS")
    if isinstance(value, Hours):
        return value
    return parse_hours(str(value or "09:00-21:00"), str(config.get("SERVICE_HOLIDAYS") or ""))


def check_config(config: dict[str, Any]) -> list[str]:
    """SERVICE_MODE, SERVICE_HOURS and SERVICE_HOLIDAYS, checked once at start."""
    problems = []
    if str(config.get("SERVICE_MODE") or "inbox") not in ("inbox", "wechat"):
        problems.append("SERVICE_MODE: must be inbox (the console's inbox) or wechat (多客服)")
    try:
        parse_hours(str(config.get("SERVICE_HOURS") or ""),
                    str(config.get("SERVICE_HOLIDAYS") or ""))
    except ValueError as error:
        problems.append(f"SERVICE_HOURS/SERVICE_HOLIDAYS: {error}")
    return problems
