"""The gate every sender passes, and the review queue behind it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from content_audit import default_screener, gate, review
from content_audit.review import ReviewError, ReviewEvent

#: The gate on the shipped rules (the live-rules path is tested in test_live_rules_reach.py).
check = partial(gate.check, screener=default_screener())

SHARE = "转发朋友圈即可领取小样"


def test_pass_goes_block_stops_with_the_reason_review_waits(any_storage):
    with any_storage.sessions.begin() as db:
        assert check(db, "今日上新，包邮到家", source="push", author="lin").may_send
        blocked = check(db, "全网最好用的面霜", source="push", author="lin")
        assert blocked.status == "blocked" and not blocked.may_send
        assert "「最好用」" in blocked.message and "很受欢迎" in blocked.message
        queued = check(db, SHARE, source="push", author="lin")
        assert queued.status == "queued" and queued.item.state == "pending"
        again = check(db, SHARE, source="push", author="lin")
        assert again.item.id == queued.item.id  # one item per (source, content hash)


@pytest.mark.parametrize(
    ("source", "refused", "waiting"),
    [("push", "未发送", "通过后才会发送"), ("agent", "未发送", "通过后才会发送"),
     ("product", "未保存", "通过后才会上架"), ("reply", "未保存", "通过后才会启用")],
)
def test_the_author_is_told_what_did_not_happen(storage, source, refused, waiting):
    """A product or an FAQ answer is saved copy: refusing it does not "not send" anything."""
    with storage.sessions.begin() as db:
        blocked = check(db, "全网最好用的面霜", source=source, author="lin")
        assert f"含有广告法或平台规则禁止的用语，{refused}：" in blocked.message
        assert check(db, SHARE, source=source, author="lin").message.endswith(waiting)


def test_approved_words_go_until_they_change(any_storage):
    with any_storage.sessions.begin() as db:
        item = check(db, SHARE, source="bargain", author="lin", source_ref="b1").item
        review.decide(db, item, "wang", "approved")
        assert check(db, SHARE, source="bargain", author="lin", source_ref="b1").may_send
        edited = check(db, SHARE + "哦", source="bargain", author="lin", source_ref="b1")
        assert edited.status == "queued" and edited.item.version == 2
        assert review.find(db, "bargain", SHARE).state == "superseded"
        assert check(db, SHARE, source="push", author="lin").status == "queued"


def test_nobody_approves_their_own_copy_and_refusals_need_a_reason(any_storage):
    with any_storage.sessions.begin() as db:
        item = check(db, SHARE, source="push", author="lin").item
        with pytest.raises(ReviewError, match="自己"):
            review.decide(db, item, "lin", "approved")
        with pytest.raises(ReviewError, match="原因"):
            review.decide(db, item, "wang", "rejected")
        review.decide(db, item, "wang", "rejected", "诱导分享")
        with pytest.raises(ReviewError, match="不能再审核"):
            review.decide(db, item, "zhao", "approved")
        refused = check(db, SHARE, source="push", author="lin")
        assert refused.status == "rejected" and "诱导分享" in refused.message


def test_edit_and_approve_screens_the_rewrite(any_storage):
    screener = default_screener()
    with any_storage.sessions.begin() as db:
        item = check(db, SHARE, source="push", author="lin", source_ref="p7").item
        with pytest.raises(ReviewError, match="禁止"):
            review.edit_and_approve(db, item, "wang", "最好的小样", screener.screen("最好的小样"),
                                    "改写")
        rewrite = "喜欢的话欢迎分享给朋友"
        new = review.edit_and_approve(db, item, "wang", rewrite, screener.screen(rewrite), "改写")
        assert (new.state, new.version, new.author, new.reviewer) == ("approved", 2, "lin",
                                                                        "wang")
        assert item.state == "superseded"
        actions = [e.action for e in review.history(db, new.id)]
        assert actions == ["submitted", "edited", "approved"]
        assert "欢迎分享给朋友" in review.history(db, new.id)[1].diff


def test_bulk_approval_needs_identical_hits_and_a_reason(any_storage):
    with any_storage.sessions.begin() as db:
        a = check(db, "转发即可领取红包", source="push", author="lin").item
        b = check(db, "转发即可领取红包！", source="reply", author="lin").item
        c = check(db, "关注才能查看", source="push", author="lin").item
        with pytest.raises(ReviewError, match="原因"):
            review.bulk_approve(db, [a, b], "wang", "")
        with pytest.raises(ReviewError, match="相同"):
            review.bulk_approve(db, [a, c], "wang", "活动已报备")
        result = review.bulk_approve(db, [a, b], "wang", "活动已报备")
        assert result.approved == [a.id, b.id] and c.state == "pending"


def test_an_undecided_item_expires_at_its_send_time_and_is_not_sent(any_storage):
    send_at = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    with any_storage.sessions.begin() as db:
        item = check(db, SHARE, source="push", author="lin", send_at=send_at).item
        assert review.expire_undecided(db, send_at - timedelta(minutes=1)) == []
        assert [i.id for i in review.expire_undecided(db, send_at)] == [item.id]
        assert review.history(db, item.id)[-1].action == "expired"
        again = check(db, SHARE, source="push", author="lin")  # sent anew: asked anew
        assert again.status == "queued" and again.may_send is False
        assert [e.action for e in review.history(db, item.id)][-2:] == ["expired", "resubmitted"]


def test_the_review_log_is_append_only(any_storage):
    with any_storage.sessions.begin() as db:
        check(db, SHARE, source="push", author="lin")
    with pytest.raises(RuntimeError), any_storage.sessions.begin() as db:
        db.query(ReviewEvent).first().reason = "rewritten"


def test_the_item_records_rules_and_version_for_replay(any_storage):
    with any_storage.sessions.begin() as db:
        item = check(db, SHARE, source="push", author="lin").item
        assert item.ruleset_version == default_screener().ruleset.version
        assert [f["rule_id"] for f in item.flag_list] == ["sharing.reward"]
        replay = default_screener().screen(item.text)
        assert replay.verdict == item.verdict


def test_words_that_come_back_are_asked_about_again(any_storage):
    with any_storage.sessions.begin() as db:
        first = check(db, SHARE, source="product", author="lin", source_ref="p1").item
        review.decide(db, first, "wang", "approved")
        check(db, SHARE + "哦", source="product", author="lin", source_ref="p1")
        assert first.state == "superseded"
        back = check(db, SHARE, source="product", author="lin", source_ref="p1")
        assert back.status == "queued" and back.item.id == first.id
        assert first.state == "pending" and first.reviewer is None
        assert review.history(db, first.id)[-1].action == "resubmitted"


def test_two_reviewers_deciding_at_once_cannot_both_win(any_storage):
    with any_storage.sessions.begin() as db:
        item_id = check(db, SHARE, source="push", author="lin").item.id
    with any_storage.sessions.begin() as db_a, any_storage.sessions.begin() as db_b:
        seen_by_a = db_a.get(review.ReviewItem, item_id)
        seen_by_b = db_b.get(review.ReviewItem, item_id)
        review.decide(db_a, seen_by_a, "wang", "rejected", "诱导分享")
        db_a.commit()
        with pytest.raises(ReviewError, match="其他人"):
            review.decide(db_b, seen_by_b, "zhao", "approved")
    with any_storage.sessions() as db:
        assert db.get(review.ReviewItem, item_id).state == "rejected"
