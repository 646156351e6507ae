"""The rules of a push: every bad input refused or warned in Chinese before anything is stored,
creating and moving a push, its fire times, quiet hours, and the gate again at send time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from campaigns import push_rules
from campaigns.push_rules import PushDraft, PushError
from campaigns.pushes import Push, PushRun
from content_audit import review
from content_audit.rulestore import LiveRules
from core.clock import SHANGHAI
from tests.campaigns.test_segments import add_follower, add_paid
from tests.campaigns.test_tags import store_tag

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # Monday 12:00 in Shanghai
PLAIN = "好久不见！为您准备了回归礼，欢迎回来看看最近上新的商品。"
BLOCKED = "全网最好用的面霜"
SHARE = "转发朋友圈即可领取小样"  # the rules send this to review


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def draft(**changes) -> PushDraft:
    base = PushDraft(name="唤醒沉睡客户", segment="dormant", variants=[PLAIN],
                     channels=["custom", "mass"],  # long copy: no subscription notice
                     trigger="once", trigger_at=shanghai(2026, 6, 2, 10, 0))
    return replace(base, **changes)


@pytest.fixture()
def screener(storage):
    return LiveRules(storage.sessions, storage.redis, background=False).screener()


@pytest.fixture()
def dormant(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-dormant", touched_days=200)


def checked(storage, screener, **changes) -> push_rules.Checked:
    with storage.sessions.begin() as db:
        return push_rules.check(db, draft(**changes), NOW, screener=screener)


def only_error(storage, screener, **changes) -> str:
    result = checked(storage, screener, **changes)
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


def test_a_good_draft_has_no_errors_or_warnings(storage, screener, dormant):
    result = checked(storage, screener)
    assert result.ok and result.errors == [] and result.warnings == []
    assert result.review == "send"


def test_a_segment_that_matches_nobody_is_warned(storage, screener):
    result = checked(storage, screener)
    assert result.ok and result.warnings == ["该客群目前没有顾客"]
    assert only_error(storage, screener, segment="nobody") == "未知的客群"
    assert "取消关注" in only_error(storage, screener, segment="lost")


@pytest.mark.parametrize("cron, words", [
    ("bad", "无效"),
    ("61 * * * *", "无效"),
    ("0 10 * * 8", "无效"),
    ("0 0 30 2 *", "未来一年内不会触发"),
    ("* * * * *", "每分钟触发"),
    ("*/5 * * * *", "每5分钟触发"),
    ("", "请填写cron"),
])
def test_bad_cron_expressions_are_refused(storage, screener, dormant, cron, words):
    assert words in only_error(storage, screener, trigger="cron", cron=cron, trigger_at=None)


def test_hourly_and_daily_cron_pass_and_quiet_fires_are_told(storage, screener, dormant):
    assert checked(storage, screener, trigger="cron", cron="0 10 * * 1").errors == []
    hourly = checked(storage, screener, trigger="cron", cron="0 * * * *")
    assert hourly.errors == [] and any("免打扰" in w for w in hourly.warnings)
    always_quiet = only_error(storage, screener, trigger="cron", cron="0 23 * * *")
    assert "免打扰时段（22:00–08:00）" in always_quiet


def test_once_in_the_past_or_in_quiet_hours_is_refused(storage, screener, dormant):
    assert "已经过去" in only_error(storage, screener, trigger_at=NOW - timedelta(minutes=1))
    quiet = only_error(storage, screener, trigger_at=shanghai(2026, 6, 2, 23, 30))
    assert "免打扰时段（22:00–08:00）" in quiet and "2026-06-02 23:30" in quiet
    early = only_error(storage, screener, trigger_at=shanghai(2026, 6, 2, 7, 59))
    assert "免打扰" in early
    assert checked(storage, screener, trigger_at=shanghai(2026, 6, 2, 8, 0)).ok
    assert "请填写发送时间" in only_error(storage, screener, trigger_at=None)


def test_event_triggers_need_days(storage, screener):
    assert "天数" in only_error(storage, screener, trigger="inactive", trigger_days=0,
                                trigger_at=None)
    ok = checked(storage, screener, trigger="after_first_order", trigger_days=7,
                 trigger_at=None)
    assert ok.errors == [] and ok.warnings == []  # the segment is not the selection here
    assert only_error(storage, screener, trigger="weekly") == "未知的触发方式"


def test_blocked_copy_is_refused_with_the_gates_reason(storage, screener, dormant):
    error = only_error(storage, screener, variants=[BLOCKED])
    assert error.startswith("文案：") and "「最好用」" in error
    two = only_error(storage, screener, variants=[PLAIN, BLOCKED])
    assert two.startswith("文案B：")


def test_copy_for_review_is_warned_and_passes_once_approved(storage, screener, dormant):
    result = checked(storage, screener, variants=[SHARE])
    assert result.ok and result.review == "queued"
    assert result.warnings == ["文案需审核通过后才会发送；发送时间前未通过则不发送"]
    with storage.sessions() as db:  # check only reads: nothing was filed for review
        assert review.find(db, "push", SHARE) is None
    with storage.sessions.begin() as db:
        push = push_rules.create(db, draft(variants=[SHARE]), NOW, screener=screener,
                                 author="lin")
        assert push.review == "queued" and push.state == "scheduled"
        item = review.find(db, "push", SHARE)
        assert item.state == "pending" and item.source_ref == f"push:{push.id}:A"
        review.decide(db, item, "wang", "approved")
    assert checked(storage, screener, variants=[SHARE]).warnings == []


def test_rejected_copy_is_refused(storage, screener, dormant):
    with storage.sessions.begin() as db:
        push_rules.create(db, draft(variants=[SHARE]), NOW, screener=screener, author="lin")
        review.decide(db, review.find(db, "push", SHARE), "wang", "rejected", "诱导分享")
    assert "审核未通过" in only_error(storage, screener, variants=[SHARE])


def test_holdout(storage, screener, dormant):
    assert "100%" in only_error(storage, screener, holdout_percent=100)
    assert "负数" in only_error(storage, screener, holdout_percent=-1)
    half = checked(storage, screener, holdout_percent=50)
    assert half.ok and half.warnings == ["对照组占50%，一半以上的顾客不会收到推送"]
    assert checked(storage, screener, holdout_percent=49).warnings == []


def test_variants(storage, screener, dormant):
    assert only_error(storage, screener, variants=[]) == "请填写推送文案"
    assert only_error(storage, screener, variants=[PLAIN, PLAIN + "1", PLAIN + "2"]) == \
        "A/B测试最多两个版本"
    assert only_error(storage, screener, variants=["  "]) == "推送文案不能为空"
    assert checked(storage, screener, variants=[PLAIN, PLAIN + "！"]).ok


def test_channels(storage, screener, dormant):
    assert only_error(storage, screener, channels=[]) == "请至少选择一个发送渠道"
    assert "未知的发送渠道「sms」" in only_error(storage, screener, channels=["sms"])
    template = only_error(storage, screener, channels=["mass", "template"])
    assert "模板消息只能用于服务通知" in template


def test_announcement(storage, screener, dormant):
    assert "请填写预告文案" in only_error(storage, screener, announce_days=3)
    blocked = only_error(storage, screener, announce_days=3, announce_text=BLOCKED)
    assert blocked.startswith("预告文案：") and "最好用" in blocked
    soon = checked(storage, screener, announce_days=3, announce_text="三天后有惊喜，敬请期待")
    assert soon.ok and soon.warnings == ["距发送不足3天，预告将立即发出"]
    capped = checked(storage, screener, announce_days=1, announce_text="明天见",
                     frequency_cap=1)
    assert capped.ok and "频次上限为1" in capped.warnings[-1]


def test_caps_and_quiet_hour_format(storage, screener, dormant):
    assert "频次上限" in only_error(storage, screener, frequency_cap=0)
    assert only_error(storage, screener, throttle_per_minute=-1) == "每分钟发送上限不能为负数"
    assert "HH:MM" in only_error(storage, screener, quiet_start="25:00")
    assert only_error(storage, screener, name=" ") == "请填写推送名称"


def test_create_refuses_a_bad_draft_and_stores_a_good_one(storage, screener, dormant):
    with storage.sessions.begin() as db, pytest.raises(PushError) as refused:
        push_rules.create(db, draft(holdout_percent=100, channels=["template"]), NOW,
                          screener=screener, author="lin")
    assert len(refused.value.errors) == 2 and "100%" in str(refused.value)
    with storage.sessions.begin() as db:
        push = push_rules.create(db, draft(variants=[PLAIN, PLAIN + "！"]), NOW,
                                 screener=screener, author="lin")
        push_id = push.id
    with storage.sessions() as db:
        push = db.get(Push, push_id)
        assert push.state == "scheduled" and push.review == "send"
        assert [v["key"] for v in push.variant_list()] == ["A", "B"]
        assert push.channel_list() == ["custom", "mass"]
        assert push.created_by == "lin"


def test_create_reuses_the_checked_verdict_and_classifies_once(storage, screener, dormant,
                                                                monkeypatch):
    from campaigns import segments

    calls = []
    real = segments.counts
    monkeypatch.setattr(segments, "counts", lambda *a, **k: calls.append(1) or real(*a, **k))
    good = draft()
    with storage.sessions.begin() as db:
        counts = segments.counts(db, NOW)
        verdict = push_rules.check(db, good, NOW, screener=screener, segment_counts=counts)
        push_rules.create(db, good, NOW, screener=screener, author="lin", checked=verdict)
    assert len(calls) == 1
    # a verdict made for another draft is not trusted: create checks again and refuses
    with storage.sessions.begin() as db, pytest.raises(PushError):
        push_rules.create(db, draft(holdout_percent=100), NOW, screener=screener,
                          author="lin", checked=verdict)


@pytest.mark.parametrize(("changes", "message"), [
    ({"announce_days": 31, "announce_text": "预告"}, "最多提前30天预告"),
    ({"announce_days": 999999, "announce_text": "预告"}, "最多提前30天预告"),
    ({"trigger": "inactive", "trigger_days": 366, "trigger_at": None}, "天数最多365天"),
    ({"trigger": "after_first_order", "trigger_days": 999999, "trigger_at": None},
     "天数最多365天"),
    ({"trigger": "inactive", "trigger_days": 30, "trigger_at": None, "announce_days": 2,
      "announce_text": "预告"}, "事件触发的推送不能提前预告"),
    ({"trigger": "after_first_order", "trigger_days": 7, "trigger_at": None,
      "announce_days": 1, "announce_text": "预告"}, "事件触发的推送不能提前预告"),
])
def test_day_counts_are_bounded_and_events_have_no_announcement(storage, screener, dormant,
                                                                 changes, message):
    assert only_error(storage, screener, **changes) == message


def test_day_counts_at_their_bounds_pass(storage, screener, dormant):
    assert checked(storage, screener, announce_days=30, announce_text="预告",
                   trigger_at=shanghai(2026, 8, 1, 10, 0), frequency_cap=3).errors == []
    assert checked(storage, screener, trigger="inactive", trigger_days=365,
                   trigger_at=None).errors == []
    assert checked(storage, screener, trigger="cron", cron="0 10 * * 1", trigger_at=None,
                   announce_days=30, announce_text="预告", frequency_cap=3).errors == []


def test_long_copy_is_warned_when_subscription_notices_may_carry_it(storage, screener, dormant):
    short = "回归礼已备好，欢迎回来看看"  # 13 characters
    warning = "文案B超过20个字：订阅通知只显示前20个字"
    both = checked(storage, screener, variants=[short, PLAIN],
                   channels=["custom", "subscribe", "mass"])
    assert both.errors == [] and both.warnings == [warning]
    assert checked(storage, screener, variants=[short, PLAIN],
                   channels=["custom", "mass"]).warnings == []
    assert checked(storage, screener, variants=[short],
                   channels=["subscribe"]).warnings == []


def test_pause_resume_cancel_and_invalid_moves(storage, screener, dormant):
    with storage.sessions.begin() as db:
        push = push_rules.create(db, draft(), NOW, screener=screener, author="lin")
        push_id = push.id
        for state, fire in (("planning", 1), ("planned", 2), ("sending", 3), ("done", 4)):
            db.add(PushRun(push_id=push_id, fire_at=NOW + timedelta(days=fire), kind="main",
                           state=state))
    with storage.sessions.begin() as db:
        with pytest.raises(PushError, match="不能恢复"):
            push_rules.resume(db, push_id, NOW)
        assert push_rules.pause(db, push_id, NOW).state == "paused"
        with pytest.raises(PushError, match="推送当前为「已暂停」，不能暂停"):
            push_rules.pause(db, push_id, NOW)
        assert push_rules.resume(db, push_id, NOW).state == "scheduled"
        assert push_rules.cancel(db, push_id, NOW).state == "cancelled"
        with pytest.raises(PushError, match="不能取消"):
            push_rules.cancel(db, push_id, NOW)
        with pytest.raises(PushError, match="不能恢复"):
            push_rules.resume(db, push_id, NOW)
        with pytest.raises(PushError, match="推送不存在"):
            push_rules.pause(db, 999, NOW)
    with storage.sessions() as db:
        states = [run.state for run in push_rules.runs_of(db, push_id)]
    assert states == ["cancelled", "cancelled", "sending", "done"]


def test_next_fires_per_trigger():
    once = push_rules.push_from_draft(draft(), NOW)
    at = shanghai(2026, 6, 2, 10, 0)
    assert push_rules.next_fires(once, NOW, NOW + timedelta(days=2)) == [at]
    assert push_rules.next_fires(once, at, NOW + timedelta(days=2)) == []  # (after, until]
    assert push_rules.next_fires(once, NOW, at) == [at]
    cron = push_rules.push_from_draft(draft(trigger="cron", cron="0 10 * * 1"), NOW)
    fires = push_rules.next_fires(cron, NOW, NOW + timedelta(days=21))
    assert [f.astimezone(SHANGHAI) for f in fires] == [
        shanghai(2026, 6, 8, 10), shanghai(2026, 6, 15, 10), shanghai(2026, 6, 22, 10)]
    assert all(f.tzinfo is not None for f in fires)
    daily = push_rules.push_from_draft(draft(trigger="inactive", trigger_days=7), NOW)
    fires = push_rules.next_fires(daily, NOW, NOW + timedelta(days=3))
    assert [f.astimezone(SHANGHAI) for f in fires] == [
        shanghai(2026, 6, 2, 10), shanghai(2026, 6, 3, 10), shanghai(2026, 6, 4, 10)]
    earlier = push_rules.next_fires(daily, NOW - timedelta(hours=3), NOW)
    assert earlier == [shanghai(2026, 6, 1, 10).astimezone(UTC)]


def test_quiet_hours_and_the_next_allowed_moment():
    push = push_rules.push_from_draft(draft(), NOW)
    assert not push_rules.in_quiet_hours(push, shanghai(2026, 6, 2, 21, 59))
    assert push_rules.in_quiet_hours(push, shanghai(2026, 6, 2, 22, 0))
    assert push_rules.in_quiet_hours(push, shanghai(2026, 6, 3, 7, 59))
    assert not push_rules.in_quiet_hours(push, shanghai(2026, 6, 3, 8, 0))
    assert push_rules.next_allowed(push, shanghai(2026, 6, 2, 23, 0)) == \
        shanghai(2026, 6, 3, 8, 0)
    assert push_rules.next_allowed(push, shanghai(2026, 6, 3, 2, 0)) == \
        shanghai(2026, 6, 3, 8, 0)
    noon = shanghai(2026, 6, 3, 12, 0)
    assert push_rules.next_allowed(push, noon) == noon
    daytime = push_rules.push_from_draft(draft(quiet_start="12:00", quiet_end="14:00"), NOW)
    assert push_rules.next_allowed(daytime, noon) == shanghai(2026, 6, 3, 14, 0)
    none = push_rules.push_from_draft(draft(quiet_start="00:00", quiet_end="00:00"), NOW)
    assert not push_rules.in_quiet_hours(none, shanghai(2026, 6, 3, 3, 0))


def test_copy_may_go_at_send_time(storage, screener, dormant):
    with storage.sessions.begin() as db:
        push = push_rules.create(db, draft(variants=[SHARE]), NOW, screener=screener,
                                 author="lin")
        assert push_rules.copy_may_go(db, push, PLAIN, screener=screener) is None
        assert "未通过合规审核" in push_rules.copy_may_go(db, push, SHARE, screener=screener)
        assert "最好用" in push_rules.copy_may_go(db, push, BLOCKED, screener=screener)
        review.decide(db, review.find(db, "push", SHARE), "wang", "approved")
        assert push_rules.copy_may_go(db, push, SHARE, screener=screener) is None


def test_check_refuses_an_unknown_tag_and_a_tag_nobody_in_the_segment_carries(
        storage, screener):
    with storage.sessions.begin() as db:
        add_follower(db, "o-sleep", touched_days=200)
        add_follower(db, "o-first", touched_days=5)
        add_paid(db, "o-first", [5])
        store_tag(db, 5, "VIP", ["o-first"])
        store_tag(db, 6, "空标签", [])
    with storage.sessions() as db:
        def errors(**changes) -> list[str]:
            return push_rules.check(db, draft(**changes), NOW, screener=screener).errors

        assert errors(tag_id=77) == ["未知的标签：请先在「客群」页同步微信标签，再从列表中选择"]
        assert errors(tag_id=5) == ["沉睡客户中没有带标签「VIP」的顾客，这条推送不会发给任何人："
                                    "请换一个标签或客群"]
        assert errors(tag_id=5, segment="first_order") == []
        assert errors(tag_id=6, trigger="inactive", trigger_days=30, trigger_at=None) == [
            "目前没有顾客带有标签「空标签」，这条推送不会发给任何人"]
        assert errors(tag_id=5, trigger="inactive", trigger_days=30, trigger_at=None) == []
    with storage.sessions.begin() as db:
        push = push_rules.create(db, draft(tag_id=5, segment="first_order"), NOW,
                                 screener=screener, author="lin")
        assert push.tag_id == 5 and push_rules.audit_fields(push)["tag_id"] == 5
