"""Views for the follower list and user info: user/get, user/info, user/info/batchget."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from devtools.sandbox.errors import WxError
from devtools.sandbox.rules.followers import check_openid, paginate
from devtools.sandbox.web import get_state, json_body

bp = Blueprint("sandbox_users", __name__, url_prefix="/cgi-bin/user")

BATCHGET_MAX = 100


@bp.get("/get")
def user_get() -> Any:
    """One page of follower openids, oldest follow first; `next_openid` continues."""
    state = get_state()
    with state.lock:
        followers = state.followers.following_ids()
        page, cursor = paginate(followers, request.args.get("next_openid", ""), state.page_size)
    answer: dict[str, Any] = {"total": len(followers), "count": len(page)}
    if page:  # WeChat leaves "data" out of an empty page
        answer["data"] = {"openid": page}
    answer["next_openid"] = cursor
    return answer


@bp.get("/info")
def user_info() -> Any:
    """Follow status, time, scene and tags; only `subscribe: 0` for a non-follower."""
    openid = check_openid(request.args.get("openid"))
    state = get_state()
    with state.lock:
        user = state.followers.get(openid)
        return user.info() if user else {"subscribe": 0, "openid": openid}


@bp.post("/info/batchget")
def user_info_batch() -> Any:
    """user/info for up to 100 openids at once."""
    items = json_body().get("user_list")
    if not isinstance(items, list) or not 0 < len(items) <= BATCHGET_MAX:
        raise WxError(40032)
    openids = [check_openid(i.get("openid") if isinstance(i, dict) else None) for i in items]
    state = get_state()
    with state.lock:
        infos = []
        for openid in openids:
            user = state.followers.get(openid)
            infos.append(user.info() if user else {"subscribe": 0, "openid": openid})
    return {"user_info_list": infos}
