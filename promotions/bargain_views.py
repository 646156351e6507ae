"""The manager's 砍价 pages: campaigns with their counts, a new campaign (with a 预览 of what
it may cost before 创建), one campaign's figures, its per-launch ledger and the helps
waiting for review, and pausing, resuming and ending it. Plus the same data for scripts under
/api/v1/promotions/bargains.

The rules are in bargain_manager.py (the campaign) and bargain_ledger.py (deciding a held
help); these views turn form text into amounts and times, decide nothing themselves, and
record every change in the audit log. bargain_ledger and bargain_economics are imported
inside the views that use them: the pages work while either is not deployed yet.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from console import api, audit_log
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.shell import console_blueprint
from content_audit import live_screener
from core.clock import SHANGHAI, as_utc, shanghai_text
from core.money import MoneyError, parse_yuan, yuan
from promotions import bargain_manager
from promotions.bargain_manager import TitleHeld
from promotions.bargains import BargainCampaign, BargainError, BargainHelp, BargainRefused
from shop.catalog import Product, Sku

bp = console_blueprint("bargain_admin", __name__, "/admin/promotions/bargains",
                       template_folder="templates")
api_bp = Blueprint("bargain_api", __name__, url_prefix="/api/v1/promotions/bargains")

#: The campaign's own fields, then the preview's guesses (not stored), then the tick boxes.
FORM_FIELDS = ("title", "sku_id", "floor", "helpers_needed", "hours_per_launch", "starts_at",
               "ends_at", "stock_quota", "launches_per_customer", "helps_per_day",
               "helps_per_campaign", "front_loading", "unit_cost", "expected_launches",
               "arrival_per_hour", "new_customer_share")
CHECKBOXES = ("starter_cuts", "buy_before_floor", "new_customers_only", "reserve_at_launch")
#: A time typed in the form: 2026-03-02T10:00 (datetime-local) or 2026-03-02 10:00.
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?$")
_WHOLE = re.compile(r"^\d{1,7}$")
_NUMBER = re.compile(r"^\d{1,6}(\.\d{1,3})?$")
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _now() -> datetime:
    return datetime.now(UTC)


def _defaults(now: datetime) -> MultiDict:
    """A new form: 3 friends in 24 hours, front-loading 60, 100 units, 1 launch per
    customer, 3 helps a day and 10 per campaign, from now for 7 days (Shanghai times)."""
    start = as_utc(now).astimezone(SHANGHAI).replace(second=0, microsecond=0)
    return MultiDict({"helpers_needed": "3", "hours_per_launch": "24", "front_loading": "60",
                      "stock_quota": "100", "launches_per_customer": "1", "helps_per_day": "3",
                      "helps_per_campaign": "10", "starts_at": start.strftime(LOCAL_FORMAT),
                      "ends_at": (start + timedelta(days=7)).strftime(LOCAL_FORMAT),
                      "expected_launches": "100", "arrival_per_hour": "0.2",
                      "new_customer_share": "30"})


def _page(template: str, **context: Any) -> str:
    return render_template(f"promotions_bargain/{template}", yuan=yuan,
                           shanghai_text=shanghai_text, states=bargain_manager.STATES,
                           launch_states=bargain_manager.LAUNCH_STATES,
                           help_states=bargain_manager.HELP_STATES,
                           help_sources=bargain_manager.HELP_SOURCES,
                           state_text=bargain_manager.state_text, now=_now(), **context)


# ---- the form's text as terms -------------------------------------------------------------


def _whole(form: MultiDict, name: str, label: str) -> int:
    text = form.get(name, "")
    if not _WHOLE.match(text):
        raise BargainError(f"{label}需为整数")
    return int(text)


def _fen(form: MultiDict, name: str, label: str, *, optional: bool = False) -> int | None:
    text = form.get(name, "")
    if not text and optional:
        return None
    try:
        return parse_yuan(text)
    except MoneyError:
        raise BargainError(f"{label}需为金额，如 9.9 或 99") from None


def _time(form: MultiDict, name: str, label: str) -> datetime:
    """A Shanghai wall-clock time from the form, as aware UTC."""
    text = form.get(name, "")
    if not _LOCAL_TIME.match(text):
        raise BargainError(f"请填写{label}（北京时间，如 2026-03-02 10:00）")
    try:
        local = datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        raise BargainError(f"{label}不是有效的时间：{text}") from None
    return local.replace(tzinfo=SHANGHAI).astimezone(UTC)


def _number(form: MultiDict, name: str, label: str) -> float:
    text = form.get(name, "")
    if not _NUMBER.match(text):
        raise BargainError(f"{label}需为数字，如 0.5")
    return float(text)


def terms_from(form: MultiDict) -> dict[str, Any]:
    """The campaign's terms as create_campaign takes them; BargainError names the field that
    is not a number, an amount or a time."""
    return {
        "title": form.get("title", ""),
        "sku_id": _whole(form, "sku_id", "商品规格") if form.get("sku_id") else 0,
        "floor_fen": _fen(form, "floor", "底价"),
        "helpers_needed": _whole(form, "helpers_needed", "需要助力人数"),
        "hours_per_launch": _whole(form, "hours_per_launch", "每次砍价有效时长"),
        "starts_at": _time(form, "starts_at", "开始时间"),
        "ends_at": _time(form, "ends_at", "结束时间"),
        "stock_quota": _whole(form, "stock_quota", "砍价库存"),
        "launches_per_customer": _whole(form, "launches_per_customer", "每人可发起次数"),
        "helps_per_day": _whole(form, "helps_per_day", "每人每天可助力次数"),
        "helps_per_campaign": _whole(form, "helps_per_campaign", "每人本活动可助力次数"),
        "front_loading": _whole(form, "front_loading", "前几刀力度"),
        "unit_cost_fen": _fen(form, "unit_cost", "单件成本", optional=True),
        **{box: form.get(box) == "1" for box in CHECKBOXES},
    }


def _form() -> MultiDict:
    form = MultiDict({name: request.form.get(name, "").strip()[:100] for name in FORM_FIELDS})
    for box in CHECKBOXES:
        if request.form.get(box):
            form[box] = "1"
    return form


def _skus() -> list[Any]:
    return list(get_db().execute(select(Sku, Product).join(Product).where(Product.on_shelf)
                                 .order_by(Product.name, Sku.id)).all())


def _form_page(form: MultiDict, error: str = "", *, preview: Any = None,
               assumption: str = "", problems: list[str] | None = None,
               status: int | None = None) -> tuple[str, int]:
    """The form filled in as sent; 400 when it carries a refusal, unless said otherwise."""
    page = _page("form.html", form=form, skus=_skus(), error=error, preview=preview,
                 assumption=assumption, problems=problems or [])
    return page, status if status is not None else (400 if error else 200)


# ---- pages --------------------------------------------------------------------------------


@bp.get("")
@requires("promotions")
def list_campaigns():
    """Every campaign with its state, launches, completions and helps (waiting ones too)."""
    db = get_db()
    return _page("campaigns.html", rows=bargain_manager.campaigns(db),
                 held=len(bargain_manager.held_helps(db)),
                 notice=request.args.get("notice", ""), error=request.args.get("error", ""))


@bp.get("/new")
@requires("promotions")
def new_campaign():
    """An empty campaign form with sensible defaults."""
    return _form_page(_defaults(_now()))


@bp.post("/new")
@requires("promotions")
def create_campaign():
    """「预览」 shows what the settings may cost (nothing is written); 「创建」 creates the
    campaign, or brings the form back filled in with the reason."""
    db, now = get_db(), _now()
    form = _form()
    if request.form.get("action") == "preview":
        return _preview(form, now)
    try:
        campaign = bargain_manager.create_campaign(
            db, **terms_from(form), now=now, screener=live_screener(),
            author=current_account().username)
    except TitleHeld as held:
        db.commit()  # keeps the review item the gate queued for the compliance reviewer
        return _form_page(form, str(held))
    except BargainError as error:
        db.rollback()
        return _form_page(form, str(error))
    audit_log.record(db, "bargain.create", actor=current_account(),
                     target=f"bargain:{campaign.id}", title=campaign.title,
                     sku_id=campaign.sku_id, floor_fen=campaign.floor_fen,
                     helpers_needed=campaign.helpers_needed,
                     hours_per_launch=campaign.hours_per_launch,
                     starts_at=as_utc(campaign.starts_at).isoformat(),
                     ends_at=as_utc(campaign.ends_at).isoformat(),
                     stock_quota=campaign.stock_quota,
                     reserve_at_launch=campaign.reserve_at_launch,
                     new_customers_only=campaign.new_customers_only,
                     address=client_address())
    db.commit()
    return redirect(url_for("bargain_admin.show_campaign", campaign_id=campaign.id,
                            notice=f"已创建砍价活动「{campaign.title}」"))


def _preview(form: MultiDict, now: datetime) -> tuple[str, int]:
    """The economics of the form's settings and the guesses beside them, with the one
    assumption they rest on; what 创建 would refuse is said too, so nothing surprises."""
    try:
        from promotions import bargain_economics
    except ImportError:
        return _form_page(form, "预览暂不可用（测算模块尚未上线），仍可直接创建")
    try:
        terms = terms_from(form)
        launches = _whole(form, "expected_launches", "预计发起次数")
        arrival = _number(form, "arrival_per_hour", "每小时帮砍人数")
        share = _number(form, "new_customer_share", "新顾客占比") / 100  # the form says %
    except BargainError as error:
        return _form_page(form, str(error))
    sku = get_db().get(Sku, terms["sku_id"]) if terms["sku_id"] else None
    if sku is None:
        return _form_page(form, "请先选择商品规格，才能预览")
    data = bargain_economics.PreviewInput(
        price_fen=sku.price_fen, floor_fen=terms["floor_fen"],
        helpers_needed=terms["helpers_needed"], hours_per_launch=terms["hours_per_launch"],
        stock_quota=terms["stock_quota"], starter_cuts=terms["starter_cuts"],
        unit_cost_fen=terms["unit_cost_fen"], front_loading=terms["front_loading"],
        expected_launches=launches, arrival_per_hour=arrival, new_customer_share=share)
    problems = bargain_economics.check(data)
    refusal = bargain_manager.campaign_problem(get_db(), **terms, now=now) or ""
    if problems:
        return _form_page(form, refusal, problems=problems, status=400)
    return _form_page(form, refusal, preview=bargain_economics.preview(data),
                      assumption=bargain_economics.assumption_text(data), status=200)


@bp.get("/<int:campaign_id>")
@requires("promotions")
def show_campaign(campaign_id: int):
    """One campaign: its terms, figures, the helps waiting for review and every launch's
    ledger (newest first)."""
    db = get_db()
    campaign = get_or_404(BargainCampaign, campaign_id)
    return _page("campaign.html", campaign=campaign,
                 figures=bargain_manager.figures(db, campaign_id),
                 held=bargain_manager.held_helps(db, campaign_id),
                 entries=bargain_manager.ledger(db, campaign_id),
                 notice=request.args.get("notice", ""), error=request.args.get("error", ""))


MOVE_DONE = {"pause": "已暂停：不能再发起或助力，进行中的砍价保留到各自的时限",
             "resume": "已恢复", "end": "已结束：不能再发起或助力"}


@bp.post("/<int:campaign_id>/<any(pause, resume, end):move>")
@requires("promotions")
def move_campaign(campaign_id: int, move: str):
    """暂停 / 恢复 / 结束 (ended is final)."""
    db = get_db()
    get_or_404(BargainCampaign, campaign_id)
    try:
        campaign = getattr(bargain_manager, move)(db, campaign_id, _now())
    except BargainError as error:
        db.rollback()
        return redirect(url_for("bargain_admin.show_campaign", campaign_id=campaign_id,
                                error=str(error)))
    audit_log.record(db, f"bargain.{move}", actor=current_account(),
                     target=f"bargain:{campaign_id}", title=campaign.title,
                     address=client_address())
    db.commit()
    return redirect(url_for("bargain_admin.show_campaign", campaign_id=campaign_id,
                            notice=f"「{campaign.title}」{MOVE_DONE[move]}"))


@bp.post("/helps/<int:help_id>/<any(approve, reject):decision>")
@requires("promotions")
def decide_help(help_id: int, decision: str):
    """通过 (the help's cut lands now, if the launch still takes one) or 拒绝 a held help;
    the ledger decides, and says why when it cannot (the launch completed meanwhile …)."""
    db = get_db()
    held = get_or_404(BargainHelp, help_id)
    campaign_id, launch_id, openid = held.campaign_id, held.launch_id, held.openid
    back = {"campaign_id": campaign_id}
    try:
        from promotions import bargain_ledger
    except ImportError:
        return redirect(url_for("bargain_admin.show_campaign", **back,
                                error="审核功能暂不可用（砍价账本模块尚未上线）"))
    actor = current_account()
    storage = current_app.extensions["storage"]
    try:
        getattr(bargain_ledger, decision)(storage, help_id, actor.username, _now())
    except BargainRefused as refused:
        db.rollback()
        if refused.code not in ("decided", "busy"):  # the ledger rejected it: on record
            audit_log.record(db, f"bargain.help_{decision}", actor=actor,
                             target=f"bargain_help:{help_id}", campaign_id=campaign_id,
                             launch_id=launch_id, helper=openid, refused=refused.code,
                             address=client_address())
            db.commit()
        return redirect(url_for("bargain_admin.show_campaign", **back, error=refused.message))
    db.expire_all()  # the ledger wrote through its own sessions
    audit_log.record(db, f"bargain.help_{decision}", actor=actor, target=f"bargain_help:{help_id}",
                     campaign_id=campaign_id, launch_id=launch_id, helper=openid,
                     address=client_address())
    db.commit()
    return redirect(url_for("bargain_admin.show_campaign", **back,
                            notice="已通过，这一刀已计入" if decision == "approve"
                            else "已拒绝这次助力"))


# ---- the API ------------------------------------------------------------------------------


def _campaign_json(campaign: BargainCampaign, now: datetime) -> dict[str, Any]:
    return {
        "id": campaign.id, "title": campaign.title, "sku_id": campaign.sku_id,
        "state": campaign.state, "state_text": bargain_manager.state_text(campaign, now),
        "floor_fen": campaign.floor_fen, "helpers_needed": campaign.helpers_needed,
        "hours_per_launch": campaign.hours_per_launch,
        "starts_at": as_utc(campaign.starts_at).isoformat(),
        "ends_at": as_utc(campaign.ends_at).isoformat(),
        "stock_quota": campaign.stock_quota, "units_used": campaign.units_used,
        "created_at": as_utc(campaign.created_at).isoformat(),
    }


@api_bp.get("")
@api.requires("promotions")
def api_campaigns() -> Response:
    """Every campaign with its quick counts."""
    now = _now()
    return jsonify({"campaigns": [
        {**_campaign_json(row.campaign, now), "launches": row.launches,
         "completions": row.completions, "helps_counted": row.helps_counted,
         "helps_held": row.helps_held}
        for row in bargain_manager.campaigns(get_db())]})


@api_bp.get("/<int:campaign_id>")
@api.requires("promotions")
def api_campaign(campaign_id: int) -> Response:
    """One campaign and its figures (money in fen)."""
    db = get_db()
    campaign = db.get(BargainCampaign, campaign_id)
    if campaign is None:
        return api.api_error(404, "not_found", "no such bargain campaign")
    return jsonify({**_campaign_json(campaign, _now()),
                    "figures": asdict(bargain_manager.figures(db, campaign_id))})


@api_bp.post("/<int:campaign_id>/<any(pause, resume, end):move>")
@api.requires("promotions")
def api_move(campaign_id: int, move: str) -> Response:
    """Pause, resume or end; 409 with the reason when the state does not allow it."""
    db = get_db()
    if db.get(BargainCampaign, campaign_id) is None:
        return api.api_error(404, "not_found", "no such bargain campaign")
    try:
        campaign = getattr(bargain_manager, move)(db, campaign_id, _now())
    except BargainError as error:
        db.rollback()
        return api.api_error(409, "invalid_state", str(error))
    audit_log.record(db, f"bargain.{move}", actor=g.api_account, target=f"bargain:{campaign_id}",
                     title=campaign.title, address=client_address(), via="api")
    db.commit()
    return jsonify(_campaign_json(campaign, _now()))
