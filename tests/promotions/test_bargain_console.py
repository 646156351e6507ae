"""The manager's 砍价 pages: who may use them, creating a campaign (refused forms say why,
the title passes the content gate), the preview, pausing/resuming/ending with the audit log,
the figures of a campaign, the ledger and the review queue, and the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from console import accounts, api_tokens
from console.audit_log import AuditEntry
from content_audit import default_screener
from core.clock import SHANGHAI
from promotions import bargain_manager, bargain_views
from promotions.bargains import (
    BargainCampaign,
    BargainError,
    BargainHelp,
    BargainLaunch,
    draw_schedule,
    scene_for,
)
from shop import catalog, orders
from shop.followers import Follower
from tests.console.conftest import signed_in
from tests.promotions.flash_helpers import make_sku, paid_order

BASE = "/admin/promotions/bargains"


@pytest.fixture()
def app(console_app):
    """The console with the 砍价 pages, registered here until promotions registers them."""
    if "bargain_admin" not in console_app.blueprints:
        console_app.register_blueprint(bargain_views.bp)
    if "bargain_api" not in console_app.blueprints:
        console_app.register_blueprint(bargain_views.api_bp)
    return console_app


def local(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def good_form(sku_id: int) -> dict[str, str]:
    now = datetime.now(UTC)
    return {"title": "口红砍到9.9", "sku_id": str(sku_id), "floor": "9.9",
            "helpers_needed": "3", "hours_per_launch": "24",
            "starts_at": local(now - timedelta(hours=1)),
            "ends_at": local(now + timedelta(days=7)), "stock_quota": "20",
            "launches_per_customer": "1", "helps_per_day": "3", "helps_per_campaign": "10",
            "front_loading": "60", "unit_cost": "", "expected_launches": "100",
            "arrival_per_hour": "0.2", "new_customer_share": "30", "action": "create"}


def campaign_ids(app) -> list[int]:
    with app.extensions["storage"].sessions() as db:
        return list(db.scalars(select(BargainCampaign.id).order_by(BargainCampaign.id)))


def audit_actions(app, prefix: str = "bargain.") -> list[str]:
    with app.extensions["storage"].sessions() as db:
        return list(db.scalars(select(AuditEntry.action)
                               .where(AuditEntry.action.startswith(prefix))
                               .order_by(AuditEntry.id)))


def make_campaign(sessions, sku_id: int, *, created_at: datetime | None = None,
                  **changes) -> int:
    now = created_at or datetime.now(UTC)
    terms = {"title": "口红砍价", "sku_id": sku_id, "floor_fen": 990, "helpers_needed": 3,
             "hours_per_launch": 24, "starts_at": now - timedelta(hours=1),
             "ends_at": now + timedelta(days=7), "stock_quota": 20,
             "launches_per_customer": 1, "helps_per_day": 3, "helps_per_campaign": 10,
             "starter_cuts": False, "buy_before_floor": False, "new_customers_only": False,
             "reserve_at_launch": False, "front_loading": 60, "unit_cost_fen": None,
             **changes}
    with sessions.begin() as db:
        return bargain_manager.create_campaign(db, **terms, now=now,
                                               screener=default_screener()).id


def make_launch(sessions, campaign_id: int, openid: str, *, cuts: int = 0, state: str = "open",
                order_id: int | None = None, start_fen: int = 12900, floor_fen: int = 990,
                helpers_needed: int = 3) -> int:
    """A launch with its first `cuts` cuts counted (as the ledger would have left it)."""
    now = datetime.now(UTC)
    schedule = draw_schedule(start_fen - floor_fen, helpers_needed, 60, 7)
    with sessions.begin() as db:
        launch = BargainLaunch(
            campaign_id=campaign_id, openid=openid, ordinal=1, code=f"C{openid[-5:]}",
            start_fen=start_fen, floor_fen=floor_fen, schedule=json.dumps(schedule), seed=7,
            cuts_total=helpers_needed, cuts_done=cuts, cut_fen=sum(schedule[:cuts]),
            state=state, order_id=order_id, created_at=now,
            expires_at=now + timedelta(hours=24),
            completed_at=now if cuts == helpers_needed else None)
        db.add(launch)
        db.flush()
        for seq in range(cuts):
            db.add(BargainHelp(launch_id=launch.id, campaign_id=campaign_id,
                               openid=f"{openid}-h{seq}", seq=seq, amount_fen=schedule[seq],
                               state="counted", source="code", key=f"{openid}-k{seq}",
                               created_at=now))
        return launch.id


def add_help(sessions, launch_id: int, openid: str, *, state: str = "counted",
             new_customer: bool = False, source: str = "page", seq: int | None = None,
             risk: int = 0, reasons: str = "") -> int:
    with sessions.begin() as db:
        launch = db.get(BargainLaunch, launch_id)
        help_ = BargainHelp(launch_id=launch_id, campaign_id=launch.campaign_id, openid=openid,
                            seq=seq, amount_fen=0, state=state, source=source,
                            key=f"k-{launch_id}-{openid}", risk=risk, reasons=reasons,
                            new_customer=new_customer, created_at=datetime.now(UTC))
        db.add(help_)
        db.flush()
        return help_.id


# ---- who may use the pages ----------------------------------------------------------------


def test_sign_in_and_the_promotions_role_are_required_and_posts_need_the_csrf_token(app):
    anonymous = app.test_client().get(BASE)
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
    for username in ("reviewer", "agent"):
        person = signed_in(app, username)
        assert person.get(BASE).status_code == 403
        assert person.get(f"{BASE}/new").status_code == 403
    manager = signed_in(app, "manager")
    page = manager.get(BASE)
    assert page.status_code == 200 and "还没有砍价活动" in page.text
    sku_id = make_sku(app.extensions["storage"].sessions)
    assert manager.post(f"{BASE}/new", good_form(sku_id), with_token=False).status_code == 400
    assert campaign_ids(app) == []
    campaign_id = make_campaign(app.extensions["storage"].sessions, sku_id)
    assert manager.post(f"{BASE}/{campaign_id}/pause", with_token=False).status_code == 400
    reviewer = signed_in(app, "reviewer")
    assert reviewer.post(f"{BASE}/{campaign_id}/pause").status_code == 403
    with app.extensions["storage"].sessions() as db:
        assert db.get(BargainCampaign, campaign_id).state == "on"


# ---- creating -----------------------------------------------------------------------------


def test_a_manager_creates_a_campaign_and_every_refusal_says_why(app):
    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions, price=12900, stock=30)
    with sessions.begin() as db:
        off_shelf = catalog.add_product(db, name="下架面霜", skus=[("50ml", 9900, 5)],
                                        on_shelf=False).skus[0].id
    manager = signed_in(app, "manager")
    new = manager.get(f"{BASE}/new").text
    for default in ('name="helpers_needed" value="3"', 'name="hours_per_launch" value="24"',
                    'name="front_loading" value="60"', 'name="stock_quota" value="100"',
                    'name="launches_per_customer" value="1"', 'name="helps_per_day" value="3"',
                    'name="helps_per_campaign" value="10"', "预览", "创建"):
        assert default in new, default
    form = good_form(sku_id)
    past = datetime.now(UTC) - timedelta(days=1)
    refusals = [
        ({"sku_id": "99999"}, "没有这个规格"),
        ({"sku_id": str(off_shelf)}, "该商品已下架，不能做砍价"),
        ({"floor": "129"}, "底价需低于该规格现价¥129"),
        ({"floor": "200"}, "底价需低于该规格现价¥129"),
        ({"floor": "128.98"}, "底价太接近原价：3 刀每刀至少 1 分"),
        ({"floor": "128.99", "helpers_needed": "1", "starter_cuts": "1"},
         "底价太接近原价：2 刀每刀至少 1 分"),
        ({"floor": "九块九"}, "底价需为金额"),
        ({"helpers_needed": "0"}, "需要助力的人数需在 1–50 人之间"),
        ({"helpers_needed": "51"}, "需要助力的人数需在 1–50 人之间"),
        ({"hours_per_launch": "0"}, "每次砍价的有效时长需在 1–168 小时之间"),
        ({"hours_per_launch": "169"}, "每次砍价的有效时长需在 1–168 小时之间"),
        ({"ends_at": form["starts_at"]}, "活动结束时间需晚于开始时间"),
        ({"starts_at": local(past - timedelta(days=1)), "ends_at": local(past)},
         "活动结束时间已经过去"),
        ({"ends_at": "下周"}, "请填写结束时间"),
        ({"stock_quota": "0"}, "砍价库存需在 1–100000 件之间"),
        ({"stock_quota": "31", "reserve_at_launch": "1"},
         "发起时预留库存：砍价库存31件超过该规格现有库存30件"),
        ({"launches_per_customer": "0"}, "每人可发起次数需在 1–1000 之间"),
        ({"helps_per_day": "0"}, "每人每天可助力次数需在 1–1000 之间"),
        ({"helps_per_campaign": "0"}, "每人本活动可助力次数需在 1–1000 之间"),
        ({"front_loading": "101"}, "前几刀力度需在 0–100 之间"),
        ({"title": ""}, "请填写活动标题"),
        ({"title": "砍" * 41}, "活动标题最多40个字"),
        ({"title": "全网最好用的口红"}, "含有广告法或平台规则禁止的用语"),
    ]
    for change, reason in refusals:
        sent = {**form, **change}
        page = manager.post(f"{BASE}/new", sent)
        assert page.status_code == 400 and reason in page.text, (change, reason)
        # The form comes back filled in as sent.
        assert f'name="hours_per_launch" value="{sent["hours_per_launch"]}"' in page.text
    assert campaign_ids(app) == []
    # A quota above the stock is fine when the unit is taken at the order, not the launch.
    created = manager.post(f"{BASE}/new", {**form, "stock_quota": "31"}, follow_redirects=True)
    assert "已创建砍价活动「口红砍到9.9」" in created.text
    assert "底价 ¥9.90" in created.text and "3 位好友砍到底价" in created.text
    (campaign_id,) = campaign_ids(app)
    with sessions() as db:
        campaign = db.get(BargainCampaign, campaign_id)
        assert (campaign.floor_fen, campaign.stock_quota, campaign.state) == (990, 31, "on")
        assert campaign.starts_at.replace(tzinfo=UTC).astimezone(SHANGHAI).strftime(
            "%Y-%m-%dT%H:%M") == form["starts_at"]
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "bargain.create"))
        assert entry.actor == "manager" and entry.target == f"bargain:{campaign_id}"
        assert entry.details["floor_fen"] == 990
    listing = manager.get(BASE).text
    assert "口红砍到9.9" in listing and "¥129 → ¥9.90" in listing and "进行中" in listing


def test_the_domain_refuses_the_same_without_the_console(app):
    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions, price=500, stock=3)
    with pytest.raises(BargainError, match="底价太接近原价：3 刀每刀至少 1 分"):
        make_campaign(sessions, sku_id, floor_fen=498)
    with pytest.raises(BargainError, match="超过该规格现有库存3件"):
        make_campaign(sessions, sku_id, floor_fen=100, reserve_at_launch=True, stock_quota=4)
    assert make_campaign(sessions, sku_id, floor_fen=497) > 0


def test_the_preview_shows_the_chance_the_warnings_and_its_assumption(app):
    pytest.importorskip("promotions.bargain_economics")
    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions, price=12900, stock=30)
    manager = signed_in(app, "manager")
    form = {**good_form(sku_id), "action": "preview", "unit_cost": "20"}
    page = manager.post(f"{BASE}/new", form)
    assert page.status_code == 200 and 'id="preview"' in page.text
    assert "单个发起砍到底价的概率" in page.text and "%" in page.text
    assert "假设每个发起平均每小时有 0.2 位好友帮砍" in page.text
    assert "底价低于成本，每单亏 ¥10.10" in page.text  # 9.90 floor, 20 cost
    assert "每刀金额示例" in page.text
    assert campaign_ids(app) == []  # a preview writes nothing
    slow = manager.post(f"{BASE}/new", {**form, "arrival_per_hour": "0.01"})
    assert "大多数发起在时限内砍不到底" in slow.text
    # What 创建 would refuse is said on the preview too.
    assert "活动结束时间需晚于开始时间" in manager.post(
        f"{BASE}/new", {**form, "ends_at": form["starts_at"]}).text
    bad = manager.post(f"{BASE}/new", {**form, "arrival_per_hour": "快"})
    assert bad.status_code == 400 and "每小时帮砍人数需为数字" in bad.text
    with sessions() as db:
        assert db.scalar(select(AuditEntry).where(AuditEntry.action.startswith("bargain"))) \
            is None


# ---- pausing, resuming, ending ------------------------------------------------------------


def test_pause_resume_end_and_the_audit_log(app):
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    manager = signed_in(app, "manager")
    url = f"{BASE}/{campaign_id}"

    def state() -> str:
        with sessions() as db:
            return db.get(BargainCampaign, campaign_id).state

    assert "暂停" in manager.get(url).text
    assert "已暂停" in manager.post(f"{url}/pause", follow_redirects=True).text
    assert state() == "paused"
    assert "活动已暂停，不能暂停" in manager.post(f"{url}/pause", follow_redirects=True).text
    assert "已恢复" in manager.post(f"{url}/resume", follow_redirects=True).text
    assert state() == "on"
    assert "活动进行中，不能恢复" in manager.post(f"{url}/resume", follow_redirects=True).text
    ended = manager.post(f"{url}/end", follow_redirects=True).text
    assert "已结束：不能再发起或助力" in ended and "结束活动</button>" not in ended
    assert state() == "ended"
    for move in ("resume", "pause", "end"):
        refused = manager.post(f"{url}/{move}", follow_redirects=True).text
        assert "活动已结束，不能" in refused
    assert state() == "ended"
    assert audit_actions(app) == ["bargain.pause", "bargain.resume", "bargain.end"]
    with sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "bargain.end"))
        assert entry.actor == "manager" and entry.target == f"bargain:{campaign_id}"


def test_a_campaign_past_its_end_cannot_be_paused_or_resumed_but_can_be_ended(app):
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    later = datetime.now(UTC) + timedelta(days=8)
    with sessions.begin() as db:
        with pytest.raises(BargainError, match="活动已过结束时间，不能暂停"):
            bargain_manager.pause(db, campaign_id, later)
        assert bargain_manager.end(db, campaign_id, later).state == "ended"


# ---- figures, ledger, review --------------------------------------------------------------


def test_figures_count_what_the_campaign_brought_and_cost(app):
    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions, price=12900, stock=50)
    created = datetime.now(UTC) - timedelta(days=1)
    campaign_id = make_campaign(sessions, sku_id, created_at=created)
    other_id = make_campaign(sessions, sku_id, created_at=created)
    paid = paid_order(sessions, "o-paid", sku_id, datetime.now(UTC))
    with sessions.begin() as db:
        pending = orders.place(db, "o-pending", [(sku_id, 1)], now=datetime.now(UTC)).id
    done_paid = make_launch(sessions, campaign_id, "o-paid", cuts=3, state="ordered",
                            order_id=paid)
    done_pending = make_launch(sessions, campaign_id, "o-pending", cuts=3, state="ordered",
                               order_id=pending)
    completed = make_launch(sessions, campaign_id, "o-completed", cuts=3, state="completed")
    half = make_launch(sessions, campaign_id, "o-half", cuts=1)
    make_launch(sessions, campaign_id, "o-none")
    elsewhere = make_launch(sessions, other_id, "o-elsewhere", cuts=3, state="completed")
    # Helps beyond the schedule-made ones: a new helper on the page, one who also followed,
    # a helper who helped twice (distinct), a held one, a rejected one, the starter's own.
    add_help(sessions, half, "new-page", new_customer=True, seq=1)
    add_help(sessions, half, "new-follower", new_customer=True, seq=2)
    add_help(sessions, completed, "new-page", state="rejected", new_customer=True)
    add_help(sessions, done_pending, "o-half-h0", state="held")
    add_help(sessions, done_pending, "o-paid", state="counted", source="starter")
    add_help(sessions, elsewhere, "elsewhere-new", new_customer=True, seq=None)
    now = datetime.now(UTC)
    with sessions.begin() as db:
        db.add_all([
            Follower(openid="new-follower", subscribed=True, first_seen_at=now,
                     source_scene=scene_for(half)),
            Follower(openid="scanned-only", subscribed=True, first_seen_at=now,
                     source_scene=scene_for(done_paid)),
            Follower(openid="old-friend", subscribed=True,
                     first_seen_at=created - timedelta(days=30),
                     source_scene=scene_for(done_paid)),
            Follower(openid="other-campaign", subscribed=True, first_seen_at=now,
                     source_scene=scene_for(elsewhere)),
        ])
        paid_cut = db.get(BargainLaunch, done_paid).cut_fen
    assert paid_cut == 12900 - 990
    with sessions() as db:
        got = bargain_manager.figures(db, campaign_id)
    assert got.launches == 5
    assert got.completions == 3  # ordered ×2 and completed; the half and the empty one not
    # 3+3+3+1 schedule helps, + new-page and new-follower on the half launch.
    assert (got.helps_counted, got.helps_held, got.helps_rejected) == (12, 1, 1)
    assert got.helpers == 12  # distinct counted helpers, the starter's own cut not one
    assert got.paid_orders == 1 and got.paid_fen == 12900  # the pending order not counted
    assert got.discount_fen == 12900 - 990
    assert got.new_followers == 2  # new-follower and scanned-only; not the old friend
    assert got.new_customer_helpers == 2  # counted ones only: new-page, new-follower
    assert got.page_only_new_helpers == 1  # new-page (new-follower followed)
    assert got.new_customers == 3
    assert got.cost_per_new_customer_fen == round((12900 - 990) / 3)
    assert (got.units_used, got.stock_quota) == (0, 20)
    with sessions() as db:
        empty = bargain_manager.figures(db, other_id)
        # Nothing paid yet: new customers cost nothing so far.
        assert empty.cost_per_new_customer_fen == 0 and empty.discount_fen == 0
        assert (empty.new_followers, empty.new_customer_helpers, empty.new_customers) == (1, 1, 2)
        none_yet = make_campaign(sessions, sku_id)
        assert bargain_manager.figures(db, none_yet).cost_per_new_customer_fen is None
        rows = {row.campaign.id: row for row in bargain_manager.campaigns(db)}
        assert (rows[campaign_id].launches, rows[campaign_id].completions) == (5, 3)
        assert (rows[campaign_id].helps_counted, rows[campaign_id].helps_held) == (12, 1)
        entries = bargain_manager.ledger(db, campaign_id)
        ids = [e.launch.id for e in entries]
        assert ids == sorted(ids, reverse=True) and len(ids) == 5  # newest first
        by_launch = {e.launch.id: e for e in entries}
        assert [h.seq for h in by_launch[half].helps] == [0, 1, 2]
    manager = signed_in(app, "manager")
    page = manager.get(f"{BASE}/{campaign_id}").text
    assert 'data-figure="paid-orders"><span class="label">付款订单</span><strong>1<' in page
    assert "¥119.10" in page and "¥129" in page
    assert f"#{half} · o-half · 砍价中" in page and "还需 2 刀" in page


def test_held_helps_are_listed_and_decided_through_the_ledger(app):
    pytest.importorskip("promotions.bargain_ledger")
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    launch_id = make_launch(sessions, campaign_id, "o-starter", cuts=1)
    first = add_help(sessions, launch_id, "o-risky", state="held", risk=80,
                     reasons="新号；同设备多次助力")
    second = add_help(sessions, launch_id, "o-second", state="held")
    with sessions() as db:
        assert [h.id for h in bargain_manager.held_helps(db)] == [first, second]
        assert [h.id for h in bargain_manager.held_helps(db, campaign_id + 1)] == []
    manager = signed_in(app, "manager")
    page = manager.get(f"{BASE}/{campaign_id}").text
    assert "待审核的助力（2）" in page and "新号；同设备多次助力" in page
    assert f'data-help="{first}"' in page and "通过" in page and "拒绝" in page
    approved = manager.post(f"{BASE}/helps/{first}/approve", follow_redirects=True).text
    assert "已通过，这一刀已计入" in approved
    rejected = manager.post(f"{BASE}/helps/{second}/reject", follow_redirects=True).text
    assert "已拒绝这次助力" in rejected and "待审核的助力（0）" in rejected
    with sessions() as db:
        assert db.get(BargainHelp, first).state == "counted"
        assert db.get(BargainHelp, first).decided_by == "manager"
        assert db.get(BargainHelp, second).state == "rejected"
        assert db.get(BargainLaunch, launch_id).cuts_done == 2
    again = manager.post(f"{BASE}/helps/{second}/approve", follow_redirects=True).text
    assert "这条帮砍已经处理过了。" in again
    assert audit_actions(app) == ["bargain.help_approve", "bargain.help_reject"]


def test_approving_after_the_launch_completed_says_why(app):
    pytest.importorskip("promotions.bargain_ledger")
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    launch_id = make_launch(sessions, campaign_id, "o-starter", cuts=3, state="completed")
    late = add_help(sessions, launch_id, "o-late", state="held")
    manager = signed_in(app, "manager")
    page = manager.post(f"{BASE}/helps/{late}/approve", follow_redirects=True).text
    assert "这个砍价已经砍到底价了" in page
    with sessions() as db:
        assert db.get(BargainHelp, late).state == "rejected"
    assert audit_actions(app) == ["bargain.help_approve"]


# ---- the API ------------------------------------------------------------------------------


def test_the_api_lists_shows_and_moves_campaigns(app):
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    with sessions.begin() as db:
        _, secret = api_tokens.issue(db, accounts.find(db, "manager"), "script")
        _, agent_secret = api_tokens.issue(db, accounts.find(db, "agent"), "script")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/promotions/bargains").status_code == 401
    assert client.get("/api/v1/promotions/bargains",
                      headers={"Authorization": f"Bearer {agent_secret}"}).status_code == 403
    listed = client.get("/api/v1/promotions/bargains", headers=auth).get_json()
    assert [c["id"] for c in listed["campaigns"]] == [campaign_id]
    one = client.get(f"/api/v1/promotions/bargains/{campaign_id}", headers=auth).get_json()
    assert one["figures"]["launches"] == 0 and one["floor_fen"] == 990
    assert client.get("/api/v1/promotions/bargains/999", headers=auth).status_code == 404
    paused = client.post(f"/api/v1/promotions/bargains/{campaign_id}/pause", headers=auth)
    assert paused.status_code == 200 and paused.get_json()["state"] == "paused"
    again = client.post(f"/api/v1/promotions/bargains/{campaign_id}/pause", headers=auth)
    assert again.status_code == 409 and "不能暂停" in again.get_json()["message"]
    with sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "bargain.pause"))
        assert entry.actor == "manager" and entry.details["via"] == "api"


API = "/api/v1/promotions/bargains"


def api_clients(app) -> tuple:
    """A test client and the headers of a manager's, a reviewer's and an agent's token."""
    with app.extensions["storage"].sessions.begin() as db:
        secrets = {name: api_tokens.issue(db, accounts.find(db, name), "script")[1]
                   for name in ("manager", "reviewer", "agent")}
    headers = {name: {"Authorization": f"Bearer {secret}"} for name, secret in secrets.items()}
    return app.test_client(), headers


