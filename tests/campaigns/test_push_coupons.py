"""A push that carries a coupon: every customer who gets the message holds exactly one copy
(read back through promotions' own queries), the holdout none; a retried, resent or deferred
delivery never a second; a batch that runs out skips the rest with the reason instead of
messaging them about a coupon they do not have. check() refuses a batch that cannot cover the
push; the console and the API offer, store and show the batch and what it gave.

Runs and deliveries are written as the planner leaves them (test_sender.py's helpers); the real
sandbox's outbox is what customers received.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select, update

from campaigns import push_coupons, push_reports, push_rules, sender
from campaigns.push_rules import PushDraft
from campaigns.pushes import Push, PushDelivery, PushRun
from console import accounts, api_tokens
from content_audit import default_screener
from core.clock import SHANGHAI
from core.storage import Storage
from promotions import coupon_batches, coupon_usage, coupons
from promotions.coupon_batches import BatchTerms
from promotions.coupons import CouponBatch
from shop.notices import NoticeOptIn
from tests.campaigns.test_chat_log import AGENT
from tests.campaigns.test_segments import add_follower
from tests.campaigns.test_sender import (
    CUSTOM,
    MASS,
    add,
    calls,
    deliveries,
    fault,
    follow,
    make_run,
    now,
    received,
    sent_log,
    states,
)
from tests.console.conftest import signed_in

COPY = "好久不见！送您一张回归优惠券，回复「我的优惠券」查看。"
NEW = "/admin/campaigns/pushes/new"
API = "/api/v1/campaigns"


def make_batch(storage: Storage, **terms) -> int:
    """满50减10, 7 days from issue, one per customer unless said."""
    values = {"name": "回归礼", "kind": "threshold", "threshold_fen": 5000, "off_fen": 1000,
              "valid_days": 7, **terms}
    with storage.sessions.begin() as db:
        return coupon_batches.create_batch(db, BatchTerms(**values), now()).id


def coupon_run(storage: Storage, batch_id: int, **options) -> int:
    """A scheduled push carrying the batch, and one run of it."""
    run_id = make_run(storage, variants=[{"key": "A", "text": COPY}], **options)
    with storage.sessions.begin() as db:
        push_id = db.get(PushRun, run_id).push_id
        db.execute(update(Push).where(Push.id == push_id).values(coupon_batch_id=batch_id))
    return run_id


def held(storage: Storage, openid: str, batch_id: int) -> list[coupons.Coupon]:
    """The customer's copies of the batch, as 我的优惠券 reads them."""
    with storage.sessions() as db:
        return [coupon for coupon, _state in coupon_usage.for_customer(db, openid, now())
                if coupon.batch_id == batch_id]


def holders(storage: Storage, batch_id: int) -> dict[str, int]:
    with storage.sessions() as db:
        found = db.scalars(select(coupons.Coupon).where(coupons.Coupon.batch_id == batch_id))
        counts: dict[str, int] = {}
        for coupon in found:
            counts[coupon.openid] = counts.get(coupon.openid, 0) + 1
        return counts


def issued(storage: Storage, batch_id: int) -> int:
    with storage.sessions() as db:
        return coupon_usage.usage(db, now(), [batch_id]).get(
            batch_id, coupon_usage.Usage()).issued


# --- issuing with the message -----------------------------------------------------------------


def test_everyone_messaged_holds_one_coupon_and_the_holdout_none(shop, sandbox):
    batch_id = make_batch(shop)
    run_id = coupon_run(shop, batch_id)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    follow(shop, sandbox, ["o_m1", "o_m2", "o_m3", "o_held"], chatted=False)
    custom = add(shop, run_id, ["o_chat"], "custom")
    mass = add(shop, run_id, ["o_m1", "o_m2", "o_m3"], "mass")
    add(shop, run_id, ["o_held"], "", state="holdout", holdout=True)
    assert sender.send_due(shop)["sent"] == 4
    assert received(sandbox) == {"o_chat": 1, "o_m1": 1, "o_m2": 1, "o_m3": 1}
    for delivery in deliveries(shop, custom + mass):
        [coupon] = held(shop, delivery.openid, batch_id)
        assert delivery.coupon_id == coupon.id
        assert coupon.source == f"push:{delivery.id}" and coupon.state == "available"
    assert held(shop, "o_held", batch_id) == []
    assert issued(shop, batch_id) == 4
    assert sender.send_due(shop) == {}  # nothing twice, no coupon twice
    assert issued(shop, batch_id) == 4


