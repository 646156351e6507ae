"""Buying at the bargained price, launches expiring, and what the starter is told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import as_utc
from promotions import bargain_orders
from promotions.bargains import BargainCampaign, BargainRefused
from shop import notices, orders
from shop.followers import Follower
from shop.notices import CustomerNotice
from shop.orders import Order
from tests.promotions.bargain_helpers import (
    ADDRESS,
    NOW,
    cut,
    launch,
    make_campaign,
    make_sku,
    sku_stock,
    start,
)


class Sent:
    """What the notices job sent, by channel (an API stand-in at WeChat's edge only)."""

    def __init__(self):
        self.custom: list[tuple[str, str]] = []
        self.subscribe: list[tuple[str, str]] = []

    def send_text(self, openid, text):
        self.custom.append((openid, text))

    def send_subscribe_notice(self, openid, template_id, data):
        self.subscribe.append((openid, data["thing1"]))


def place(storage, launch_id: int, openid: str = "o-starter", now=NOW) -> Order:
    with storage.sessions.begin() as db:
        order = bargain_orders.place(db, launch_id, openid, address=ADDRESS, now=now,
                                     payment_minutes=30)
        db.expunge(order)
        return order


def completed_launch(storage, **campaign) -> tuple[int, int, int]:
    sku_id = make_sku(storage.sessions, stock=10)
    campaign_id = make_campaign(storage.sessions, sku_id, **campaign)
    launch_id = start(storage, campaign_id)
    for n in (1, 2, 3):
        cut(storage, launch_id, f"o-friend-{n}")
    return sku_id, campaign_id, launch_id


def units_used(storage, campaign_id: int) -> int:
    with storage.sessions() as db:
        return db.get(BargainCampaign, campaign_id).units_used


def test_the_starter_orders_at_the_floor_and_the_quota_counts_it(storage):
    sku_id, campaign_id, launch_id = completed_launch(storage)
    order = place(storage, launch_id)
    assert (order.total_fen, order.state) == (100, "pending_payment")
    assert sku_stock(storage.sessions, sku_id) == 9 and units_used(storage, campaign_id) == 1
    assert launch(storage.sessions, launch_id).state == "ordered"
    with pytest.raises(BargainRefused) as caught:
        place(storage, launch_id)
    assert caught.value.code == "ordered"


def test_before_the_floor_only_where_allowed_and_only_the_starter(storage):
    sku_id = make_sku(storage.sessions)
    strict = start(storage, make_campaign(storage.sessions, sku_id), "o-a")
    cut(storage, strict, "o-friend")
    with pytest.raises(BargainRefused) as caught:
        place(storage, strict, "o-a")
    assert caught.value.code == "not_yet" and "还需 2 位好友" in caught.value.message
    loose = start(storage, make_campaign(storage.sessions, sku_id, buy_before_floor=True), "o-b")
    one = cut(storage, loose, "o-friend")
    with pytest.raises(BargainRefused):
        place(storage, loose, "o-friend")
    assert place(storage, loose, "o-b").total_fen == one.price_fen


def test_an_unpaid_order_cancelled_gives_the_unit_back_and_the_launch_can_be_bought(storage):
    sku_id, campaign_id, launch_id = completed_launch(storage)
    order = place(storage, launch_id)
    with storage.sessions.begin() as db:
        orders.transition(db, db.get(Order, order.id), "cancelled", actor="system",
                          now=NOW + timedelta(minutes=31))
    assert sku_stock(storage.sessions, sku_id) == 10 and units_used(storage, campaign_id) == 0
    again = launch(storage.sessions, launch_id)
    assert (again.state, again.order_id) == ("completed", None)
    assert place(storage, launch_id).total_fen == 100


def test_reserved_at_launch_hands_the_unit_to_the_order_once(storage):
    sku_id, campaign_id, launch_id = completed_launch(storage, reserve_at_launch=True)
    assert sku_stock(storage.sessions, sku_id) == 9 and units_used(storage, campaign_id) == 1
    order = place(storage, launch_id)
    assert sku_stock(storage.sessions, sku_id) == 9 and units_used(storage, campaign_id) == 1
    with storage.sessions.begin() as db:
        orders.transition(db, db.get(Order, order.id), "cancelled", actor="system", now=NOW)
    assert sku_stock(storage.sessions, sku_id) == 10 and units_used(storage, campaign_id) == 0
    assert not launch(storage.sessions, launch_id).reserved


def test_expiry_releases_the_reserved_unit_and_tells_the_starter_once(storage):
    sku_id = make_sku(storage.sessions, stock=10)
    campaign_id = make_campaign(storage.sessions, sku_id, reserve_at_launch=True)
    launch_id = start(storage, campaign_id)
    cut(storage, launch_id, "o-friend")
    near = NOW + timedelta(hours=22)
    assert bargain_orders.expire_launches(storage, near) == {"warned": 1, "expired": 0}
    assert bargain_orders.expire_launches(storage, near) == {"warned": 0, "expired": 0}
    after = NOW + timedelta(hours=24, seconds=1)
    assert bargain_orders.expire_launches(storage, after)["expired"] == 1
    assert bargain_orders.expire_launches(storage, after)["expired"] == 0
    assert launch(storage.sessions, launch_id).state == "expired"
    assert sku_stock(storage.sessions, sku_id) == 10 and units_used(storage, campaign_id) == 0
    with storage.sessions() as db:
        kinds = [n.kind for n in db.scalars(select(CustomerNotice)
                                            .where(CustomerNotice.openid == "o-starter"))]
    assert kinds.count("bargain_expiring") == 1 and kinds.count("bargain_expired") == 1
    with pytest.raises(BargainRefused) as caught:
        place(storage, launch_id)
    assert caught.value.code == "expired"


def starter_messaged(storage, at):
    with storage.sessions.begin() as db:
        db.add(Follower(openid="o-starter", subscribed=True, subscribed_at=at,
                        first_seen_at=at, last_interaction_at=at, last_message_at=at))


def test_each_cut_is_told_inside_the_window_and_completion_replaces_waiting_ones(storage):
    starter_messaged(storage, NOW - timedelta(minutes=5))
    sku_id = make_sku(storage.sessions)
    launch_id = start(storage, make_campaign(storage.sessions, sku_id, helpers_needed=3))
    cut(storage, launch_id, "o-friend-1")
    sent = Sent()
    notices.send_due(storage.sessions, sent, {}, NOW)
    assert len(sent.custom) == 1 and "还差" in sent.custom[0][1]
    cut(storage, launch_id, "o-friend-2")
    cut(storage, launch_id, "o-friend-3")  # before the job came round: one completion only
    notices.send_due(storage.sessions, sent, {}, NOW)
    assert len(sent.custom) == 2 and "砍到底" in sent.custom[1][1]
    with storage.sessions() as db:
        states = [n.state for n in db.scalars(select(CustomerNotice)
                                              .order_by(CustomerNotice.id))]
    assert states == ["sent", "merged", "sent"]


def test_cuts_merge_when_the_window_quota_runs_short(storage):
    starter_messaged(storage, NOW - timedelta(minutes=5))
    with storage.sessions.begin() as db:  # three messages already sent in this window
        for n in range(3):
            notices.queue(db, "o-starter", "other", "x", key=f"other:{n}", due_at=NOW)
    sent = Sent()
    notices.send_due(storage.sessions, sent, {}, NOW)
    sku_id = make_sku(storage.sessions)
    launch_id = start(storage, make_campaign(storage.sessions, sku_id, helpers_needed=5))
    cut(storage, launch_id, "o-friend-1")  # 2 left: kept for completion and expiry
    with storage.sessions() as db:
        assert not list(db.scalars(select(CustomerNotice)
                                   .where(CustomerNotice.kind == "bargain_cut")))


def test_a_cut_is_never_sent_through_the_subscription_opt_in(storage):
    with storage.sessions.begin() as db:  # outside the window, one opt-in left
        db.add(Follower(openid="o-starter", subscribed=True, subscribed_at=NOW,
                        first_seen_at=NOW, last_interaction_at=NOW,
                        last_message_at=NOW - timedelta(days=3)))
        notices.record_opt_in(db, "o-starter", "TPL", NOW)
        from promotions.bargain_notices import CUT_KIND

        notices.queue(db, "o-starter", CUT_KIND, "好友帮你砍了一刀", key="cut:x", due_at=NOW)
    notices.window_only("bargain_cut")
    sent = Sent()
    assert notices.send_due(storage.sessions, sent, {"NOTICE_TEMPLATE_ID": "TPL"}, NOW)[
        "unreachable"] == 1
    assert sent.subscribe == [] and sent.custom == []
    with storage.sessions() as db:
        assert notices.has_opt_in(db, "o-starter", "TPL")  # kept for the completion


def test_a_sold_out_campaign_takes_no_more_cuts(storage):
    sku_id = make_sku(storage.sessions)
    campaign_id = make_campaign(storage.sessions, sku_id, stock_quota=1)
    launch_id = start(storage, campaign_id)
    with storage.sessions.begin() as db:
        db.get(BargainCampaign, campaign_id).units_used = 1  # another starter bought the last
    with pytest.raises(BargainRefused) as caught:
        cut(storage, launch_id, "o-friend")
    assert caught.value.code == "soldout" and "没有砍" in caught.value.message
    assert launch(storage.sessions, launch_id).cuts_done == 0


def test_ending_a_campaign_expires_open_launches_but_keeps_those_at_the_floor(storage):
    from promotions import bargain_manager

    _sku_id, campaign_id, done_id = completed_launch(storage, launches_per_customer=3)
    going = start(storage, campaign_id, "o-other")
    with storage.sessions.begin() as db:
        bargain_manager.end(db, campaign_id, NOW)
    assert bargain_orders.expire_launches(storage, NOW)["expired"] == 1
    assert launch(storage.sessions, going).state == "expired"
    assert launch(storage.sessions, done_id).state == "completed"
    assert place(storage, done_id).total_fen == 100  # promised at the floor: still buyable


def test_a_launch_completed_just_before_its_end_can_still_be_bought_for_a_day(storage):
    sku_id = make_sku(storage.sessions)
    launch_id = start(storage, make_campaign(storage.sessions, sku_id))
    late = NOW + timedelta(hours=23, minutes=59)
    for n in (1, 2, 3):
        cut(storage, launch_id, f"o-friend-{n}", now=late)
    done = launch(storage.sessions, launch_id)
    assert done.state == "completed"
    assert as_utc(done.expires_at) >= late + timedelta(hours=24)
    assert bargain_orders.expire_launches(storage, NOW + timedelta(hours=25))["expired"] == 0
    assert place(storage, launch_id, now=NOW + timedelta(hours=30)).total_fen == 100
