"""The manager's 客群 pages: each lifecycle segment with its count now and its 30-day trend,
the WeChat tags with their carriers per segment, 重新计算 (a snapshot now) and 同步微信标签 (both
audit-logged), a segment's members 50 a page (optionally those carrying one tag), and why one
customer is where they are.

The counts now come from a one-minute Redis cache (campaigns/segment_overview.py), and the page
says when they were computed; 重新计算 and a tag sync drop the cache. Openids are shown cut to 6
characters: a manager plans for groups, and a full id on a screen is one more copy of personal
data. A customer's page is addressed by an opaque reference (campaigns/member_refs.py), so no
openid reaches an access log or a Referer header."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flask import abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from campaigns import member_refs, segment_overview, segments, tags
from campaigns.segments import LABELS, SEGMENTS, STRATEGIES, Segment
from console import audit_log
from console.auth import client_address, current_account, get_db, get_redis, requires
from console.shell import console_blueprint
from core.clock import shanghai_text
from core.money import yuan

bp = console_blueprint("campaign_segments", __name__, "/admin/campaigns/segments",
                       template_folder="templates")

PAGE_SIZE = 50
#: A page number beyond this is a typo, not a page (each page costs a classification pass).
MAX_PAGE = 10_000
TREND_DAYS = 30


def _now() -> datetime:
    return datetime.now(UTC)


def _thresholds() -> segments.Thresholds:
    return segments.thresholds_from(current_app.config)


def _secret() -> str:
    """The app's SECRET_KEY (console/auth.py set it), which seals customer references."""
    return str(current_app.secret_key)


def _ref(openid: str) -> str:
    return member_refs.member_ref(openid, _secret())


def sparkline(points: Sequence[tuple[str, int]], label: str) -> Markup:
    """A small inline SVG line of a segment's daily counts (console/charts.py draws bars
    only); each point carries its day and count as a <title>. Empty without two points."""
    if len(points) < 2:
        return Markup('<span class="muted">数据不足</span>')
    width, height, pad = 160, 32, 3
    low, high = min(c for _, c in points), max(c for _, c in points)
    span = max(high - low, 1)
    step = (width - 2 * pad) / (len(points) - 1)
    xy = [(pad + i * step, pad + (height - 2 * pad) * (1 - (count - low) / span))
          for i, (_, count) in enumerate(points)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.5"><title>{escape(day)}：{count}'
                   f"</title></circle>" for (x, y), (day, count) in zip(xy, points, strict=True))
    return Markup(
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}近{len(points)}天趋势">'
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{line}"/>'
        f"{dots}</svg>")


@bp.get("")
@requires("campaigns")
def overview():
    """Counts now (cached a minute, with when they were computed) beside the stored daily
    snapshots, and each WeChat tag's carriers per segment."""
    db = get_db()
    found = segment_overview.cached_overview(db, get_redis(), _now(), _thresholds())
    history = segments.trend(db, TREND_DAYS)
    days = [day for day, _ in next(iter(history.values()), [])]
    return render_template(
        "campaigns_segments/overview.html", segments=SEGMENTS, labels=LABELS,
        now_counts=found.counts, tag_counts=found.tags,
        computed_at=shanghai_text(found.computed_at, "%Y-%m-%d %H:%M:%S"),
        cache_seconds=segment_overview.OVERVIEW_TTL, history=history, days=days,
        lines={s: sparkline(history[s], LABELS[s]) for s in SEGMENTS},
        strategies=STRATEGIES, thresholds=_thresholds(), trend_days=TREND_DAYS,
        last_at=shanghai_text(segments.last_snapshot_at(db)),
        tags_synced_at=shanghai_text(tags.last_synced_at(db)),
        notice=request.args.get("notice", ""), error=request.args.get("error", ""))


@bp.post("/snapshot")
@requires("campaigns")
def recompute():
    """重新计算: today's snapshot written again now, and the audit entry with its counts."""
    db = get_db()
    found = segments.write_snapshot(db, _now(), _thresholds())
    audit_log.record(db, "campaigns.segment_snapshot", actor=current_account(),
                     target="segments", address=client_address(),
                     **{segment.value: count for segment, count in found.items()})
    db.commit()
    segment_overview.invalidate_overview(get_redis())
    total = sum(found.values())
    return redirect(url_for("campaign_segments.overview",
                            notice=f"已重新计算：共{total}位顾客，今日客群数量已更新"))


@bp.post("/tags/sync")
@requires("campaigns")
def sync_tags():
    """同步微信标签: WeChat's tags and their members pulled now (campaigns/tags.py), the
    outcome on the page and in the audit log."""
    result = tags.sync(current_app.extensions["storage"], _now())
    db = get_db()
    audit_log.record(db, "campaigns.tag_sync", actor=current_account(), target="wechat_tags",
                     address=client_address(), **result.audit())
    db.commit()
    if result.ok:
        return redirect(url_for("campaign_segments.overview", notice=result.message))
    return redirect(url_for("campaign_segments.overview", error=result.message))


def _segment(key: str) -> Segment:
    try:
        return Segment(key)
    except ValueError:
        abort(404)


def _page() -> int:
    text = request.args.get("page", "1").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE:
        return 1
    return int(text)


def _tag() -> tags.WeChatTag | None:
    """?tag=<id>: a synced tag, or a 404 for one that is not (never a silent whole list)."""
    text = request.args.get("tag", "").strip()
    if not text:
        return None
    found = tags.get(get_db(), int(text)) if text.isdigit() and len(text) <= 12 else None
    if found is None:
        abort(404)
    return found


@bp.get("/<key>")
@requires("campaigns")
def show_members(key: str):
    """One page of a segment's members with their reason, RFM, tier, WeChat tags and
    channel; ?tag=<id> keeps those carrying that tag."""
    segment, page, tag = _segment(key), _page(), _tag()
    db = get_db()
    found = segments.members(db, segment, _now(), limit=PAGE_SIZE + 1,
                             offset=(page - 1) * PAGE_SIZE, thresholds=_thresholds(),
                             tag_id=tag.id if tag else None)
    return render_template(
        "campaigns_segments/members.html", segment=segment, label=LABELS[segment],
        members=found[:PAGE_SIZE], page=page, has_next=len(found) > PAGE_SIZE,
        strategy=STRATEGIES.get(segment), tag=tag, all_tags=tags.all_tags(db), ref=_ref)


@bp.get("/customer/<ref>")
@requires("campaigns")
def explain(ref: str):
    """Why this customer is in their segment, and how a message could reach them now. `ref`
    is member_refs.member_ref's: a raw openid, or a reference made under another key, is 404."""
    openid = member_refs.openid_of(ref, _secret())
    found = segments.explain(get_db(), openid, _now(), _thresholds()) if openid else None
    if found is None:
        abort(404)
    return render_template("campaigns_segments/explain.html", e=found,
                           label=LABELS[found.segment], masked=segments.mask(found.openid),
                           yuan=yuan)
