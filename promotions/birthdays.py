"""Birthdays: asked once in the chat, and a gift on the day for 青铜 and above.

Asking is the delicate part: a shop that keeps asking for a birthday is a nuisance. So it is
asked once, at the end of 我的会员 (the customer is looking at their membership, whose benefit
the gift is), and never again whether they answer, reply 跳过 or ignore it; they can still send
「生日 3-15」 whenever they like. Once given, the birthday is not changed in the chat (that would
be a way to a second gift a year): customer service can.

The birthday is stored as MM-DD (no year: nothing asks for an age). 02-29 is allowed and is
celebrated on 02-28 in other years. A job (hourly) gives the gift on the customer's Shanghai
birthday through promotions.coupon_issuing.issue_on(db, openid, "birthday", now), claimed once
a year by a conditional UPDATE, and queues a notice (shop/notices.py). The year is marked only
when at least one coupon was issued: while coupons cannot issue (no module yet, no active
birthday batch, limits reached), nothing is marked and nothing is said, so the gift goes out
on a later run of the same day, and each run logs one warning.
"""

from __future__ import annotations

import calendar
import logging
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import SHANGHAI, as_utc
from core.db import Base, inserted, upsert
from core.registry import Registry
from shop import notices, tiers
from shop.members import Customer

log = logging.getLogger(__name__)

#: 「生日 3-15」, 「生日3月15日」, 「我的生日是 03/15」 (the chat's text is normalised first).
PATTERN = re.compile(r"^(?:我的)?生日(?:是)?\s*(\d{1,2})\s*(?:-|/|\.|月)\s*(\d{1,2})\s*(?:日|号)?$")
ASK = "回复「生日 3-15」登记生日，回复「跳过」不再提醒。"
GIFT_LEVEL = tiers.level_with("生日礼包")


class BirthdayError(ValueError):
    """Why a birthday was not taken; the message is for the customer."""


class MemberBirthday(Base):
    __tablename__ = "member_birthdays"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    birthday: Mapped[str | None] = mapped_column(String(5), default=None, index=True)  # MM-DD
    asked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    skipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    #: The Shanghai year of the last gift: one a year.
    gift_year: Mapped[int | None] = mapped_column(Integer, default=None)


def parse(text: str) -> str:
    """「生日 3-15」 → "03-15"; an impossible day is refused clearly (02-29 is possible)."""
    match = PATTERN.match(text.strip())
    if not match:
        raise BirthdayError("请按「生日 3-15」的格式回复（月-日）。")
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise BirthdayError(f"没有{month}月，请按「生日 3-15」的格式回复（月-日）。")
    if not 1 <= day <= calendar.monthrange(2024, month)[1]:  # 2024: a leap year
        raise BirthdayError(f"{month}月没有{day}日，请检查后重新回复，例如「生日 3-15」。")
    return f"{month:02d}-{day:02d}"


def shown(birthday: str) -> str:
    month, day = birthday.split("-")
    return f"{int(month)}月{int(day)}日"


def birthday_of(db: Session, openid: str) -> str | None:
    return db.scalar(select(MemberBirthday.birthday).where(MemberBirthday.openid == openid))


def ask_once(db: Session, openid: str, now: datetime, *, member: bool) -> str:
    """The question to add to 我的会员 the first time it is shown, else "" (and never again).
    `member`: already 青铜 or above (the gift is theirs), which the question says."""
    claimed = inserted(db, upsert(db, MemberBirthday.__table__)
                       .values(openid=openid, asked_at=now)
                       .on_conflict_do_nothing(index_elements=["openid"]))
    if not claimed:
        return ""
    gift = "生日当天送您生日礼包" if member else "青铜及以上会员生日当天送生日礼包"
    return f"登记生日，{gift}（可跳过）：{ASK}"