def test_an_announcement_gives_no_coupon(shop, sandbox):
    batch_id = make_batch(shop)
    run_id = coupon_run(shop, batch_id, kind="announce")
    with shop.sessions.begin() as db:
        db.execute(update(Push).values(announce_days=3, announce_text="下周有回归礼，敬请留意"))
    follow(shop, sandbox, ["o_chat"], chatted=True)
    add(shop, run_id, ["o_chat"], "custom")
    assert sender.send_due(shop) == {"sent": 1}
    assert holders(shop, batch_id) == {}


@pytest.mark.parametrize("per_customer", [1, 2])
def test_a_delivery_retried_after_busy_gets_one_coupon_not_two(shop, sandbox, per_customer):
    """-1 after the coupon was committed with the call: the retry finds it on its delivery.
    With one per customer it is not refused as 已领过; with two, not given a second."""
    batch_id = make_batch(shop, per_customer=per_customer)
    run_id = coupon_run(shop, batch_id)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1, times=1)
    start = now()
    assert sender.send_due(shop, start) == {"retry": 1}
    assert len(held(shop, "o_chat", batch_id)) == 1  # issued with the call that failed
    assert sender.send_due(shop, start + timedelta(seconds=121)) == {"sent": 1}
    assert states(shop, ids) == ["sent"]
    assert received(sandbox) == {"o_chat": 1}
    assert len(held(shop, "o_chat", batch_id)) == 1


def test_a_call_resent_after_its_chat_log_check_gets_one_coupon(shop, sandbox):
    """An agent's message answered -1 before delivery: the chat log shows nothing, the row
    is sent again — with the coupon it already holds."""
    shop.settings = {"PUSH_KF_ACCOUNT": AGENT}
    batch_id = make_batch(shop, per_customer=3)
    run_id = coupon_run(shop, batch_id)
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, run_id, ["o_chat"], "custom")
    fault(sandbox, CUSTOM, -1, times=1)
    start = now()
    sender.send_due(shop, start)
    sender.send_due(shop, start + timedelta(minutes=10))
    assert states(shop, ids) == ["sent"] and received(sandbox) == {"o_chat": 1}
    assert len(held(shop, "o_chat", batch_id)) == 1


def test_a_mass_send_resubmitted_under_its_clientmsgid_issues_nothing_new(shop, sandbox):
    batch_id = make_batch(shop, per_customer=2)
    run_id = coupon_run(shop, batch_id)
    openids = [f"o_m{i}" for i in range(4)]
    follow(shop, sandbox, openids, chatted=False)
    ids = add(shop, run_id, openids, "mass")
    fault(sandbox, MASS, -1, after_accept=True)
    start = now()
    assert sender.send_due(shop, start) == {"retry": 4}
    assert sender.send_due(shop, start + timedelta(seconds=121)) == {"sent": 4}
    assert states(shop, ids) == ["sent"] * 4
    assert received(sandbox) == dict.fromkeys(openids, 1)
    assert holders(shop, batch_id) == dict.fromkeys(openids, 1)
    assert calls(sandbox, MASS) == 2


def test_a_mass_group_is_one_call_and_every_recipient_gets_one_coupon(shop, sandbox):
    batch_id = make_batch(shop, total_limit=100)
    run_id = coupon_run(shop, batch_id)
    openids = [f"o_m{i:02d}" for i in range(12)]
    follow(shop, sandbox, openids, chatted=False)
    add(shop, run_id, openids, "mass")
    assert sender.send_due(shop) == {"sent": 12}
    assert calls(sandbox, MASS) == 1
    assert holders(shop, batch_id) == dict.fromkeys(openids, 1)
    with shop.sessions() as db:
        assert db.get(CouponBatch, batch_id).issued == 12


# --- refusals: skipped, never messaged about a coupon they do not hold -----------------------


def test_stock_running_out_mid_run_skips_the_rest_with_the_reason(shop, sandbox):
    batch_id = make_batch(shop, total_limit=2)
    run_id = coupon_run(shop, batch_id)
    openids = ["o_a", "o_b", "o_c", "o_d"]
    follow(shop, sandbox, openids, chatted=True)
    ids = add(shop, run_id, openids, "custom")
    counts = sender.send_due(shop)
    assert (counts["sent"], counts["skipped"]) == (2, 2)
    rows = deliveries(shop, ids)
    assert [(r.state, r.reason) for r in rows[2:]] == [("skipped", "优惠券已发完，未发送")] * 2
    assert set(received(sandbox)) == set(holders(shop, batch_id)) == {"o_a", "o_b"}
    with shop.sessions() as db:
        report = push_reports.reports(db, [run_id])[run_id]
    assert report.skipped == {"优惠券已发完，未发送": 2}
    assert report.coupons == push_coupons.Figures(2, 0)


