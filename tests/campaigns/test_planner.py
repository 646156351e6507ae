"""Planning: the channel WeChat allows per recipient at each boundary, a stable holdout and A/B
split, the frequency cap, quiet hours and throttling, planning twice writing once, the minute
job creating each run once and holding unapproved copy, and a dry run that says what planning
writes."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaigns import planner, push_rules
from campaigns.push_rules import PushDraft
from campaigns.pushes import Push, PushDelivery, PushRun, Suppression
from content_audit import review
from content_audit.rulestore import LiveRules
from core.clock import SHANGHAI
from shop import notices
from shop.notices import CustomerNotice
from tests.campaigns.test_segments import add_follower, add_paid
from tests.campaigns.test_tags import store_tag

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # Monday 12:00 in Shanghai
PLAIN = "好久不见！为您准备了回归礼，欢迎回来看看最近上新的商品。"
SHARE = "转发朋友圈即可领取小样"  # the rules send this to review
ALL = ["custom", "subscribe", "mass"]


def shanghai(*args: int) -> datetime:
    """A Shanghai wall time, as the UTC moment the database stores."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def draft(**changes) -> PushDraft:
    base = PushDraft(name="唤醒", segment="dormant", variants=[PLAIN], trigger="once",
                     trigger_at=NOW + timedelta(hours=1), holdout_percent=0)
    return replace(base, **changes)


def make_push(db, **changes) -> Push:
    """A push stored as the console would, without the checks (tests pick odd times)."""
    push = push_rules.push_from_draft(draft(**changes), NOW)
    db.add(push)
    db.flush()
    return push


def make_run(db, push: Push, fire_at: datetime = NOW, kind: str = "main") -> PushRun:
    run = PushRun(push_id=push.id, fire_at=fire_at, kind=kind, state="planning")
    db.add(run)
    db.flush()
    return run


def deliver(db, openid: str, channel: str, at: datetime, *, state: str = "sent") -> None:
    """A delivery of another push sent (or planned) at `at`."""
    push = make_push(db)
    run = make_run(db, push, at)
    db.add(PushDelivery(run_id=run.id, openid=openid, channel=channel, state=state,
                        created_at=at, sent_at=at if state == "sent" else None,
                        not_before=at))


def choose(storage, openid: str, policy: list[str] | None = None, now: datetime = NOW,
           template_id: str | None = "TPL-1"):
    with storage.sessions() as db:
        return planner.choose_channel(db, openid, policy or ALL, now, template_id=template_id)


# --- channels at their boundaries -----------------------------------------------------------