def api_body(sku: int, **changes) -> dict:
    now = datetime.now(UTC)
    return {"title": "口红砍到9.9", "sku_id": sku, "floor_fen": 990, "helpers_needed": 3,
            "hours_per_launch": 24,
            "starts_at": (now - timedelta(hours=1)).astimezone(SHANGHAI).isoformat(),
            "ends_at": (now + timedelta(days=7)).astimezone(SHANGHAI).isoformat(),
            "stock_quota": 20, "launches_per_customer": 1, "helps_per_day": 3,
            "helps_per_campaign": 10, "front_loading": 60, **changes}


def test_every_new_api_endpoint_needs_a_token_of_the_promotions_role(app):
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    launch_id = make_launch(sessions, campaign_id, "o-starter", cuts=1)
    held = add_help(sessions, launch_id, "o-held", state="held")
    client, headers = api_clients(app)
    calls = [("post", API, {"json": api_body(1)}), ("post", f"{API}/preview", {"json": {}}),
             ("get", f"{API}/{campaign_id}/launches", {}), ("get", f"{API}/helps/held", {}),
             ("post", f"{API}/helps/{held}/approve", {}),
             ("post", f"{API}/helps/{held}/reject", {})]
    for method, url, extra in calls:
        assert getattr(client, method)(url, **extra).status_code == 401, url
        for name in ("reviewer", "agent"):
            answer = getattr(client, method)(url, headers=headers[name], **extra)
            assert answer.status_code == 403, (url, name)
    assert campaign_ids(app) == [campaign_id]
    with sessions() as db:
        assert db.get(BargainHelp, held).state == "held"
    assert audit_actions(app) == []


