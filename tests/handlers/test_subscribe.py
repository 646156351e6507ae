"""Transcripts: following, unfollowing and scanning, as the customer sees them."""

from __future__ import annotations

from bot.inbound import parse_xml_fields
from shop.followers import Follower
from shop.jobs import flush_follower_touches


def content(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


def test_follow_from_a_poster_is_welcomed_and_remembered(wechat, storage):
    assert "欢迎关注" in content(wechat.reply(wechat.user.subscribe("poster_spring")))
    with storage.sessions() as db:
        follower = db.get(Follower, wechat.user.openid)
        assert follower.subscribed and follower.source_scene == "poster_spring"


def test_unfollow_has_no_reply_and_stops_counting(wechat, storage):
    wechat.reply(wechat.user.subscribe())
    assert wechat.reply(wechat.user.unsubscribe()) == "success"
    with storage.sessions() as db:
        assert db.get(Follower, wechat.user.openid).subscribed is False


def test_scan_by_a_follower_welcomes_back(wechat):
    assert "欢迎回来" in content(wechat.reply(wechat.user.scan("table_7")))


def test_chatting_records_the_last_interaction(wechat, storage):
    wechat.say("你好")
    wechat.reply(wechat.user.event("TEMPLATESENDJOBFINISH"))  # not the customer's doing
    assert flush_follower_touches(storage) == 1
    with storage.sessions() as db:
        assert db.get(Follower, wechat.user.openid).last_interaction_at is not None
