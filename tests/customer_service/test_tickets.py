"""Tickets, hours and the FAQ as rules: priority, claiming, closing, the window, matching."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from customer_service import faq, faq_answers, tickets
from customer_service.hours import parse_hours, when_text
from customer_service.tickets import Ticket

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai, a Tuesday


def opened(storage, openid="o1", text="人工", **extra) -> int:
    with storage.sessions.begin() as db:
        return tickets.open_ticket(db, openid, text=text, now=NOW, **extra).id


def test_one_open_ticket_per_customer_and_priority_only_rises(storage):
    first = opened(storage, text="在吗")
    again = opened(storage, text="我要投诉，收到的是假货")
    assert again == first
    with storage.sessions.begin() as db:
        ticket = db.get(Ticket, first)
        assert (ticket.priority, ticket.priority_reason) == (2, "投诉词：投诉")
        tickets.add_customer_message(db, ticket, kind="text", body="谢谢", now=NOW)
        assert ticket.priority == 2
    gold = opened(storage, openid="o-gold", text="你好", tier="黄金", top_tier="黄金")
    with storage.sessions() as db:
        assert db.get(Ticket, gold).priority_reason == "黄金会员"


def test_asking_again_with_earlier_messages_makes_it_the_agents_turn_now(storage):
    first = opened(storage, text="在吗")
    later = NOW + timedelta(hours=2)
    with storage.sessions.begin() as db:
        ticket = tickets.open_ticket(db, "o1", text="", now=later,
                                     earlier=[(later - timedelta(minutes=3), "口红掉色")])
        assert ticket.id == first
        assert ticket.last_customer_at.replace(tzinfo=UTC) == later  # not the earlier one's


@pytest.mark.parametrize(("text", "level"),
                         [("我被骗了", 2), ("骗子", 2), ("不骗你，真的很好用", 0)])
def test_deceit_words_raise_the_priority_but_a_bare_pian_does_not(text, level):
    assert tickets.priority_for(text)[0] == level


def test_two_agents_racing_to_claim_get_one_owner(any_storage):
    ticket_id = opened(any_storage)
    barrier, won = threading.Barrier(8), []

    def try_claim(agent: str) -> None:
        barrier.wait()
        with any_storage.sessions.begin() as db:
            if tickets.claim(db, ticket_id, agent):
                won.append(agent)

    threads = [threading.Thread(target=try_claim, args=(f"agent{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1
    with any_storage.sessions() as db:
        assert db.get(Ticket, ticket_id).agent == won[0]


def test_closing_twice_and_rating_once(storage):
    ticket_id = opened(storage)
    with storage.sessions.begin() as db:
        ticket = db.get(Ticket, ticket_id)
        assert tickets.close(db, ticket, by="customer", now=NOW)
        assert not tickets.close(db, ticket, by="agent", now=NOW)  # the customer was first
        with pytest.raises(tickets.TicketError):
            tickets.rate(db, ticket, 6)
        assert tickets.rate(db, ticket, 3) and not tickets.rate(db, ticket, 5)
        assert db.get(Ticket, ticket_id).rating == 3


def test_the_window_counts_five_replies_per_customer_message_for_48_hours(storage):
    ticket_id = opened(storage)
    with storage.sessions.begin() as db:
        ticket = db.get(Ticket, ticket_id)
        for n in range(5):
            tickets.record_reply(db, ticket, agent="a", body=f"r{n}", delivery="sent",
                                 now=NOW + timedelta(minutes=n))
        window = tickets.window(db, ticket)
        assert window.sends_left == 0 and window.problem(NOW) == "45047"
        assert ticket.first_response_at.replace(tzinfo=UTC) == NOW and ticket.state == "waiting"
        tickets.add_customer_message(db, ticket, kind="text", body="还在吗",
                                     now=NOW + timedelta(hours=1))
        window = tickets.window(db, ticket)
        assert window.sends_left == 5 and ticket.state == "assigned"
        assert window.problem(NOW + timedelta(hours=49)) == "45015"


def test_the_sla_clock_starts_at_opening_time(storage):
    hours = parse_hours("09:00-18:00", "2026-12-02")
    evening = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 20:00 Shanghai
    with storage.sessions.begin() as db:
        ticket = tickets.open_ticket(db, "o1", text="人工", hours=hours, sla_minutes=10,
                                     now=evening)
        due = ticket.first_response_due.astimezone(UTC)
    # 2 Dec is a holiday: the next opening is 3 Dec 09:00 Shanghai (01:00 UTC).
    assert due == datetime(2026, 12, 3, 1, 10, tzinfo=UTC)
    assert when_text(hours.next_open(evening), evening) == "后天 09:00"
    assert tickets.overdue(ticket, due + timedelta(seconds=1))


@pytest.mark.parametrize(("hours", "at", "open_"), [
    ("09:00-21:00", datetime(2026, 12, 1, 1, 0, tzinfo=UTC), True),  # 09:00
    ("09:00-21:00", datetime(2026, 12, 1, 13, 0, tzinfo=UTC), False),  # 21:00
    ("20:00-02:00", datetime(2026, 12, 1, 17, 30, tzinfo=UTC), True),  # 01:30
    ("00:00-24:00", datetime(2026, 12, 1, 15, 59, tzinfo=UTC), True),
])
def test_business_hours(hours, at, open_):
    assert parse_hours(hours).is_open(at) is open_


@pytest.mark.parametrize("bad", ["9-21", "21:00-21:00", "25:00-26:00", ""])
def test_bad_hours_are_refused(bad):
    with pytest.raises(ValueError):
        parse_hours(bad)


@pytest.mark.parametrize(("asked", "question"), [
    ("退货怎么办", "退货怎么办？"), ("怎么退货呀", "退货怎么办？"), ("我想退钱", "退货怎么办？"),
    ("几天能发出", "多久发货？"), ("能开票吗", "可以开发票吗？"), ("包不包邮", "包邮吗？"),
    ("地址写错了怎么改", "怎么修改收货地址？"), ("是真货吗", "是正品吗？"),
    ("你好", None), ("口红", None), ("今天天气怎么样", None), ("积分怎么用", None),
])
def test_faq_matching_with_synonyms_and_any_wording(storage, asked, question):
    with storage.sessions.begin() as db:
        faq.seed_defaults(db)
    with storage.sessions() as db:
        found = faq_answers.best_match(db, asked)
        assert (found.question if found else None) == question


def test_an_edit_to_the_faq_is_seen_at_once(storage):
    with storage.sessions.begin() as db:
        entry = faq.save(db, question="周末发货吗？", answer="周末照常发货。", keywords="周末",
                         author="m")
    with storage.sessions() as db:
        assert faq_answers.best_match(db, "周末发不发货").answer == "周末照常发货。"
    with storage.sessions.begin() as db:
        faq.save(db, question="周末发货吗？", answer="周末休息，周一发货。", keywords="周末",
                 author="m", faq=db.get(faq.Faq, entry.id))
    with storage.sessions() as db:
        assert faq_answers.best_match(db, "周末发不发货").answer == "周末休息，周一发货。"
    with pytest.raises(ValueError, match="答案"), storage.sessions.begin() as db:
        faq.save(db, question="空的答案", answer="", keywords="", author="m")