def record(db: Session, openid: str, text: str, now: datetime) -> str:
    """The customer's answer: stored once; the reply says what happened."""
    current = birthday_of(db, openid)
    if current:
        return f"您的生日已登记为{shown(current)}。如需修改请回复「客服」。"
    birthday = parse(text)
    db.execute(upsert(db, MemberBirthday.__table__).values(openid=openid)
               .on_conflict_do_nothing(index_elements=["openid"]))
    moved = db.execute(update(MemberBirthday)
                       .where(MemberBirthday.openid == openid, MemberBirthday.birthday.is_(None))
                       .values(birthday=birthday, answered_at=now)
                       .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        return f"您的生日已登记为{shown(birthday_of(db, openid) or birthday)}。"
    return (f"已登记生日：{shown(birthday)}。青铜及以上会员生日当天会收到生日礼包，"
            "回复「我的会员」查看会员权益。")


def skip(db: Session, openid: str, now: datetime) -> bool:
    """跳过: never asked again. False when there was no question waiting."""
    return db.execute(update(MemberBirthday)
                      .where(MemberBirthday.openid == openid, MemberBirthday.birthday.is_(None),
                             MemberBirthday.skipped_at.is_(None),
                             MemberBirthday.asked_at.is_not(None))
                      .values(skipped_at=now)
                      .execution_options(synchronize_session=False)).rowcount == 1


def days_today(now: datetime) -> list[str]:
    """The MM-DD birthdays celebrated on `now`'s Shanghai day (02-29 on 02-28 if not leap)."""
    local = as_utc(now).astimezone(SHANGHAI)
    days = [f"{local.month:02d}-{local.day:02d}"]
    if (local.month, local.day) == (2, 28) and not calendar.isleap(local.year):
        days.append("02-29")
    return days


def _issuer() -> Any:
    try:
        from promotions import coupon_issuing
    except ImportError:
        return None
    return getattr(coupon_issuing, "issue_on", None)


def due(db: Session, now: datetime) -> list[str]:
    """Customers of 青铜 and above whose birthday is today and who had no gift this year."""
    year = as_utc(now).astimezone(SHANGHAI).year
    return list(db.scalars(
        select(MemberBirthday.openid)
        .join(Customer, Customer.openid == MemberBirthday.openid)
        .where(MemberBirthday.birthday.in_(days_today(now)), Customer.tier_level >= GIFT_LEVEL,
               or_(MemberBirthday.gift_year.is_(None), MemberBirthday.gift_year < year))
        .order_by(MemberBirthday.openid)))


def give(db: Session, openid: str, now: datetime, issue: Any) -> bool | None:
    """Issue this year's gift to `openid` and mark it given: True when given, False when it
    was already given this year, None when nothing could be issued (no active birthday batch,
    or its limits reached).

    The year is claimed first by a conditional UPDATE (a second runner waits on the row and
    then finds it claimed) and released again when nothing was issued: marking a gift given
    that never went out would leave the customer with a greeting instead of the promised
    礼包, and no later run would try again. Nothing is said to the customer then."""
    year = as_utc(now).astimezone(SHANGHAI).year
    before = db.scalar(select(MemberBirthday.gift_year).where(MemberBirthday.openid == openid))
    claimed = db.execute(
        update(MemberBirthday)
        .where(MemberBirthday.openid == openid,
               or_(MemberBirthday.gift_year.is_(None), MemberBirthday.gift_year < year))
        .values(gift_year=year).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        return False
    if not issue(db, openid, "birthday", now):
        db.execute(update(MemberBirthday)
                   .where(MemberBirthday.openid == openid, MemberBirthday.gift_year == year)
                   .values(gift_year=before)
                   .execution_options(synchronize_session=False))
        return None
    notices.queue(db, openid, "birthday",
                  "生日快乐！感谢您一直以来的支持，生日礼包已放入「我的优惠券」。",
                  key=f"birthday:{openid}:{year}", title="生日快乐")
    return True


def give_gifts(storage: Any, now: datetime | None = None, issue: Any = None) -> int:
    """Job: today's birthday gifts, each customer in its own transaction (one failing issue
    does not hold back the others; it is retried on the next run). A gift nothing could be
    issued for is not marked, so a later run of the day gives it once a birthday batch is
    active; each run says so in one warning, not one per customer."""
    now = now or datetime.now(UTC)
    issue = issue or _issuer()
    if issue is None:
        log.warning("birthday gifts wait: promotions.coupon_issuing.issue_on is not there yet")
        return 0
    with storage.sessions() as db:
        openids = due(db, now)
    given = waiting = 0
    for openid in openids:
        try:
            with storage.sessions.begin() as db:
                outcome = give(db, openid, now, issue)
        except Exception:
            log.exception("birthday gift not issued; retried on the next run")
            continue
        given += outcome is True
        waiting += outcome is None
    if waiting:
        log.warning("birthday gifts wait for %s customer(s): no coupon could be issued (is a "
                    "birthday coupon batch active, with its limits not reached?); retried on "
                    "the next run", waiting)
    return given


def register(registry: Registry) -> None:
    registry.add_models("promotions.birthdays")
    registry.add_job("promotions", "give_birthday_gifts", 3600, give_gifts)