def test_stock_out_in_a_mass_group_leaves_those_out_of_the_one_call(shop, sandbox):
    batch_id = make_batch(shop, total_limit=3)
    run_id = coupon_run(shop, batch_id)
    openids = [f"o_m{i}" for i in range(5)]
    follow(shop, sandbox, openids, chatted=False)
    ids = add(shop, run_id, openids, "mass")
    counts = sender.send_due(shop)
    assert (counts["sent"], counts["skipped"]) == (3, 2)
    assert calls(sandbox, MASS) == 1
    sent = [m for m in sent_log(sandbox) if m["api"] == "mass/send"]
    got = sorted(m["touser"] for m in sent)
    assert got == sorted(holders(shop, batch_id)) == openids[:3]
    cid = sender.clientmsgid(run_id, "A", got)  # made for the three who hold a coupon
    assert {m["body"]["clientmsgid"] for m in sent} == {cid}
    assert {d.clientmsgid for d in deliveries(shop, ids[:3])} == {cid}
    assert states(shop, ids[3:]) == ["skipped", "skipped"]


def test_a_mass_group_left_with_one_sends_it_alone_with_its_one_coupon(shop, sandbox):
    """WeChat takes no mass list of one: the last holder goes as a customer-service message
    (its window is open), its coupon issued once."""
    batch_id = make_batch(shop, total_limit=1)
    run_id = coupon_run(shop, batch_id)
    follow(shop, sandbox, ["o_m1", "o_m2", "o_m3"], chatted=True)
    ids = add(shop, run_id, ["o_m1", "o_m2", "o_m3"], "mass")
    sender.send_due(shop)
    rows = deliveries(shop, ids)
    assert [(r.state, r.channel) for r in rows] == [
        ("sent", "custom"), ("skipped", "mass"), ("skipped", "mass")]
    assert received(sandbox) == {"o_m1": 1} and holders(shop, batch_id) == {"o_m1": 1}


def test_a_customer_at_the_batch_limit_is_skipped_not_messaged(shop, sandbox):
    batch_id = make_batch(shop)
    with shop.sessions.begin() as db:
        coupons.issue(db, batch_id, "o_had", now(), source="code")
    run_id = coupon_run(shop, batch_id)
    follow(shop, sandbox, ["o_had", "o_new"], chatted=True)
    ids = add(shop, run_id, ["o_had", "o_new"], "custom")
    sender.send_due(shop)
    assert [(r.state, r.reason) for r in deliveries(shop, ids)] == [
        ("skipped", "已领过这批优惠券（每人限领1张），未发送"), ("sent", "")]
    assert received(sandbox) == {"o_new": 1}


def test_a_batch_ended_before_the_send_skips_everyone(shop, sandbox):
    batch_id = make_batch(shop)
    with shop.sessions.begin() as db:
        coupon_batches.set_state(db, batch_id, "end")
    run_id = coupon_run(shop, batch_id)
    follow(shop, sandbox, ["o_a", "o_b"], chatted=True)
    ids = add(shop, run_id, ["o_a", "o_b"], "custom")
    sender.send_due(shop)
    assert {r.reason for r in deliveries(shop, ids)} == {"优惠券活动已结束，未发送"}
    assert received(sandbox) == {}


# --- check() ----------------------------------------------------------------------------------


def _tomorrow_at(hour: int) -> datetime:
    local = datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=1)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0).astimezone(UTC)


def _draft(batch_id: int | None, **fields) -> PushDraft:
    values = {"name": "唤醒", "segment": "dormant", "variants": [COPY],
              "channels": ["custom", "mass"], "trigger": "once",
              "trigger_at": _tomorrow_at(10), "holdout_percent": 0,
              "coupon_batch_id": batch_id, **fields}
    return PushDraft(**values)


def _checked(storage: Storage, draft: PushDraft) -> push_rules.Checked:
    with storage.sessions() as db:
        return push_rules.check(db, draft, now(), screener=default_screener())


@pytest.fixture()
def dormant(storage: Storage) -> Storage:
    with storage.sessions.begin() as db:
        for i in range(5):
            add_follower(db, f"oDORMANT-{i}", touched_days=200, now=now())
    return storage


