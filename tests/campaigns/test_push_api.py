"""/api/v1/campaigns: bearer tokens of the manager role, segments and their members (masked),
pushes created, dry-run, shown with their reports and conversion, moved on the audit log, and
the calendar; every refusal a JSON error with a Chinese message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaigns import tags
from campaigns.pushes import Push, PushDelivery, PushRun
from console import accounts, api_tokens
from console.audit_log import AuditEntry
from core.clock import SHANGHAI
from tests.campaigns.test_segments import add_follower
from tests.campaigns.test_tags import seed_console

API = "/api/v1/campaigns"


def _tomorrow_at(hour: int) -> datetime:
    local = datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=1)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def _body(**overrides) -> dict:
    body = {"name": "唤醒老顾客", "segment": "dormant",
            "variants": ["好久不见！为您准备了一张回归优惠券，7天内有效。"],
            "channels": ["custom", "mass"], "trigger": "once",
            "trigger_at": _tomorrow_at(10).isoformat(), "holdout_percent": 10}
    body.update(overrides)
    return body


def _push(db, **fields) -> Push:
    now = datetime.now(UTC)
    values = {"name": "每周上新", "segment": "dormant",
              "variants": json.dumps([{"key": "A", "text": "本周上新"}], ensure_ascii=False),
              "channels": "custom,mass", "trigger": "cron", "cron": "0 10 * * 1",
              "state": "scheduled", "review": "send", "created_by": "manager",
              "created_at": now, "updated_at": now, **fields}
    push = Push(**values)
    db.add(push)
    db.flush()
    return push


def _dormant(storage, count: int) -> None:
    now = datetime.now(UTC)
    with storage.sessions.begin() as db:
        for i in range(count):
            add_follower(db, f"oDORMANT-{i:03d}", touched_days=200, now=now)


def _count(storage, model) -> int:
    with storage.sessions() as db:
        return db.scalar(select(func.count()).select_from(model))


def _audit(storage, action: str) -> list[AuditEntry]:
    with storage.sessions() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture()
def api(console_app):
    """A test client and the headers of a manager's, a reviewer's and an agent's token."""
    with console_app.extensions["storage"].sessions.begin() as db:
        secrets = {name: api_tokens.issue(db, accounts.find(db, name), "script")[1]
                   for name in ("manager", "reviewer", "agent")}
    headers = {name: {"Authorization": f"Bearer {secret}"} for name, secret in secrets.items()}
    return console_app.test_client(), headers


# --- who may use it -------------------------------------------------------------------------


def test_every_endpoint_needs_a_token_of_the_campaigns_role(console_app, api):
    client, headers = api
    with console_app.extensions["storage"].sessions.begin() as db:
        push_id = _push(db).id
    calls = [("get", "/segments", {}), ("get", "/segments/dormant", {}),
             ("get", "/pushes", {}), ("post", "/pushes", {"json": _body()}),
             ("post", "/pushes/dry-run", {"json": _body()}), ("get", f"/pushes/{push_id}", {}),
             ("post", f"/pushes/{push_id}/pause", {}), ("post", f"/pushes/{push_id}/resume", {}),
             ("post", f"/pushes/{push_id}/cancel", {}), ("get", "/calendar", {})]
    for method, path, extra in calls:
        missing = getattr(client, method)(API + path, **extra)
        assert missing.status_code == 401, path
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = getattr(client, method)(API + path, headers={"Authorization": "Bearer nope"},
                                        **extra)
        assert wrong.status_code == 401, path
        for who in ("reviewer", "agent"):
            refused = getattr(client, method)(API + path, headers=headers[who], **extra)
            assert refused.status_code == 403, (who, path)
            assert refused.get_json()["error"] == "forbidden"
    storage = console_app.extensions["storage"]
    with storage.sessions() as db:
        assert db.get(Push, push_id).state == "scheduled"
    assert _count(storage, Push) == 1
    assert not _audit(storage, "campaigns.push_pause")
    assert not _audit(storage, "campaigns.push_create")


# --- segments -------------------------------------------------------------------------------