def test_custom_needs_the_48_hour_window(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-47h", message_hours=47)
        add_follower(db, "o-49h", message_hours=49)
        add_follower(db, "o-paid", touched_days=300)
        add_paid(db, "o-paid", [1])  # a payment opens the window too
    assert choose(storage, "o-47h") == ("custom", "客服消息：48小时窗口内第1条")
    assert choose(storage, "o-paid")[0] == "custom"
    assert choose(storage, "o-49h") == ("mass", "群发：本月第1次")
    assert choose(storage, "o-49h", ["custom"]) == (None, "客服消息：48小时内没有留言或付款")


def test_five_custom_messages_per_window_push_and_shop_notices_together(storage):
    opened = NOW - timedelta(hours=10)
    with storage.sessions.begin() as db:
        for openid in ("o-four", "o-five", "o-mixed"):
            add_follower(db, openid, message_hours=10)
        for i in range(4):
            deliver(db, "o-four", "custom", opened + timedelta(minutes=i + 1))
            deliver(db, "o-five", "custom", opened + timedelta(minutes=i + 1))
            deliver(db, "o-mixed", "custom", opened + timedelta(minutes=i + 1))
        deliver(db, "o-five", "custom", opened + timedelta(minutes=9))
        deliver(db, "o-four", "custom", opened - timedelta(minutes=1))  # before the window
        deliver(db, "o-four", "mass", opened + timedelta(minutes=9))  # another channel
        db.add(CustomerNotice(key="n1", openid="o-mixed", kind="flash", text="提醒",
                              due_at=opened, state="sent", channel="custom",
                              sent_at=opened + timedelta(minutes=30)))
    assert choose(storage, "o-four") == ("custom", "客服消息：48小时窗口内第5条")
    assert choose(storage, "o-five", ["custom"]) == \
        (None, "客服消息：48小时内已发5条（上限5条）")
    assert choose(storage, "o-mixed", ["custom"])[0] is None


def test_four_mass_messages_per_shanghai_month(storage):
    month = shanghai(2026, 6, 1, 0, 0)  # NOW is 12:00 on June 1st in Shanghai
    with storage.sessions.begin() as db:
        for openid in ("o-three", "o-four", "o-last-month"):
            add_follower(db, openid, touched_days=10)
        for i in range(3):
            deliver(db, "o-three", "mass", month + timedelta(hours=i))
            deliver(db, "o-four", "mass", month + timedelta(hours=i))
            deliver(db, "o-last-month", "mass", month - timedelta(days=1, hours=i))
        deliver(db, "o-four", "mass", month, state="unknown")  # may have reached WeChat
        deliver(db, "o-last-month", "mass", month - timedelta(seconds=1))
        deliver(db, "o-three", "mass", month, state="failed")  # did not count with WeChat
    assert choose(storage, "o-three") == ("mass", "群发：本月第4次")
    assert choose(storage, "o-four") == (None, "客服消息：48小时内没有留言或付款；"
                                               "订阅通知：没有订阅授权；"
                                               "群发：本月已收到4次群发（上限4次）")
    assert choose(storage, "o-last-month") == ("mass", "群发：本月第1次")
    # the next month opens a new allowance
    assert choose(storage, "o-four", now=shanghai(2026, 7, 1, 0, 0))[0] == "mass"


def test_subscription_notices_need_a_recorded_opt_in(storage):
    with storage.sessions.begin() as db:
        add_paid(db, "o-browser", [400])  # a customer who never followed
        notices.record_opt_in(db, "o-optin", "TPL-1", NOW, times=2)
        add_paid(db, "o-optin", [400])
        notices.record_opt_in(db, "o-used", "TPL-1", NOW)
        db.execute(notices.NoticeOptIn.__table__.update().values(remaining=0)
                   .where(notices.NoticeOptIn.openid == "o-used"))
    assert choose(storage, "o-optin") == ("subscribe", "订阅通知：模板TPL-1剩余2次")
    assert choose(storage, "o-used")[0] is None
    assert choose(storage, "o-browser") == (None, "客服消息：未关注公众号；订阅通知：没有订阅授权；"
                                                  "群发：未关注公众号")


def test_subscription_notices_spend_only_the_push_template(storage):
    """An opt-in the customer gave for the shop's own notices (NOTICE_TEMPLATE_ID) is not
    spent on a push: only PUSH_TEMPLATE_ID's, and none at all when it is not set."""
    with storage.sessions.begin() as db:
        add_paid(db, "o-reminders", [400])
        notices.record_opt_in(db, "o-reminders", "TPL-SHOP", NOW, times=3)
        add_paid(db, "o-both", [400])
        notices.record_opt_in(db, "o-both", "TPL-SHOP", NOW, times=3)
        notices.record_opt_in(db, "o-both", "TPL-PUSH", NOW)
    assert choose(storage, "o-reminders", ["subscribe"], template_id="TPL-PUSH") == \
        (None, "订阅通知：没有订阅授权")
    assert choose(storage, "o-both", ["subscribe"], template_id="TPL-PUSH") == \
        ("subscribe", "订阅通知：模板TPL-PUSH剩余1次")
    assert choose(storage, "o-both", ["subscribe"], template_id=None) == \
        (None, "订阅通知：未设置推送用的订阅通知模板（PUSH_TEMPLATE_ID）")
    assert planner.push_template_id({"PUSH_TEMPLATE_ID": " TPL-PUSH "}) == "TPL-PUSH"
    assert planner.push_template_id({"NOTICE_TEMPLATE_ID": "TPL-SHOP"}) is None
    assert planner.push_template_id({"PUSH_TEMPLATE_ID": ""}) is None
    assert planner.push_template_id(None) is None


def test_unfollowed_and_suppressed_are_never_planned(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-gone", unfollowed_days=3, message_hours=10)
        add_follower(db, "o-blocked", message_hours=10)
        notices.record_opt_in(db, "o-gone", "TPL-1", NOW)
        db.add(Suppression(openid="o-blocked", code=43101, reason="拒收", created_at=NOW))
    assert choose(storage, "o-gone") == (None, "已取消关注")
    assert choose(storage, "o-blocked") == (None, "微信提示无法送达（代码43101）")


def test_policy_order_decides(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-1", message_hours=1)
    assert choose(storage, "o-1", ["mass", "custom"])[0] == "mass"
    assert choose(storage, "o-1", ["subscribe"]) == (None, "订阅通知：没有订阅授权")


# --- holdout and variants -------------------------------------------------------------------


def test_assignment_is_stable_and_splits_evenly():
    openids = [f"o-{i}" for i in range(2000)]
    first = [planner.assign(7, o, 10, ["A", "B"]) for o in openids]
    assert first == [planner.assign(7, o, 10, ["A", "B"]) for o in openids]
    held = sum(1 for h, _ in first if h)
    assert 140 < held < 260 and all(v == "" for h, v in first if h)
    a = sum(1 for h, v in first if not h and v == "A")
    assert 0.4 < a / (len(openids) - held) < 0.6
    assert planner.assign(7, "o-1", 0, ["A"]) == (False, "A")
    assert planner.assign(8, "o-1", 99, ["A"]) != planner.assign(8, "o-1", 0, ["A"])


# --- planning a run -------------------------------------------------------------------------


def dormant_segment(db, n: int = 60) -> list[str]:
    openids = [f"o-{i:03d}" for i in range(n)]
    for openid in openids:
        add_follower(db, openid, touched_days=200)
    return openids


def rows_of(db, run_id: int) -> dict[str, tuple]:
    return {d.openid: (d.state, d.variant, d.holdout, d.channel, d.reason, d.not_before)
            for d in db.scalars(select(PushDelivery).where(PushDelivery.run_id == run_id))}


def test_plan_run_writes_each_recipient_once_and_replanning_moves_nobody(storage):
    with storage.sessions.begin() as db:
        openids = dormant_segment(db)
        db.add(Suppression(openid=openids[0], code=43004, reason="取消关注", created_at=NOW))
        for i in range(4):
            deliver(db, openids[1], "mass", NOW - timedelta(hours=i + 1))
        add_follower(db, "o-active", touched_days=1)  # not in the segment
        push = make_push(db, variants=[PLAIN, PLAIN + "！"], holdout_percent=20,
                         frequency_cap=5)
        run = make_run(db, push)
        counts = planner.plan_run(db, run, NOW)
        run_id, push_id = run.id, push.id
        assert run.state == "planned" and run.planned_at == NOW
    with storage.sessions() as db:
        first = rows_of(db, run_id)
    assert sorted(first) == openids
    assert first[openids[0]][0] == "skipped" and "43004" in first[openids[0]][4]
    assert first[openids[1]][0] == "skipped" and "本月已收到4次群发" in first[openids[1]][4]
    assert counts["planned"] + counts["holdout"] + counts["skipped"] == 60
    assert counts["skipped"] == 2 and 3 < counts["holdout"] < 25
    assert counts["variant:A"] + counts["variant:B"] == counts["planned"] == \
        counts["channel:mass"]
    assert all(row[2] == (row[0] == "holdout") for row in first.values())
    for openid, row in first.items():
        if row[0] != "skipped":
            assert (row[0] == "holdout", row[1]) == planner.assign(push_id, openid, 20,
                                                                   ["A", "B"])
    # planned again, by a second scheduler or after a crash: nothing added, nobody moved
    with storage.sessions.begin() as db:
        run = db.get(PushRun, run_id)
        again = planner.plan_run(db, run, NOW + timedelta(minutes=1))
        run.state = "planning"
        third = planner.plan_run(db, run, NOW + timedelta(minutes=2))
    assert again == counts == third
    with storage.sessions() as db:
        assert rows_of(db, run_id) == first
        assert db.scalar(select(func.count()).select_from(PushDelivery)
                         .where(PushDelivery.run_id == run_id)) == 60
        assert planner.stored_tally(db, run_id) == counts


def test_frequency_cap_counts_every_push_in_the_last_7_days(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-capped", touched_days=200)
        add_follower(db, "o-old", touched_days=200)
        add_follower(db, "o-one", touched_days=200)
        deliver(db, "o-capped", "subscribe", NOW - timedelta(days=6))
        deliver(db, "o-capped", "mass", NOW + timedelta(hours=5), state="planned")
        deliver(db, "o-old", "mass", NOW - timedelta(days=8))
        deliver(db, "o-old", "mass", NOW - timedelta(days=7, minutes=1))
        deliver(db, "o-one", "mass", NOW - timedelta(days=1))
        deliver(db, "o-one", "mass", NOW - timedelta(days=1), state="failed")
        push = make_push(db, frequency_cap=2)
        run = make_run(db, push)
        counts = planner.plan_run(db, run, NOW)
        rows = rows_of(db, run.id)
    assert rows["o-capped"][0] == "skipped" and rows["o-capped"][4] == "7天内已收到2条推送"
    assert rows["o-old"][0] == "planned" and rows["o-one"][0] == "planned"
    assert counts == {"planned": 2, "channel:mass": 2, "variant:A": 2, "skipped": 1,
                      "skipped:7天内已收到2条推送": 1}


def test_quiet_hours_and_throttle_set_not_before(storage):
    with storage.sessions.begin() as db:
        for i in range(3):
            add_follower(db, f"o-{i}", touched_days=200)
        late = make_push(db, frequency_cap=5)
        late_run = make_run(db, late, shanghai(2026, 6, 1, 23, 0))
        planner.plan_run(db, late_run, NOW)
        slow = make_push(db, throttle_per_minute=1, frequency_cap=5)
        slow_run = make_run(db, slow, shanghai(2026, 6, 1, 21, 59))
        planner.plan_run(db, slow_run, NOW)
        fast = make_push(db, throttle_per_minute=2, frequency_cap=5)
        fast_run = make_run(db, fast, shanghai(2026, 6, 1, 12, 0))
        planner.plan_run(db, fast_run, NOW)
        times = {run.id: sorted(row[5].replace(tzinfo=UTC) for row in
                                rows_of(db, run.id).values())
                 for run in (late_run, slow_run, fast_run)}
    assert times[late_run.id] == [shanghai(2026, 6, 2, 8, 0)] * 3
    assert times[slow_run.id] == [shanghai(2026, 6, 1, 21, 59), shanghai(2026, 6, 2, 8, 0),
                                  shanghai(2026, 6, 2, 8, 1)]
    noon = shanghai(2026, 6, 1, 12, 0)
    assert times[fast_run.id] == [noon, noon + timedelta(seconds=30),
                                  noon + timedelta(seconds=60)]


def test_event_triggers_pick_the_day_trigger_days_before(storage):
    fire = shanghai(2026, 6, 8, 10, 0)
    with storage.sessions.begin() as db:
        for openid in ("o-7d", "o-7d-late", "o-6d", "o-second", "o-lazy", "o-busy"):
            add_follower(db, openid, touched_days=1, now=fire)
        add_paid(db, "o-7d", [7], now=fire)  # June 1st 10:00
        add_paid(db, "o-7d-late", [7 - 13.9 / 24], now=fire)  # June 1st 23:54
        add_paid(db, "o-6d", [6], now=fire)
        add_paid(db, "o-second", [7, 2], now=fire)
        first = make_push(db, trigger="after_first_order", trigger_days=7)
        found = planner.recipients(db, first, fire, fire)
    assert found == ["o-7d", "o-7d-late"]
    with storage.sessions.begin() as db:
        add_follower(db, "o-30d", touched_days=30, now=fire)
        add_follower(db, "o-31d", touched_days=31, now=fire)
        idle = make_push(db, trigger="inactive", trigger_days=30)
        assert planner.recipients(db, idle, fire, fire) == ["o-30d"]


# --- the dry run ----------------------------------------------------------------------------


def test_dry_run_says_what_planning_writes(storage):
    with storage.sessions.begin() as db:
        openids = dormant_segment(db, 40)
        notices.record_opt_in(db, openids[2], "TPL-9", NOW)
        db.add(Suppression(openid=openids[3], code=40003, reason="无效", created_at=NOW))
        for i in range(4):
            deliver(db, openids[4], "mass", NOW - timedelta(hours=i + 1))
        push = make_push(db, variants=[PLAIN, "回来看看吧"], holdout_percent=30,
                         channels=["subscribe", "mass"], frequency_cap=9)
        dry = planner.dry_run(db, push, NOW, sample=6, template_id="TPL-9")
        assert db.scalar(select(func.count()).select_from(PushDelivery)) == 4  # the setup's
        run = make_run(db, push, push.trigger_at)
        counts = planner.plan_run(db, run, NOW, template_id="TPL-9")
        assert planner.stored_tally(db, run.id) == counts
    assert dry.counts == counts and dry.total == 40
    assert dry.fire_at == push.trigger_at.replace(tzinfo=UTC)
    assert dry.skipped == {"微信提示无法送达（代码40003）": 1,
                           "订阅通知：没有订阅授权；群发：本月已收到4次群发（上限4次）": 1}
    assert 4 < dry.holdout < 20 and dry.holdout + sum(dry.by_channel.values()) == 38
    assert sum(dry.by_variant.values()) == sum(dry.by_channel.values())
    opted_in_held, _ = planner.assign(push.id, openids[2], 30, ["A", "B"])
    assert dry.by_channel.get("subscribe", 0) == (0 if opted_in_held else 1)
    assert len(dry.sample) == 6 and dry.sample[0].openid == "o-000…"
    assert dry.sample[3].state == "skipped" and "40003" in dry.sample[3].reason
    for row in dry.sample:
        assert row.text == {"A": PLAIN, "B": "回来看看吧"}.get(row.variant, "")
        assert (row.text != "") == (row.state == "planned")


def test_dry_run_of_a_draft(storage):
    with storage.sessions.begin() as db:
        dormant_segment(db, 10)
        dry = planner.dry_run(db, draft(holdout_percent=0), NOW)
    assert dry.counts == {"planned": 10, "channel:mass": 10, "variant:A": 10}
    assert dry.sample[0].text == PLAIN and dry.sample[0].channel == "mass"


# --- the minute job -------------------------------------------------------------------------


@pytest.fixture()
def screener(storage):
    return LiveRules(storage.sessions, storage.redis, background=False).screener()


def test_plan_due_creates_a_run_once_and_plans_it_at_its_time(storage, screener):
    with storage.sessions.begin() as db:
        dormant_segment(db, 5)
        push_id = push_rules.create(db, draft(), NOW, screener=screener, author="lin").id
    assert planner.plan_due(storage, NOW) == {}  # a run is made once its time is near
    result = planner.plan_due(storage, NOW + timedelta(hours=1, seconds=5))
    assert result == {"runs_created": 1, "planned": 1, "deliveries": 5}
    assert planner.plan_due(storage, NOW + timedelta(hours=1, minutes=1)) == {}
    with storage.sessions() as db:
        runs = push_rules.runs_of(db, push_id)
        assert [(r.state, r.kind) for r in runs] == [("planned", "main")]
        assert db.get(Push, push_id).state == "done"


def test_plan_due_cron_makes_one_run_per_fire_time(storage, screener):
    with storage.sessions.begin() as db:
        dormant_segment(db, 3)
        push_id = push_rules.create(db, draft(trigger="cron", cron="0 10,16 * * *",
                                              trigger_at=None),
                                    NOW, screener=screener, author="lin").id
    # NOW is 12:00 in Shanghai: today's 10:00 fired before the push existed and owes nothing
    created = Counter()
    for minutes in range(0, 22 * 60 + 5, 30):
        created.update(planner.plan_due(storage, NOW + timedelta(minutes=minutes)))
    assert created == {"runs_created": 2, "planned": 2, "deliveries": 6}
    with storage.sessions() as db:
        runs = push_rules.runs_of(db, push_id)
        assert [(r.fire_at.replace(tzinfo=UTC), r.state) for r in runs] == [
            (shanghai(2026, 6, 1, 16, 0), "planned"), (shanghai(2026, 6, 2, 10, 0), "planned")]
        assert db.scalar(select(func.count()).select_from(PushDelivery)) == 6
        assert db.get(Push, push_id).state == "scheduled"


def test_plan_due_holds_a_run_whose_copy_is_not_approved_in_time(storage, screener):
    with storage.sessions.begin() as db:
        dormant_segment(db, 3)
        held_id = push_rules.create(db, draft(variants=[SHARE]), NOW, screener=screener,
                                    author="lin").id
        ok_id = push_rules.create(db, draft(variants=[SHARE + "。"], name="另一条"), NOW,
                                  screener=screener, author="lin").id
        review.decide(db, review.find(db, "push", SHARE + "。"), "wang", "approved")
    result = planner.plan_due(storage, NOW + timedelta(hours=1, seconds=1))
    assert result == {"runs_created": 2, "held": 1, "planned": 1, "deliveries": 3}
    with storage.sessions() as db:
        (held,) = push_rules.runs_of(db, held_id)
        assert held.state == "held" and held.note == planner.HELD_NOTE
        assert db.scalar(select(func.count()).select_from(PushDelivery)
                         .where(PushDelivery.run_id == held.id)) == 0
        assert db.get(Push, held_id).state == "done"
        (ok,) = push_rules.runs_of(db, ok_id)
        assert ok.state == "planned"
    # approved too late: the held run stays held
    with storage.sessions.begin() as db:
        review.decide(db, review.find(db, "push", SHARE), "wang", "approved")
    assert planner.plan_due(storage, NOW + timedelta(hours=1, minutes=2)) == {}


def test_plan_due_announces_days_ahead_and_skips_paused_and_missed_runs(storage, screener):
    at = shanghai(2026, 6, 5, 10, 0)
    with storage.sessions.begin() as db:
        dormant_segment(db, 2)
        push_id = push_rules.create(db, draft(trigger_at=at, announce_days=2,
                                              announce_text="两天后有回归礼，敬请期待"),
                                    NOW, screener=screener, author="lin").id
    assert planner.plan_due(storage, NOW) == {}  # fire time beyond the 2-day lead
    day_before = at - timedelta(days=2)
    assert planner.plan_due(storage, day_before) == {"runs_created": 2, "planned": 1,
                                                     "deliveries": 2}
    with storage.sessions.begin() as db:
        push_rules.pause(db, push_id, day_before)
    assert planner.plan_due(storage, at) == {}  # paused: the main run waits
    with storage.sessions.begin() as db:
        push_rules.resume(db, push_id, at + timedelta(days=2))
    assert planner.plan_due(storage, at + timedelta(days=2)) == {"missed": 1}
    with storage.sessions() as db:
        runs = {r.kind: r for r in push_rules.runs_of(db, push_id)}
        assert runs["announce"].state == "planned" and runs["main"].state == "cancelled"
        assert runs["main"].note == planner.MISSED_NOTE
        announce_rows = rows_of(db, runs["announce"].id)
        assert {row[5].replace(tzinfo=UTC) for row in announce_rows.values()} == {day_before}


def test_an_announcement_due_before_the_push_existed_goes_at_once(storage, screener):
    with storage.sessions.begin() as db:
        dormant_segment(db, 2)
        push_id = push_rules.create(db, draft(announce_days=2, announce_text="回归礼明天见",
                                              frequency_cap=2),
                                    NOW, screener=screener, author="lin").id
    assert planner.plan_due(storage, NOW) == {"runs_created": 2, "planned": 1,
                                              "deliveries": 2}
    with storage.sessions() as db:
        runs = {r.kind: r.state for r in push_rules.runs_of(db, push_id)}
    assert runs == {"announce": "planned", "main": "planning"}


# --- quotas count what is planned, not only what is sent ------------------------------------


def test_mass_and_custom_quotas_count_planned_and_calling_rows_of_other_runs(storage):
    month = shanghai(2026, 6, 1, 0, 0)
    opened = NOW - timedelta(hours=10)
    with storage.sessions.begin() as db:
        add_follower(db, "o-mass", touched_days=10)
        add_follower(db, "o-custom", message_hours=10)
        for i in range(2):
            deliver(db, "o-mass", "mass", month + timedelta(hours=i))
        deliver(db, "o-mass", "mass", NOW + timedelta(hours=3), state="planned")
        deliver(db, "o-mass", "mass", month + timedelta(hours=5), state="calling")
        deliver(db, "o-mass", "mass", shanghai(2026, 7, 1, 9, 0), state="planned")  # July's
        for i in range(3):
            deliver(db, "o-custom", "custom", opened + timedelta(minutes=i + 1))
        deliver(db, "o-custom", "custom", opened + timedelta(hours=20), state="planned")
        deliver(db, "o-custom", "custom", opened + timedelta(minutes=30), state="calling")
        # due after the window closes: it cannot go as a custom message in this window
        deliver(db, "o-custom", "custom", opened + timedelta(hours=49), state="planned")
        counts = planner.reach_counts(db, ["o-mass", "o-custom", "o-nobody"], NOW)
    assert counts["o-mass"].mass_this_month == 4
    assert counts["o-custom"].custom_in_window == 5
    assert counts["o-custom"].opened == opened and counts["o-custom"].window_open(NOW)
    assert counts["o-nobody"] == planner.Counts()
    assert choose(storage, "o-mass") == (None, "客服消息：48小时内没有留言或付款；"
                                               "订阅通知：没有订阅授权；"
                                               "群发：本月已收到4次群发（上限4次）")
    assert choose(storage, "o-custom", ["custom"]) == \
        (None, "客服消息：48小时内已发5条（上限5条）")


def test_a_run_planned_again_does_not_count_its_own_rows(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-1", touched_days=200)
        for i in range(3):
            deliver(db, "o-1", "mass", NOW - timedelta(hours=i + 1))
        push = make_push(db, frequency_cap=9)
        run = make_run(db, push)
        first = planner.plan_run(db, run, NOW)
        run.state = "planning"
        again = planner.plan_run(db, run, NOW + timedelta(minutes=1))
        other = make_run(db, push, NOW + timedelta(hours=1))
        third = planner.plan_run(db, other, NOW + timedelta(minutes=2))
    assert first == again == {"planned": 1, "channel:mass": 1, "variant:A": 1}
    assert third["skipped"] == 1  # the first run's planned mass message is the 4th


# --- late runs ------------------------------------------------------------------------------


def test_a_cron_run_missed_by_more_than_an_hour_is_skipped(storage, screener):
    with storage.sessions.begin() as db:
        dormant_segment(db, 2)
        push_id = push_rules.create(db, draft(trigger="cron", cron="0 16 * * *",
                                              trigger_at=None),
                                    NOW, screener=screener, author="lin").id
    four = shanghai(2026, 6, 1, 16, 0)
    assert planner.plan_due(storage, four - timedelta(minutes=1)) == {}
    # the run exists once its fire time is due; the scheduler was down past 16:00
    with storage.sessions.begin() as db:
        db.add(PushRun(push_id=push_id, fire_at=four, kind="main", state="planning"))
    assert planner.plan_due(storage, four + timedelta(hours=1, minutes=1)) == {"missed": 1}
    with storage.sessions() as db:
        (run,) = push_rules.runs_of(db, push_id)
        assert run.state == "cancelled" and run.note == "错过发送时间，已跳过"
    # paused for a day: tomorrow's 16:00 fire, found 23 hours late on resuming, never goes
    with storage.sessions.begin() as db:
        db.add(PushRun(push_id=push_id, fire_at=four + timedelta(days=1), kind="main",
                       state="planning"))
    assert planner.plan_due(storage, four + timedelta(days=1, hours=23)) == {"missed": 1}
    # within the hour it still goes
    with storage.sessions.begin() as db:
        db.add(PushRun(push_id=push_id, fire_at=four + timedelta(days=2), kind="main",
                       state="planning"))
    result = planner.plan_due(storage, four + timedelta(days=2, minutes=59))
    assert result["planned"] == 1 and "missed" not in result


def test_a_once_run_may_still_go_within_a_day(storage, screener):
    with storage.sessions.begin() as db:
        dormant_segment(db, 2)
        push_rules.create(db, draft(), NOW, screener=screener, author="lin")
    late = NOW + timedelta(hours=1) + timedelta(hours=23)
    assert planner.plan_due(storage, late) == {"runs_created": 1, "planned": 1,
                                               "deliveries": 2}


def test_a_stored_push_with_oversized_days_does_not_stop_the_others(storage, screener):
    with storage.sessions.begin() as db:
        dormant_segment(db, 2)
        make_push(db, announce_days=999999, announce_text="预告")
        good_id = push_rules.create(db, draft(name="好的"), NOW, screener=screener,
                                    author="lin").id
    result = planner.plan_due(storage, NOW + timedelta(hours=1, seconds=5))
    assert result["failed"] == 1  # the oversized announcement, logged; nothing else stops
    with storage.sessions() as db:
        assert [run.state for run in push_rules.runs_of(db, good_id)] == ["planned"]


def test_the_dry_run_cuts_subscription_copy_to_twenty_characters(storage):
    with storage.sessions.begin() as db:
        openids = dormant_segment(db, 3)
        for openid in openids:
            notices.record_opt_in(db, openid, "TPL-PUSH", NOW)
        dry = planner.dry_run(db, draft(channels=["subscribe", "mass"]), NOW,
                              template_id="TPL-PUSH")
        plain = planner.dry_run(db, draft(channels=["subscribe", "mass"]), NOW)
    assert {row.channel for row in dry.sample} == {"subscribe"}
    assert all(row.text == PLAIN[:20] for row in dry.sample)
    assert {row.channel for row in plain.sample} == {"mass"}
    assert all(row.text == PLAIN for row in plain.sample)


# --- a push narrowed by a WeChat tag ---------------------------------------------------------


def test_the_planner_reaches_only_segment_members_carrying_the_tag(storage):
    with storage.sessions.begin() as db:
        for i in range(6):
            add_follower(db, f"o-sleep-{i}", touched_days=200)
        add_follower(db, "o-awake", touched_days=1)
        store_tag(db, 9, "VIP", ["o-sleep-0", "o-sleep-2", "o-awake"])
        narrowed = make_push(db, tag_id=9)
        whole = make_push(db)
        gone = make_push(db, tag_id=404)  # a tag deleted at WeChat since
        made = {name: make_run(db, push)
                for name, push in (("narrowed", narrowed), ("whole", whole), ("gone", gone))}
        counts = {name: planner.plan_run(db, run, NOW) for name, run in made.items()}
        runs = {name: run.id for name, run in made.items()}
    with storage.sessions() as db:
        assert sorted(rows_of(db, runs["narrowed"])) == ["o-sleep-0", "o-sleep-2"]
        assert len(rows_of(db, runs["whole"])) == 6
        assert rows_of(db, runs["gone"]) == {}
        dry = planner.dry_run(db, db.get(Push, narrowed.id), NOW)
    assert counts["narrowed"]["planned"] == 2 and counts["gone"] == {}
    assert dry.total == 2 and dry.tag == "VIP"


def test_an_inactive_push_narrowed_by_a_tag(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-quiet-tagged", touched_days=30)
        add_follower(db, "o-quiet", touched_days=30)
        store_tag(db, 9, "VIP", ["o-quiet-tagged"])
        push = make_push(db, trigger="inactive", trigger_days=30, trigger_at=None, tag_id=9)
        found = planner.recipients(db, push, NOW, NOW)
    assert found == ["o-quiet-tagged"]


def test_a_dry_run_of_a_draft_narrowed_by_a_tag(storage):
    with storage.sessions.begin() as db:
        for i in range(4):
            add_follower(db, f"o-sleep-{i}", touched_days=200)
        store_tag(db, 3, "VIP", ["o-sleep-3"])
    with storage.sessions() as db:
        dry = planner.dry_run(db, draft(tag_id=3), NOW)
    assert (dry.total, dry.tag, [row.openid for row in dry.sample]) == (1, "VIP", ["o-slee…"])
