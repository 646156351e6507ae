"""The bargain ledger: launches, exact cuts under concurrency, the refusals a customer sees,
Redis lost or stale in the middle, held helps and their review, caps and velocity."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import redis as redis_lib
from sqlalchemy import select

from core.embedded_redis import start as start_embedded_redis
from core.storage import Storage
from promotions import bargain_gate, bargain_ledger
from promotions.bargains import BargainHelp, BargainLaunch, BargainRefused
from tests.promotions.bargain_helpers import (
    NOW,
    counted,
    cut,
    help_count,
    known_follower,
    launch,
    make_campaign,
    make_sku,
    refusal,
    sku_stock,
    start,
)


@pytest.fixture()
def campaign(storage):
    sku_id = make_sku(storage.sessions)
    return sku_id, make_campaign(storage.sessions, sku_id)


def test_a_launch_draws_a_schedule_that_reaches_the_floor_on_the_last_helper(storage, campaign):
    launch_id = start(storage, campaign[1])
    started = launch(storage.sessions, launch_id)
    assert (started.start_fen, started.floor_fen, started.cuts_total) == (3990, 100, 3)
    assert sum(started.cuts()) == 3890 and min(started.cuts()) >= 1
    assert started.left_fen == 3890 and started.helpers_left == 3
    assert len(started.code) == 6
    # 砍价 again while it runs: the same launch, not a second one.
    again = bargain_ledger.start(storage, campaign[1], "o-starter", NOW)
    assert (again.launch_id, again.new) == (launch_id, False)


def test_three_friends_cut_to_the_floor_exactly_and_each_sees_the_exact_rest(storage, campaign):
    launch_id = start(storage, campaign[1])
    cuts = launch(storage.sessions, launch_id).cuts()
    code = launch(storage.sessions, launch_id).code
    first = cut(storage, code.lower(), "o-friend-1")  # codes are read case-insensitively
    assert (first.amount_fen, first.left_fen, first.helpers_left) == (cuts[0], 3890 - cuts[0], 2)
    assert not first.completed
    cut(storage, launch_id, "o-friend-2")
    last = cut(storage, launch_id, "o-friend-3")
    assert last.completed and last.left_fen == 0 and last.price_fen == 100
    done = launch(storage.sessions, launch_id)
    assert (done.state, done.cuts_done, done.cut_fen) == ("completed", 3, 3890)
    assert [fen for _, _, fen in counted(storage.sessions, launch_id)] == cuts


def test_each_bad_input_gets_its_answer_and_changes_nothing(storage, campaign):
    launch_id = start(storage, campaign[1])
    assert refusal(storage, "ZZZZ99", "o-friend") == "unknown"
    assert refusal(storage, launch_id, "o-starter") == "self"
    cut(storage, launch_id, "o-friend-1")
    assert refusal(storage, launch_id, "o-friend-1", key="another-message") == "again"
    cut(storage, launch_id, "o-friend-2")
    cut(storage, launch_id, "o-friend-3")
    assert refusal(storage, launch_id, "o-friend-4") == "complete"
    assert help_count(storage.sessions, launch_id) == 3
    late = start(storage, make_campaign(storage.sessions, campaign[0], title="第二场"), "o-b")
    after = NOW + timedelta(hours=25)
    assert refusal(storage, late, "o-friend-5", now=after) == "expired"
    assert help_count(storage.sessions, late) == 0
    answer = bargain_ledger.ANSWERS
    assert "砍过一刀" in answer["again"] and "过期" in answer["expired"]


def test_a_retried_message_finds_its_own_help_instead_of_already_helped(storage, campaign):
    launch_id = start(storage, campaign[1])
    first = cut(storage, launch_id, "o-friend-1", key="wx:msg-1")
    again = cut(storage, launch_id, "o-friend-1", key="wx:msg-1")
    assert again.repeated and again.amount_fen == first.amount_fen
    assert help_count(storage.sessions, launch_id) == 1


def test_out_of_quota_refuses_a_launch_and_reserving_takes_the_unit(storage):
    sku_id = make_sku(storage.sessions, stock=5)
    reserving = make_campaign(storage.sessions, sku_id, stock_quota=1, reserve_at_launch=True)
    start(storage, reserving, "o-a")
    assert sku_stock(storage.sessions, sku_id) == 4
    with pytest.raises(BargainRefused) as caught:
        start(storage, reserving, "o-b")
    assert caught.value.code == "soldout" and "抢完" in caught.value.message
    assert sku_stock(storage.sessions, sku_id) == 4


def test_a_thousand_helpers_at_once_land_exactly_n_cuts(any_storage):
    storage = any_storage
    sku_id = make_sku(storage.sessions, price=99900)
    campaign_id = make_campaign(storage.sessions, sku_id, helpers_needed=10, floor_fen=990,
                                helps_per_day=1000, helps_per_campaign=1000)
    storage.settings = {"BARGAIN_LAUNCH_PER_MINUTE": 100000}
    launch_id = start(storage, campaign_id)
    outcomes: Counter = Counter()
    lock = threading.Lock()
    helpers = [f"o-crowd-{n}" for n in range(1000)]
    for helper in helpers:
        known_follower(storage.sessions, helper) if helper.endswith("7") else None

    def attempt(chunk: list[str]) -> None:
        for helper in chunk:
            try:
                cut(storage, launch_id, helper)
                code = "ok"
            except BargainRefused as error:
                code = error.code
            with lock:
                outcomes[code] += 1

    threads = [threading.Thread(target=attempt, args=(helpers[n::16],)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = launch(storage.sessions, launch_id)
    rows = counted(storage.sessions, launch_id)
    assert outcomes["ok"] == 10 == len(rows)
    assert sum(fen for _, _, fen in rows) == 99900 - 990 == done.cut_fen
    assert sorted(position for _, position, _ in rows) == list(range(10))
    assert len({helper for helper, _, _ in rows}) == 10
    assert (done.state, done.cuts_done) == ("completed", 10)
    assert set(outcomes) <= {"ok", "complete", "busy"}


def test_redis_emptied_in_the_middle_loses_and_doubles_nothing(storage, campaign):
    launch_id = start(storage, campaign[1])
    cut(storage, launch_id, "o-friend-1")
    storage.redis.flushall()  # a restart without its data
    assert refusal(storage, launch_id, "o-friend-1", key="again") == "again"
    cut(storage, launch_id, "o-friend-2")
    cut(storage, launch_id, "o-friend-3")
    assert [h for h, _, _ in counted(storage.sessions, launch_id)] == [
        "o-friend-1", "o-friend-2", "o-friend-3"]
    assert launch(storage.sessions, launch_id).cut_fen == 3890


def test_redis_restarted_from_an_old_snapshot_gives_no_cut_twice(storage, campaign):
    launch_id = start(storage, campaign[1])
    keys = bargain_gate.launch_keys(launch_id)
    old = {key: storage.redis.dump(key) for key in keys if storage.redis.exists(key)}
    cut(storage, launch_id, "o-friend-1")
    cut(storage, launch_id, "o-friend-2")
    for key, value in old.items():  # Redis comes back with the state before those cuts
        storage.redis.restore(key, 0, value, replace=True)
    assert refusal(storage, launch_id, "o-friend-1", key="again") == "again"
    last = cut(storage, launch_id, "o-friend-3")
    assert last.completed
    rows = counted(storage.sessions, launch_id)
    assert sorted(p for _, p, _ in rows) == [0, 1, 2]
    assert launch(storage.sessions, launch_id).cut_fen == 3890


def test_redis_down_cuts_through_sql_and_a_real_restart_picks_up(storage, campaign, tmp_path):
    own = start_embedded_redis(tmp_path / "own-redis")
    live = Storage(engine=storage.engine, sessions=storage.sessions, redis=own)
    launch_id = start(live, campaign[1])
    cut(live, launch_id, "o-friend-1")
    own.shutdown(save=True)  # kill: the server is gone, its RDB has the first cut's state
    with pytest.raises(redis_lib.ConnectionError):
        own.ping()
    cut(live, launch_id, "o-friend-2")  # no Redis: SQL alone, exactly once
    assert refusal(live, launch_id, "o-friend-2", key="retry") == "again"
    back = start_embedded_redis(tmp_path / "own-redis")  # restarts from the old snapshot
    try:
        again = Storage(engine=storage.engine, sessions=storage.sessions, redis=back)
        last = cut(again, launch_id, "o-friend-3")
        assert last.completed
        assert refusal(again, launch_id, "o-friend-4") == "complete"
    finally:
        back.shutdown(save=False)
    rows = counted(storage.sessions, launch_id)
    assert sorted(p for _, p, _ in rows) == [0, 1, 2] and len(rows) == 3
    assert launch(storage.sessions, launch_id).cut_fen == 3890


def test_a_dead_process_cut_goes_back_after_the_grace(storage, campaign, monkeypatch):
    launch_id = start(storage, campaign[1])
    limits = bargain_gate.Limits(9, 9, 9, 9)
    # A process popped the first cut, then died before its SQL commit.
    answer, position, _ = bargain_gate.cut(storage.redis, launch_id, campaign[1], "o-dead",
                                           "tok", NOW, "20260302", limits)
    assert (answer, position) == ("ok", 0)
    assert bargain_ledger.reconcile_all(storage, NOW) == {}  # still within the grace
    monkeypatch.setattr(bargain_gate, "GRACE_SECONDS", 0)  # Redis's clock: the grace is over
    assert bargain_ledger.reconcile_all(storage, NOW)[launch_id] == (3, 1)
    for n in (1, 2, 3):
        cut(storage, launch_id, f"o-friend-{n}")
    assert launch(storage.sessions, launch_id).state == "completed"


def test_the_last_cut_held_by_a_dead_process_is_taken_back_by_the_next_helper(
        storage, campaign, monkeypatch):
    launch_id = start(storage, campaign[1])
    cut(storage, launch_id, "o-friend-1")
    cut(storage, launch_id, "o-friend-2")
    limits = bargain_gate.Limits(9, 9, 9, 9)
    answer, _, _ = bargain_gate.cut(storage.redis, launch_id, campaign[1], "o-dead", "tok",
                                    NOW, "20260302", limits)
    assert answer == "ok"  # the last cut, popped by a process that then died
    assert refusal(storage, launch_id, "o-friend-3") == "busy"  # it may still commit
    monkeypatch.setattr(bargain_gate, "GRACE_SECONDS", 0)
    assert cut(storage, launch_id, "o-friend-3").completed  # no wait for the job


def test_a_retry_while_the_first_request_is_recorded_is_told_to_wait(storage, campaign):
    launch_id = start(storage, campaign[1])
    limits = bargain_gate.Limits(9, 9, 9, 9)
    answer, _, _ = bargain_gate.cut(storage.redis, launch_id, campaign[1], "o-slow", "tok",
                                    NOW, "20260302", limits)
    assert answer == "ok"
    assert refusal(storage, launch_id, "o-slow", key="the-retry") == "inflight"


def test_caps_per_day_and_velocity(storage):
    sku_id = make_sku(storage.sessions)
    campaign_id = make_campaign(storage.sessions, sku_id, helps_per_day=1, helpers_needed=5,
                                launches_per_customer=3)
    first, second = start(storage, campaign_id, "o-a"), start(storage, campaign_id, "o-b")
    cut(storage, first, "o-friend")
    assert refusal(storage, second, "o-friend") == "day_cap"
    assert refusal(storage, second, "o-friend", now=NOW + timedelta(days=1)) != "day_cap"
    storage.settings = {"BARGAIN_HELPER_PER_10MIN": 1}
    third = start(storage, make_campaign(storage.sessions, sku_id, helps_per_day=9), "o-c")
    cut(storage, third, "o-fast")
    fourth = start(storage, make_campaign(storage.sessions, sku_id, helps_per_day=9), "o-d")
    assert refusal(storage, fourth, "o-fast") == "slow_helper"


def test_a_ring_is_held_for_review_and_counts_only_when_approved(storage):
    sku_id = make_sku(storage.sessions)
    campaign_id = make_campaign(storage.sessions, sku_id, launches_per_customer=5,
                                helps_per_day=9, helpers_needed=4)
    ring = ["o-r1", "o-r2", "o-r3"]
    for member in ring:
        known_follower(storage.sessions, member)
    earlier = start(storage, campaign_id, "o-x")
    for member in ring:
        cut(storage, earlier, member)
    target = start(storage, campaign_id, "o-y")
    cut(storage, target, "o-r1")
    cut(storage, target, "o-r2")
    held = cut(storage, target, "o-r3")  # the same three again: a ring
    assert held.state == "held" and held.amount_fen == 0
    assert launch(storage.sessions, target).cuts_done == 2
    assert refusal(storage, target, "o-r3", key="again") == "held"
    with storage.sessions() as db:
        help_id, reasons = db.execute(select(BargainHelp.id, BargainHelp.reasons)
                                      .where(BargainHelp.state == "held")).one()
    assert "反复同时出现" in reasons
    approved = bargain_ledger.approve(storage, help_id, "reviewer", NOW)
    assert approved.state == "counted" and approved.amount_fen > 0
    assert launch(storage.sessions, target).cuts_done == 3
    with pytest.raises(BargainRefused):
        bargain_ledger.approve(storage, help_id, "reviewer", NOW)


def test_approving_after_the_launch_completed_rejects_with_the_reason(storage):
    sku_id = make_sku(storage.sessions)
    campaign_id = make_campaign(storage.sessions, sku_id, launches_per_customer=5,
                                helps_per_day=9, helpers_needed=1)
    storage.settings = {"BARGAIN_RISK_HOLD": 1}  # everyone new is held
    launch_id = start(storage, campaign_id, "o-y")
    assert cut(storage, launch_id, "o-new-1").state == "held"
    assert cut(storage, launch_id, "o-new-2").state == "held"
    with storage.sessions() as db:
        ids = list(db.scalars(select(BargainHelp.id).order_by(BargainHelp.id)))
    assert bargain_ledger.approve(storage, ids[0], "reviewer", NOW).completed
    with pytest.raises(BargainRefused) as caught:
        bargain_ledger.approve(storage, ids[1], "reviewer", NOW)
    assert caught.value.code == "complete"
    with storage.sessions() as db:
        states = dict(db.execute(select(BargainHelp.id, BargainHelp.state)).all())
    assert states == {ids[0]: "counted", ids[1]: "rejected"}
    assert launch(storage.sessions, launch_id).cut_fen == 3890


def test_starter_cut_is_the_first_and_friends_still_reach_the_floor(storage):
    sku_id = make_sku(storage.sessions)
    campaign_id = make_campaign(storage.sessions, sku_id, starter_cuts=True)
    launch_id = start(storage, campaign_id)
    started = launch(storage.sessions, launch_id)
    assert started.cuts_total == 4 and started.cuts_done == 1
    assert started.cut_fen == started.cuts()[0] and started.helpers_left == 3
    for n in (1, 2, 3):
        outcome = cut(storage, launch_id, f"o-friend-{n}")
    assert outcome.completed and launch(storage.sessions, launch_id).cut_fen == 3890


def test_new_customers_only_refuses_a_buyer_and_paused_campaign_refuses_all(storage):
    from shop.members import Customer

    sku_id = make_sku(storage.sessions)
    campaign_id = make_campaign(storage.sessions, sku_id, new_customers_only=True)
    launch_id = start(storage, campaign_id)
    with storage.sessions.begin() as db:
        db.add(Customer(openid="o-buyer", first_order_at=NOW, last_order_at=NOW,
                        paid_orders=2, spend_fen=5000))
    assert refusal(storage, launch_id, "o-buyer") == "not_new"
    with storage.sessions.begin() as db:
        db.execute(BargainLaunch.__table__.update().values(state="open"))
        from promotions.bargains import BargainCampaign
        db.get(BargainCampaign, campaign_id).state = "paused"
    assert refusal(storage, launch_id, "o-newbie") == "paused"
    assert help_count(storage.sessions, launch_id) == 0


def test_a_database_too_busy_to_read_asks_the_helper_to_try_again(storage, campaign,
                                                                  monkeypatch):
    from sqlalchemy.exc import OperationalError

    launch_id = start(storage, campaign[1])

    def locked(db, ref):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(bargain_ledger, "find", locked)
    assert refusal(storage, launch_id, "o-friend") == "busy"
    assert help_count(storage.sessions, launch_id) == 0
