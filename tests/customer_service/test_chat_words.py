"""Issue 13's chat-side rules: small talk, complaints, and what the customer said just before
asking for a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from customer_service import complaints, recent_messages, small_talk, tickets
from customer_service.tickets import Ticket

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(("said", "answer"), [
    ("在吗", small_talk.GREETING_REPLY), ("老板在吗？", small_talk.GREETING_REPLY),
    ("谢谢亲", small_talk.THANKS_REPLY), ("OK", small_talk.ACK_REPLY),
    ("88", small_talk.BYE_REPLY), ("😂😂", small_talk.EMOJI_REPLY),
    ("[捂脸]", small_talk.EMOJI_REPLY), ("❤️", small_talk.EMOJI_REPLY),
])
def test_small_talk_alone_is_answered(said, answer):
    assert small_talk.reply(said) == answer


@pytest.mark.parametrize("said", ["在吗 我前天买的红薯发了吗", "谢谢你们的口红", "好的口红",
                                  "😀 口红", "返回", "1"])
def test_more_than_small_talk_is_left_to_the_rest(said):
    assert small_talk.reply(said) is None


@pytest.mark.parametrize("said", ["我买的口红是假货，要投诉", "你们卖假货", "收到的是高仿",
                                  "口红是假货", "我要打12315", "骗子", "给你们差评"])
def test_complaints(said):
    assert complaints.is_complaint(said)


@pytest.mark.parametrize("said", ["是不是假货", "不会是假的吧", "我怕是山寨货", "真的假的",
                                  "上次在别家买到假的兰蔻，你们家的是正品不", "我买的口红能退吗"])
def test_questions_about_genuine_goods_are_no_complaint(said):
    assert not complaints.is_complaint(said)


def test_the_last_messages_of_ten_minutes_are_taken_once(redis):
    for minutes, said in ((12, "太早了"), (4, "口红是假货"), (3, "口红是假货"), (2, "要投诉")):
        recent_messages.remember(redis, "o1", said, NOW - timedelta(minutes=minutes))
    recent_messages.remember(redis, "o2", "别人的", NOW)
    taken = recent_messages.take(redis, "o1", NOW)
    assert [s.text for s in taken] == ["口红是假货", "要投诉"]
    assert taken[0].at == NOW - timedelta(minutes=4)
    assert recent_messages.take(redis, "o1", NOW) == []
    assert 0 < redis.ttl(recent_messages.KEY_PREFIX + "o2") <= 600


def test_only_the_last_five_are_kept(redis):
    for n in range(8):
        recent_messages.remember(redis, "o1", f"第{n}句", NOW)
    assert [s.text for s in recent_messages.take(redis, "o1", NOW)] == [
        f"第{n}句" for n in range(3, 8)]


def test_a_ticket_opens_with_the_earlier_messages_and_weighs_them(storage):
    earlier = [(NOW - timedelta(minutes=2), "口红是假货"), (NOW - timedelta(minutes=1), "被骗了")]
    with storage.sessions.begin() as db:
        ticket = tickets.open_ticket(db, "o1", text="", now=NOW, earlier=earlier)
        ticket_id = ticket.id
        assert [(m.body, m.at.replace(tzinfo=UTC)) for m in tickets.messages(db, ticket_id)] \
            == [(text, at) for at, text in earlier]
    with storage.sessions() as db:
        ticket = db.get(Ticket, ticket_id)
        assert (ticket.priority, ticket.priority_reason) == (2, "投诉词：假货")


def test_a_ticket_needs_a_message(storage):
    with storage.sessions.begin() as db, pytest.raises(tickets.TicketError):
        tickets.open_ticket(db, "o1", text="", now=NOW)
