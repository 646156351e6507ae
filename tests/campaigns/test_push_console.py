"""The 推送 console: who may use it, CSRF, creating with every kind of refusal shown, the dry
run, pausing and cancelling on the audit log, the calendar, and a run's delivery report."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaigns import tags
from campaigns.pushes import Push, PushDelivery, PushRun, Suppression
from console.audit_log import AuditEntry
from core.clock import SHANGHAI
from shop import notices
from tests.campaigns.test_segments import add_follower
from tests.campaigns.test_tags import seed_console
from tests.console.conftest import signed_in

NEW = "/admin/campaigns/pushes/new"


def _local(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def _tomorrow_at(hour: int) -> datetime:
    local = datetime.now(UTC).astimezone(SHANGHAI) + timedelta(days=1)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


def _form(**overrides) -> dict:
    form = {"name": "唤醒老顾客", "segment": "dormant",
            "variant_a": "好久不见！为您准备了一张回归优惠券，7天内有效。",
            "variant_b": "", "channels": ["custom", "mass"], "trigger": "once",
            "trigger_at": _local(_tomorrow_at(10)), "cron": "", "trigger_days": "0",
            "announce_days": "0", "announce_text": "", "frequency_cap": "2",
            "quiet_start": "22:00", "quiet_end": "08:00", "holdout_percent": "10",
            "throttle_per_minute": "0", "action": "create"}
    form.update(overrides)
    return form


def _dormant(storage, count: int, prefix: str = "oDORMANT") -> None:
    now = datetime.now(UTC)
    with storage.sessions.begin() as db:
        for i in range(count):
            add_follower(db, f"{prefix}-{i:03d}", touched_days=200, now=now)


def _count(storage, model) -> int:
    with storage.sessions() as db:
        return db.scalar(select(func.count()).select_from(model))


def _audit(storage, action: str) -> list[AuditEntry]:
    with storage.sessions() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


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


# --- who may use it -------------------------------------------------------------------------


def test_the_pages_need_a_sign_in_and_the_campaigns_permission(console_app, console):
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        push_id = _push(db).id
    pages = ["/admin/campaigns/pushes", NEW, "/admin/campaigns/pushes/calendar",
             f"/admin/campaigns/pushes/{push_id}", f"/admin/campaigns/pushes/{push_id}/dry-run"]
    for page in pages:
        assert console.get(page).status_code == 302
    for who in ("reviewer", "agent"):
        person = signed_in(console_app, who)
        for page in pages:
            assert person.get(page).status_code == 403, (who, page)
        assert person.post(NEW, _form()).status_code == 403
        assert person.post(f"/admin/campaigns/pushes/{push_id}/pause").status_code == 403
    assert _count(storage, Push) == 1 and not _audit(storage, "campaigns.push_pause")
    manager = signed_in(console_app, "manager")
    listed = manager.get("/admin/campaigns/pushes")
    assert listed.status_code == 200
    assert 'href="/admin/campaigns/pushes" aria-current="page">推送</a>' in listed.text
    assert 'href="/admin/campaigns/pushes/calendar"' in listed.text
    assert f'<tr data-push="{push_id}">' in listed.text and "周期：0 10 * * 1" in listed.text
    assert manager.get("/admin/campaigns/pushes/999").status_code == 404


def test_posts_need_the_csrf_token(console_app):
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        push_id = _push(db).id
    manager = signed_in(console_app, "manager")
    manager.get(NEW)
    assert manager.post(NEW, _form(), with_token=False).status_code == 400
    for move in ("pause", "resume", "cancel"):
        assert manager.post(f"/admin/campaigns/pushes/{push_id}/{move}",
                            with_token=False).status_code == 400
    assert _count(storage, Push) == 1
    with storage.sessions() as db:
        assert db.get(Push, push_id).state == "scheduled"
    with storage.sessions() as db:
        assert not db.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action.like("campaigns.%")))


# --- creating --------------------------------------------------------------------------------


def test_the_form_offers_segments_with_counts_and_the_playbook_copy(console_app):
    _dormant(console_app.extensions["storage"], 3)
    manager = signed_in(console_app, "manager")
    page = manager.get(NEW)
    assert page.status_code == 200
    assert '<option value="dormant">沉睡客户（现在3人）</option>' in page.text
    assert 'value="lost"' not in page.text  # unfollowed customers cannot be pushed to
    assert 'value="template"' not in page.text
    for channel in ("custom", "subscribe", "mass"):
        assert f'name="channels" value="{channel}" checked' in page.text
    started = manager.get(f"{NEW}?segment=dormant")
    assert '<option value="dormant" selected>' in started.text
    assert "好久不见！店里最近上新了不少商品" in started.text.split('name="variant_a"')[1]
    assert "预演" in page.text and "创建" in page.text


@pytest.mark.parametrize(("overrides", "message"), [
    ({"holdout_percent": "100"}, "对照组为100%时没有人会收到推送"),
    ({"trigger": "cron", "cron": "* * * * *"}, "每分钟触发一次，太频繁"),
    ({"trigger": "cron", "cron": "0 10 30 2 *"}, "在未来一年内不会触发"),
    ({"trigger": "cron", "cron": "not a cron"}, "cron表达式「not a cron」无效"),
    ({"trigger_at": _local(_tomorrow_at(23))}, "在免打扰时段（22:00–08:00）内"),
    ({"trigger_at": _local(datetime.now(UTC) - timedelta(hours=2))}, "已经过去"),
    ({"variant_a": "全网最好用的面霜"}, "「最好用」"),
    ({"variant_b": "全网最好用的面霜"}, "文案B："),
    ({"channels": []}, "请至少选择一个发送渠道"),
    ({"segment": "lost"}, "流失客户已取消关注，无法推送"),
    ({"variant_a": ""}, "推送文案不能为空"),
    ({"announce_days": "3"}, "请填写预告文案"),
    ({"frequency_cap": "两次"}, "频次上限需为整数"),
    ({"trigger_at": "明天"}, "发送时间格式不对"),
])
def test_create_refuses_with_the_reason_and_keeps_the_form(console_app, overrides, message):
    storage = console_app.extensions["storage"]
    _dormant(storage, 2)
    manager = signed_in(console_app, "manager")
    refused = manager.post(NEW, _form(**overrides))
    assert refused.status_code == 400
    assert '<ul class="error" role="alert" id="errors">' in refused.text
    assert message in refused.text
    assert 'value="唤醒老顾客"' in refused.text  # the form comes back filled in
    assert _count(storage, Push) == 0 and not _audit(storage, "campaigns.push_create")


def test_create_stores_the_push_audits_it_and_says_the_warnings(console_app):
    storage = console_app.extensions["storage"]  # nobody is dormant: a warning, not a refusal
    manager = signed_in(console_app, "manager")
    at = _tomorrow_at(10)
    done = manager.post(NEW, _form(variant_b="回来看看吧，本周上新了。", holdout_percent="60"))
    assert done.status_code == 302
    page = manager.get(done.headers["Location"])
    assert "已创建推送「唤醒老顾客」" in page.text
    assert "该客群目前没有顾客" in page.text and "对照组占60%" in page.text
    assert 'data-state="scheduled"' in page.text
    assert f"<dd data-next>{at.strftime('%Y-%m-%d %H:%M')}</dd>" in page.text
    assert "回来看看吧，本周上新了。" in page.text
    with storage.sessions() as db:
        push = db.scalar(select(Push))
        assert push.state == "scheduled" and push.holdout_percent == 60
        assert [v["key"] for v in push.variant_list()] == ["A", "B"]
        assert push.channel_list() == ["custom", "mass"] and push.created_by == "manager"
    [entry] = _audit(storage, "campaigns.push_create")
    assert entry.actor == "manager" and entry.target == f"push:{push.id}"
    assert entry.details["segment"] == "dormant" and entry.details["variants"] == 2
    listed = manager.get("/admin/campaigns/pushes")
    assert at.strftime("%Y-%m-%d %H:%M") in listed.text and "已排期" in listed.text


# --- the dry run ----------------------------------------------------------------------------


def test_the_dry_run_shows_counts_channels_and_skip_reasons_and_writes_nothing(console_app):
    storage = console_app.extensions["storage"]
    _dormant(storage, 5)
    with storage.sessions.begin() as db:
        add_follower(db, "oGONE-001", touched_days=200, now=datetime.now(UTC))
        db.add(Suppression(openid="oGONE-001", code=43004, reason="已取消关注",
                           created_at=datetime.now(UTC)))
    manager = signed_in(console_app, "manager")
    page = manager.post(NEW, _form(action="preview", holdout_percent="0"))
    assert page.status_code == 200 and 'id="dry-run"' in page.text
    figures = dict(re.findall(r'data-figure="(\w+)"><span class="label">[^<]+</span>'
                              r"<strong>(\d+)</strong>", page.text))
    assert figures == {"total": "6", "planned": "5", "holdout": "0", "skipped": "1"}
    assert '<tr data-channel="mass"><th>渠道：群发（每人每月最多4次）</th><td>5</td></tr>' \
        in page.text
    assert '<tr data-variant="A"><th>文案A</th><td>5</td></tr>' in page.text
    assert "<th>跳过：微信提示无法送达（代码43004）</th><td>1</td>" in page.text
    assert page.text.count("<tr data-sample=") == 6 and "oDORMA…" in page.text
    assert "oDORMANT-000" not in page.text  # openids are masked
    # Only customer-service messages: nobody wrote in the last 48 hours, so all are skipped.
    only_custom = manager.post(NEW, _form(action="preview", channels=["custom"]))
    assert "<th>跳过：客服消息：48小时内没有留言或付款</th><td>5</td>" in only_custom.text
    # A refused draft still shows its errors beside the dry run.
    refused = manager.post(NEW, _form(action="preview", holdout_percent="100"))
    assert "对照组为100%时没有人会收到推送" in refused.text
    assert _count(storage, Push) == 0 and _count(storage, PushRun) == 0
    assert _count(storage, PushDelivery) == 0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"trigger": "inactive", "trigger_days": "999999"}, "天数最多365天"),
    ({"trigger": "after_first_order", "trigger_days": "999999"}, "天数最多365天"),
    ({"announce_days": "999999", "announce_text": "预告"}, "最多提前30天预告"),
    ({"trigger": "inactive", "trigger_days": "30", "announce_days": "3",
      "announce_text": "预告"}, "事件触发的推送不能提前预告"),
])
def test_oversized_days_are_refused_and_the_dry_run_never_fails(console_app, overrides,
                                                                message):
    storage = console_app.extensions["storage"]
    _dormant(storage, 2)
    manager = signed_in(console_app, "manager")
    preview = manager.post(NEW, _form(action="preview", **overrides))
    assert preview.status_code == 200 and message in preview.text
    refused = manager.post(NEW, _form(**overrides))
    assert refused.status_code == 400 and message in refused.text
    assert _count(storage, Push) == 0


def test_the_dry_run_shows_what_a_subscription_notice_shows(console_app):
    storage = console_app.extensions["storage"]
    _dormant(storage, 2)
    with storage.sessions.begin() as db:
        for i in range(2):
            notices.record_opt_in(db, f"oDORMANT-{i:03d}", "TPL-PUSH", datetime.now(UTC))
    console_app.config["PUSH_TEMPLATE_ID"] = "TPL-PUSH"
    manager = signed_in(console_app, "manager")
    copy = "好久不见！为您准备了回归礼，欢迎回来看看最近上新的商品。"
    page = manager.post(NEW, _form(action="preview", holdout_percent="0", variant_a=copy,
                                   channels=["subscribe", "mass"]))
    assert page.status_code == 200
    assert '<tr data-channel="subscribe">' in page.text
    assert f"A：{copy[:20]}</td>" in page.text
    assert "订阅通知只显示前20个字" in page.text


def test_a_stored_push_has_its_dry_run_too(console_app):
    storage = console_app.extensions["storage"]
    _dormant(storage, 3)
    with storage.sessions.begin() as db:
        push_id = _push(db, holdout_percent=0).id
    manager = signed_in(console_app, "manager")
    page = manager.get(f"/admin/campaigns/pushes/{push_id}/dry-run")
    assert page.status_code == 200 and "预演：每周上新" in page.text
    assert '<tr data-channel="mass"><th>渠道：群发（每人每月最多4次）</th><td>3</td></tr>' \
        in page.text
    assert _count(storage, PushDelivery) == 0


# --- pausing, resuming, cancelling ----------------------------------------------------------


def test_pause_resume_cancel_are_audit_logged_and_refused_when_final(console_app):
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        push_id = _push(db).id
        db.add(PushRun(push_id=push_id, fire_at=datetime.now(UTC) + timedelta(days=1),
                       kind="main", state="planned"))
    manager = signed_in(console_app, "manager")
    base = f"/admin/campaigns/pushes/{push_id}"
    page = manager.get(base)
    assert 'data-move="pause"' in page.text and 'data-move="resume"' not in page.text
    paused = manager.post(f"{base}/pause", follow_redirects=True)
    assert "「每周上新」已暂停" in paused.text and 'data-move="resume"' in paused.text
    resumed = manager.post(f"{base}/resume", follow_redirects=True)
    assert "已恢复" in resumed.text
    cancelled = manager.post(f"{base}/cancel", follow_redirects=True)
    assert "已取消：尚未发送的批次已一并取消" in cancelled.text
    assert 'data-move="' not in cancelled.text
    again = manager.post(f"{base}/pause", follow_redirects=True)
    assert "推送当前为「已取消」，不能暂停" in again.text
    with storage.sessions() as db:
        assert db.get(Push, push_id).state == "cancelled"
        assert db.scalar(select(PushRun.state)) == "cancelled"
    for move, state in (("pause", "paused"), ("resume", "scheduled"), ("cancel", "cancelled")):
        [entry] = _audit(storage, f"campaigns.push_{move}")
        assert entry.actor == "manager" and entry.target == f"push:{push_id}"
        assert entry.details["state"] == state


# --- the calendar ---------------------------------------------------------------------------


def test_the_calendar_lists_a_cron_pushs_next_fires_and_announcements(console_app):
    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        weekly = _push(db, announce_days=2, announce_text="周一上新预告").id
        late = _push(db, name="夜间提醒", cron="30 23 * * *", quiet_start="22:00",
                     quiet_end="08:00").id
        _push(db, name="已暂停的", cron="0 9 * * *", state="paused")
    now = datetime.now(UTC)
    today = now.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today + timedelta(days=i) for i in range(14)]
    mondays = [d.replace(hour=10) for d in days if d.weekday() == 0 and d.replace(hour=10) > now]
    saturdays = [d.replace(hour=10) for d in days
                 if d.weekday() == 5 and d.replace(hour=10) > now]
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/campaigns/pushes/calendar")
    assert page.status_code == 200
    assert page.text.count(f'data-push="{weekly}" data-kind="main"') == len(mondays)
    assert page.text.count(f'data-push="{weekly}" data-kind="announce"') == len(saturdays)
    for monday in mondays:
        assert f'<tr data-day="{monday:%Y-%m-%d}" data-push="{weekly}" data-kind="main">' \
            in page.text
    assert "已暂停的" not in page.text
    # 23:30 is in the quiet hours: shown at 08:00 the next morning, with the reason.
    assert "08:00 <span class=\"muted\">（原定23:30，免打扰顺延）</span>" in page.text
    # Fires on days 0–12 land inside the 14 days (day 13's waits until day 14's morning).
    late_fires = [d.replace(hour=23, minute=30) for d in days[:13]]
    assert page.text.count(f'data-push="{late}"') == sum(at > now for at in late_fires)
    assert page.text.count("<tr data-day=") >= 14


# --- the report -----------------------------------------------------------------------------


def test_the_push_page_reports_the_deliveries_of_each_run(console_app):
    storage = console_app.extensions["storage"]
    fire = datetime.now(UTC) - timedelta(days=10)
    with storage.sessions.begin() as db:
        push_id = _push(db, state="scheduled").id
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
        deliver("oK9", state="skipped", reason="订阅通知：没有订阅授权")
        for i in range(2):
            deliver(f"oF{i}", state="failed", channel="mass", error_code=43004,
                    error="require subscribe")
        deliver("oF9", state="failed", channel="custom", error_code=45015,
                error="response out of time limit")
        deliver("oU0", state="unknown", channel="mass")
        run_id = run.id
    manager = signed_in(console_app, "manager")
    page = manager.get(f"/admin/campaigns/pushes/{push_id}")
    assert page.status_code == 200
    block = page.text.split(f'<article class="run" data-run="{run_id}">')[1].split("</article>")[0]
    assert '<tr data-figure="total"><th>计划人数</th><td>24</td></tr>' in block
    assert '<tr data-figure="sent"><th>已发送</th><td>12（客服消息 4，群发 8）</td></tr>' in block
    assert '<tr data-figure="holdout"><th>对照组（不发送）</th><td>4</td></tr>' in block
    assert '<tr data-figure="unknown"><th>结果未知（发送中断）</th><td>1</td></tr>' in block
    assert "<th>跳过：7天内已收到2条推送</th><td>3</td>" in block
    assert "<th>跳过：订阅通知：没有订阅授权</th><td>1</td>" in block
    assert "<th>失败：错误码 43004（require subscribe）</th><td>2</td>" in block
    assert "<th>失败：错误码 45015（response out of time limit）</th><td>1</td>" in block
    # Conversion by intention to treat: the 12 sent, 3 failed and 1 unknown were all meant to
    # be reached (16), the planner's skips were not; 16 and 4 are too few to conclude.
    conversion = page.text.split('id="conversion"')[1].split("</section>")[0]
    assert "A组转化率0.0%，对照组0.0%（A组16人，对照组4人），样本太少，还不能下结论" \
        in conversion


def test_the_push_form_offers_synced_tags_and_the_push_shows_its_tag(console_app):
    storage = console_app.extensions["storage"]
    ids = seed_console(console_app)
    manager = signed_in(console_app, "manager")
    assert "还没有同步过微信标签" in manager.get(NEW).text
    tags.sync(storage)
    form = manager.get(NEW).text
    assert "标签（可选）" in form
    assert f'<option value="{ids["VIP"]}">VIP（3人）</option>' in form
    preview = manager.post(NEW, _form(tag_id=str(ids["VIP"]), action="preview"))
    assert preview.status_code == 200
    assert "只计算带标签「VIP」的顾客" in preview.text
    assert re.search(r'data-figure="total"><span class="label">客群人数</span><strong>3<',
                     preview.text)
    refused = manager.post(NEW, _form(tag_id=str(ids["新客"]), segment="active"))
    assert refused.status_code == 400
    assert "活跃客户中没有带标签「新客」的顾客" in refused.text
    assert manager.post(NEW, _form(tag_id="x")).status_code == 400
    created = manager.post(NEW, _form(tag_id=str(ids["VIP"])), follow_redirects=True)
    assert created.status_code == 200 and "只发给带标签「VIP」的顾客" in created.text
    push_id = int(re.search(r"/admin/campaigns/pushes/(\d+)/dry-run", created.text).group(1))
    dry = manager.get(f"/admin/campaigns/pushes/{push_id}/dry-run")
    assert "标签：VIP。" in dry.text and "只计算带标签「VIP」的顾客" in dry.text
