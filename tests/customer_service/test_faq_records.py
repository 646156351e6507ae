"""What the FAQ keeps besides its entries — wordings, reaches — on SQLite and PostgreSQL, and
the matcher seeing every change at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from customer_service import faq, faq_answers
from customer_service.faq import FaqReach


def test_reaches_are_counted_once_per_wording_even_when_customers_ask_at_once(any_storage):
    with any_storage.sessions.begin() as db:
        faq.seed_defaults(db)
        returns = faq.entries(db)[0].id

    def ask(_: int) -> None:
        with any_storage.sessions.begin() as db:
            faq.record_reach(db, returns, "能退吗？", "answered")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(ask, range(12)))
    with any_storage.sessions() as db:
        rows = list(db.scalars(select(FaqReach)))
        assert [(r.text, r.outcome, r.count) for r in rows] == [("能退吗", "answered", 12)]
        assert faq.reaches(db)[returns]["answered"][0].count == 12


def test_a_new_wording_is_matched_at_once_and_a_deleted_entry_takes_its_wordings(any_storage):
    with any_storage.sessions.begin() as db:
        entry = faq.save(db, question="能送货上门吗？", answer="可以，快递送货上门。", keywords="",
                         author="m")
    with any_storage.sessions() as db:
        assert faq_answers.best_match(db, "快递员会送到家门口吗") is None
    with any_storage.sessions.begin() as db:
        assert faq.add_wording(db, db.get(faq.Faq, entry.id), "快递员会送到家门口吗", "m")
        assert not faq.add_wording(db, db.get(faq.Faq, entry.id), "快递员会送到家门口吗？", "m")
    with any_storage.sessions() as db:
        assert faq_answers.best_match(db, "快递员会送到家门口吗").faq_id == entry.id
    with any_storage.sessions.begin() as db:
        db.delete(db.get(faq.Faq, entry.id))
    with any_storage.sessions() as db:
        assert faq.all_wordings(db) == {}
        assert faq_answers.best_match(db, "快递员会送到家门口吗") is None