def test_the_api_creates_a_campaign_and_says_why_it_will_not(app):
    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions, price=12900, stock=30)
    client, headers = api_clients(app)
    auth = headers["manager"]
    refusals = [
        ({"sku_id": 99999}, "没有这个规格"),
        ({"floor_fen": 12900}, "底价需低于该规格现价¥129"),
        ({"floor_fen": "9.9"}, "底价（分）需为整数"),
        ({"floor_fen": 9.9}, "底价（分）需为整数"),
        ({"helpers_needed": True}, "需要助力人数需为整数"),
        ({"helpers_needed": 51}, "需要助力的人数需在 1–50 人之间"),
        ({"stock_quota": None}, "砍价库存需为整数"),
        ({"starts_at": "2026-12-05T09:00:00"}, "开始时间需为带时区的 ISO 8601 时间"),
        ({"ends_at": "下周"}, "结束时间需为带时区的 ISO 8601 时间"),
        ({"ends_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat()},
         "活动结束时间需晚于开始时间"),
        ({"unit_cost_fen": "20"}, "单件成本（分）需为整数"),
        ({"reserve_at_launch": "yes"}, "reserve_at_launch 需为 true 或 false"),
        ({"reserve_at_launch": True, "stock_quota": 31},
         "砍价库存31件超过该规格现有库存30件"),
        ({"title": ""}, "请填写活动标题"),
        ({"title": 7}, "活动标题需为文字"),
        ({"title": "全网最好用的口红"}, "含有广告法或平台规则禁止的用语"),
    ]
    for change, reason in refusals:
        answer = client.post(API, json=api_body(sku_id, **change), headers=auth)
        assert answer.status_code == 400, (change, answer.get_json())
        assert reason in answer.get_json()["message"], (change, answer.get_json())
    for body in ("not json", [1, 2]):
        sent = client.post(API, data=body if isinstance(body, str) else json.dumps(body),
                           headers={**auth, "Content-Type": "application/json"})
        assert sent.status_code == 400 and "JSON" in sent.get_json()["message"]
    assert campaign_ids(app) == []
    day = (datetime.now(UTC) + timedelta(days=30)).astimezone(SHANGHAI).date()
    created = client.post(API, json=api_body(sku_id, starts_at=f"{day}T09:00:00+08:00",
                                             ends_at=f"{day}T21:00:00+08:00",
                                             unit_cost_fen=2000, new_customers_only=True),
                          headers=auth)
    assert created.status_code == 201, created.get_json()
    got = created.get_json()
    (campaign_id,) = campaign_ids(app)
    assert got["id"] == campaign_id and created.headers["Location"].endswith(
        f"{API}/{campaign_id}")
    assert got["starts_at"] == f"{day}T01:00:00+00:00"  # 09:00 in Shanghai, as UTC
    assert got["ends_at"] == f"{day}T13:00:00+00:00"
    assert (got["floor_fen"], got["state"], got["state_text"]) == (990, "on", "未开始")
    with sessions() as db:
        campaign = db.get(BargainCampaign, campaign_id)
        assert (campaign.unit_cost_fen, campaign.new_customers_only) == (2000, True)
        assert campaign.reserve_at_launch is False
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "bargain.create"))
        assert entry.actor == "manager" and entry.target == f"bargain:{campaign_id}"
        assert entry.details["via"] == "api" and entry.details["floor_fen"] == 990


