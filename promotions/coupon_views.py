"""The manager's coupon pages: batches with their usage and cost, a new batch, issuing a batch
to a pasted list of customers or to a member tier, pausing and ending.

The rules are in promotions/coupons.py and its coupon_* modules; these views turn form text
into amounts and dates, decide nothing themselves, and record every change in the audit log.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from console import audit_log
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.shell import console_blueprint
from core.clock import SHANGHAI, as_utc, shanghai_text
from core.money import MoneyError, parse_yuan, yuan
from promotions import coupon_batches, coupon_issuing, coupon_text, coupon_usage
from promotions.coupon_batches import BatchTerms
from promotions.coupons import Coupon, CouponBatch, CouponError
from shop import notices, tiers

bp = console_blueprint("promotions_coupons", __name__, "/admin/promotions/coupons",
                       template_folder="templates")

#: A pasted list: one OpenID per line, or separated by commas or spaces.
_SEPARATORS = re.compile(r"[\s,，;；]+")
CHUNK = 500
MAX_PASTED = 10_000
FORM_FIELDS = ("name", "kind", "threshold", "off", "percent", "cap", "validity", "days", "start",
               "end", "per_customer", "total_limit", "code", "trigger", "bundle")


def _now() -> datetime:
    return datetime.now(UTC)


def _tiers() -> tiers.Tiers:
    return tiers.tiers_from(current_app.config.get("MEMBER_TIERS"))


def _tier_names(*, with_ordinary: bool) -> list[str]:
    """The tiers a batch may be issued to (普通会员 too) or given on reaching (not 普通会员)."""
    configured = _tiers()
    return list(configured.all_names() if with_ordinary else configured.names)


def _openids_of_tier(db: Any, tier: str) -> list[str]:
    """Raises CouponError for a name that is not a tier."""
    try:
        return list(tiers.openids_of_tier(db, tier, _tiers()))
    except ValueError:
        raise CouponError(f"没有「{tier}」这个会员等级") from None


def validity_of(batch: CouponBatch) -> str:
    """领取后7天内有效, or 2026-12-01 至 2026-12-31 (Shanghai days, both included)."""
    if batch.valid_days:
        return f"领取后{batch.valid_days}天内有效"
    last = as_utc(batch.valid_until) - timedelta(microseconds=1)
    return f"{shanghai_text(batch.valid_from, '%Y-%m-%d')} 至 {shanghai_text(last, '%Y-%m-%d')}"


def how_given(batch: CouponBatch) -> str:
    """关注时发放 / 升级到白银时发放 / 券码 VIP88 / 后台发放."""
    parts = []
    if batch.trigger.startswith(coupon_batches.TIER_TRIGGER):
        parts.append(f"升级到{batch.trigger[len(coupon_batches.TIER_TRIGGER):]}时发放")
    elif batch.trigger:
        parts.append(coupon_batches.TRIGGERS[batch.trigger])
    if batch.code:
        parts.append(f"券码 {batch.code}")
    return "，".join(parts) or "后台发放"


def _page(template: str, **context: Any) -> str:
    return render_template(f"promotions_coupons/{template}", yuan=yuan,
                           kinds=coupon_batches.KINDS, batch_states=coupon_text.BATCH_STATES,
                           terms_text=coupon_text.terms_text, validity_of=validity_of,
                           how_given=how_given, **context)


@bp.get("")
@requires("promotions")
def list_batches():
    """Every batch with what it cost: issued, used, redemption rate, the discount given on
    orders kept (paid and not refunded) and what those orders brought in."""
    db = get_db()
    return _page("batches.html", batches=coupon_batches.batches(db),
                 usage=coupon_usage.usage(db, _now()), empty=coupon_usage.Usage(),
                 notice=request.args.get("notice", ""), error=request.args.get("error", ""))


@bp.get("/new")
@requires("promotions")
def new_batch():
    """An empty batch form."""
    return _form_page(MultiDict({"kind": "threshold", "validity": "days", "days": "7",
                                 "per_customer": "1"}), "")


def _form_page(form: MultiDict, error: str) -> tuple[str, int] | str:
    page = _page("batch_form.html", form=form, error=error,
                 tiers=_tier_names(with_ordinary=False),
                 triggers=coupon_batches.TRIGGERS, tier_trigger=coupon_batches.TIER_TRIGGER)
    return (page, 400) if error else page


@bp.post("/new")
@requires("promotions")
def create_batch():
    """Create a batch from the form; a refused form comes back filled in, with the reason."""
    db = get_db()
    form = MultiDict({field: request.form.get(field, "").strip()[:200] for field in FORM_FIELDS})
    try:
        batch = coupon_batches.create_batch(db, terms_from(form), _now(),
                                            created_by=current_account().username)
    except CouponError as error:
        db.rollback()
        return _form_page(form, str(error))
    audit_log.record(db, "coupon.create", actor=current_account(), target=f"coupon:{batch.id}",
                     name=batch.name, terms=coupon_text.terms_text(batch), code=batch.code or "",
                     trigger=batch.trigger, total_limit=batch.total_limit,
                     per_customer=batch.per_customer, address=client_address())
    db.commit()
    return redirect(url_for("promotions_coupons.show_batch", batch_id=batch.id,
                            notice=f"已创建「{batch.name}」"))


def _fen(form: MultiDict, field: str, label: str) -> int:
    text = form.get(field, "")
    if not text:
        return 0
    try:
        return parse_yuan(text)
    except MoneyError:
        raise CouponError(f"{label}需为金额，如 199 或 19.90") from None


def _whole(form: MultiDict, field: str, label: str) -> int | None:
    text = form.get(field, "")
    if not text:
        return None
    if not re.fullmatch(r"\d{1,9}", text):
        raise CouponError(f"{label}需为正整数")
    return int(text)


def _day(form: MultiDict, field: str, label: str) -> date:
    try:
        return date.fromisoformat(form.get(field, ""))
    except ValueError:
        raise CouponError(f"请填写{label}（格式如 2026-12-31）") from None


def terms_from(form: MultiDict) -> BatchTerms:
    """The form's text as terms; CouponError names the field that is not a number or date."""
    terms = BatchTerms(
        name=form.get("name", ""), kind=form.get("kind", ""),
        threshold_fen=_fen(form, "threshold", "门槛"), off_fen=_fen(form, "off", "减免金额"),
        percent=_whole(form, "percent", "折扣") or 0, cap_fen=_fen(form, "cap", "最多减免"),
        per_customer=_whole(form, "per_customer", "每人限领") or 0,
        total_limit=_whole(form, "total_limit", "发放总量"), code=form.get("code", ""),
        trigger=form.get("trigger", ""), bundle=form.get("bundle", ""),
    )
    if form.get("validity") == "window":
        first, last = _day(form, "start", "开始日期"), _day(form, "end", "结束日期")
        terms.valid_from = datetime.combine(first, time(0), tzinfo=SHANGHAI)
        terms.valid_until = datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    else:
        terms.valid_days = _whole(form, "days", "领取后有效天数") or 0
    return terms


