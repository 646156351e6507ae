"""The data board a manager opens first: followers, messages, keywords, orders and sales."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, jsonify, render_template, request

from console import api, charts
from console.auth import get_db, requires
from console.shell import console_blueprint
from core.clock import SHANGHAI
from core.money import yuan
from dashboard import figures

bp = console_blueprint("dashboard", __name__, "/admin", template_folder="templates")
api_bp = Blueprint("dashboard_api", __name__, url_prefix="/api/v1")

DAY_CHOICES = (7, 14, 30)


@bp.get("/dashboard")
@requires("dashboard")
def show_dashboard():
    """The data board: followers, messages, keywords and menu clicks per Shanghai day."""
    days = request.args.get("days", type=int) or 7
    if days not in DAY_CHOICES:
        days = 7
    today = datetime.now(SHANGHAI).date()
    board = figures.build(get_db(), today, days)
    labels = [d.label for d in board.days]
    followers_chart = charts.bar_chart(
        labels,
        [
            ("新增关注", [d.new_followers for d in board.days], "new"),
            ("取消关注", [d.lost_followers for d in board.days], "lost"),
        ],
        title="每日新增与取消关注",
    )
    messages_chart = charts.bar_chart(
        labels, [("消息", [d.messages for d in board.days], "msg")], title="每日消息数"
    )
    return render_template(
        "dashboard/dashboard.html",
        board=board,
        days=days,
        day_choices=DAY_CHOICES,
        followers_chart=followers_chart,
        messages_chart=messages_chart,
        kinds=charts.ranking(board.messages_by_kind),
        keywords=charts.ranking(board.keywords, empty="还没有顾客发来文字"),
        clicks=charts.ranking(board.clicks, empty="还没有菜单点击"),
        funnel=charts.ranking(board.funnel),
        gmv_chart=charts.bar_chart(
            labels, [("成交额", [d.gmv_fen // 100 for d in board.days], "msg")], title="每日成交额"
        ),
        yuan=yuan,
        updated=datetime.now(SHANGHAI),
    )


@api_bp.get("/dashboard")
@api.requires("dashboard")
def get_dashboard() -> Response:
    days = request.args.get("days", default=7, type=int)
    if not 1 <= days <= 90:
        return api.api_error(400, "bad_request", "days must be 1 to 90")
    board = figures.build(get_db(), datetime.now(SHANGHAI).date(), days)
    return jsonify(board.as_json())