def test_check_accepts_a_batch_that_covers_the_push(dormant):
    batch_id = make_batch(dormant, total_limit=5)
    checked = _checked(dormant, _draft(batch_id))
    assert checked.errors == [] and not any("优惠券" in w for w in checked.warnings)


@pytest.mark.parametrize(("terms", "message"), [
    (None, "未知的优惠券批次：请从列表中选择"),
    ({"total_limit": 4}, "优惠券「回归礼」只剩4张，不够发给预演中会收到推送的5位顾客"),
    ({"valid_days": None, "valid_from": datetime.now(UTC) - timedelta(days=1),
      "valid_until": _tomorrow_at(9)}, "在推送首次发送"),
])
def test_check_refuses_a_batch_that_cannot_cover_the_push(dormant, terms, message):
    batch_id = 999 if terms is None else make_batch(dormant, **terms)
    checked = _checked(dormant, _draft(batch_id))
    assert any(message in e for e in checked.errors), checked.errors


def test_check_refuses_an_ended_batch_and_warns_of_silent_copy(dormant):
    ended = make_batch(dormant)
    with dormant.sessions.begin() as db:
        coupon_batches.set_state(db, ended, "end")
    assert "优惠券「回归礼」已结束发放，请换一个批次" in _checked(dormant, _draft(ended)).errors
    live = make_batch(dormant, name="新品券")
    checked = _checked(dormant, _draft(live, variants=["好久不见！最近上新了不少商品。"]))
    assert checked.errors == []
    assert any(w.startswith("文案没有提到优惠券") for w in checked.warnings)


# --- the console and the API ------------------------------------------------------------------


def test_the_form_offers_live_batches_and_hints_the_wake_up_coupon(console_app):
    storage = console_app.extensions["storage"]
    batch_id = make_batch(storage, name="回归礼")
    ended = make_batch(storage, name="已结束的券")
    with storage.sessions.begin() as db:
        coupon_batches.set_state(db, ended, "end")
    manager = signed_in(console_app, "manager")
    page = manager.get(f"{NEW}?segment=dormant")
    assert "随推送发放优惠券（可选）" in page.text
    assert f'<option value="{batch_id}">回归礼：满50减10，领取后7天内有效，不限量</option>' \
        in page.text  # offered, not preselected
    assert "已结束的券" not in page.text
    assert "沉睡客户的唤醒券：在此选择一个优惠券批次" in page.text
    assert "沉睡客户的唤醒券" not in manager.get(NEW).text


def test_a_push_created_in_the_console_carries_and_reports_its_coupon(console_app):
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        for i in range(3):
            add_follower(db, f"oDORMANT-{i}", touched_days=200, now=now())
    batch_id = make_batch(storage)
    manager = signed_in(console_app, "manager")
    form = {"name": "唤醒老顾客", "segment": "dormant", "variant_a": COPY, "variant_b": "",
            "channels": ["custom", "mass"], "trigger": "once",
            "trigger_at": _tomorrow_at(10).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M"),
            "cron": "", "trigger_days": "0", "announce_days": "0", "announce_text": "",
            "frequency_cap": "2", "quiet_start": "22:00", "quiet_end": "08:00",
            "holdout_percent": "10", "throttle_per_minute": "0",
            "coupon_batch_id": str(batch_id), "action": "create"}
    created = manager.post(NEW, data=form)
    assert created.status_code == 302, created.text
    with storage.sessions.begin() as db:
        push = db.scalar(select(Push))
        assert push.coupon_batch_id == batch_id
        run = PushRun(push_id=push.id, fire_at=now(), kind="main", state="planned")
        db.add(run)
        db.flush()
        rows = [PushDelivery(run_id=run.id, openid=f"oDORMANT-{i}", channel="custom",
                             state="planned", created_at=now()) for i in range(3)]
        db.add_all(rows)
        db.flush()
        assert push_coupons.issue_for(db, run.id, [r.id for r in rows], now()) == {}
        first = db.scalar(select(PushDelivery.coupon_id).where(PushDelivery.id == rows[0].id))
        coupons.redeem(db, first, "oDORMANT-0", 1, 6000, now())
        push_id = push.id
    page = manager.get(f"/admin/campaigns/pushes/{push_id}").text
    assert "「回归礼」满50减10，领取后7天内有效" in page
    assert page.count("发放 3 张，已使用 1 张") == 2  # the push's total and its run's report
    dry = manager.get(f"/admin/campaigns/pushes/{push_id}/dry-run").text
    assert "每位收到推送的顾客发放一张优惠券：「回归礼」满50减10" in dry