def test_segments_have_their_counts_and_members_their_masked_openids(console_app, api):
    client, headers = api
    _dormant(console_app.extensions["storage"], 3)
    answer = client.get(f"{API}/segments", headers=headers["manager"])
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    found = {s["key"]: s for s in answer.get_json()["segments"]}
    assert found["dormant"]["count"] == 3 and found["dormant"]["label"] == "沉睡客户"
    assert found["dormant"]["strategy"]["offers"] == ["唤醒优惠券"]
    assert found["lost"]["strategy"] is None and answer.get_json()["total"] == 3

    page = client.get(f"{API}/segments/dormant?limit=2", headers=headers["manager"]).get_json()
    assert [m["openid"] for m in page["members"]] == ["oDORMA…", "oDORMA…"]
    assert page["has_more"] is True and page["limit"] == 2 and page["offset"] == 0
    member = page["members"][0]
    assert member["segment"] == "dormant" and member["reason"]
    assert member["rfm"]["text"] == "R1 F1 M1" and "kind" in member["channel"]
    assert "oDORMANT-000" not in json.dumps(page, ensure_ascii=False)
    rest = client.get(f"{API}/segments/dormant?limit=2&offset=2",
                      headers=headers["manager"]).get_json()
    assert len(rest["members"]) == 1 and rest["has_more"] is False


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=ten", "offset=-1"])
def test_a_bad_page_is_400_and_an_unknown_segment_404(api, query):
    client, headers = api
    bad = client.get(f"{API}/segments/dormant?{query}", headers=headers["manager"])
    assert bad.status_code == 400 and "需为" in bad.get_json()["message"]
    unknown = client.get(f"{API}/segments/nobody", headers=headers["manager"])
    assert unknown.status_code == 404 and unknown.get_json()["message"] == "没有这个客群"


# --- creating -------------------------------------------------------------------------------


def test_create_stores_the_push_audits_it_and_returns_the_warnings(console_app, api):
    client, headers = api
    storage = console_app.extensions["storage"]  # nobody is dormant: a warning only
    at = _tomorrow_at(10)
    made = client.post(f"{API}/pushes", headers=headers["manager"],
                       json=_body(variants=["好久不见！", "回来看看吧，本周上新了。"],
                                  holdout_percent=60))
    assert made.status_code == 201, made.get_json()
    push = made.get_json()
    assert "该客群目前没有顾客" in push["warnings"]
    assert any("对照组占60%" in w for w in push["warnings"])
    assert push["state"] == "scheduled" and push["state_text"] == "已排期"
    assert push["trigger_at"] == at.astimezone(UTC).isoformat()
    assert push["next_fire"] == at.astimezone(UTC).isoformat()
    assert [v["key"] for v in push["variants"]] == ["A", "B"]
    assert push["channels"] == ["custom", "mass"] and push["created_by"] == "manager"
    assert made.headers["Location"].endswith(f"{API}/pushes/{push['id']}")
    [entry] = _audit(storage, "campaigns.push_create")
    assert entry.actor == "manager" and entry.target == f"push:{push['id']}"
    assert entry.details["via"] == "api" and entry.details["variants"] == 2
    listed = client.get(f"{API}/pushes", headers=headers["manager"]).get_json()
    assert [p["id"] for p in listed["pushes"]] == [push["id"]]


@pytest.mark.parametrize(("overrides", "message"), [
    ({"holdout_percent": 100}, "对照组为100%时没有人会收到推送"),
    ({"segment": "lost"}, "流失客户已取消关注，无法推送"),
    ({"channels": ["template"]}, "模板消息只能用于服务通知"),
    ({"trigger": "cron", "cron": "* * * * *"}, "每分钟触发一次，太频繁"),
    ({"trigger_at": _tomorrow_at(23).isoformat()}, "在免打扰时段"),
    ({"variants": []}, "请填写推送文案"),
])
def test_create_refuses_with_every_error(console_app, api, overrides, message):
    client, headers = api
    refused = client.post(f"{API}/pushes", headers=headers["manager"], json=_body(**overrides))
    assert refused.status_code == 400
    answer = refused.get_json()
    assert answer["error"] == "invalid" and any(message in e for e in answer["errors"])
    assert message in answer["message"] and "warnings" in answer
    storage = console_app.extensions["storage"]
    assert _count(storage, Push) == 0 and not _audit(storage, "campaigns.push_create")


@pytest.mark.parametrize(("body", "message"), [
    ("not json", "请发送 JSON 对象"),
    (["a list"], "请发送 JSON 对象"),
    ({**_body(), "trigger_at": "2030-01-01T10:00:00"}, "带时区的 ISO 8601"),
    ({**_body(), "trigger_at": "明天"}, "带时区的 ISO 8601"),
    ({**_body(), "frequency_cap": "两次"}, "频次上限需为整数"),
    ({**_body(), "holdout_percent": True}, "对照组比例需为整数"),
    ({**_body(), "variants": "一条文案"}, "推送文案需为文字列表"),
    ({**_body(), "colour": "red"}, "未知的字段：colour"),
])
def test_a_body_that_is_not_a_draft_is_400(console_app, api, body, message):
    client, headers = api
    extra = {"data": body, "content_type": "application/json"} if isinstance(body, str) \
        else {"json": body}
    for path in ("/pushes", "/pushes/dry-run"):
        refused = client.post(API + path, headers=headers["manager"], **extra)
        assert refused.status_code == 400, path
        assert message in refused.get_json()["message"], path
        assert refused.get_json()["errors"]
    assert _count(console_app.extensions["storage"], Push) == 0


