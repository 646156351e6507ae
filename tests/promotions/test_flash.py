"""Flash sales in the domain: the gate under concurrency, SQL as the truth, units coming back
(unpaid orders, session end), reconciliation after a crash, and 提醒我's channels."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import as_utc
from promotions import flash, flash_buying, flash_gate, flash_manager, flash_reminders
from promotions.flash import FlashError, FlashPurchase, FlashRefused, FlashReminder
from shop import notices, payments
from shop.followers import Follower
from shop.notices import CustomerNotice
from shop.orders import Order
from tests.promotions.flash_helpers import (
    ADDRESS,
    NOW,
    add_item,
    item,
    make_sku,
    session,
    session_at,
    sku_stock,
)


@pytest.fixture()
def on_now(storage):
    """A SKU with 50 in stock and a 10-unit item (limit 1) in the 15:00 session, on at NOW."""
    sku_id = make_sku(storage.sessions)
    session_id = session_at(storage.sessions, "15:00")
    item_id = add_item(storage.sessions, session_id, sku_id, stock=10, limit=1)
    return sku_id, session_id, item_id


def grab(storage, item_id: int, openid: str, now=NOW):
    return flash_buying.grab(storage.sessions, storage.redis, item_id, openid, now,
                             address=ADDRESS, payment_minutes=10)


def refused(storage, item_id: int, openid: str, now=NOW) -> str:
    with pytest.raises(FlashRefused) as caught:
        grab(storage, item_id, openid, now)
    return caught.value.code


def active_units(storage, item_id: int) -> Counter:
    with storage.sessions() as db:
        rows = db.execute(select(FlashPurchase.openid, FlashPurchase.quantity)
                          .where(FlashPurchase.item_id == item_id,
                                 FlashPurchase.state == "active")).all()
    units: Counter = Counter()
    for openid, quantity in rows:
        units[openid] += quantity
    return units


def test_session_stock_is_carved_out_of_the_sku_and_refused_when_short(storage, on_now):
    sku_id = on_now[0]
    assert sku_stock(storage.sessions, sku_id) == 40
    later = session_at(storage.sessions, "21:00")
    with pytest.raises(FlashError, match="库存不足：该规格现有库存40件，不能拿出41件做秒杀"):
        add_item(storage.sessions, later, sku_id, stock=41)
    with pytest.raises(FlashError, match="秒杀价需低于售价¥129"):
        add_item(storage.sessions, later, sku_id, stock=5, price=12900)
    assert sku_stock(storage.sessions, sku_id) == 40  # nothing changed


def test_many_threads_buy_exactly_the_stock_and_nobody_beyond_the_limit(storage):
    sku_id = make_sku(storage.sessions, stock=100)
    item_id = add_item(storage.sessions, session_at(storage.sessions, "15:00"), sku_id,
                       stock=20, limit=2)
    customers = [f"o-buyer-{n}" for n in range(40)]
    outcomes: Counter = Counter()
    lock = threading.Lock()

    def attempt(openid: str) -> None:
        for _ in range(4):  # each customer tries four times: twice beyond the limit
            try:
                grab(storage, item_id, openid)
                code = "ok"
            except FlashRefused as error:
                code = error.code
            with lock:
                outcomes[code] += 1

    threads = [threading.Thread(target=attempt, args=(openid,)) for openid in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes["ok"] == 20
    units = active_units(storage, item_id)
    assert sum(units.values()) == 20 and max(units.values()) <= 2
    assert item(storage.sessions, item_id).sold == 20
    assert flash_gate.state(storage.redis, item_id) == {
        "left": 0, "held": dict(units), "pending": 0}
    with storage.sessions() as db:
        assert db.query(Order).count() == 20
    assert sku_stock(storage.sessions, sku_id) == 80  # the SKU gave 20 once, sold none itself


def test_before_the_start_after_the_sell_out_over_the_limit_and_after_the_end(storage):
    sku_id = make_sku(storage.sessions)
    item_id = add_item(storage.sessions, session_at(storage.sessions, "21:00"), sku_id, stock=1)
    assert refused(storage, item_id, "o-early") == "early"
    at_nine = NOW + timedelta(hours=5, minutes=31)  # 21:01
    grab(storage, item_id, "o-first", at_nine)
    assert refused(storage, item_id, "o-first", at_nine) == "limit"
    assert refused(storage, item_id, "o-second", at_nine) == "soldout"
    assert refused(storage, item_id, "o-late", NOW + timedelta(hours=9)) == "ended"
    assert active_units(storage, item_id) == {"o-first": 1}
    with storage.sessions() as db:
        assert db.query(Order).count() == 1


def test_sql_refuses_what_a_stale_gate_admits_and_the_admission_comes_back(storage, on_now):
    _, _, item_id = on_now
    grab(storage, item_id, "o-one")
    storage.redis.hdel(flash_gate.keys(item_id)["held"], "o-one")  # the gate forgot o-one
    assert refused(storage, item_id, "o-one") == "limit"  # SQL is the truth
    state = flash_gate.state(storage.redis, item_id)
    assert state["left"] == 9 and state["pending"] == 0  # the refused admission came back


def test_an_unpaid_order_gives_its_unit_back_to_the_session(storage, on_now):
    sku_id, _, item_id = on_now
    grab(storage, item_id, "o-slow")
    assert refused(storage, item_id, "o-slow") == "limit"
    done = payments.expire_unpaid(storage.sessions, None, NOW + timedelta(minutes=11))
    assert len(done) == 1 and done[0].endswith(":released")
    assert item(storage.sessions, item_id).sold == 0
    assert sku_stock(storage.sessions, sku_id) == 40  # to the session, not to the SKU
    flash_buying.reconcile_item(storage.sessions, storage.redis, item_id,
                                NOW + timedelta(minutes=11))
    assert flash_gate.state(storage.redis, item_id)["left"] == 10
    grab(storage, item_id, "o-slow", NOW + timedelta(minutes=12))  # may try again


def test_reconciliation_after_a_crash_between_the_gate_and_sql(storage, on_now):
    _, _, item_id = on_now
    grab(storage, item_id, "o-paid")
    flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, NOW)
    # kill -9 after the admission, before the SQL order: the token stays pending.
    assert flash_gate.admit(storage.redis, item_id, "o-crash", 1, "dead-token", NOW) == "ok"
    # kill -9 after the SQL commit, before the confirm: committed, token still pending.
    with storage.sessions.begin() as db:
        flash_buying.buy(db, item_id, "o-committed", 1, "committed-token", address=ADDRESS,
                         now=NOW, payment_minutes=10)
    assert flash_gate.admit(storage.redis, item_id, "o-committed", 1, "committed-token",
                            NOW) == "ok"
    assert flash_gate.state(storage.redis, item_id)["left"] == 7
    # Right after: the dead admission may still be in flight; the committed one counts once.
    assert flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, NOW) == (7, 0)
    later = NOW + timedelta(seconds=flash_gate.GRACE_SECONDS + 1)
    assert flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, later) == (8, 1)
    assert flash_gate.state(storage.redis, item_id) == {
        "left": 8, "held": {"o-paid": 1, "o-committed": 1}, "pending": 0}
    assert item(storage.sessions, item_id).stock - item(storage.sessions, item_id).sold == 8


def test_a_purchase_slower_than_grace_is_taken_again_by_its_confirm(storage, on_now):
    """SQL ran past GRACE: the sync drops the token as dead and SQL has no purchase yet, so
    Redis has one unit too many — until the CONFIRM takes it again."""
    _, _, item_id = on_now
    flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, NOW)
    assert flash_gate.admit(storage.redis, item_id, "o-slow", 1, "slow-token", NOW) == "ok"
    later = NOW + timedelta(seconds=flash_gate.GRACE_SECONDS + 1)
    assert flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, later) == (10, 1)
    assert flash_gate.state(storage.redis, item_id) == {"left": 10, "held": {}, "pending": 0}
    with storage.sessions.begin() as db:  # the slow SQL commits at last
        flash_buying.buy(db, item_id, "o-slow", 1, "slow-token", address=ADDRESS, now=later,
                         payment_minutes=10)
    flash_gate.confirm(storage.redis, item_id, "slow-token")
    healed = {"left": 9, "held": {"o-slow": 1}, "pending": 0}
    assert flash_gate.state(storage.redis, item_id) == healed
    flash_gate.confirm(storage.redis, item_id, "slow-token")  # a second confirm: no change
    assert flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, later) == (9, 0)
    assert flash_gate.state(storage.redis, item_id) == healed


def test_a_sync_that_saw_the_slow_purchase_leaves_nothing_for_its_confirm(storage, on_now):
    _, _, item_id = on_now
    flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, NOW)
    assert flash_gate.admit(storage.redis, item_id, "o-slow", 1, "slow-token", NOW) == "ok"
    assert flash_gate.admit(storage.redis, item_id, "o-fail", 1, "fail-token", NOW) == "ok"
    later = NOW + timedelta(seconds=flash_gate.GRACE_SECONDS + 1)
    assert flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, later) == (10, 2)
    with storage.sessions.begin() as db:
        flash_buying.buy(db, item_id, "o-slow", 1, "slow-token", address=ADDRESS, now=later,
                         payment_minutes=10)
    # A sync after the commit and before the confirm counts it through SQL …
    assert flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, later) == (9, 0)
    flash_gate.confirm(storage.redis, item_id, "slow-token")  # … so this takes nothing more
    assert flash_gate.state(storage.redis, item_id) == {
        "left": 9, "held": {"o-slow": 1}, "pending": 0}
    # The other one's SQL failed: its release gives nothing back (it was never counted).
    assert flash_gate.release(storage.redis, item_id, "fail-token") is False
    assert flash_gate.state(storage.redis, item_id)["left"] == 9
    assert storage.redis.hlen(flash_gate.keys(item_id)["dropped"]) == 0


def test_a_purchase_confirmed_during_reconciliation_makes_it_read_again(storage, on_now):
    _, _, item_id = on_now
    flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, NOW)
    gen = flash_gate.generation(storage.redis, item_id)
    with storage.sessions() as db:
        before = flash_buying.snapshot(db, item_id)
    grab(storage, item_id, "o-racer")  # commits and confirms between the snapshot and sync
    assert flash_gate.sync(storage.redis, item_id, gen, before, NOW) is None
    assert flash_gate.state(storage.redis, item_id)["left"] == 9  # untouched
    assert flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, NOW) == (9, 0)


def test_the_session_end_returns_unsold_units_to_the_sku_exactly_once(storage, on_now):
    sku_id, session_id, item_id = on_now
    grab(storage, item_id, "o-a")
    grab(storage, item_id, "o-b")
    after = NOW + timedelta(hours=6)  # 21:30: the 15:00 session ended at 21:00
    assert flash_manager.settle_ended(storage, after) == 8
    assert flash_manager.settle_ended(storage, after) == 0
    assert sku_stock(storage.sessions, sku_id) == 48
    assert session(storage.sessions, session_id).state == "settled"
    # An order cancelled after the settlement gives its unit to the SKU, not to the session.
    payments.expire_unpaid(storage.sessions, None, after)
    assert sku_stock(storage.sessions, sku_id) == 50
    assert (item(storage.sessions, item_id).sold, item(storage.sessions, item_id).returned) == (
        0, 10)


def test_ending_a_session_early_stops_it_and_settles_it(storage, on_now):
    sku_id, session_id, item_id = on_now
    grab(storage, item_id, "o-a")
    with storage.sessions.begin() as db:
        flash_manager.end_early(db, session_id, NOW + timedelta(minutes=1))
    flash_buying.reconcile_item(storage.sessions, storage.redis, item_id,
                                NOW + timedelta(minutes=1))
    assert refused(storage, item_id, "o-b", NOW + timedelta(minutes=2)) == "ended"
    assert sku_stock(storage.sessions, sku_id) == 49
    with storage.sessions.begin() as db, pytest.raises(FlashError, match="已经结束"):
        flash_manager.end_early(db, session_id, NOW + timedelta(minutes=3))


def follower(storage, openid: str, last_message_at) -> None:
    with storage.sessions.begin() as db:
        db.add(Follower(openid=openid, subscribed=True, subscribed_at=last_message_at,
                        first_seen_at=last_message_at, last_interaction_at=last_message_at))


@pytest.mark.parametrize(("days_ahead", "opt_in", "channel"), [
    (1, False, "custom"),  # the reminder falls inside the 48 hours from this message
    (3, True, "subscribe"),  # outside, but the customer accepted the notice template
    (3, False, None),  # neither: the customer must be told
])
def test_reminder_channel_is_decided_when_asked(storage, days_ahead, opt_in, channel):
    sku_id = make_sku(storage.sessions)
    later_day = NOW + timedelta(days=days_ahead)
    with storage.sessions.begin() as db:
        target = flash.ensure_day(db, flash.shanghai_day(later_day),
                                  flash.parse_sessions("09:00"))[0]
        if opt_in:
            notices.record_opt_in(db, "o-r", "TPL", NOW)
        target_id = target.id
    add_item(storage.sessions, target_id, sku_id)
    with storage.sessions.begin() as db:
        answer = flash_reminders.ask_reminder(db, db.get(flash.FlashSession, target_id), "o-r",
                                              NOW, minutes=5, template_id="TPL")
        again = flash_reminders.ask_reminder(db, db.get(flash.FlashSession, target_id), "o-r",
                                             NOW, minutes=5, template_id="TPL")
    assert (answer.new, answer.channel, again.new) == (True, channel, False)


def test_due_reminders_are_queued_once(storage, on_now):
    sku_id = on_now[0]
    nine = session_at(storage.sessions, "21:00")
    add_item(storage.sessions, nine, sku_id, stock=5)
    follower(storage, "o-r", NOW)
    with storage.sessions.begin() as db:
        flash_reminders.ask_reminder(db, db.get(flash.FlashSession, nine), "o-r", NOW,
                                     minutes=5, template_id=None)
    assert flash_reminders.queue_reminders(storage, NOW) == 0  # 21:00 is not due at 15:30
    due = NOW + timedelta(hours=5, minutes=26)  # 20:56
    assert flash_reminders.queue_reminders(storage, due) == 1
    assert flash_reminders.queue_reminders(storage, due + timedelta(seconds=30)) == 0
    with storage.sessions() as db:
        queued = db.scalars(select(CustomerNotice)).all()
        assert [(n.openid, n.key) for n in queued] == [("o-r", f"flash:{nine}:o-r")]
        assert "21:00 场秒杀即将开始：丝绒哑光口红" in queued[0].text
        assert as_utc(queued[0].event_at) == NOW + timedelta(hours=5, minutes=30)  # 21:00
        assert db.scalar(select(FlashReminder.state)) == "queued"


def test_no_coming_soon_for_a_session_already_started(storage, on_now):
    """The job was down until after 21:00: 即将开始 would be false, so the reminder is missed."""
    sku_id = on_now[0]
    nine = session_at(storage.sessions, "21:00")
    add_item(storage.sessions, nine, sku_id, stock=5)
    with storage.sessions.begin() as db:
        flash_reminders.ask_reminder(db, db.get(flash.FlashSession, nine), "o-r", NOW,
                                     minutes=5, template_id=None)
    started = NOW + timedelta(hours=5, minutes=31)  # 21:01
    assert flash_reminders.queue_reminders(storage, started) == 0
    with storage.sessions() as db:
        assert db.query(CustomerNotice).count() == 0
        assert db.scalar(select(FlashReminder.state)) == "missed"
    assert flash_reminders.queue_reminders(storage, started + timedelta(minutes=1)) == 0


def test_calling_off_a_session_not_started_ends_it_at_its_start(storage, on_now):
    sku_id = on_now[0]
    nine = session_at(storage.sessions, "21:00")
    nine_item = add_item(storage.sessions, nine, sku_id, stock=5)
    with storage.sessions.begin() as db:
        flash_reminders.ask_reminder(db, db.get(flash.FlashSession, nine), "o-r", NOW,
                                     minutes=5, template_id=None)
        flash_manager.end_early(db, nine, NOW)
    called_off = session(storage.sessions, nine)
    assert as_utc(called_off.ends_at) == as_utc(called_off.starts_at) == NOW + timedelta(
        hours=5, minutes=30)
    assert called_off.state == "settled" and flash.is_called_off(called_off)
    assert item(storage.sessions, nine_item).returned == 5
    assert sku_stock(storage.sessions, sku_id) == 40  # the 21:00 units are back
    with storage.sessions() as db:
        told = db.scalars(select(CustomerNotice)).all()
        assert [(n.openid, n.key, n.kind) for n in told] == [
            ("o-r", f"flash:{nine}:o-r:cancelled", flash_reminders.CANCELLED_KIND)]
        assert told[0].text.startswith("很抱歉，本场秒杀已取消：21:00 场不再开抢")
        assert db.scalar(select(FlashReminder.state)) == "cancelled"
    assert flash_reminders.queue_reminders(storage, NOW + timedelta(hours=5, minutes=26)) == 0
    with storage.sessions.begin() as db, pytest.raises(FlashError, match="已经结束"):
        flash_manager.end_early(db, nine, NOW + timedelta(minutes=1))
    # Ending the 15:00 session, which is on, still ends it now.
    with storage.sessions.begin() as db:
        flash_manager.end_early(db, on_now[1], NOW)
    assert as_utc(session(storage.sessions, on_now[1]).ends_at) == NOW


def test_flash_sessions_config_is_checked():
    config = {"FLASH_SESSIONS": "21:00, 09:00"}
    assert flash.check_config(config) == []
    assert [t.hour for t in config["FLASH_SESSIONS"]] == [9, 21]
    assert flash.check_config({"FLASH_SESSIONS": "9点"}) == [
        "FLASH_SESSIONS: '9点' is not HH:MM (e.g. 09:00,15:00,21:00)"]
