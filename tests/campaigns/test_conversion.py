"""Conversion against the holdout: the interval against published and hand-worked figures,
the verdict sentences, the small-sample guard, and the 7-day windows counted from the data."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from campaigns import conversion
from campaigns.conversion import Group, compare, verdict_text
from campaigns.pushes import Push, PushDelivery, PushRun
from shop.orders import Order

NOW = datetime(2026, 6, 20, 4, 0, tzinfo=UTC)
FIRE = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
_numbers = count(1)


# --- the arithmetic ---------------------------------------------------------------------------


def test_wilson_interval_worked_by_hand():
    # 42 of 1000, z = 1.96: z²/n = 0.0038416, so
    # centre = (0.042 + 0.0019208) / 1.0038416 = 0.0437528 …,
    # half = 1.96 / 1.0038416 × √(0.042 × 0.958 / 1000 + 3.8416 / 4 000 000)
    #      = 1.952499 × √(0.000040236 + 0.00000096040) = 1.952499 × 0.0064184 = 0.0125318 …
    low, high = Group("A组", 1000, 42).wilson()
    assert low == pytest.approx(0.03122, abs=5e-5)
    assert high == pytest.approx(0.05628, abs=5e-5)
    # Nobody converted: the interval still has room above 0 (Wald's would be 0 to 0).
    low, high = Group("A组", 40, 0).wilson()
    assert low == 0.0
    assert high == pytest.approx(1.96 ** 2 / (40 + 1.96 ** 2), abs=1e-4)  # 3.8416/43.8416


def test_newcombe_interval_matches_the_published_examples():
    """Newcombe (1998), Statistics in Medicine 17:873, Table II, method 10."""
    d = compare(Group("A组", 70, 56), Group("B组", 80, 48))
    assert d.difference == pytest.approx(0.2)  # 0.8 − 0.6
    assert (round(d.low, 4), round(d.high, 4)) == (0.0524, 0.3339)
    d = compare(Group("A组", 10, 9), Group("B组", 10, 3))
    assert (round(d.low, 4), round(d.high, 4)) == (0.1705, 0.8090)


def test_newcombe_interval_from_the_two_wilson_intervals():
    # 4.2% of 1000 against 2.1% of 1000. Wilson: A (0.031221, 0.056284), 对照 (0.013776, 0.031890).
    # low  = 0.021 − √((0.042 − 0.031221)² + (0.031890 − 0.021)²) = 0.021 − 0.015323 = 0.005677
    # high = 0.021 + √((0.056284 − 0.042)² + (0.021 − 0.013776)²) = 0.021 + 0.016007 = 0.037007
    d = compare(Group("A组", 1000, 42), Group("对照组", 1000, 21))
    assert d.low == pytest.approx(0.005677, abs=2e-6)
    assert d.high == pytest.approx(0.037007, abs=2e-6)
    assert d.enough and d.real
    assert math.isclose(d.difference, 0.021)


# --- the sentences --------------------------------------------------------------------------


def test_a_real_difference_is_said_plainly():
    d = compare(Group("A组", 1000, 42), Group("对照组", 1000, 21))
    assert verdict_text(d) == ("A组转化率4.2%，对照组2.1%，差异+2.1个百分点"
                               "（95%置信区间 +0.6 ~ +3.7），差异显著（95%置信区间不含0）")


def test_an_interval_across_zero_is_no_difference_yet():
    # 40/1000 against 4/200: Wilson 对照 (0.007804, 0.050287);
    # low = 0.02 − √(0.010489² + 0.030287²) = −0.012052, high = 0.02 + √(0.014010² + 0.012196²)
    d = compare(Group("A组", 1000, 40), Group("对照组", 200, 4))
    assert verdict_text(d) == ("A组转化率4.0%，对照组2.0%，差异+2.0个百分点"
                               "（95%置信区间 -1.2 ~ +3.9），置信区间跨过0，目前还不能说有差异")
    assert not d.real


def test_a_vs_b_and_a_negative_difference():
    d = compare(Group("A组", 1000, 21), Group("B组", 1000, 42))
    assert verdict_text(d) == ("A组转化率2.1%，B组4.2%，差异-2.1个百分点"
                               "（95%置信区间 -3.7 ~ -0.6），差异显著（95%置信区间不含0）")


def test_open_windows_are_said_to_may_change():
    d = compare(Group("A组", 1000, 42, open=10), Group("对照组", 1000, 21))
    assert verdict_text(d).endswith("差异显著（95%置信区间不含0）"
                                    "（仍有顾客在7天观察期内，结果可能变化）")
    small = compare(Group("A组", 10, 1), Group("对照组", 10, 0, open=10))
    assert verdict_text(small).endswith("（仍有顾客在7天观察期内，结果可能变化）")
    assert "结果可能变化" not in verdict_text(compare(Group("A组", 40, 1), Group("对照组", 40, 0)))


def test_fewer_than_thirty_in_a_group_gives_no_verdict():
    d = compare(Group("A组", 20, 3), Group("对照组", 29, 0))
    assert not d.enough and not d.real
    text = verdict_text(d)
    assert "样本太少，还不能下结论" in text and "对照组29人" in text and "置信区间" not in text
    assert compare(Group("A组", 30, 3), Group("对照组", 30, 0)).enough


def test_no_difference_shows_plus_zero():
    d = compare(Group("A组", 40, 0), Group("对照组", 40, 0))
    assert "差异+0.0个百分点（95%置信区间 -8.8 ~ +8.8）" in verdict_text(d)


# --- from the tables ------------------------------------------------------------------------


def _push(db) -> Push:
    push = Push(name="唤醒", segment="dormant",
                variants=json.dumps([{"key": "A", "text": "a"}, {"key": "B", "text": "b"}]),
                state="done", review="send", created_at=FIRE, updated_at=FIRE)
    db.add(push)
    db.flush()
    return push


def _order(db, openid: str, paid_at: datetime, state: str = "paid") -> None:
    db.add(Order(number=f"C{next(_numbers):010d}", openid=openid, state=state, total_fen=100,
                 created_at=paid_at, pay_by=paid_at, paid_at=paid_at))


def _delivery(db, run: PushRun, openid: str, *, variant: str = "A", holdout: bool = False,
              state: str = "sent", sent_at: datetime | None = None) -> None:
    db.add(PushDelivery(run_id=run.id, openid=openid, variant=variant, holdout=holdout,
                        state="holdout" if holdout else state, channel="" if holdout else "mass",
                        created_at=FIRE, sent_at=sent_at))


def _delivery_planned(db, run: PushRun, openid: str, *, variant: str = "A", state: str,
                      channel: str = "mass", reason: str = "") -> None:
    db.add(PushDelivery(run_id=run.id, openid=openid, variant=variant, holdout=False,
                        state=state, channel=channel, reason=reason, created_at=FIRE))


def test_intention_to_treat_from_the_fire_time(storage):
    """Every planned recipient counts whatever became of the delivery, and both groups'
    windows start at the run's fire time: [fire, fire + 7 days)."""
    with storage.sessions.begin() as db:
        push = _push(db)
        run = PushRun(push_id=push.id, fire_at=FIRE, kind="main", state="done")
        announce = PushRun(push_id=push.id, fire_at=FIRE - timedelta(days=7), kind="announce",
                           state="done")
        db.add_all([run, announce])
        db.flush()
        sent = FIRE + timedelta(hours=2)
        # A: 40 sent two hours after the fire. a1 buys 1 h after the send; a2 6 days 23 h
        # after the send — past fire + 7 days (out) — but also 2 days after (in); a3 exactly
        # 7 days after the fire (out); a4 between the fire and the send (in: the window is the
        # fire's); a5's order was refunded (out); a6 bought before the fire (out).
        for i in range(40):
            _delivery(db, run, f"a{i}", sent_at=sent)
        _order(db, "a1", sent + timedelta(hours=1))
        _order(db, "a2", sent + timedelta(days=6, hours=23))
        _order(db, "a2", sent + timedelta(days=2))
        _order(db, "a3", FIRE + timedelta(days=7))
        _order(db, "a4", FIRE + timedelta(minutes=1))
        _order(db, "a5", sent + timedelta(days=1), state="refunded")
        _order(db, "a6", FIRE - timedelta(seconds=1))
        # B: 35 sent, 3 buy; 3 more planned that failed, were skipped at send time or ended
        # unknown — still in B (intention to treat); bf buys.
        for i in range(35):
            _delivery(db, run, f"b{i}", variant="B", sent_at=sent)
        for i in range(3):
            _order(db, f"b{i}", sent + timedelta(days=3))
        _delivery(db, run, "bf", variant="B", state="failed")
        _delivery(db, run, "bs", variant="B", state="skipped")
        _delivery(db, run, "bu", variant="B", state="unknown")
        _order(db, "bf", sent + timedelta(days=1))
        # skipped by the planner (no channel): never planned, in neither group
        _delivery_planned(db, run, "np", variant="", state="skipped", channel="",
                          reason="已取消关注")
        _order(db, "np", sent)
        # Holdout: 31, window from the fire time: h0 buys 1 h after the fire (in).
        for i in range(31):
            _delivery(db, run, f"h{i}", holdout=True)
        _order(db, "h0", FIRE + timedelta(hours=1))
        _order(db, "h1", FIRE - timedelta(hours=1))
        _order(db, "h2", FIRE + timedelta(days=7))
        # The announcement's recipients are not measured.
        _delivery(db, announce, "x1", sent_at=FIRE - timedelta(days=7))
        _order(db, "x1", FIRE - timedelta(days=6))
        push_id, run_id = push.id, run.id
    with storage.sessions() as db:
        found = conversion.for_push(db, push_id, NOW)
        assert found == conversion.for_run(db, run_id, NOW)
        assert conversion.for_runs(db, [run_id, announce.id], NOW) == {run_id: found}
    a, b = found.variants
    assert (a.label, a.recipients, a.converters) == ("A组", 40, 3)
    assert (b.label, b.recipients, b.converters) == ("B组", 38, 4)
    assert (found.holdout.recipients, found.holdout.converters) == (31, 1)
    assert found.open == 0
    first, second, ab = found.sentences
    assert first.startswith("A组转化率7.5%，对照组3.2%，差异+4.3个百分点")
    assert first.endswith("目前还不能说有差异")
    assert second.startswith("B组转化率10.5%，对照组3.2%")
    assert ab.startswith("A组转化率7.5%，B组10.5%，差异-3.0个百分点")
    # A day after the fire every window is still open, and the sentences say so.
    with storage.sessions() as db:
        early = conversion.for_push(db, push_id, FIRE + timedelta(days=1))
    assert early.open == 40 + 38 + 31
    assert all(s.endswith("（仍有顾客在7天观察期内，结果可能变化）") for s in early.sentences)
    # the last moment of the window is still open, the end is not
    with storage.sessions() as db:
        assert conversion.for_push(db, push_id, FIRE + timedelta(days=7) -
                                   timedelta(seconds=1)).open == 109
        assert conversion.for_push(db, push_id, FIRE + timedelta(days=7)).open == 0


