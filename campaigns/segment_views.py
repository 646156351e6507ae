"""The manager's 客群 pages: each lifecycle segment with its count now and its 30-day trend,
重新计算 (a snapshot now, audit-logged), a segment's members 50 a page, and why one customer
is where they are. Openids are shown cut to 6 characters: a manager plans for groups, and a
full id on a screen is one more copy of personal data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from flask import abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from campaigns import segments
from campaigns.segments import LABELS, SEGMENTS, STRATEGIES, Segment
from console import audit_log
from console.auth import client_address, current_account, get_db, requires
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
    """Counts now (computed on the spot) beside the stored daily snapshots."""
    db = get_db()
    now_counts = segments.counts(db, _now(), _thresholds())
    history = segments.trend(db, TREND_DAYS)
    days = [day for day, _ in next(iter(history.values()), [])]
    return render_template(
        "campaigns_segments/overview.html", segments=SEGMENTS, labels=LABELS,
        now_counts=now_counts, history=history, days=days,
        lines={s: sparkline(history[s], LABELS[s]) for s in SEGMENTS},
        strategies=STRATEGIES, thresholds=_thresholds(), trend_days=TREND_DAYS,
        last_at=shanghai_text(segments.last_snapshot_at(db)),
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
    total = sum(found.values())
    return redirect(url_for("campaign_segments.overview",
                            notice=f"已重新计算：共{total}位顾客，今日客群数量已更新"))


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


@bp.get("/<key>")
@requires("campaigns")
def show_members(key: str):
    """One page of a segment's members with their reason, RFM, tier and channel."""
    segment, page = _segment(key), _page()
    found = segments.members(get_db(), segment, _now(), limit=PAGE_SIZE + 1,
                             offset=(page - 1) * PAGE_SIZE, thresholds=_thresholds())
    return render_template(
        "campaigns_segments/members.html", segment=segment, label=LABELS[segment],
        members=found[:PAGE_SIZE], page=page, has_next=len(found) > PAGE_SIZE,
        strategy=STRATEGIES.get(segment))


@bp.get("/customer/<openid>")
@requires("campaigns")
def explain(openid: str):
    """Why this customer is in their segment, and how a message could reach them now."""
    found = segments.explain(get_db(), openid[:64], _now(), _thresholds())
    if found is None:
        abort(404)
    return render_template("campaigns_segments/explain.html", e=found,
                           label=LABELS[found.segment], masked=segments.mask(found.openid),
                           yuan=yuan)
