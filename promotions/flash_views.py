"""The manager's 秒杀 pages: a day's sessions with their items, live sold and left, adding an
item (its stock carved out of the SKU's, its 原价 checked against the order history) and
ending a session early. Every change is audit-logged; forms carry the console's CSRF token."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from console import audit_log
from console.auth import client_address, current_account, get_db, get_or_404, get_redis, requires
from console.shell import console_blueprint
from core.clock import as_utc, shanghai_text
from core.money import MoneyError, parse_yuan, yuan
from promotions import flash, flash_buying, flash_gate, flash_manager
from promotions.flash import FlashError, FlashSession
from shop.catalog import Product, Sku

bp = console_blueprint("flash_admin", __name__, "/admin/promotions/flash",
                       template_folder="templates")


def _now() -> datetime:
    return datetime.now(UTC)


#: How far from today the console pages go. Showing a day writes its default sessions, so a
#: GET must not create rows for any date typed in the address bar (nor reach date.max, whose
#: next day does not exist).
DAYS_SHOWN = 60


class BadDay(ValueError):
    """Why ?day= is refused (Chinese, shown on the page)."""


def _day(today: date) -> date:
    """The day asked for (today when none), within DAYS_SHOWN of today; raises BadDay."""
    text = request.args.get("day", "").strip()
    if not text:
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise BadDay(f"日期格式不对：{text[:20]}（应为 2026-03-02 这样的格式）") from None
    if abs((day - today).days) > DAYS_SHOWN:
        first, last = today - timedelta(days=DAYS_SHOWN), today + timedelta(days=DAYS_SHOWN)
        raise BadDay(f"只能查看前后{DAYS_SHOWN}天内的秒杀场次"
                     f"（{first.isoformat()} 至 {last.isoformat()}）")
    return day


def _in_range(day: date, today: date) -> date | None:
    return day if abs((day - today).days) <= DAYS_SHOWN else None


@bp.get("")
@requires("promotions")
def list_sessions():
    """One day's sessions (today by default) with their items, live sold and left from the
    gate, the form to add an item, and 提前结束."""
    db, now = get_db(), _now()
    today = flash.shanghai_day(now)
    try:
        day = _day(today)
    except BadDay as error:
        return render_template("promotions_flash/sessions.html", sessions=[], day=None,
                               error=str(error), notice=""), 400
    sessions = flash.ensure_day(db, day, flash.start_times(current_app.config))
    db.commit()
    ids = [item.id for session in sessions for item in session.items]
    live = flash_gate.left(get_redis(), ids)
    skus = db.execute(select(Sku, Product).join(Product).where(Product.on_shelf, Sku.stock > 0)
                      .order_by(Product.name, Sku.id)).all()
    return render_template(
        "promotions_flash/sessions.html", sessions=sessions, day=day, now=now, live=live,
        skus=skus, yuan=yuan, shanghai_text=shanghai_text, as_utc=as_utc,
        prev_day=_in_range(day - timedelta(days=1), today),
        next_day=_in_range(day + timedelta(days=1), today), is_called_off=flash.is_called_off,
        error=request.args.get("error", ""), notice=request.args.get("notice", ""))


def _back(session: FlashSession, **message: str):
    day = as_utc(session.starts_at).astimezone(flash.SHANGHAI).date().isoformat()
    return redirect(url_for("flash_admin.list_sessions", day=day, **message))


def _whole(name: str, default: int | None = None) -> int:
    value = request.form.get(name, "").strip()
    if not value and default is not None:
        return default
    if not value.isdigit() or len(value) > 7:
        raise FlashError("库存和限购需为整数")
    return int(value)


@bp.post("/<int:session_id>/items")
@requires("promotions")
def add_item(session_id: int):
    """Add a SKU to a session; a refusal says why (stock, price, unsupported 原价)."""
    db = get_db()
    session = get_or_404(FlashSession, session_id)
    try:
        price = parse_yuan(request.form.get("price", ""))
        reference_text = request.form.get("reference", "").strip()
        reference = parse_yuan(reference_text) if reference_text else None
        item = flash_manager.add_item(db, session_id, _whole("sku_id"), price_fen=price,
                                      stock=_whole("stock"), limit=_whole("limit", 1),
                                      reference_fen=reference, now=_now())
    except MoneyError:
        db.rollback()
        return _back(session, error="价格格式不对，例如 59 或 59.90")
    except FlashError as error:
        db.rollback()
        return _back(session, error=str(error))
    audit_log.record(db, "flash.item_add", actor=current_account(), target=f"session:{session_id}",
                     sku_id=item.sku_id, price_fen=item.price_fen, stock=item.stock,
                     limit=item.limit_per_customer, reference_fen=item.reference_price_fen,
                     address=client_address())
    db.commit()
    flash_buying.forget_listing(get_redis())
    flash_buying.reconcile_item(current_app.extensions["storage"].sessions, get_redis(),
                                item.id, _now())
    return _back(session, notice="已添加秒杀商品")


@bp.post("/<int:session_id>/end")
@requires("promotions")
def end_session(session_id: int):
    """提前结束: the session stops selling now and its unsold units go back to the SKUs; one
    not started is called off (取消本场) and its 提醒我 customers are told."""
    db, now = get_db(), _now()
    session = get_or_404(FlashSession, session_id)
    called_off = now < as_utc(session.starts_at)
    try:
        flash_manager.end_early(db, session_id, now)
    except FlashError as error:
        db.rollback()
        return _back(session, error=str(error))
    items = [item.id for item in session.items]
    returned = sum(item.returned or 0 for item in session.items)
    audit_log.record(db, "flash.session_end", actor=current_account(),
                     target=f"session:{session_id}", returned=returned, called_off=called_off,
                     address=client_address())
    db.commit()
    storage = current_app.extensions["storage"]
    flash_buying.forget_listing(storage.redis)
    for item_id in items:  # the gate answers 已结束 from now on
        flash_buying.reconcile_item(storage.sessions, storage.redis, item_id, _now())
    if called_off:
        return _back(session, notice=f"本场已取消，{returned}件已退回库存；"
                                     "预约了提醒的顾客会收到取消通知")
    return _back(session, notice=f"本场已结束，未售出的{returned}件已退回库存")


@bp.post("/<int:session_id>/coupons")
@requires("promotions")
def set_coupons(session_id: int):
    """本场可用优惠券: flash prices take no coupon unless the manager says so here."""
    db = get_db()
    session = get_or_404(FlashSession, session_id)
    allowed = request.form.get("allowed") == "1"
    try:
        flash_manager.set_coupons_allowed(db, session_id, allowed, _now())
    except FlashError as error:
        db.rollback()
        return _back(session, error=str(error))
    audit_log.record(db, "flash.coupons", actor=current_account(), target=f"session:{session_id}",
                     allowed=allowed, address=client_address())
    db.commit()
    return _back(session, notice="本场秒杀订单可以使用优惠券（自动选用最划算的一张）"
                 if allowed else "本场秒杀订单不能使用优惠券")
