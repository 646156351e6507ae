"""The reviewer's pages and API: the queue, one item, decisions, bulk approval, the tester."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from console import accounts, api_tokens
from content_audit import default_screener, gate, review
from content_audit.review import ReviewItem
from tests.console.conftest import signed_in

#: The gate on the shipped rules (the live-rules path is tested in test_live_rules_reach.py).
check = partial(gate.check, screener=default_screener())

SHARE = "转发朋友圈即可领取小样"


@pytest.fixture()
def queued(console_app):
    """Two pending items by the manager `manager`, one by the reviewer herself."""
    with console_app.extensions["storage"].sessions.begin() as db:
        ids = [
            check(db, SHARE, source="push", author="manager").item.id,
            check(db, "转发即可领取红包", source="reply", author="manager").item.id,
            check(db, "关注才能查看优惠", source="push", author="reviewer").item.id,
        ]
    return ids


def item(app, item_id: int) -> ReviewItem:
    with app.extensions["storage"].sessions() as db:
        return db.get(ReviewItem, item_id)


def test_the_queue_shows_flagged_spans_with_reasons(console_app, queued):
    reviewer = signed_in(console_app, "reviewer")
    page = reviewer.get("/admin/audit/").text
    assert '<mark class="review" title="以奖励、门槛诱导用户转发' in page
    assert "转发朋友圈即可领取小样</mark>" in page
    assert page.index(f'data-item="{queued[0]}"') < page.index(f'data-item="{queued[1]}"')
    only_replies = reviewer.get("/admin/audit/?source=reply").text
    assert f'data-item="{queued[1]}"' in only_replies
    assert f'data-item="{queued[0]}"' not in only_replies


def test_approve_and_reject_from_the_item_page(console_app, queued):
    reviewer = signed_in(console_app, "reviewer")
    page = reviewer.get(f"/admin/audit/items/{queued[0]}").text
    assert "微信外部链接内容管理规范" in page and "喜欢的话欢迎分享给朋友" in page
    refused = reviewer.post(f"/admin/audit/items/{queued[1]}/decide", {"decision": "rejected"},
                            follow_redirects=True)
    assert "请填写原因" in refused.text and item(console_app, queued[1]).state == "pending"
    reviewer.post(f"/admin/audit/items/{queued[0]}/decide", {"decision": "approved"})
    reviewer.post(f"/admin/audit/items/{queued[1]}/decide",
                  {"decision": "rejected", "reason": "诱导分享"})
    assert item(console_app, queued[0]).state == "approved"
    assert (item(console_app, queued[1]).state, item(console_app, queued[1]).reviewer) == (
        "rejected", "reviewer")


def test_a_reviewer_cannot_approve_her_own_copy(console_app, queued):
    reviewer = signed_in(console_app, "reviewer")
    answer = reviewer.post(f"/admin/audit/items/{queued[2]}/decide", {"decision": "approved"},
                           follow_redirects=True)
    assert "不能审核自己提交的文案" in answer.text
    assert item(console_app, queued[2]).state == "pending"


def test_edit_and_approve_makes_a_screened_new_version(console_app, queued):
    reviewer = signed_in(console_app, "reviewer")
    blocked = reviewer.post(f"/admin/audit/items/{queued[0]}/edit", {"text": "全网最好的小样"},
                            follow_redirects=True)
    assert "仍含禁止用语" in blocked.text
    reviewer.post(f"/admin/audit/items/{queued[0]}/edit",
                  {"text": "喜欢的话欢迎分享给朋友", "reason": "去掉奖励"})
    assert item(console_app, queued[0]).state == "superseded"
    with console_app.extensions["storage"].sessions() as db:
        new = review.find(db, "push", "喜欢的话欢迎分享给朋友")
        assert (new.state, new.version, new.author) == ("approved", 2, "manager")


def test_bulk_approval_from_the_queue(console_app, queued):
    reviewer = signed_in(console_app, "reviewer")
    reviewer.get("/admin/audit/")
    mixed = reviewer.client.post(
        "/admin/audit/bulk",
        data={"item": [str(queued[0]), str(queued[2])], "reason": "已报备",
              "csrf_token": reviewer.token},
        follow_redirects=True,
    )
    assert "只能批量通过命中完全相同的文案" in mixed.text
    with console_app.extensions["storage"].sessions.begin() as db:
        twin = check(db, SHARE + "！", source="reply", author="manager").item.id
    reviewer.get("/admin/audit/")
    done = reviewer.client.post(
        "/admin/audit/bulk",
        data={"item": [str(queued[0]), str(twin)], "reason": "活动已报备",
              "csrf_token": reviewer.token},
        follow_redirects=True,
    )
    assert "已通过 2 条" in done.text
    assert item(console_app, twin).state == "approved"


def test_the_copy_tester(console_app):
    reviewer = signed_in(console_app, "reviewer")
    reviewer.get("/admin/audit/check")
    page = reviewer.post("/admin/audit/check", {"text": "国家级配方，最好的面霜"}).text
    assert "第 1 行：禁止" in page and '<mark class="block"' in page
    assert "绝对化用语" in page and "superlative" not in page  # categories in Chinese


def test_the_copy_tester_judges_each_line_as_one_copy(console_app):
    reviewer = signed_in(console_app, "reviewer")
    reviewer.get("/admin/audit/check")
    pasted = "今日上新，包邮到家\n\n全网最好用的面霜\r\n转发朋友圈即可领取小样"
    page = reviewer.post("/admin/audit/check", {"text": pasted}).text
    assert "共 3 条（每行一条）：通过 1，需审核 1，禁止 1" in page
    assert "第 1 行：通过" in page and "第 3 行：禁止" in page and "第 4 行：需审核" in page


def test_the_review_log_and_rules_speak_chinese(console_app, queued):
    reviewer = signed_in(console_app, "reviewer")
    page = reviewer.get(f"/admin/audit/items/{queued[0]}").text
    assert "提交审核" in page and "<code>submitted</code>" not in page
    rules = reviewer.get("/admin/audit/rules").text
    assert "绝对化用语" in rules and "<td>superlative</td>" not in rules


def test_other_roles_are_refused(console_app, queued):
    manager = signed_in(console_app, "manager")
    assert manager.get("/admin/audit/").status_code == 403
    manager.get("/admin/account")
    answer = manager.post(f"/admin/audit/items/{queued[0]}/decide", {"decision": "approved"})
    assert answer.status_code == 403 and item(console_app, queued[0]).state == "pending"


def _token(app, username: str) -> dict:
    with app.extensions["storage"].sessions.begin() as db:
        secret = api_tokens.issue(db, accounts.find(db, username), "t")[1]
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_screens_lists_and_decides(console_app, queued):
    client = console_app.test_client()
    reviewer = _token(console_app, "reviewer")
    checked = client.post("/api/v1/audit/check", json={"text": "销量第一NO.1"}, headers=reviewer)
    assert checked.json["verdict"] == "block"
    assert [f["term"] for f in checked.json["flags"]] == ["销量第一", "NO.1"]
    listed = client.get("/api/v1/audit/queue", headers=reviewer).json["items"]
    assert [i["id"] for i in listed] == queued
    decided = client.post(f"/api/v1/audit/items/{queued[0]}/decide",
                          json={"decision": "approved"}, headers=reviewer)
    assert decided.status_code == 200 and decided.json["state"] == "approved"
    again = client.post(f"/api/v1/audit/items/{queued[0]}/decide",
                        json={"decision": "approved"}, headers=reviewer)
    assert again.status_code == 409
    manager = _token(console_app, "manager")
    assert client.get("/api/v1/audit/queue", headers=manager).status_code == 403
    assert client.post("/api/v1/audit/check", data="x", headers=reviewer).status_code == 400


def test_the_api_edits_bulk_approves_and_manages_rules_and_exemptions(console_app, queued):
    client = console_app.test_client()
    reviewer = _token(console_app, "reviewer")
    edited = client.post(f"/api/v1/audit/items/{queued[0]}/edit",
                         json={"text": "喜欢的话欢迎分享给朋友", "reason": "改写"},
                         headers=reviewer)
    assert edited.status_code == 200 and edited.json["state"] == "approved"
    assert edited.json["version"] == 2
    refused = client.post("/api/v1/audit/bulk", json={"ids": [queued[1], queued[2]],
                                                      "reason": "x"}, headers=reviewer)
    assert refused.status_code == 409

    rules = client.get("/api/v1/audit/rules", headers=reviewer).json
    words = next(r for r in rules["rules"] if r["id"] == "superlative.words")
    saved = client.put("/api/v1/audit/rules/superlative.words",
                       json={**words, "terms": [*words["terms"], "爆款之王"]}, headers=reviewer)
    assert saved.status_code == 200 and saved.json["version"] != rules["version"]
    checked = client.post("/api/v1/audit/check", json={"text": "爆款之王"}, headers=reviewer)
    assert checked.json["verdict"] == "block"
    bad = client.put("/api/v1/audit/rules/x", json={"kind": "nope"}, headers=reviewer)
    assert bad.status_code == 400

    day = (datetime.now(UTC) + timedelta(days=100)).date().isoformat()
    granted = client.post("/api/v1/audit/exemptions", headers=reviewer, json={
        "rule_id": "authority.national_grade", "term": "国家级", "source": "product",
        "source_ref": "9", "note": "证书 B-2", "expires_at": f"{day}T23:59:59+08:00"})
    assert granted.status_code == 201
    listed = client.get("/api/v1/audit/exemptions", headers=reviewer).json["exemptions"]
    assert listed[0]["expires_at"] == f"{day}T15:59:59+00:00"
    naive = client.post("/api/v1/audit/exemptions", headers=reviewer, json={
        "rule_id": "authority.national_grade", "term": "国家级", "note": "x",
        "expires_at": "2027-03-01T23:59:59"})
    assert naive.status_code == 400 and "offset" in naive.json["message"]
    manager = _token(console_app, "manager")
    assert client.get("/api/v1/audit/rules", headers=manager).status_code == 403


def test_authors_see_what_happened_to_their_copy(console_app, queued):
    from content_audit import jobs

    with console_app.extensions["storage"].sessions.begin() as db:
        late = check(db, "关注即可领取红包", source="push", author="manager",
                          send_at=datetime.now(UTC) - timedelta(minutes=1)).item.id
    jobs.expire_undecided_reviews(console_app.extensions["storage"])
    reviewer = signed_in(console_app, "reviewer")
    reviewer.post(f"/admin/audit/items/{queued[1]}/decide",
                  {"decision": "rejected", "reason": "诱导分享"})
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/audit/mine").text
    assert "我提交的文案" in page.split('<nav aria-label="主导航">')[1].split("</nav>")[0]
    row = page.split(f'data-item="{late}"')[1].split("</tr>")[0]
    assert "已过期（未发送）" in row
    row = page.split(f'data-item="{queued[1]}"')[1].split("</tr>")[0]
    assert "已驳回" in row and "诱导分享" in row and "reviewer" in row
    assert f'data-item="{queued[2]}"' not in page  # the reviewer's own, not the manager's


def test_the_api_refuses_bodies_of_the_wrong_shape(console_app, queued):
    client = console_app.test_client()
    reviewer = _token(console_app, "reviewer")
    assert client.post(f"/api/v1/audit/items/{queued[0]}/decide", json=["approved"],
                       headers=reviewer).status_code == 400
    assert client.post("/api/v1/audit/bulk", json={"ids": 5, "reason": "x"},
                       headers=reviewer).status_code == 400
    as_string = client.put("/api/v1/audit/rules/t.x", headers=reviewer, json={
        "kind": "word", "terms": "最好", "category": "c", "severity": "block"})
    assert as_string.status_code == 400 and "list of strings" in as_string.json["message"]
    assert client.put("/api/v1/audit/rules/t.y", headers=reviewer, json={
        "kind": "word", "terms": ["x"], "category": "c", "severity": "block",
        "enabled": "false"}).status_code == 400
    assert client.post("/api/v1/audit/exemptions", json=[1], headers=reviewer).status_code == 400
