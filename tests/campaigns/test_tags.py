"""WeChat user tags: the sync against the real sandbox (paging, a tag deleted at WeChat, WeChat's
errors leaving no half-synced tag), tags as a segment fact, opaque customer addresses, the
overview's cache and the 客群 console (tag filter, 同步微信标签). Pushes narrowed by a tag are
tested beside the other push tests (test_planner, test_push_rules, test_push_console,
test_push_api), with the helpers here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select

from bot.wechat_api import WeChatAPI
from campaigns import member_refs, segment_overview, segments, tags
from campaigns.segments import Segment
from campaigns.tags import TagMember, WeChatTag
from console.audit_log import AuditEntry
from core.storage import Storage
from tests.campaigns.test_segments import NOW, add_follower, add_paid
from tests.conftest import APP_ID, APP_SECRET
from tests.console.conftest import signed_in

TAGS_GET = "/cgi-bin/tags/get"
MEMBERS = "/cgi-bin/user/tag/get"
VIP = [f"oVIP{i}" for i in range(7)]


# --- a sandbox that pages tag members 3 at a time -------------------------------------------


@pytest.fixture()
def small_pages() -> Iterator[str]:
    from devtools.sandbox import create_sandbox_app, serve_in_thread

    server = serve_in_thread(create_sandbox_app(
        {"APP_ID": APP_ID, "APP_SECRET": APP_SECRET, "PAGE_SIZE": 3}))
    yield server.url
    server.stop()


@pytest.fixture()
def shop(storage: Storage, small_pages: str) -> Storage:
    storage.wechat = WeChatAPI(small_pages, APP_ID, APP_SECRET, storage.redis, backoff=0.01)
    return storage


def follow(base: str, openids: list[str]) -> None:
    requests.post(f"{base}/sandbox/users", json={"openids": openids},
                  timeout=5).raise_for_status()


def create_tag(api: WeChatAPI, name: str) -> int:
    return api.call("POST", "/cgi-bin/tags/create", {"tag": {"name": name}})["tag"]["id"]


def tag(api: WeChatAPI, tag_id: int, openids: list[str], *, add: bool = True) -> None:
    path = "/cgi-bin/tags/members/" + ("batchtagging" if add else "batchuntagging")
    api.call("POST", path, {"openid_list": openids, "tagid": tag_id})


def fault(base: str, path: str, errcode: int, times: int = 1) -> None:
    requests.post(f"{base}/sandbox/faults", json={"path": path, "errcode": errcode,
                                                   "times": times}, timeout=5).raise_for_status()


def calls(base: str, path: str) -> int:
    return requests.get(f"{base}/sandbox/stats", timeout=5).json()["calls"].get(path, 0)


def stored(storage: Storage) -> dict[str, list[str]]:
    """Tag name → the openids stored for it."""
    with storage.sessions() as db:
        return {t.name: tags.members_of(db, t.id) for t in tags.all_tags(db)}


@pytest.fixture()
def tagged(shop: Storage, small_pages: str) -> dict[str, int]:
    """Seven VIP followers (three pages of members), two 新客, and the reserved 星标组."""
    api = shop.wechat
    follow(small_pages, [*VIP, "oNEW0", "oNEW1", "oPLAIN"])
    ids = {"VIP": create_tag(api, "VIP"), "新客": create_tag(api, "新客")}
    tag(api, ids["VIP"], VIP)
    tag(api, ids["新客"], ["oNEW0", "oNEW1", "oVIP0"])
    return ids


# --- the sync -------------------------------------------------------------------------------


def test_sync_pulls_every_tag_and_all_its_members_across_pages(shop, small_pages, tagged):
    result = tags.sync(shop, NOW)
    assert result.ok and (result.tags, result.members, result.removed) == (3, 10, 0)
    assert result.message == "已同步3个微信标签，共10人次"
    assert stored(shop) == {"VIP": sorted(VIP), "新客": ["oNEW0", "oNEW1", "oVIP0"],
                            "星标组": []}
    # 7 VIP members at 3 a page: 3 pages (the last one says there is no next), 1 each other
    assert calls(small_pages, MEMBERS) == 3 + 1 + 1
    with shop.sessions() as db:
        vip = db.get(WeChatTag, tagged["VIP"])
        assert vip.count == 7 and vip.synced_at is not None
        assert tags.last_synced_at(db) == NOW


def test_a_second_sync_replaces_what_changed_and_drops_a_tag_deleted_at_wechat(
        shop, small_pages, tagged):
    api = shop.wechat
    tags.sync(shop, NOW)
    tag(api, tagged["VIP"], ["oVIP5", "oVIP6"], add=False)
    api.call("POST", "/cgi-bin/tags/update", {"tag": {"id": tagged["VIP"], "name": "老VIP"}})
    api.call("POST", "/cgi-bin/tags/delete", {"tag": {"id": tagged["新客"]}})
    result = tags.sync(shop, NOW + timedelta(hours=1))
    assert result.ok and (result.tags, result.removed) == (2, 1)
    assert result.message == "已同步2个微信标签，共5人次，移除了微信上已删除的1个标签"
    assert stored(shop) == {"老VIP": [f"oVIP{i}" for i in range(5)], "星标组": []}
    with shop.sessions() as db:  # no member row of the deleted tag is left behind
        assert db.scalar(select(func.count()).select_from(TagMember)
                         .where(TagMember.tag_id == tagged["新客"])) == 0


def test_wechat_refusing_the_tag_list_changes_nothing(shop, small_pages, tagged):
    tags.sync(shop, NOW)
    before = stored(shop)
    tag(shop.wechat, tagged["VIP"], VIP, add=False)
    fault(small_pages, TAGS_GET, 45009)
    result = tags.sync(shop, NOW + timedelta(hours=1))
    assert not result.ok and result.tags == 0
    assert result.message == ("同步微信标签失败：读取标签列表时微信返回错误码45009，"
                              "已保存的标签未改动")
    assert stored(shop) == before


def test_an_error_in_the_middle_of_a_tags_pages_leaves_that_tag_as_it_was(
        shop, small_pages, tagged):
    api = shop.wechat
    tags.sync(shop, NOW)
    follow(small_pages, ["oVIP7", "oNEW2"])
    tag(api, tagged["VIP"], ["oVIP7"])
    tag(api, tagged["新客"], ["oNEW2"])
    # 星标组's one page and VIP's first page go through; VIP's second page fails
    fault(small_pages, MEMBERS, 0, times=2)
    fault(small_pages, MEMBERS, 45009)
    result = tags.sync(shop, NOW + timedelta(hours=1))
    assert not result.ok and result.failed == ["VIP"] and result.tags == 2
    assert result.message == ("已同步2个微信标签，共4人次；标签「VIP」未能同步"
                              "（读取成员时微信返回错误码45009），保持上次同步的结果")
    found = stored(shop)
    assert found["VIP"] == sorted(VIP)  # the first sync's seven, not half of the new eight
    assert found["新客"] == ["oNEW0", "oNEW1", "oNEW2", "oVIP0"]  # the others went on
    with shop.sessions() as db:
        assert db.get(WeChatTag, tagged["VIP"]).count == 7


def test_a_new_tag_whose_members_cannot_be_read_does_not_appear(shop, small_pages, tagged):
    api = shop.wechat
    tags.sync(shop, NOW)
    new = create_tag(api, "新标签")
    follow(small_pages, ["oNEW9"])
    tag(api, new, ["oNEW9"])
    fault(small_pages, MEMBERS, 0, times=5)  # 星标组 1 page, VIP 3, 新客 1
    fault(small_pages, MEMBERS, 45009)
    result = tags.sync(shop, NOW + timedelta(hours=1))
    assert result.failed == ["新标签"] and result.tags == 3
    with shop.sessions() as db:
        assert tags.get(db, new) is None and tags.members_of(db, new) == []
    assert "新标签" not in stored(shop)


def test_without_a_wechat_client_sync_says_so_and_the_job_does_nothing(storage):
    result = tags.sync(storage, NOW)
    assert not result.ok and result.message == "同步微信标签失败：没有配置微信接口"
    assert tags.sync_job(storage, NOW) is None


def test_a_sync_already_running_is_not_run_twice(shop, tagged):
    shop.redis.set(tags.LOCK_KEY, "someone", ex=60)
    result = tags.sync(shop, NOW)
    assert not result.ok and "另一次同步正在进行" in result.message
    assert stored(shop) == {}


def test_the_job_syncs_once_per_shanghai_day(shop, small_pages, tagged):
    assert tags.sync_job(shop, NOW).ok  # NOW is 12:00 in Shanghai
    assert tags.sync_job(shop, NOW + timedelta(hours=11)) is None  # 23:00, same day
    assert calls(small_pages, TAGS_GET) == 1
    assert tags.sync_job(shop, NOW + timedelta(hours=12, minutes=30)).ok  # 00:30 next day
    assert calls(small_pages, TAGS_GET) == 2


def test_the_job_retries_a_tag_a_failed_sync_left_behind_the_next_hour(
        shop, small_pages, tagged):
    tags.sync(shop, NOW - timedelta(days=1))  # yesterday: all synced
    fault(small_pages, MEMBERS, 0, times=2)  # 星标组 and VIP's first page go through…
    fault(small_pages, MEMBERS, 45009)  # …VIP's second page fails
    assert tags.sync_job(shop, NOW).failed == ["VIP"]
    later = tags.sync_job(shop, NOW + timedelta(hours=1))  # VIP is still yesterday's
    assert later is not None and later.ok
    assert tags.sync_job(shop, NOW + timedelta(hours=2)) is None  # everything is today's


def test_the_job_is_registered():
    from bot.domains import build_registry

    job = next(job for job in build_registry().jobs if job.name == "wechat_tag_sync")
    assert job.domain == "campaigns" and job.every_seconds == 3600 and job.run is tags.sync_job


# --- tags as a segment fact ------------------------------------------------------------------


def store_tag(db, tag_id: int, name: str, openids: list[str]) -> None:
    """A synced tag written directly (what `sync` leaves)."""
    db.add(WeChatTag(id=tag_id, name=name, count=len(openids), synced_at=NOW))
    db.flush()
    db.add_all(TagMember(openid=openid, tag_id=tag_id) for openid in openids)


def test_a_customers_tags_are_facts_in_the_explanation_and_on_the_member(storage):
    with storage.sessions.begin() as db:
        add_follower(db, "o-tagged", touched_days=200)
        add_follower(db, "o-plain", touched_days=200)
        store_tag(db, 101, "VIP", ["o-tagged"])
        store_tag(db, 102, "广东", ["o-tagged"])
    with storage.sessions() as db:
        e = segments.explain(db, "o-tagged", NOW)
        plain = segments.explain(db, "o-plain", NOW)
        members = {m.openid: m for m in segments.classify_all(db, NOW)}
    assert e.tags == ("VIP", "广东") and e.tag_ids == (101, 102)
    assert e.facts[-1] == "微信标签：VIP、广东"
    assert plain.tags == () and not any("微信标签" in line for line in plain.facts)
    assert members["o-tagged"].tags == ("VIP", "广东") and members["o-plain"].tags == ()


def test_a_segments_members_narrowed_by_tag_and_counted(storage):
    with storage.sessions.begin() as db:
        for i in range(5):
            add_follower(db, f"o-sleep-{i}", touched_days=200)
        add_follower(db, "o-first", touched_days=5)
        add_paid(db, "o-first", [5])
        store_tag(db, 7, "VIP", ["o-sleep-1", "o-sleep-3", "o-first", "o-unknown"])
    with storage.sessions() as db:
        found = segments.members(db, Segment.DORMANT, NOW, tag_id=7)
        assert [m.openid for m in found] == ["o-sleep-1", "o-sleep-3"]
        assert segments.members(db, Segment.DORMANT, NOW, tag_id=7, offset=1, limit=5)[0] \
            .openid == "o-sleep-3"
        assert segments.count_tagged(db, Segment.DORMANT, 7, NOW) == 2
        assert segments.count_tagged(db, Segment.FIRST_ORDER, 7, NOW) == 1
        assert segments.count_tagged(db, Segment.ACTIVE, 7, NOW) == 0
        view = segment_overview.overview(db, NOW)
    assert view.counts[Segment.DORMANT] == 5
    (vip,) = view.tags
    # o-unknown is tagged at WeChat but not a customer the shop knows: not counted
    assert (vip.name, vip.total, vip.counts[Segment.DORMANT]) == ("VIP", 3, 2)


# --- opaque customer references ---------------------------------------------------------------


def test_member_refs_are_opaque_stable_and_open_only_under_their_key():
    secret = "k" * 40
    ref = member_refs.member_ref("oABCDEFG-007", secret)
    assert "oABCDEFG" not in ref and re.fullmatch(r"[A-Za-z0-9_-]+", ref)
    assert member_refs.member_ref("oABCDEFG-007", secret) == ref
    assert member_refs.member_ref("oABCDEFG-008", secret) != ref
    assert member_refs.openid_of(ref, secret) == "oABCDEFG-007"
    assert member_refs.openid_of(ref, "x" * 40) is None
    tampered = ref[:-2] + ("AA" if ref[-2:] != "AA" else "BB")
    assert member_refs.openid_of(tampered, secret) is None
    for junk in ("oABCDEFG-007", "", "a" * 500, "../../etc", ref + "="):
        assert member_refs.openid_of(junk, secret) is None


# --- the overview's cache -----------------------------------------------------------------


def test_the_overview_is_cached_a_minute_per_thresholds_until_dropped(storage):
    redis = storage.redis
    with storage.sessions.begin() as db:
        add_follower(db, "o-1", touched_days=200)
    with storage.sessions() as db:
        first = segment_overview.cached_overview(db, redis, NOW)
    with storage.sessions.begin() as db:
        add_follower(db, "o-2", touched_days=200)
    with storage.sessions() as db:
        again = segment_overview.cached_overview(db, redis, NOW + timedelta(seconds=30))
        other = segment_overview.cached_overview(db, redis, NOW,
                                                 segments.Thresholds(dormant_days=300))
    assert (first.cached, first.counts[Segment.DORMANT]) == (False, 1)
    assert (again.cached, again.counts[Segment.DORMANT], again.computed_at) == (True, 1, NOW)
    assert (other.cached, other.counts[Segment.PROSPECT]) == (False, 2)  # its own key
    assert 0 < redis.ttl(segment_overview._overview_key(redis, segments.DEFAULT_THRESHOLDS)) <= 60
    segment_overview.invalidate_overview(redis)
    with storage.sessions() as db:
        fresh = segment_overview.cached_overview(db, redis, NOW + timedelta(seconds=40))
    assert (fresh.cached, fresh.counts[Segment.DORMANT]) == (False, 2)


def test_a_tag_sync_drops_the_cached_overview(shop, tagged):
    with shop.sessions.begin() as db:
        for openid in VIP:
            add_follower(db, openid, touched_days=200)
    with shop.sessions() as db:
        assert segment_overview.cached_overview(db, shop.redis, NOW).tags == ()
    tags.sync(shop, NOW)
    with shop.sessions() as db:
        after = segment_overview.cached_overview(db, shop.redis, NOW)
    assert not after.cached
    assert {t.name: t.counts[Segment.DORMANT] for t in after.tags} == \
        {"VIP": 7, "新客": 1, "星标组": 0}


# --- the console ------------------------------------------------------------------------------


def seed_console(console_app) -> dict[str, int]:
    """Seven dormant followers and a prospect, in SQL and in the console's sandbox, tagged at
    WeChat (not yet synced): VIP on oVIP0–2, 新客 on oNEW0 and oVIP6."""
    storage = console_app.extensions["storage"]
    api = console_app.extensions["wechat_api"]
    now = datetime.now(UTC)
    with storage.sessions.begin() as db:
        for openid in VIP:
            add_follower(db, openid, touched_days=200, now=now)
        add_follower(db, "oNEW0", touched_days=5, now=now)
    follow(api.base_url, [*VIP, "oNEW0"])
    ids = {"VIP": create_tag(api, "VIP"), "新客": create_tag(api, "新客")}
    tag(api, ids["VIP"], VIP[:3])
    tag(api, ids["新客"], ["oNEW0", "oVIP6"])
    return ids


def test_the_sync_button_needs_csrf_shows_the_result_and_is_audit_logged(console_app):
    storage = console_app.extensions["storage"]
    ids = seed_console(console_app)
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/campaigns/segments")
    assert "同步微信标签" in page.text and "还没有同步过微信标签" in page.text
    assert manager.post("/admin/campaigns/segments/tags/sync",
                        with_token=False).status_code == 400
    with storage.sessions() as db:
        assert tags.all_tags(db) == []
    done = manager.post("/admin/campaigns/segments/tags/sync", follow_redirects=True)
    assert done.status_code == 200
    assert '<p class="notice" role="status">已同步3个微信标签，共5人次</p>' in done.text
    row = re.search(rf'<tr data-tag="{ids["VIP"]}">(.*?)</tr>', done.text).group(1)
    assert "<td>VIP</td><td data-total>3</td>" in row
    assert (f'<td data-tag-segment="dormant"><a href="/admin/campaigns/segments/dormant?'
            f'tag={ids["VIP"]}">3</a></td>') in row
    new_row = re.search(rf'<tr data-tag="{ids["新客"]}">(.*?)</tr>', done.text).group(1)
    assert '<td data-tag-segment="prospect"><a' in new_row and "data-total>2<" in new_row
    assert "最近一次同步" in done.text
    with storage.sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "campaigns.tag_sync"))
    assert entry.actor == "manager" and '"tags": 3' in entry.detail


def test_a_failed_sync_says_why_on_the_page(console_app):
    seed_console(console_app)
    base = console_app.extensions["wechat_api"].base_url
    fault(base, TAGS_GET, 45009)
    manager = signed_in(console_app, "manager")
    done = manager.post("/admin/campaigns/segments/tags/sync", follow_redirects=True)
    assert done.status_code == 200
    assert ('<p class="error" role="alert">同步微信标签失败：读取标签列表时微信返回错误码45009，'
            "已保存的标签未改动</p>") in done.text


def test_the_members_page_filters_by_tag_and_links_by_opaque_reference(console_app):
    ids = seed_console(console_app)
    tags.sync(console_app.extensions["storage"])
    manager = signed_in(console_app, "manager")
    page = manager.get(f"/admin/campaigns/segments/dormant?tag={ids['VIP']}")
    assert page.status_code == 200 and "沉睡客户 · 标签「VIP」" in page.text
    assert page.text.count("<tr data-member=") == 3
    assert page.text.count("<td data-tags>VIP</td>") == 3
    everyone = manager.get("/admin/campaigns/segments/dormant")
    assert everyone.text.count("<tr data-member=") == 7
    assert "<td data-tags>新客</td>" in everyone.text  # oVIP6
    assert 'id="tag-filter"' in everyone.text
    for bad in ("999999", "abc", "-1"):
        assert manager.get(f"/admin/campaigns/segments/dormant?tag={bad}").status_code == 404
    empty = manager.get(f"/admin/campaigns/segments/active?tag={ids['VIP']}")
    assert "这个客群目前没有带这个标签的顾客" in empty.text
    links = re.findall(r'href="(/admin/campaigns/segments/customer/[^"]+)"', page.text)
    assert len(links) == 3 and not any("oVIP" in link for link in links)
    explained = manager.get(links[0])
    assert explained.status_code == 200
    assert "微信标签：VIP" in explained.text and "为什么是沉睡客户" in explained.text
    assert manager.get("/admin/campaigns/segments/customer/oVIP0").status_code == 404
    assert manager.get(links[0][:-3] + "xyz").status_code == 404


def test_the_overview_says_when_its_counts_were_computed_and_recompute_refreshes_them(
        console_app):
    storage = console_app.extensions["storage"]
    now = datetime.now(UTC)
    with storage.sessions.begin() as db:
        add_follower(db, "o-sleep-0", touched_days=200, now=now)
    manager = signed_in(console_app, "manager")

    def dormant_count(html: str) -> str:
        return re.search(r'<tr data-segment="dormant">.*?<td data-count>(\d+)</td>', html,
                         re.S).group(1)

    first = manager.get("/admin/campaigns/segments")
    assert dormant_count(first.text) == "1"
    assert re.search(r"「当前人数」计算于 \d{4}-\d\d-\d\d \d\d:\d\d:\d\d（北京时间）；60秒内",
                     first.text)
    with storage.sessions.begin() as db:
        add_follower(db, "o-sleep-1", touched_days=200, now=now)
    assert dormant_count(manager.get("/admin/campaigns/segments").text) == "1"  # cached
    done = manager.post("/admin/campaigns/segments/snapshot", follow_redirects=True)
    assert dormant_count(done.text) == "2"


