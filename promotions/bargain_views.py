"""The manager's 砍价 pages: campaigns with their counts, a new campaign (with a 预览 of what
it may cost before 创建), one campaign's figures, its per-launch ledger and the helps
waiting for review, and pausing, resuming and ending it. Plus the same data and actions for
scripts (creating, the preview, the ledger, deciding held helps) under
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
from promotions.bargains import (
    BargainCampaign,
    BargainError,
    BargainHelp,
    BargainLaunch,
    BargainRefused,
)
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
                     target=f"bargain:{campaign.id}", address=client_address(),
                     **bargain_manager.audit_fields(campaign))
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


#: The campaign's whole-number terms as JSON carries them, with the console form's labels.
API_WHOLE = (("sku_id", "商品规格"), ("floor_fen", "底价（分）"),
             ("helpers_needed", "需要助力人数"), ("hours_per_launch", "每次砍价有效时长"),
             ("stock_quota", "砍价库存"), ("launches_per_customer", "每人可发起次数"),
             ("helps_per_day", "每人每天可助力次数"),
             ("helps_per_campaign", "每人本活动可助力次数"), ("front_loading", "前几刀力度"))
#: PreviewInput's fields that have no default: a preview without them says so.
PREVIEW_REQUIRED = ("price_fen", "floor_fen", "helpers_needed", "hours_per_launch",
                    "expected_launches", "arrival_per_hour", "stock_quota")
PREVIEW_FIELDS = (*PREVIEW_REQUIRED, "starter_cuts", "new_customer_share", "unit_cost_fen",
                  "front_loading")
MAX_LEDGER = 1000


def _json_body() -> dict[str, Any] | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _api_time(body: dict[str, Any], name: str, label: str) -> datetime:
    """An ISO 8601 time with its offset (2026-12-05T09:00:00+08:00), as aware UTC."""
    text = body.get(name)
    example = f"{label}需为带时区的 ISO 8601 时间，如 2026-12-05T09:00:00+08:00"
    if not isinstance(text, str):
        raise BargainError(example)
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BargainError(example) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise BargainError(example)
    return at.astimezone(UTC)


def api_terms(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON's terms as create_campaign takes them (money in fen, times with offset);
    BargainError names the field that is missing or of the wrong kind."""
    title = body.get("title", "")
    if not isinstance(title, str):
        raise BargainError("活动标题需为文字")
    terms: dict[str, Any] = {"title": title}
    for name, label in API_WHOLE:
        if not _is_whole(body.get(name)):
            raise BargainError(f"{label}需为整数（{name}）")
        terms[name] = body[name]
    unit_cost = body.get("unit_cost_fen")
    if unit_cost is not None and not _is_whole(unit_cost):
        raise BargainError("单件成本（分）需为整数，或不填（unit_cost_fen）")
    terms["unit_cost_fen"] = unit_cost
    terms["starts_at"] = _api_time(body, "starts_at", "开始时间")
    terms["ends_at"] = _api_time(body, "ends_at", "结束时间")
    for box in CHECKBOXES:
        value = body.get(box, False)
        if not isinstance(value, bool):
            raise BargainError(f"{box} 需为 true 或 false")
        terms[box] = value
    return terms


def _masked(openid: str) -> str:
    """A customer's openid cut to its first 6 characters, as the console's customer lists
    show it (campaigns.segments.mask)."""
    return openid[:6] + "…"


def _when(at: datetime | None) -> str | None:
    return as_utc(at).isoformat() if at is not None else None


def _help_json(help_: BargainHelp) -> dict[str, Any]:
    return {
        "id": help_.id, "launch_id": help_.launch_id, "campaign_id": help_.campaign_id,
        "seq": help_.seq, "amount_fen": help_.amount_fen, "state": help_.state,
        "state_text": bargain_manager.HELP_STATES.get(help_.state, help_.state),
        "source": help_.source,
        "source_text": bargain_manager.HELP_SOURCES.get(help_.source, help_.source),
        "helper": _masked(help_.openid), "risk": help_.risk, "reasons": help_.reasons,
        "new_customer": help_.new_customer, "created_at": _when(help_.created_at),
        "decided_at": _when(help_.decided_at), "decided_by": help_.decided_by,
    }


def _launch_json(entry: bargain_manager.LaunchEntry) -> dict[str, Any]:
    launch = entry.launch
    return {
        "id": launch.id, "starter": _masked(launch.openid), "state": launch.state,
        "state_text": bargain_manager.LAUNCH_STATES.get(launch.state, launch.state),
        "start_fen": launch.start_fen, "floor_fen": launch.floor_fen,
        "cut_fen": launch.cut_fen, "price_fen": launch.price_fen, "left_fen": launch.left_fen,
        "helpers_left": launch.helpers_left, "order_id": launch.order_id,
        "created_at": _when(launch.created_at), "expires_at": _when(launch.expires_at),
        "completed_at": _when(launch.completed_at),
        "helps": [_help_json(help_) for help_ in entry.helps],
    }


def _no_campaign() -> Response:
    return api.api_error(404, "not_found", "没有这个砍价活动")


