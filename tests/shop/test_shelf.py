"""A product whose copy waits for the reviewer goes on the shelf when the copy is approved, if
the manager had asked for the shelf: from the console's review queue, the content CLI (through
the job) and for imported products alike. Other words never carry it there, and a rejection
drops the wish (the manager edits and asks again)."""

from __future__ import annotations

from functools import partial

from sqlalchemy import select

from console.audit_log import AuditEntry
from content_audit import default_screener, gate, review
from shop import catalog, shelf
from shop.catalog import Product
from shop.catalog_import import import_catalog
from shop.product_form import product_copy

check = partial(gate.check, screener=default_screener())
SHARE = "转发朋友圈即可领取小样"  # copy the shipped rules send to review


def waiting_product(db, name: str = "桂花蜜", wanted: bool = True) -> tuple[Product, int]:
    """A product saved with copy that needs review, its shelf asked for (or not)."""
    product = catalog.add_product(db, name=name, description=SHARE, skus=[("500g", 6800, 5)],
                                  on_shelf=False)
    outcome = check(db, product_copy(product), source="product", author="manager",
                    source_ref=f"product:{product.id}")
    assert outcome.held
    shelf.settle(product, wanted, outcome)
    return product, outcome.item.id


def state(storage, product_id: int) -> tuple[bool, bool]:
    with storage.sessions() as db:
        product = db.get(Product, product_id)
        return product.on_shelf, product.shelf_when_approved


def test_held_copy_keeps_the_wish_and_approval_fulfils_it(storage):
    with storage.sessions.begin() as db:
        product, item_id = waiting_product(db)
        other, _ = waiting_product(db, "枣花蜜", wanted=False)
        product_id, other_id = product.id, other.id
    assert state(storage, product_id) == (False, True)
    with storage.sessions.begin() as db:
        review.decide(db, db.get(review.ReviewItem, item_id), "reviewer", "approved")
    assert state(storage, product_id) == (True, False)
    assert state(storage, other_id) == (False, False)  # nobody asked for its shelf
    with storage.sessions() as db:
        entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "product.shelf"))
        assert (entry.actor, entry.target) == ("reviewer", f"product:{product_id}")


def test_rejection_or_a_rewrite_by_the_reviewer_drops_the_wish(storage):
    with storage.sessions.begin() as db:
        rejected, rejected_item = waiting_product(db, "桂花蜜")
        rewritten, rewritten_item = waiting_product(db, "槐花蜜")
        ids = rejected.id, rewritten.id
    with storage.sessions.begin() as db:
        review.decide(db, db.get(review.ReviewItem, rejected_item), "reviewer", "rejected",
                      "诱导分享")
        item = db.get(review.ReviewItem, rewritten_item)
        new_text = "槐花蜜 喜欢的话欢迎分享给朋友"
        review.edit_and_approve(db, item, "reviewer", new_text,
                                default_screener().screen(new_text), "改写")
    assert state(storage, ids[0]) == (False, False)
    assert state(storage, ids[1]) == (False, False)  # approved words are not the product's
    with storage.sessions() as db:
        found = shelf.review_states(db, [db.get(Product, i) for i in ids])
        assert [found[i].state for i in ids] == ["rejected", "superseded"]


def test_an_approval_made_elsewhere_is_picked_up_by_the_job(storage, monkeypatch):
    """`python -m content_audit decide` does not load the shop, so no hook runs there."""
    monkeypatch.setattr(review, "_decision_listeners", {})
    with storage.sessions.begin() as db:
        product, item_id = waiting_product(db)
        product_id = product.id
    with storage.sessions.begin() as db:
        review.decide(db, db.get(review.ReviewItem, item_id), "reviewer", "approved")
    assert state(storage, product_id) == (False, True)
    assert shelf.shelve_approved_products(storage) == 1
    assert state(storage, product_id) == (True, False)
    assert shelf.shelve_approved_products(storage) == 0


def test_the_job_and_the_hook_are_registered_by_the_shop():
    from bot.domains import build_registry

    registry = build_registry()
    assert "shelve_approved_products" in {job.name for job in registry.jobs}
    assert shelf.on_copy_decided in review._decision_listeners["product"]


def test_an_imported_product_held_for_review_goes_on_sale_when_approved(storage):
    text = ("category,name,variant,price,original_price,stock,tags,description,on_shelf\n"
            f"美妆,会员面霜,50ml,168,,5,,{SHARE},1\n"
            f"美妆,试用面霜,50ml,168,,5,,{SHARE}啦,0\n")
    with storage.sessions.begin() as db:
        report = import_catalog(db, text, fmt="csv", author="lin", screener=default_screener())
    assert report.held_for_review == ["会员面霜", "试用面霜"]
    with storage.sessions() as db:
        wanted = db.scalar(select(Product).where(Product.name == "会员面霜"))
        unwanted = db.scalar(select(Product).where(Product.name == "试用面霜"))
        ids = wanted.id, unwanted.id
        items = [review.find(db, "product", product_copy(p)).id for p in (wanted, unwanted)]
    assert state(storage, ids[0]) == (False, True) and state(storage, ids[1]) == (False, False)
    with storage.sessions.begin() as db:
        for item_id in items:
            review.decide(db, db.get(review.ReviewItem, item_id), "reviewer", "approved")
    assert state(storage, ids[0]) == (True, False)
    assert state(storage, ids[1]) == (False, False)  # the file kept it off the shelf


def test_blocked_copy_in_an_import_says_it_was_not_imported(storage):
    text = ("category,name,variant,price,original_price,stock,tags,description,on_shelf\n"
            "美妆,全网最好用的面霜,50ml,168,,5,,,1\n")
    with storage.sessions.begin() as db:
        report = import_catalog(db, text, fmt="csv", author="lin", screener=default_screener())
    [(line, reason)] = report.rejected
    assert line == 2 and reason.startswith("未导入：含有广告法或平台规则禁止的用语") \
        and "「最好用」" in reason and "未发送" not in reason