def test_a_coupon_batch_that_is_not_a_number_is_refused(console_app):
    manager = signed_in(console_app, "manager")
    page = manager.post(NEW, data={"name": "x", "segment": "dormant", "variant_a": COPY,
                                   "channels": ["custom"], "trigger": "once",
                                   "trigger_at": "", "announce_days": "0",
                                   "frequency_cap": "2", "holdout_percent": "10",
                                   "throttle_per_minute": "0", "coupon_batch_id": "abc",
                                   "action": "create"})
    assert page.status_code == 400 and "优惠券需为整数" in page.text


@pytest.fixture()
def api(console_app):
    with console_app.extensions["storage"].sessions.begin() as db:
        secret = api_tokens.issue(db, accounts.find(db, "manager"), "script")[1]
    return console_app.test_client(), {"Authorization": f"Bearer {secret}"}


def test_the_api_takes_and_shows_the_coupon_batch(console_app, api):
    client, headers = api
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        for i in range(3):
            add_follower(db, f"oDORMANT-{i}", touched_days=200, now=now())
    batch_id = make_batch(storage, total_limit=50)
    body = {"name": "唤醒老顾客", "segment": "dormant", "variants": [COPY],
            "channels": ["custom", "mass"], "trigger": "once",
            "trigger_at": _tomorrow_at(10).isoformat(), "coupon_batch_id": batch_id}
    created = client.post(f"{API}/pushes", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert answer["coupon_batch_id"] == batch_id
    assert answer["coupon"]["text"] == "「回归礼」满50减10，领取后7天内有效"
    assert (answer["coupon"]["issued"], answer["coupon"]["used"]) == (0, 0)
    shown = client.get(f"{API}/pushes/{answer['id']}", headers=headers).get_json()
    assert shown["coupon"]["figures_text"] == "发放 0 张，已使用 0 张"
    refused = client.post(f"{API}/pushes", json={**body, "coupon_batch_id": 999},
                          headers=headers)
    assert refused.status_code == 400
    assert "未知的优惠券批次" in refused.get_json()["message"]
    wrong = client.post(f"{API}/pushes", json={**body, "coupon_batch_id": "1"}, headers=headers)
    assert "coupon_batch_id" in wrong.get_json()["message"]


def test_the_run_report_counts_coupons_issued_and_used(shop, sandbox):
    batch_id = make_batch(shop)
    run_id = coupon_run(shop, batch_id)
    openids = ["o_a", "o_b", "o_c"]
    follow(shop, sandbox, openids, chatted=True)
    add(shop, run_id, openids, "custom")
    sender.send_due(shop)
    with shop.sessions.begin() as db:
        [coupon] = [c for c, _ in coupon_usage.for_customer(db, "o_b", now())]
        coupons.redeem(db, coupon.id, "o_b", 7, 6000, now())
    with shop.sessions() as db:
        push_id = db.get(PushRun, run_id).push_id
        assert push_reports.reports(db, [run_id])[run_id].coupons.text == "发放 3 张，已使用 1 张"
        assert push_coupons.push_usage(db, push_id) == push_coupons.Figures(3, 1)


def test_a_notice_refused_its_coupon_keeps_its_opt_in(shop, sandbox):
    """A subscription notice whose coupon is refused is not sent, and the opt-in spent for it
    is given back: no coupon without its message, no opt-in used up for nothing."""
    shop.settings = {"PUSH_TEMPLATE_ID": "tmpl_push"}
    batch_id = make_batch(shop, total_limit=1)
    run_id = coupon_run(shop, batch_id)
    for openid in ("o_a", "o_b"):
        requests.post(f"{sandbox}/sandbox/inbound", timeout=5, json={
            "openid": openid, "kind": "subscribe_msg", "template_id": "tmpl_push"})
        with shop.sessions.begin() as db:
            db.add(NoticeOptIn(openid=openid, template_id="tmpl_push", remaining=1,
                               updated_at=now()))
    ids = add(shop, run_id, ["o_a", "o_b"], "subscribe")
    sender.send_due(shop)
    assert [(r.state, r.reason) for r in deliveries(shop, ids)] == [
        ("sent", ""), ("skipped", "优惠券已发完，未发送")]
    assert received(sandbox) == {"o_a": 1}
    with shop.sessions() as db:
        assert db.get(NoticeOptIn, ("o_a", "tmpl_push")).remaining == 0
        assert db.get(NoticeOptIn, ("o_b", "tmpl_push")).remaining == 1