def test_each_run_is_measured_from_its_own_fire_time_in_a_few_queries(storage):
    from sqlalchemy import event

    with storage.sessions.begin() as db:
        push = _push(db)
        runs = [PushRun(push_id=push.id, fire_at=FIRE + timedelta(days=d), kind="main",
                        state="done") for d in range(3)]
        db.add_all(runs)
        db.flush()
        for run in runs:
            for i in range(5):
                _delivery(db, run, f"o{i}", sent_at=run.fire_at)
            _delivery(db, run, "h", holdout=True)
        # o0 buys on day 1: in the windows of the runs of day 0 and day 1, not day 2's
        _order(db, "o0", FIRE + timedelta(days=1, minutes=1))
        push_id, run_ids = push.id, [run.id for run in runs]
    statements = []

    def seen(_conn, _cursor, statement, *_rest):
        statements.append(statement)

    with storage.sessions() as db:
        event.listen(storage.engine, "before_cursor_execute", seen)
        try:
            per_run = conversion.for_runs(db, run_ids, NOW)
            overall = conversion.for_push(db, push_id, NOW)
        finally:
            event.remove(storage.engine, "before_cursor_execute", seen)
    assert [per_run[r].variants[0].converters for r in run_ids] == [1, 1, 0]
    assert overall.variants[0].recipients == 15 and overall.variants[0].converters == 2
    assert overall.holdout.recipients == 3
    assert len(statements) == 2


def test_a_push_without_runs_has_nothing_to_compare(storage):
    with storage.sessions.begin() as db:
        push_id = _push(db).id
    with storage.sessions() as db:
        found = conversion.for_push(db, push_id, NOW)
    assert found.variants == () and found.holdout.recipients == 0 and found.sentences == []
