"""Search as a customer types: synonyms, input-method typos, any word order, both databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from content_audit import default_screener
from shop.catalog_import import import_catalog
from shop.search import SearchIndex

DEMO = Path(__file__).resolve().parents[2] / "shop" / "demo_catalog.json"


@pytest.fixture()
def index(any_storage):
    with any_storage.sessions.begin() as db:
        report = import_catalog(db, DEMO.read_text(encoding="utf-8"), fmt="json", author="t",
                                screener=default_screener())
        assert report.ok and report.created == 24
    with any_storage.sessions() as db:
        return SearchIndex.build(db)


def first(index, query: str) -> str:
    hits = index.search(query)
    return hits[0].name if hits else ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("口红", "丝绒哑光口红"),
        ("唇膏", "丝绒哑光口红"),  # synonym
        ("口虹", "丝绒哑光口红"),  # input-method typo: same pinyin
        ("有口红吗", "丝绒哑光口红"),
        ("尿不湿", "超薄透气纸尿裤"),
        ("保湿 面霜", "玻尿酸保湿面霜"),
        ("面霜保湿", "玻尿酸保湿面霜"),  # word order
        ("地瓜", "烟薯 25 号红薯"),
        ("SPF50", "轻薄防晒乳 SPF50"),
        ("盲盒", "星空系列盲盒"),
    ],
)
def test_customers_find_what_they_mean(index, query, expected):
    assert first(index, query) == expected


def test_nothing_matches_nonsense_or_empty(index):
    assert index.search("火箭发动机") == []
    assert index.search("") == []
    assert index.search("？？？") == []


def test_off_shelf_products_are_not_found(any_storage, index):
    from shop.catalog import Product

    with any_storage.sessions.begin() as db:
        db.query(Product).filter(Product.name == "丝绒哑光口红").one().on_shelf = False
    with any_storage.sessions() as db:
        assert first(SearchIndex.build(db), "口红") != "丝绒哑光口红"