@bp.get("/<int:batch_id>")
@requires("promotions")
def show_batch(batch_id: int):
    """One batch: its terms, figures, the latest copies, and the forms to issue it."""
    db = get_db()
    batch = get_or_404(CouponBatch, batch_id)
    figures = coupon_usage.usage(db, _now(), [batch.id]).get(batch.id, coupon_usage.Usage())
    return _page("batch.html", batch=batch, figures=figures,
                 tiers=_tier_names(with_ordinary=True),
                 copies=coupon_usage.recent_copies(db, batch.id), state_at=coupon_text.state_at,
                 coupon_states=coupon_text.COUPON_STATES, now=_now(),
                 bundle=[b.name for b in coupon_issuing.bundle_of(db, batch)[1:]],
                 notice=request.args.get("notice", ""), error=request.args.get("error", ""))


@bp.post("/<int:batch_id>/issue")
@requires("promotions")
def issue_batch(batch_id: int):
    """Issue one copy to each customer of a pasted OpenID list or of a member tier (and the
    rest of the bundle if asked); customers are told only when the manager asks for it."""
    db = get_db()
    batch = get_or_404(CouponBatch, batch_id)
    back = {"batch_id": batch.id}
    tier = request.form.get("tier", "").strip()[:16]
    if tier:
        try:
            openids = _openids_of_tier(db, tier)
        except CouponError as error:
            return redirect(url_for("promotions_coupons.show_batch", error=str(error), **back))
    else:
        openids = [o for o in _SEPARATORS.split(request.form.get("openids", "")) if o]
    if not openids:
        error = f"{tier}会员暂时没有顾客" if tier else "请粘贴要发放的顾客 OpenID，每行一个"
        return redirect(url_for("promotions_coupons.show_batch", error=error, **back))
    if not tier and len(openids) > MAX_PASTED:
        return redirect(url_for("promotions_coupons.show_batch", **back,
                                error=f"一次最多粘贴 {MAX_PASTED} 个 OpenID，请分批"))
    now, source = _now(), f"console:{current_account().username}"[:64]
    targets = coupon_issuing.bundle_of(db, batch) if request.form.get("bundle") else [batch]
    notify = bool(request.form.get("notify"))
    done = []
    for target in targets:
        issued, skipped = 0, {}
        # In chunks, each committed: the batch's row is locked while copies are counted, and
        # a whole tier in one transaction would hold 领券 and tier gifts at the payment back.
        for start in range(0, len(openids), CHUNK):
            result = coupon_issuing.issue_to_list(db, target.id, openids[start:start + CHUNK],
                                                  now, source=source)
            issued += result["issued"]
            skipped.update(result["skipped"])
            if notify:
                _tell(db, result["coupons"])
            db.commit()
        done.append(f"「{target.name}」发放 {issued} 张"
                    + (f"（{coupon_text.skipped_summary(skipped)}）" if skipped else ""))
        audit_log.record(db, "coupon.issue", actor=current_account(),
                         target=f"coupon:{target.id}", issued=issued, skipped=len(skipped),
                         tier=tier, listed=len(openids), notified=notify,
                         address=client_address())
        db.commit()
    return redirect(url_for("promotions_coupons.show_batch", notice="；".join(done), **back))