@api_bp.post("")
@api.requires("promotions")
def api_create() -> Response | tuple[Response, int]:
    """A new campaign from JSON: 201 with it; 400 with the first problem of the terms; 202
    with the reason when its title waits for the compliance reviewer (nothing created)."""
    body = _json_body()
    if body is None:
        return api.api_error(400, "bad_request", "请发送 JSON 对象（活动的各项设置）")
    db, now, actor = get_db(), _now(), g.api_account
    try:
        campaign = bargain_manager.create_campaign(
            db, **api_terms(body), now=now, screener=live_screener(), author=actor.username)
    except TitleHeld as held:
        db.commit()  # keeps the review item the gate queued for the compliance reviewer
        return jsonify({"held": True, "message": str(held)}), 202
    except BargainError as error:
        db.rollback()
        return api.api_error(400, "invalid", str(error))
    audit_log.record(db, "bargain.create", actor=actor, target=f"bargain:{campaign.id}",
                     address=client_address(), via="api",
                     **bargain_manager.audit_fields(campaign))
    db.commit()
    response = jsonify(_campaign_json(campaign, now))
    response.status_code = 201
    response.headers["Location"] = url_for("bargain_api.api_campaign", campaign_id=campaign.id)
    return response


@api_bp.post("/preview")
@api.requires("promotions")
def api_preview() -> Response:
    """What the settings may cost (PreviewInput's fields; money in fen, new_customer_share
    0–1): every Preview figure and the assumption; 400 with the problems. Writes nothing."""
    try:
        from promotions import bargain_economics
    except ImportError:
        return api.api_error(503, "unavailable", "预览暂不可用（测算模块尚未上线）")
    body = _json_body()
    if body is None:
        return api.api_error(400, "bad_request", "请发送 JSON 对象（预览的各项设置）")
    missing = [name for name in PREVIEW_REQUIRED if body.get(name) is None]
    problems = [f"缺少 {name}" for name in missing]
    if not problems:
        data = bargain_economics.PreviewInput(
            **{name: body[name] for name in PREVIEW_FIELDS if body.get(name) is not None})
        problems = bargain_economics.check(data)
    if problems:
        response = jsonify({"error": "invalid", "message": "；".join(problems),
                            "problems": problems})
        response.status_code = 400
        return response
    return jsonify({**asdict(bargain_economics.preview(data)),
                    "assumption": bargain_economics.assumption_text(data)})


@api_bp.get("/<int:campaign_id>/launches")
@api.requires("promotions")
def api_launches(campaign_id: int) -> Response:
    """The ledger: the newest launches (`limit`, 200 unless said, at most 1000) with every
    help; customers' openids cut to their first characters, times ISO in UTC."""
    db = get_db()
    if db.get(BargainCampaign, campaign_id) is None:
        return _no_campaign()
    text = request.args.get("limit", "200").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_LEDGER:
        return api.api_error(400, "invalid", f"limit 需为 1–{MAX_LEDGER} 的整数")
    entries = bargain_manager.ledger(db, campaign_id, limit=int(text))
    return jsonify({"campaign_id": campaign_id,
                    "launches": [_launch_json(entry) for entry in entries]})


@api_bp.get("/helps/held")
@api.requires("promotions")
def api_held() -> Response:
    """Helps waiting for review, oldest first (every campaign's, or `campaign_id`'s)."""
    text = request.args.get("campaign_id", "").strip()
    if text and not text.isdigit():
        return api.api_error(400, "invalid", "campaign_id 需为整数")
    held = bargain_manager.held_helps(get_db(), int(text) if text else None)
    return jsonify({"helps": [_help_json(help_) for help_ in held]})


@api_bp.post("/helps/<int:help_id>/<any(approve, reject):decision>")
@api.requires("promotions")
def api_decide_help(help_id: int, decision: str) -> Response:
    """Approve (its cut lands now, if the launch still takes one) or reject a held help, as
    the console's 通过 / 拒绝: 200 with the outcome, 409 with why the ledger refused."""
    db = get_db()
    held = db.get(BargainHelp, help_id)
    if held is None:
        return api.api_error(404, "not_found", "没有这条助力")
    campaign_id, launch_id, openid = held.campaign_id, held.launch_id, held.openid
    try:
        from promotions import bargain_ledger
    except ImportError:
        return api.api_error(503, "unavailable", "审核功能暂不可用（砍价账本模块尚未上线）")
    actor = g.api_account
    storage = current_app.extensions["storage"]
    try:
        outcome = getattr(bargain_ledger, decision)(storage, help_id, actor.username, _now())
    except BargainRefused as refused:
        db.rollback()
        if refused.code not in ("decided", "busy"):  # the ledger rejected it: on record
            audit_log.record(db, f"bargain.help_{decision}", actor=actor,
                             target=f"bargain_help:{help_id}", campaign_id=campaign_id,
                             launch_id=launch_id, helper=openid, refused=refused.code,
                             address=client_address(), via="api")
            db.commit()
        return api.api_error(409, refused.code, refused.message)
    db.expire_all()  # the ledger wrote through its own sessions
    audit_log.record(db, f"bargain.help_{decision}", actor=actor, target=f"bargain_help:{help_id}",
                     campaign_id=campaign_id, launch_id=launch_id, helper=openid,
                     address=client_address(), via="api")
    db.commit()
    answer: dict[str, Any] = {
        "decision": decision,
        "message": "已通过，这一刀已计入" if decision == "approve" else "已拒绝这次助力",
        "help": _help_json(db.get(BargainHelp, help_id)),
    }
    if outcome is not None:
        launch = db.get(BargainLaunch, launch_id)
        answer.update(amount_fen=outcome.amount_fen, completed=outcome.completed,
                      price_fen=launch.price_fen, left_fen=launch.left_fen,
                      helpers_left=launch.helpers_left)
    return jsonify(answer)
