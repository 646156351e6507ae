"""Birthdays: asked once in 我的会员 (跳过 ends it), stored as MM-DD, and a gift on the day for
青铜 and above, once a year."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from promotions import birthdays, coupon_batches, coupon_issuing, coupons
from shop import catalog, orders
from shop.notices import CustomerNotice
from tests.conftest import WeChat
from tests.handlers.test_order import text

ASK = ("登记生日，青铜及以上会员生日当天送生日礼包（可跳过）："
       "回复「生日 3-15」登记生日，回复「跳过」不再提醒。")
MARCH_15 = datetime(2027, 3, 14, 16, 30, tzinfo=UTC)  # 2027-03-15 00:30 in Shanghai


def pay(storage, openid: str, price: int, at: datetime) -> None:
    with storage.sessions.begin() as db:
        sku = catalog.add_product(db, name="土蜂蜜", skus=[("500g", price, 5)]).skus[0].id
        order = orders.place(db, openid, [(sku, 1)], now=at)
        assert orders.transition(db, order, "paid", actor="wxpay", now=at)


def with_birthday(storage, openid: str, birthday: str, *, spend: int = 60_000) -> None:
    pay(storage, openid, spend, MARCH_15 - timedelta(days=30))
    with storage.sessions.begin() as db:
        birthdays.record(db, openid, f"生日 {birthday}", MARCH_15)


class Issued:
    """promotions.coupon_issuing.issue_on's contract, recording what it was asked to issue."""

    def __init__(self):
        self.calls = []

    def __call__(self, db, openid, occasion, now):
        self.calls.append((openid, occasion, now))
        return ["生日券"]


def birthday_notices(storage) -> list[tuple[str, str]]:
    with storage.sessions() as db:
        return [(n.openid, n.text) for n in db.scalars(
            select(CustomerNotice).where(CustomerNotice.kind == "birthday"))]


# --- in the chat --------------------------------------------------------------------------


def test_the_birthday_is_asked_once_at_the_end_of_my_membership(wechat):
    first = text(wechat.say("我的会员"))
    assert first.endswith("\n\n" + ASK)
    assert ASK not in text(wechat.say("我的会员"))  # never asked again, answered or not
    assert text(wechat.say("生日 2-30")) == "2月没有30日，请检查后重新回复，例如「生日 3-15」。"
    assert text(wechat.say("生日 13-1")) == "没有13月，请按「生日 3-15」的格式回复（月-日）。"
    assert text(wechat.say("生日 2月29日")).startswith("已登记生日：2月29日。")
    assert text(wechat.say("生日 3-15")) == "您的生日已登记为2月29日。如需修改请回复「客服」。"
    assert ASK not in text(wechat.say("我的会员"))


def test_skip_ends_the_question_and_otherwise_means_what_it_meant(client):
    customer = WeChat(client)
    before = text(customer.say("跳过"))  # nothing asked yet: not ours to answer
    assert "不再提醒" not in before
    assert text(customer.say("我的会员")).endswith(ASK)
    assert text(customer.say("跳过")) == (
        "好的，不再提醒登记生日。以后想登记，随时回复「生日 3-15」。")
    assert text(customer.say("跳过")) == before
    assert ASK not in text(customer.say("我的会员"))
    assert text(customer.say("生日 3-15")).startswith("已登记生日：3月15日。")  # still possible


def test_a_birthday_given_before_the_question_is_never_asked(client):
    customer = WeChat(client)
    customer.say("我的生日是3月15日")
    assert "登记生日" not in text(customer.say("我的会员"))


@pytest.mark.parametrize(("said", "stored"), [("生日 3-15", "03-15"), ("生日3月5日", "03-05"),
                                              ("生日 12/31", "12-31"), ("生日 02-29", "02-29")])
def test_birthdays_are_stored_as_month_and_day(said, stored):
    assert birthdays.parse(said) == stored


@pytest.mark.parametrize("said", ["生日 4-31", "生日 0-10", "生日 2-30", "生日 3", "生日 三月"])
def test_impossible_birthdays_are_refused(said):
    with pytest.raises(birthdays.BirthdayError):
        birthdays.parse(said)


# --- the gift -----------------------------------------------------------------------------


