"""Segments: each playbook rule at its boundaries, the explanations and channels, counts that
agree with the member pages, the daily snapshot and trend, the console pages, and scale."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import func, insert, select

from campaigns import segments
from campaigns.segments import SEGMENTS, STRATEGIES, Segment, SegmentCount, Thresholds
from console.audit_log import AuditEntry
from content_audit import default_screener
from core.clock import local_day
from promotions.bargains import BargainHelp, BargainLaunch
from shop import notices
from shop.followers import Follower
from shop.members import Customer
from shop.orders import Order
from tests.console.conftest import signed_in

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
_numbers = count(1)


def add_follower(db, openid: str, *, touched_days: float | None = 10,
                 subscribed: bool = True, unfollowed_days: float | None = None,
                 message_hours: float | None = None, now: datetime = NOW) -> None:
    """A follower whose last interaction was `touched_days` ago (None: never recorded)."""
    seen = now - timedelta(days=400)
    db.add(Follower(
        openid=openid, subscribed=subscribed and unfollowed_days is None,
        subscribed_at=seen if subscribed else None,
        unsubscribed_at=None if unfollowed_days is None else now - timedelta(days=unfollowed_days),
        first_seen_at=seen,
        last_interaction_at=None if touched_days is None else now - timedelta(days=touched_days),
        last_message_at=None if message_hours is None else now - timedelta(hours=message_hours)))


def add_paid(db, openid: str, days_ago: list[float], *, fen: int = 5000, refunded: int = 0,
             now: datetime = NOW) -> None:
    """Orders paid `days_ago` (the first `refunded` of them refunded since), and the member
    row shop.orders would keep: net paid orders and spend, last payment."""
    for i, days in enumerate(days_ago):
        paid_at = now - timedelta(days=days)
        db.add(Order(number=f"T{next(_numbers):010d}", openid=openid,
                     state="refunded" if i < refunded else "paid", total_fen=fen,
                     created_at=paid_at, pay_by=paid_at, paid_at=paid_at))
    net = len(days_ago) - refunded
    first = now - timedelta(days=max(days_ago, default=0))
    last = now - timedelta(days=min(days_ago)) if days_ago else None
    db.add(Customer(openid=openid, first_order_at=first, last_order_at=last or first,
                    last_paid_at=last, paid_orders=net, spend_fen=net * fen))


def segment_of(storage, openid: str, now: datetime = NOW,
               thresholds: Thresholds = segments.DEFAULT_THRESHOLDS) -> tuple[Segment, str]:
    with storage.sessions() as db:
        found = segments.explain(db, openid, now, thresholds)
    assert found is not None
    return found.segment, found.reason


# --- the lifecycle rules at their boundaries ------------------------------------------------


def test_dormant_after_more_than_180_days_without_any_interaction(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-179", touched_days=179)
        add_follower(db, "o-181", touched_days=181)
        # An old event, but a message 100 days ago: the latest of the three counts.
        add_follower(db, "o-msg", touched_days=300, message_hours=100 * 24)
        # A payment 170 days ago keeps a customer awake too.
        add_follower(db, "o-paid", touched_days=300)
        add_paid(db, "o-paid", [170])
    assert segment_of(storage, "o-179")[0] is Segment.PROSPECT
    segment, reason = segment_of(storage, "o-181")
    assert segment is Segment.DORMANT
    assert reason == "最近一次互动在2025-12-02，已超过180天（181天前）"
    assert segment_of(storage, "o-msg")[0] is Segment.PROSPECT
    assert segment_of(storage, "o-paid")[0] is Segment.FIRST_ORDER


def test_active_takes_nine_orders_paid_in_the_last_90_days(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-8", touched_days=1)
        add_paid(db, "o-8", [1, 5, 10, 20, 30, 40, 60, 89, 91, 200])  # 8 inside, 2 before
        add_follower(db, "o-9", touched_days=1)
        add_paid(db, "o-9", [1, 5, 10, 20, 30, 40, 60, 80, 89])
        add_follower(db, "o-12", touched_days=1)
        add_paid(db, "o-12", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        # Ten paid in the window, two of them refunded since: 8 count.
        add_follower(db, "o-refunds", touched_days=1)
        add_paid(db, "o-refunds", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], refunded=2)
    segment, reason = segment_of(storage, "o-8")
    assert segment is Segment.REPEAT
    assert reason.startswith("已付款订单10笔（扣除退款），近90天8笔，平均每月2.7笔，未达活跃标准")
    assert "玩法分层表没有这一层" in reason
    assert segment_of(storage, "o-9") == (Segment.ACTIVE,
                                          "近90天付款订单9笔，平均每月3笔（≥3笔）")
    assert segment_of(storage, "o-12") == (Segment.ACTIVE,
                                           "近90天付款订单12笔，平均每月4笔（≥3笔）")
    assert segment_of(storage, "o-refunds")[0] is Segment.REPEAT


def test_one_paid_order_is_first_order_two_is_repeat_none_left_is_prospect(storage):
    with storage.sessions.begin() as db:
        for openid, paid, refunded in (("o-one", [3], 0), ("o-two", [3, 40], 0),
                                       ("o-back", [3], 1), ("o-two-one-back", [3, 4], 1)):
            add_follower(db, openid, touched_days=1)
            add_paid(db, openid, paid, refunded=refunded)
        add_follower(db, "o-follows", touched_days=2)
        add_follower(db, "o-browsed", subscribed=False, touched_days=2)
    assert segment_of(storage, "o-one") == (Segment.FIRST_ORDER, "已付款订单1笔（扣除退款）")
    assert segment_of(storage, "o-two")[0] is Segment.REPEAT
    assert segment_of(storage, "o-two-one-back")[0] is Segment.FIRST_ORDER
    assert segment_of(storage, "o-back") == (
        Segment.PROSPECT, "已关注公众号，付款的订单已全部退款（净付款订单0笔）")
    assert segment_of(storage, "o-follows") == (Segment.PROSPECT, "已关注公众号，从未付款")
    assert segment_of(storage, "o-browsed") == (Segment.PROSPECT,
                                                "浏览过商城，未关注公众号，从未付款")


def test_unfollowed_beats_everything(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-gone-active", touched_days=1, unfollowed_days=1)
        add_paid(db, "o-gone-active", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        add_follower(db, "o-gone-asleep", touched_days=400, unfollowed_days=300)
        # Unfollowed once, followed again: not lost.
        db.add(Follower(openid="o-back", subscribed=True, first_seen_at=NOW - timedelta(days=50),
                        subscribed_at=NOW - timedelta(days=5),
                        unsubscribed_at=NOW - timedelta(days=10),
                        last_interaction_at=NOW - timedelta(days=5)))
    assert segment_of(storage, "o-gone-active") == (Segment.LOST, "已于2026-05-31取消关注")
    assert segment_of(storage, "o-gone-asleep")[0] is Segment.LOST
    assert segment_of(storage, "o-back")[0] is Segment.PROSPECT


def test_thresholds_are_configurable(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-a", touched_days=40)
        add_paid(db, "o-a", [40, 41])
    strict = Thresholds(active_orders_per_month=1, active_window_days=60, dormant_days=30)
    assert strict.active_orders == 2
    assert segment_of(storage, "o-a", thresholds=strict)[0] is Segment.DORMANT
    loose = Thresholds(active_orders_per_month=1, active_window_days=60, dormant_days=60)
    assert segment_of(storage, "o-a", thresholds=loose) == (
        Segment.ACTIVE, "近60天付款订单2笔，平均每月1笔（≥1笔）")
    with pytest.raises(ValueError):
        Thresholds(dormant_days=0)


# --- explanations, RFM, tier, flags, channels --------------------------------------------


def test_explain_names_the_facts_rfm_tier_and_strategy(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-sleepy", touched_days=200)
        add_paid(db, "o-sleepy", [200, 250, 300], fen=40_000)
        db.execute(Customer.__table__.update().where(Customer.openid == "o-sleepy")
                   .values(tier_level=1))
    with storage.sessions() as db:
        e = segments.explain(db, "o-sleepy", NOW)
        assert segments.explain(db, "o-nobody", NOW) is None
    assert e.segment is Segment.DORMANT and e.segment.label == "沉睡客户"
    assert e.reason == "最近一次互动在2025-11-13，已超过180天（200天前）"
    assert e.facts == (
        "关注状态：已关注（2025-04-27关注）",
        "最近一次互动：2025-11-13（200天前）",
        "近90天付款订单：0笔（活跃标准：9笔，即平均每月3笔）",
        "付款订单：3笔（扣除退款），累计消费¥1200",
        "最近一次付款：2025-11-13",
    )
    # 200 days since paying → R1; 3 orders → F3; ¥1200 → M4.
    assert e.rfm.text == "R1 F3 M4"
    assert e.rfm.lines() == ["R1：距上次付款200天", "F3：付款订单3笔（扣除退款）",
                             "M4：累计消费¥1200（扣除退款）"]
    assert e.tier == "青铜"
    assert e.strategy is STRATEGIES[Segment.DORMANT]
    assert e.channel.text == "群发（本月已收到0次，每月4次上限）"


def test_rfm_bands_at_their_edges():
    at = NOW
    assert segments.rfm_of(None, 0, 0, at).text == "R1 F1 M1"
    assert segments.rfm_of(at - timedelta(days=30), 2, 9_999, at).text == "R5 F2 M1"
    assert segments.rfm_of(at - timedelta(days=31), 3, 10_000, at).text == "R4 F3 M2"
    assert segments.rfm_of(at - timedelta(days=90), 5, 30_000, at).text == "R3 F4 M3"
    assert segments.rfm_of(at - timedelta(days=180), 10, 100_000, at).text == "R2 F5 M4"
    assert segments.rfm_of(at - timedelta(days=181), 99, 300_000, at).text == "R1 F5 M5"


def test_channels_follow_wechats_rules(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-chatted", touched_days=1, message_hours=47)
        add_follower(db, "o-chatted-long-ago", touched_days=1, message_hours=49)
        add_follower(db, "o-just-paid", touched_days=3)
        add_paid(db, "o-just-paid", [0.5])
        add_follower(db, "o-opted", touched_days=3)
        notices.record_opt_in(db, "o-opted", "tmpl-a", NOW, times=2)
        notices.record_opt_in(db, "o-opted", "tmpl-b", NOW)
        add_follower(db, "o-gone", touched_days=3, message_hours=1, unfollowed_days=0.01)
        notices.record_opt_in(db, "o-gone", "tmpl-a", NOW)
        add_follower(db, "o-browsed", subscribed=False, touched_days=3)
    with storage.sessions() as db:
        def texts(openid: str) -> list[str]:
            return [c.text for c in segments.explain(db, openid, NOW).channels]

        assert texts("o-chatted") == ["客服消息（48小时内互动过，本窗口已发0条，上限5条）",
                                      "群发（本月已收到0次，每月4次上限）"]
        assert texts("o-chatted-long-ago") == ["群发（本月已收到0次，每月4次上限）"]
        assert texts("o-just-paid")[0] == "客服消息（48小时内互动过，本窗口已发0条，上限5条）"
        assert texts("o-opted")[0] == "订阅通知（已授权3次）"
        assert texts("o-gone") == ["无法触达（已取消关注）"]
        assert texts("o-browsed") == ["无法触达（未关注公众号，也没有订阅授权）"]
        # The same window the notice sender uses.
        for openid in ("o-chatted", "o-chatted-long-ago", "o-just-paid", "o-gone"):
            found = segments.explain(db, openid, NOW).channel.kind == "custom"
            assert found == notices.in_window(db, openid, NOW), openid


def test_helped_a_bargain_but_never_bought_is_flagged(storage):
    # The rows the bargain ledger writes, written directly: this reads them, nothing more.
    from tests.promotions.bargain_helpers import make_campaign, make_sku

    campaign = make_campaign(storage.sessions, make_sku(storage.sessions))
    with storage.sessions.begin() as db:
        launch = BargainLaunch(campaign_id=campaign, openid="o-starter", code="ABC123",
                               start_fen=3990, floor_fen=100, schedule="[1945, 1945]", seed=1,
                               cuts_total=2, created_at=NOW, expires_at=NOW + timedelta(days=1))
        db.add(launch)
        db.flush()
        for seq, (helper, state) in enumerate((("o-helper", "counted"),
                                               ("o-helper-buyer", "counted"),
                                               ("o-held", "held"))):
            add_follower(db, helper, touched_days=1)
            db.add(BargainHelp(launch_id=launch.id, campaign_id=campaign, openid=helper,
                               seq=seq if state == "counted" else None, amount_fen=1945,
                               state=state, key=f"k-{helper}", created_at=NOW))
        add_follower(db, "o-starter", touched_days=1)
        add_paid(db, "o-helper-buyer", [1])
    with storage.sessions() as db:
        helper = segments.explain(db, "o-helper", NOW)
        buyer = segments.explain(db, "o-helper-buyer", NOW)
        members = {m.openid: m for m in segments.classify_all(db, NOW)}
    assert helper.flags == ("帮砍未购买",) and "帮好友砍过价" in helper.facts
    assert buyer.flags == ()
    assert members["o-helper"].flags == ("帮砍未购买",)
    assert members["o-held"].flags == ()  # a help waiting for review did not cut anything
    assert members["o-starter"].flags == ()


def test_the_starting_copies_pass_the_content_gate():
    assert set(STRATEGIES) == {Segment.PROSPECT, Segment.FIRST_ORDER, Segment.ACTIVE,
                               Segment.DORMANT}
    screener = default_screener()
    for strategy in STRATEGIES.values():
        assert screener.screen(strategy.copy).verdict == "pass", strategy.copy
        assert "分享" not in strategy.copy and "转发" not in strategy.copy


# --- counts, members, snapshot, trend -------------------------------------------------------


def mixed_population(db, now: datetime = NOW) -> None:
    for i in range(7):
        add_follower(db, f"o-prospect-{i}", touched_days=5, now=now)
    for i in range(4):
        add_follower(db, f"o-first-{i}", touched_days=5, now=now)
        add_paid(db, f"o-first-{i}", [5], now=now)
    for i in range(3):
        add_follower(db, f"o-active-{i}", touched_days=1, now=now)
        add_paid(db, f"o-active-{i}", list(range(1, 10)), now=now)
    for i in range(2):
        add_follower(db, f"o-repeat-{i}", touched_days=5, now=now)
        add_paid(db, f"o-repeat-{i}", [5, 50], now=now)
    for i in range(5):
        add_follower(db, f"o-dormant-{i}", touched_days=200, now=now)
    add_follower(db, "o-lost", touched_days=1, unfollowed_days=1, now=now)


def test_counts_agree_with_the_member_pages(storage):
    with storage.sessions.begin() as db:
        mixed_population(db)
    with storage.sessions() as db:
        found = segments.counts(db, NOW)
        assert found == {Segment.PROSPECT: 7, Segment.FIRST_ORDER: 4, Segment.REPEAT: 2,
                         Segment.ACTIVE: 3, Segment.DORMANT: 5, Segment.LOST: 1}
        for segment in SEGMENTS:
            everyone = segments.members(db, segment, NOW, limit=1000)
            assert len(everyone) == found[segment]
            assert all(m.segment is segment for m in everyone)
        pages = [segments.members(db, Segment.PROSPECT, NOW, limit=3, offset=offset)
                 for offset in (0, 3, 6, 9)]
        assert [len(page) for page in pages] == [3, 3, 1, 0]
        assert [m.openid for page in pages for m in page] == [f"o-prospect-{i}" for i in range(7)]


def test_the_snapshot_is_written_once_a_day_and_feeds_the_trend(storage):
    with storage.sessions.begin() as db:
        mixed_population(db)
    assert segments.snapshot_job(storage, NOW)[Segment.PROSPECT] == 7
    # Later the same Shanghai day: already done, nothing written again.
    with storage.sessions.begin() as db:
        add_follower(db, "o-new", touched_days=0)
    assert segments.snapshot_job(storage, NOW + timedelta(hours=11)) is None
    with storage.sessions() as db:
        assert db.scalar(select(func.count()).select_from(SegmentCount)) == len(SEGMENTS)
        assert segments.trend(db)[Segment.PROSPECT] == [("2026-06-01", 7)]
    # On demand (重新计算): today's rows are replaced, not added.
    segments.snapshot(storage.sessions, NOW + timedelta(hours=11))
    segments.snapshot(storage.sessions, NOW + timedelta(hours=11))
    with storage.sessions() as db:
        assert db.scalar(select(func.count()).select_from(SegmentCount)) == len(SEGMENTS)
        assert segments.trend(db)[Segment.PROSPECT] == [("2026-06-01", 8)]
    # 16:30 UTC is 00:30 the next day in Shanghai: the nightly run writes the new day.
    assert segments.snapshot_job(storage, datetime(2026, 6, 1, 16, 30, tzinfo=UTC)) is not None
    with storage.sessions() as db:
        history = segments.trend(db, days=30)
        assert history[Segment.PROSPECT] == [("2026-06-01", 8), ("2026-06-02", 8)]
        assert history[Segment.LOST] == [("2026-06-01", 1), ("2026-06-02", 1)]
        assert segments.trend(db, days=1)[Segment.DORMANT] == [("2026-06-02", 5)]


def test_the_job_is_registered():
    from bot.domains import build_registry

    job = next(job for job in build_registry().jobs if job.name == "segment_snapshot")
    assert job.domain == "campaigns" and job.every_seconds == 3600


# --- the console ------------------------------------------------------------------------------


def test_the_pages_need_a_sign_in_and_the_campaigns_permission(console_app, console):
    assert console.get("/admin/campaigns/segments").status_code == 302
    for who in ("reviewer", "agent"):
        person = signed_in(console_app, who)
        assert person.get("/admin/campaigns/segments").status_code == 403
        assert person.get("/admin/campaigns/segments/dormant").status_code == 403
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/campaigns/segments")
    assert page.status_code == 200 and "客群" in page.text and "重新计算" in page.text
    assert manager.get("/admin/campaigns/segments/nonsense").status_code == 404
    assert manager.get("/admin/campaigns/segments/customer/o-nobody").status_code == 404


def test_recompute_needs_the_csrf_token_and_is_audit_logged(console_app):
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        mixed_population(db, now=datetime.now(UTC))
    manager = signed_in(console_app, "manager")
    manager.get("/admin/campaigns/segments")
    assert manager.post("/admin/campaigns/segments/snapshot", with_token=False).status_code == 400
    with storage.sessions() as db:
        assert db.scalar(select(func.count()).select_from(SegmentCount)) == 0
    done = manager.post("/admin/campaigns/segments/snapshot", follow_redirects=True)
    assert done.status_code == 200 and "已重新计算：共22位顾客" in done.text
    assert '<tr data-segment="prospect">\n<td><a' in done.text
    assert f'data-day="{local_day(datetime.now(UTC))}"' in done.text
    with storage.sessions() as db:
        assert db.scalar(select(func.count()).select_from(SegmentCount)) == len(SEGMENTS)
        entry = db.scalar(select(AuditEntry).where(
            AuditEntry.action == "campaigns.segment_snapshot"))
        assert entry.actor == "manager" and '"prospect": 7' in entry.detail
        # A second day of snapshots draws each segment's line.
        db.add(SegmentCount(day="2020-01-01", segment="prospect", count=3, computed_at=NOW))
        db.commit()
    page = manager.get("/admin/campaigns/segments")
    assert page.text.count('<svg class="sparkline"') == len(SEGMENTS)
    assert "<title>2020-01-01：3</title>" in page.text


def test_members_page_masks_openids_and_explains(console_app):
    storage = console_app.extensions["storage"]
    now = datetime.now(UTC)
    with storage.sessions.begin() as db:
        for i in range(55):
            add_follower(db, f"oABCDEFG-{i:03d}", touched_days=200, now=now)
    manager = signed_in(console_app, "manager")
    first = manager.get("/admin/campaigns/segments/dormant")
    assert first.status_code == 200
    assert first.text.count("<tr data-member=") == 50
    assert ">oABCDE…</a>" in first.text and ">oABCDEFG-000<" not in first.text
    assert "已超过180天（200天前）" in first.text and "R1 F1 M1" in first.text
    assert "普通会员" in first.text and "群发（每月4次上限" in first.text
    assert "下一页" in first.text
    second = manager.get("/admin/campaigns/segments/dormant?page=2")
    assert second.text.count("<tr data-member=") == 5 and "下一页" not in second.text
    assert manager.get("/admin/campaigns/segments/dormant?page=x").status_code == 200
    # the link is an opaque reference (campaigns/test_tags.py tests it); the raw openid is 404
    links = re.findall(r'href="(/admin/campaigns/segments/customer/[^"]+)"', first.text)
    assert len(links) == 50 and not any("oABCDEFG" in link for link in links)
    assert manager.get("/admin/campaigns/segments/customer/oABCDEFG-007").status_code == 404
    explained = manager.get(links[7])  # members are listed by openid: the 8th is -007
    assert explained.status_code == 200
    assert "为什么是沉睡客户" in explained.text and "已超过180天（200天前）" in explained.text
    assert "唤醒优惠券" in explained.text and "oABCDE…" in explained.text


# --- scale ---------------------------------------------------------------------------------


def test_five_thousand_followers_classify_quickly(storage):
    rows, customers, orders = [], [], []
    for i in range(5000):
        openid = f"o-scale-{i:05d}"
        touched = NOW - timedelta(days=i % 400)
        rows.append({"openid": openid, "subscribed": i % 17 != 0, "first_seen_at": touched,
                     "subscribed_at": touched, "last_interaction_at": touched,
                     "unsubscribed_at": touched if i % 17 == 0 else None})
        paid = i % 5
        if paid:
            customers.append({"openid": openid, "first_order_at": touched,
                              "last_order_at": touched, "last_paid_at": touched,
                              "paid_orders": paid, "spend_fen": paid * 4990, "tier_level": 0})
            orders.extend({"number": f"S{i:05d}{n}", "openid": openid, "state": "paid",
                           "total_fen": 4990, "created_at": touched, "pay_by": touched,
                           "paid_at": touched} for n in range(paid))
    with storage.sessions.begin() as db:
        db.execute(insert(Follower), rows)
        db.execute(insert(Customer), customers)
        db.execute(insert(Order), orders)
    with storage.sessions() as db:
        started = time.perf_counter()
        found = segments.counts(db, NOW)
        took = time.perf_counter() - started
    print(f"\n5000 followers, {len(orders)} orders classified in {took:.3f}s: "
          + ", ".join(f"{s.label} {n}" for s, n in found.items()))
    assert sum(found.values()) == 5000


def test_explain_shows_the_planners_counts_of_wechats_quotas(storage):
    """The explanation counts what the planner counts (planner.reach_counts): sends in the
    48-hour window and this month's mass messages, planned ones of other runs included."""
    from campaigns import planner
    from campaigns.pushes import Push, PushDelivery, PushRun

    with storage.sessions.begin() as db:
        add_follower(db, "o-busy", touched_days=1, message_hours=5)
        add_follower(db, "o-full", touched_days=1, message_hours=5)
        push = Push(name="p", segment="dormant", variants="[]", created_at=NOW,
                    updated_at=NOW)
        db.add(push)
        db.flush()
        for i, (openid, channel, state) in enumerate(
                [("o-busy", "custom", "sent"), ("o-busy", "custom", "planned"),
                 ("o-busy", "mass", "sent"), ("o-busy", "mass", "planned")]
                + [("o-full", "custom", "sent")] * 5 + [("o-full", "mass", "calling")] * 4):
            run = PushRun(push_id=push.id, fire_at=NOW - timedelta(hours=1, minutes=i),
                          kind="main", state="planned")
            db.add(run)
            db.flush()
            at = NOW - timedelta(hours=1) + timedelta(minutes=i)
            db.add(PushDelivery(run_id=run.id, openid=openid, channel=channel, state=state,
                                created_at=at, not_before=at,
                                sent_at=at if state == "sent" else None))
    with storage.sessions() as db:
        busy = [c.text for c in segments.explain(db, "o-busy", NOW).channels]
        full = segments.explain(db, "o-full", NOW).channels
        counts = planner.reach_counts(db, ["o-busy", "o-full"], NOW)
    assert busy == ["客服消息（48小时内互动过，本窗口已发2条，上限5条）",
                    "群发（本月已收到2次，每月4次上限）"]
    assert (counts["o-full"].custom_in_window, counts["o-full"].mass_this_month) == (5, 4)
    assert [c.kind for c in full] == [None] and "已发满5条" in full[0].text