def test_an_api_title_waiting_for_review_answers_202_and_creates_nothing(app):
    from content_audit.review import ReviewItem

    sessions = app.extensions["storage"].sessions
    sku_id = make_sku(sessions, price=12900, stock=30)
    client, headers = api_clients(app)
    answer = client.post(API, json=api_body(sku_id, title="转发朋友圈即可领取小样"),
                         headers=headers["manager"])
    assert answer.status_code == 202, answer.get_json()
    assert "活动标题已提交合规审核" in answer.get_json()["message"]
    assert campaign_ids(app) == []
    with sessions() as db:  # the review item is kept for the compliance reviewer
        item = db.scalar(select(ReviewItem))
        assert item is not None and item.author == "manager"
    assert audit_actions(app) == []


def test_the_api_previews_the_economics_and_lists_the_problems(app):
    pytest.importorskip("promotions.bargain_economics")
    client, headers = api_clients(app)
    auth = headers["manager"]
    body = {"price_fen": 12900, "floor_fen": 990, "helpers_needed": 3, "hours_per_launch": 24,
            "expected_launches": 100, "arrival_per_hour": 0.2, "stock_quota": 20,
            "new_customer_share": 0.3, "unit_cost_fen": 2000}
    answer = client.post(f"{API}/preview", json=body, headers=auth)
    assert answer.status_code == 200, answer.get_json()
    got = answer.get_json()
    for name in ("completion_probability", "expected_helpers_per_launch", "expected_helpers",
                 "expected_completions", "expected_new_customers",
                 "discount_per_completion_fen", "total_discount_fen",
                 "cost_per_new_customer_fen", "stock_exposure_units", "stock_exposure_fen",
                 "margin_at_floor_fen", "median_hours_to_complete", "first_cut_fen",
                 "schedule_example", "warnings"):
        assert name in got, name
    assert got["discount_per_completion_fen"] == 12900 - 990
    assert got["margin_at_floor_fen"] == 990 - 2000
    assert sum(got["schedule_example"]) == 12900 - 990
    assert "底价低于成本，每单亏 ¥10.10" in got["warnings"]
    assert "假设每个发起平均每小时有 0.2 位好友帮砍" in got["assumption"]
    bad = client.post(f"{API}/preview", json={**body, "arrival_per_hour": "快",
                                              "new_customer_share": 30}, headers=auth)
    assert bad.status_code == 400
    problems = bad.get_json()["problems"]
    assert any("每小时助力人数" in p for p in problems)
    assert any("新顾客占比" in p for p in problems)
    missing = client.post(f"{API}/preview", json={"price_fen": 12900}, headers=auth)
    assert missing.status_code == 400 and "缺少 floor_fen" in missing.get_json()["problems"]
    assert client.post(f"{API}/preview", data="x", headers=auth).status_code == 400
    assert campaign_ids(app) == [] and audit_actions(app) == []