# --- the dry run ----------------------------------------------------------------------------


def test_the_dry_run_counts_who_would_get_what_and_writes_nothing(console_app, api):
    client, headers = api
    storage = console_app.extensions["storage"]
    _dormant(storage, 5)
    answer = client.post(f"{API}/pushes/dry-run", headers=headers["manager"],
                         json=_body(holdout_percent=0))
    assert answer.status_code == 200
    dry = answer.get_json()
    assert dry["ok"] is True and dry["errors"] == []
    assert (dry["total"], dry["planned"], dry["holdout"], dry["skipped_total"]) == (5, 5, 0, 0)
    assert dry["by_channel"] == {"mass": 5} and dry["by_variant"] == {"A": 5}
    assert dry["fire_at"] == _tomorrow_at(10).astimezone(UTC).isoformat()
    assert len(dry["sample"]) == 5 and dry["sample"][0]["openid"] == "oDORMA…"
    assert dry["sample"][0]["text"].startswith("好久不见")
    only_custom = client.post(f"{API}/pushes/dry-run", headers=headers["manager"],
                              json=_body(channels=["custom"])).get_json()
    assert only_custom["skipped"] == {"客服消息：48小时内没有留言或付款": 5}
    # A refused draft still shows who it would reach, beside its errors.
    refused = client.post(f"{API}/pushes/dry-run", headers=headers["manager"],
                          json=_body(holdout_percent=100)).get_json()
    assert refused["ok"] is False and "对照组为100%时没有人会收到推送" in refused["errors"]
    assert _count(storage, Push) == 0 and _count(storage, PushRun) == 0
    assert _count(storage, PushDelivery) == 0


# --- one push: runs, reports, conversion -----------------------------------------------------


def test_a_push_shows_its_runs_reports_and_conversion_verdicts(console_app, api):
    client, headers = api
    storage = console_app.extensions["storage"]
    fire = datetime.now(UTC) - timedelta(days=10)
    with storage.sessions.begin() as db:
        push_id = _push(db).id
        run = PushRun(push_id=push_id, fire_at=fire, kind="main", state="done")
        db.add(run)
        db.flush()

        def deliver(openid: str, **fields) -> None:
            db.add(PushDelivery(run_id=run.id, openid=openid, created_at=fire, **fields))

        for i in range(12):
            deliver(f"oS{i}", state="sent", channel="mass" if i < 8 else "custom",
                    variant="A", sent_at=fire)
        for i in range(4):
            deliver(f"oH{i}", state="holdout", holdout=True, variant="")
        for i in range(3):
            deliver(f"oK{i}", state="skipped", reason="7天内已收到2条推送")
        for i in range(2):
            deliver(f"oF{i}", state="failed", channel="mass", error_code=43004,
                    error="require subscribe")
        deliver("oU0", state="unknown", channel="mass")
        run_id = run.id
    answer = client.get(f"{API}/pushes/{push_id}", headers=headers["manager"])
    assert answer.status_code == 200
    push = answer.get_json()
    assert push["name"] == "每周上新" and push["trigger_text"] == "周期：0 10 * * 1（北京时间）"
    [shown] = push["runs"]
    assert shown["id"] == run_id and shown["state_text"] == "已完成"
    report = shown["report"]
    assert (report["total"], report["sent"], report["holdout"], report["unknown"]) == \
        (22, 12, 4, 1)
    assert report["by_channel"] == {"mass": 8, "custom": 4}
    assert report["skipped"] == {"7天内已收到2条推送": 3} and report["skipped_total"] == 3
    assert report["failed"] == [{"code": 43004, "error": "require subscribe", "count": 2}]
    overall = push["conversion"]
    # intention to treat: 12 sent, 1 unknown and 2 failed were all planned on a channel
    assert [g["recipients"] for g in overall["variants"]] == [15]
    assert overall["holdout"]["recipients"] == 4
    assert overall["sentences"] and "样本太少，还不能下结论" in overall["sentences"][0]
    assert shown["conversion"]["sentences"] == overall["sentences"]
    missing = client.get(f"{API}/pushes/999", headers=headers["manager"])
    assert missing.status_code == 404 and missing.get_json()["message"] == "没有这个推送"


# --- pausing, resuming, cancelling ----------------------------------------------------------