def _tell(db: Any, given: list[Coupon]) -> None:
    """Queue a 优惠券到账 notice per copy (sent by the notices job if WeChat allows it)."""
    for coupon in given:
        notices.queue(db, coupon.openid, "coupon_gift",
                      f"送你一张优惠券：{coupon.batch.name}\n{coupon_text.describe(coupon)}\n"
                      "下单时自动选用，回复「我的优惠券」查看。",
                      key=f"coupons:gift:{coupon.id}", title="优惠券到账")


@bp.post("/<int:batch_id>/<any(pause, resume, end):move>")
@requires("promotions")
def move_batch(batch_id: int, move: str):
    """Pause, resume or end issuing; coupons customers already hold stay usable."""
    db = get_db()
    get_or_404(CouponBatch, batch_id)
    try:
        batch = coupon_batches.set_state(db, batch_id, move)
    except CouponError as error:
        db.rollback()
        return redirect(url_for("promotions_coupons.show_batch", batch_id=batch_id,
                                error=str(error)))
    audit_log.record(db, f"coupon.{move}", actor=current_account(), target=f"coupon:{batch_id}",
                     name=batch.name, address=client_address())
    db.commit()
    return redirect(url_for("promotions_coupons.show_batch", batch_id=batch_id,
                            notice=f"「{batch.name}」{coupon_text.BATCH_STATES[batch.state]}"))