def test_the_api_ledger_lists_launches_and_masked_helpers(app):
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    older = make_launch(sessions, campaign_id, "o-older-a1", cuts=3, state="completed")
    newer = make_launch(sessions, campaign_id, "o-newer-b2", cuts=1)
    add_help(sessions, newer, "o-risky-helper", state="held", risk=80, reasons="新号")
    client, headers = api_clients(app)
    auth = headers["manager"]
    answer = client.get(f"{API}/{campaign_id}/launches", headers=auth)
    assert answer.status_code == 200
    launches = answer.get_json()["launches"]
    assert [launch["id"] for launch in launches] == [newer, older]  # newest first
    first = launches[0]
    with sessions() as db:
        launch = db.get(BargainLaunch, newer)
        assert (first["start_fen"], first["floor_fen"], first["cut_fen"], first["left_fen"],
                first["helpers_left"]) == (12900, 990, launch.cut_fen, launch.left_fen, 2)
        assert first["expires_at"] == launch.expires_at.replace(tzinfo=UTC).isoformat()
    assert (first["state"], first["state_text"]) == ("open", "砍价中")
    assert first["starter"] == "o-newe…"
    assert [(h["seq"], h["state"], h["source"]) for h in first["helps"]] == [
        (0, "counted", "code"), (None, "held", "page")]
    risky = first["helps"][1]
    assert (risky["helper"], risky["risk"], risky["reasons"]) == ("o-risk…", 80, "新号")
    assert risky["created_at"].endswith("+00:00")
    assert "o-risky-helper" not in answer.text and "o-newer-b2" not in answer.text
    limited = client.get(f"{API}/{campaign_id}/launches?limit=1", headers=auth).get_json()
    assert [launch["id"] for launch in limited["launches"]] == [newer]
    for limit in ("0", "x", "1001", "-1"):
        bad = client.get(f"{API}/{campaign_id}/launches?limit={limit}", headers=auth)
        assert bad.status_code == 400 and "limit 需为" in bad.get_json()["message"], limit
    missing = client.get(f"{API}/999/launches", headers=auth)
    assert missing.status_code == 404 and missing.get_json()["message"] == "没有这个砍价活动"


