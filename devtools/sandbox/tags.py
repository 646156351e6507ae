"""Views for user tags: create/get/update/delete, batch (un)tagging, members of a tag."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from devtools.sandbox.errors import WxError, ok_body
from devtools.sandbox.rules.followers import check_openid, paginate
from devtools.sandbox.web import get_state, json_body

bp = Blueprint("sandbox_tags", __name__, url_prefix="/cgi-bin")


def _tag_object() -> dict[str, Any]:
    tag = json_body().get("tag")
    if not isinstance(tag, dict):
        raise WxError(47001, "(tag)")
    return tag


@bp.post("/tags/create")
def create() -> Any:
    name = _tag_object().get("name")
    state = get_state()
    with state.lock:
        return {"tag": {"id": state.tags.create(name), "name": name}}


@bp.get("/tags/get")
def listing() -> Any:
    state = get_state()
    with state.lock:
        return {"tags": state.tags.listing(state.followers)}


@bp.post("/tags/update")
def update() -> Any:
    tag = _tag_object()
    state = get_state()
    with state.lock:
        state.tags.rename(tag.get("id"), tag.get("name"))
    return ok_body()


@bp.post("/tags/delete")
def delete() -> Any:
    tag = _tag_object()
    state = get_state()
    with state.lock:
        state.tags.delete(tag.get("id"), state.followers)
    return ok_body()


@bp.post("/tags/members/batchtagging")
def batch_tag() -> Any:
    """Tag ≤50 followers at once (40032 beyond); all-or-nothing."""
    return _batch(add=True)


@bp.post("/tags/members/batchuntagging")
def batch_untag() -> Any:
    return _batch(add=False)


def _batch(add: bool) -> Any:
    data = json_body()
    state = get_state()
    with state.lock:
        state.tags.tag(data.get("openid_list"), data.get("tagid"), state.followers, add=add)
    return ok_body()


@bp.post("/tags/getidlist")
def tags_of_user() -> Any:
    openid = check_openid(json_body().get("openid"))
    state = get_state()
    with state.lock:
        if not state.followers.is_following(openid):
            raise WxError(40003)
        return {"tagid_list": list(state.followers.ensure(openid).tagids)}


@bp.post("/user/tag/get")
def members() -> Any:
    """Followers carrying a tag, paged by `next_openid` like user/get."""
    data = json_body()
    state = get_state()
    with state.lock:
        tagid = state.tags.require(data.get("tagid"))
        openids = state.tags.members(tagid, state.followers)
        page, cursor = paginate(openids, data.get("next_openid") or "", state.page_size)
    return {"count": len(page), "data": {"openid": page}, "next_openid": cursor}