def test_the_gift_goes_on_the_day_once_a_year_to_bronze_and_above(storage):
    with_birthday(storage, "o-bronze", "3-15")
    with_birthday(storage, "o-ordinary", "3-15", spend=10_000)
    with_birthday(storage, "o-later", "3-16")
    issued = Issued()
    assert birthdays.give_gifts(storage, MARCH_15 - timedelta(hours=1), issue=issued) == 0
    assert birthdays.give_gifts(storage, MARCH_15, issue=issued) == 1
    assert birthdays.give_gifts(storage, MARCH_15 + timedelta(hours=12), issue=issued) == 0
    assert issued.calls == [("o-bronze", "birthday", MARCH_15)]
    assert birthday_notices(storage) == [
        ("o-bronze", "生日快乐！感谢您一直以来的支持，生日礼包已放入「我的优惠券」。")]
    next_year = MARCH_15.replace(year=2028)
    assert birthdays.give_gifts(storage, next_year, issue=issued) == 1
    assert len(birthday_notices(storage)) == 2


def test_a_leap_day_birthday_is_kept_on_february_28(storage):
    with_birthday(storage, "o1", "2-29")
    issued = Issued()
    feb_28 = datetime(2027, 2, 28, 2, 0, tzinfo=UTC)
    assert birthdays.give_gifts(storage, feb_28, issue=issued) == 1
    assert birthdays.give_gifts(storage, datetime(2028, 2, 28, 2, 0, tzinfo=UTC),
                                issue=issued) == 0  # 2028 has its own 29th
    assert birthdays.give_gifts(storage, datetime(2028, 2, 29, 2, 0, tzinfo=UTC),
                                issue=issued) == 1


def test_gifts_wait_while_coupons_cannot_issue_them(storage, monkeypatch):
    with_birthday(storage, "o1", "3-15")
    monkeypatch.delattr(coupon_issuing, "issue_on", raising=False)
    assert birthdays.give_gifts(storage, MARCH_15) == 0
    assert birthday_notices(storage) == []
    issued = Issued()  # coupons arrive later that day: the gift still goes
    assert birthdays.give_gifts(storage, MARCH_15 + timedelta(hours=3), issue=issued) == 1


def test_a_failed_issue_is_retried_on_the_next_run(storage):
    with_birthday(storage, "o1", "3-15")

    def broken(db, openid, occasion, now):
        raise RuntimeError("coupon batch exhausted")

    assert birthdays.give_gifts(storage, MARCH_15, issue=broken) == 0
    assert birthdays.give_gifts(storage, MARCH_15, issue=Issued()) == 1


def gift_year(storage, openid: str) -> int | None:
    with storage.sessions() as db:
        return db.get(birthdays.MemberBirthday, openid).gift_year


def test_nothing_issuable_marks_nothing_says_nothing_and_warns_once_per_run(storage, caplog):
    with_birthday(storage, "o1", "3-15")
    with_birthday(storage, "o2", "3-15")

    def nothing(db, openid, occasion, now):
        return []  # issue_on's answer when no birthday batch is active

    with caplog.at_level("WARNING", logger="promotions.birthdays"):
        assert birthdays.give_gifts(storage, MARCH_15, issue=nothing) == 0
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "2 customer" in warnings[0].getMessage()
    assert birthday_notices(storage) == []  # no greeting without the 礼包 it promises
    assert gift_year(storage, "o1") is None and gift_year(storage, "o2") is None
    issued = Issued()  # a birthday batch is activated later that day: the gift still goes
    assert birthdays.give_gifts(storage, MARCH_15 + timedelta(hours=2), issue=issued) == 2
    assert gift_year(storage, "o1") == 2027 and len(birthday_notices(storage)) == 2


def test_with_the_real_coupons_and_no_birthday_batch_the_gift_waits(storage):
    with_birthday(storage, "o1", "3-15")
    assert birthdays.give_gifts(storage, MARCH_15) == 0
    assert birthday_notices(storage) == [] and gift_year(storage, "o1") is None
    with storage.sessions.begin() as db:
        coupon_batches.create_batch(db, coupon_batches.BatchTerms(
            name="生日券", kind="flat", threshold_fen=0, off_fen=1000, valid_days=30,
            trigger="birthday"), MARCH_15)
    assert birthdays.give_gifts(storage, MARCH_15 + timedelta(hours=1)) == 1
    assert birthdays.give_gifts(storage, MARCH_15 + timedelta(hours=2)) == 0
    with storage.sessions() as db:
        assert [c.batch.name for c in db.scalars(select(coupons.Coupon))] == ["生日券"]
    assert gift_year(storage, "o1") == 2027


def test_a_gift_of_last_year_is_kept_when_this_years_cannot_be_issued(storage):
    with_birthday(storage, "o1", "3-15")
    assert birthdays.give_gifts(storage, MARCH_15, issue=Issued()) == 1
    next_year = MARCH_15.replace(year=2028)
    assert birthdays.give_gifts(storage, next_year, issue=lambda *args: []) == 0
    assert gift_year(storage, "o1") == 2027
