"""On the shelf or not, when the product's copy may have to wait for the compliance reviewer.

The content gate holds copy that needs a person's judgement, and a held product stays off the
shelf. When the manager had asked for the shelf, that wish is kept
(Product.shelf_when_approved) and the reviewer's approval of those exact words puts the product
on the shelf: nobody has to come back and click 上架. Words rejected, sent back for changes
or rewritten by the reviewer will never be approved as they are, so the wish goes with them:
the manager edits the copy and asks again. Decisions are per (source, words), as in the gate,
so a product is matched to its item by its copy, whether the console or the import put it in
the queue. A decision arrives here at once through the review queue's hook (registered by
shop.register), and for decisions taken where the shop is not loaded
(`python -m content_audit decide`) through the `shelve_approved_products` job.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from console import audit_log
from content_audit.gate import Outcome
from content_audit.review import ReviewItem, content_hash
from core.storage import Storage
from shop.catalog import Product
from shop.product_form import product_copy

log = logging.getLogger(__name__)

#: How a product's copy stands with the reviewer, as the console's product list shows it.
REVIEW_LABELS = {
    "pending": "待审核",
    "rejected": "审核未通过",
    "changes_requested": "审核要求修改",
    "superseded": "审核员已改写，请按审核意见修改文案",
}


def settle(product: Product, wanted: bool, outcome: Outcome) -> None:
    """Where a product stands once its copy passed the gate (not refused): on the shelf if the
    manager wants it and the copy may go; held copy keeps it off, remembering the wish."""
    product.on_shelf = wanted and not outcome.held
    product.shelf_when_approved = wanted and outcome.held


#: Decisions after which the words will not be approved as they are.
_WILL_NOT_PASS = ("rejected", "changes_requested", "superseded")


def follow_decisions(db: Session, reviewer: str = "") -> list[int]:
    """Products waiting for the reviewer whose copy is now decided: approved ones go on the
    shelf, the others lose the wish. Returns the ids put on the shelf; every change is on the
    audit log under the reviewer (or "system").
    """
    waiting = list(db.scalars(select(Product).where(Product.shelf_when_approved.is_(True))))
    if not waiting:
        return []
    hashes = {product.id: content_hash(product_copy(product)) for product in waiting}
    rows = db.execute(
        select(ReviewItem.content_hash, ReviewItem.state).where(
            ReviewItem.source == "product",
            ReviewItem.state.in_(("approved", *_WILL_NOT_PASS)),
            ReviewItem.content_hash.in_(set(hashes.values())),
        )
    )
    decided = {digest: state for digest, state in rows}
    shelved = []
    for product in waiting:
        state = decided.get(hashes[product.id])
        if state is None:
            continue
        product.shelf_when_approved = False
        product.on_shelf = state == "approved"
        audit_log.record(db, "product.shelf", actor_name=reviewer or "system",
                         target=f"product:{product.id}", on_shelf=product.on_shelf,
                         reason=f"copy {state}")
        if product.on_shelf:
            shelved.append(product.id)
    db.flush()
    return shelved


def on_copy_decided(db: Session, item: ReviewItem) -> None:
    """The review queue's hook: a decision on product copy settles the products waiting on it."""
    if item.source == "product":
        follow_decisions(db, item.reviewer or "")


def shelve_approved_products(storage: Storage) -> int:
    """The job: decisions taken outside this process's hook (the content_audit CLI)."""
    with storage.sessions.begin() as db:
        shelved = follow_decisions(db)
    for product_id in shelved:
        log.info("product %d put on the shelf: its copy was approved", product_id)
    return len(shelved)


def review_states(db: Session, products: list[Product]) -> dict[int, ReviewItem]:
    """The review item of each product's current copy, for products that have one."""
    hashes = {product.id: content_hash(product_copy(product)) for product in products}
    if not hashes:
        return {}
    items = {
        item.content_hash: item
        for item in db.scalars(select(ReviewItem).where(
            ReviewItem.source == "product", ReviewItem.content_hash.in_(set(hashes.values()))
        ))
    }
    return {pid: items[digest] for pid, digest in hashes.items() if digest in items}