def test_moves_are_audit_logged_via_the_api_and_refused_with_409(console_app, api):
    client, headers = api
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        push_id = _push(db).id
        db.add(PushRun(push_id=push_id, fire_at=datetime.now(UTC) + timedelta(days=1),
                       kind="main", state="planned"))
    base = f"{API}/pushes/{push_id}"
    manager = headers["manager"]
    not_paused = client.post(f"{base}/resume", headers=manager)
    assert not_paused.status_code == 409
    assert not_paused.get_json()["message"] == "推送当前为「已排期」，不能恢复"
    paused = client.post(f"{base}/pause", headers=manager)
    assert paused.status_code == 200 and paused.get_json()["state"] == "paused"
    assert "已暂停" in paused.get_json()["message"] and paused.get_json()["next_fire"] is None
    assert client.post(f"{base}/resume", headers=manager).get_json()["state"] == "scheduled"
    cancelled = client.post(f"{base}/cancel", headers=manager)
    assert cancelled.status_code == 200 and cancelled.get_json()["state"] == "cancelled"
    again = client.post(f"{base}/pause", headers=manager)
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_state"
    assert again.get_json()["message"] == "推送当前为「已取消」，不能暂停"
    with storage.sessions() as db:
        assert db.scalar(select(PushRun.state)) == "cancelled"
    for move, state in (("pause", "paused"), ("resume", "scheduled"), ("cancel", "cancelled")):
        [entry] = _audit(storage, f"campaigns.push_{move}")
        assert entry.actor == "manager" and entry.target == f"push:{push_id}"
        assert entry.details["state"] == state and entry.details["via"] == "api"
    unknown = client.post(f"{API}/pushes/999/pause", headers=manager)
    assert unknown.status_code == 404 and unknown.get_json()["message"] == "没有这个推送"


# --- the calendar ---------------------------------------------------------------------------


def test_the_calendar_lists_the_next_sends_and_checks_its_days(console_app, api):
    client, headers = api
    with console_app.extensions["storage"].sessions.begin() as db:
        weekly = _push(db, announce_days=2, announce_text="周一上新预告").id
        _push(db, name="已暂停的", cron="0 9 * * *", state="paused")
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    mondays = [d.replace(hour=10) for d in (today + timedelta(days=i) for i in range(14))
               if d.weekday() == 0 and d.replace(hour=10) > now]
    answer = client.get(f"{API}/calendar", headers=headers["manager"])
    assert answer.status_code == 200
    calendar = answer.get_json()
    assert len(calendar["days"]) == 14 and calendar["days"][0]["day"] == f"{today:%Y-%m-%d}"
    entries = [e for day in calendar["days"] for e in day["entries"]]
    mains = [e["at"] for e in entries if e["push_id"] == weekly and e["kind"] == "main"]
    assert mains == [m.astimezone(UTC).isoformat() for m in mondays]
    assert all(e["name"] != "已暂停的" for e in entries)
    assert calendar["total"] == len(entries)
    assert len(client.get(f"{API}/calendar?days=3",
                          headers=headers["manager"]).get_json()["days"]) == 3
    for days in ("0", "93", "two"):
        bad = client.get(f"{API}/calendar?days={days}", headers=headers["manager"])
        assert bad.status_code == 400 and "days 需为" in bad.get_json()["message"]


def test_the_api_takes_and_shows_the_tag(console_app, api):
    client, headers = api
    ids = seed_console(console_app)
    tags.sync(console_app.extensions["storage"])
    manager = headers["manager"]
    dry = client.post("/api/v1/campaigns/pushes/dry-run", headers=manager,
                      json=_body(tag_id=ids["VIP"]))
    assert dry.status_code == 200 and dry.json["total"] == 3
    assert (dry.json["tag_id"], dry.json["tag"]) == (ids["VIP"], "VIP")
    bad = client.post("/api/v1/campaigns/pushes", headers=manager, json=_body(tag_id="VIP"))
    assert bad.status_code == 400 and "tag_id" in bad.json["message"]
    unknown = client.post("/api/v1/campaigns/pushes", headers=manager,
                          json=_body(tag_id=4242))
    assert unknown.status_code == 400 and "未知的标签" in unknown.json["message"]
    created = client.post("/api/v1/campaigns/pushes", headers=manager,
                          json=_body(tag_id=ids["VIP"]))
    assert created.status_code == 201
    assert (created.json["tag_id"], created.json["tag"]) == (ids["VIP"], "VIP")
    members = client.get("/api/v1/campaigns/segments/dormant?limit=200", headers=manager)
    assert [tuple(m["tags"]) for m in members.json["members"]].count(("VIP",)) == 3