def test_the_api_lists_and_decides_held_helps_through_the_ledger(app):
    pytest.importorskip("promotions.bargain_ledger")
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    other_id = make_campaign(sessions, make_sku(sessions))
    launch_id = make_launch(sessions, campaign_id, "o-starter", cuts=1)
    first = add_help(sessions, launch_id, "o-risky", state="held", risk=80,
                     reasons="新号；同设备多次助力")
    second = add_help(sessions, launch_id, "o-second", state="held")
    client, headers = api_clients(app)
    auth = headers["manager"]
    queue = client.get(f"{API}/helps/held", headers=auth).get_json()["helps"]
    assert [h["id"] for h in queue] == [first, second]
    assert queue[0]["helper"] == "o-risk…" and queue[0]["reasons"] == "新号；同设备多次助力"
    assert client.get(f"{API}/helps/held?campaign_id={other_id}",
                      headers=auth).get_json()["helps"] == []
    assert client.get(f"{API}/helps/held?campaign_id=x", headers=auth).status_code == 400
    approved = client.post(f"{API}/helps/{first}/approve", headers=auth)
    assert approved.status_code == 200, approved.get_json()
    got = approved.get_json()
    assert got["decision"] == "approve" and got["help"]["state"] == "counted"
    assert got["amount_fen"] > 0 and got["helpers_left"] == 1 and got["completed"] is False
    assert got["help"]["decided_by"] == "manager"
    rejected = client.post(f"{API}/helps/{second}/reject", headers=auth)
    assert rejected.status_code == 200 and rejected.get_json()["help"]["state"] == "rejected"
    again = client.post(f"{API}/helps/{second}/approve", headers=auth)
    assert again.status_code == 409
    assert again.get_json() == {"error": "decided", "message": "这条帮砍已经处理过了。"}
    assert client.post(f"{API}/helps/99999/approve", headers=auth).status_code == 404
    assert client.get(f"{API}/helps/held", headers=auth).get_json()["helps"] == []
    with sessions() as db:
        assert db.get(BargainLaunch, launch_id).cuts_done == 2
        entries = list(db.scalars(select(AuditEntry)
                                  .where(AuditEntry.action.startswith("bargain.help"))
                                  .order_by(AuditEntry.id)))
    assert [(e.action, e.actor, e.details["via"]) for e in entries] == [
        ("bargain.help_approve", "manager", "api"), ("bargain.help_reject", "manager", "api")]
    assert entries[0].target == f"bargain_help:{first}"


def test_an_api_approval_after_the_launch_completed_is_409_and_on_record(app):
    pytest.importorskip("promotions.bargain_ledger")
    sessions = app.extensions["storage"].sessions
    campaign_id = make_campaign(sessions, make_sku(sessions))
    launch_id = make_launch(sessions, campaign_id, "o-starter", cuts=3, state="completed")
    late = add_help(sessions, launch_id, "o-late", state="held")
    client, headers = api_clients(app)
    answer = client.post(f"{API}/helps/{late}/approve", headers=headers["manager"])
    assert answer.status_code == 409 and "这个砍价已经砍到底价了" in answer.get_json()["message"]
    with sessions() as db:
        assert db.get(BargainHelp, late).state == "rejected"
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "bargain.help_approve"))
        assert entry.details["via"] == "api" and entry.details["refused"] == "complete"
