"""A rule the compliance role adds in the console stops that wording in every sender at once:
a product save, a catalog import (from the console and from the shell), a FAQ answer and an
agent's reply. None of them may fall back to the rules shipped in the repository."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from content_audit import rulestore
from shop.catalog import Product
from tests.console.conftest import signed_in
from tests.customer_service.test_inbox_console import (
    ask,
    claimed,
    customer_messages_wechat,
    texts_sent,
)
from tests.customer_service.test_inbox_console import service as service
from tests.shop.test_admin_views import product_form

ROOT = Path(__file__).resolve().parents[2]
NEW_TERM = "爆款神器"  # not in the shipped rules
HEADER = "category,name,variant,price,original_price,stock,tags,description,on_shelf\n"


def add_term_in_console(app) -> None:
    reviewer = signed_in(app, "reviewer")
    with app.extensions["storage"].sessions() as db:
        rule = rulestore.latest(db).by_id("superlative.words")
    assert NEW_TERM not in rule.terms
    saved = reviewer.post("/admin/audit/rules", {
        "id": "superlative.words", "kind": "word", "category": "superlative",
        "severity": "block", "terms": "\n".join([*rule.terms, NEW_TERM]), "enabled": "1",
        "note": "新增用语",
    })
    assert saved.status_code == 302


def product_names(app) -> set[str]:
    with app.extensions["storage"].sessions() as db:
        return set(db.scalars(select(Product.name)))


def test_a_product_save_is_refused(console_app):
    manager = signed_in(console_app, "manager")
    before = manager.post("/admin/shop/products/new",
                          product_form(name="桂花蜜", description=f"{NEW_TERM}，清甜"))
    assert before.status_code == 302  # the shipped rules know nothing of it
    add_term_in_console(console_app)
    refused = manager.post("/admin/shop/products/new",
                           product_form(name="槐花蜜", description=f"{NEW_TERM}，清甜"))
    assert refused.status_code == 400 and f"「{NEW_TERM}」" in refused.text
    assert product_names(console_app) == {"桂花蜜"}


def test_a_console_catalog_import_is_refused(console_app):
    add_term_in_console(console_app)
    manager = signed_in(console_app, "manager")
    text = (HEADER + f"零食,坚果,500g,39.9,,100,坚果,{NEW_TERM}每日坚果,1\n"
            "零食,果干,1袋,9.9,,5,,好吃,1\n")
    report = manager.post("/admin/shop/products/import",
                          {"file": (io.BytesIO(text.encode()), "catalog.csv")},
                          follow_redirects=True).text
    assert NEW_TERM in report
    assert product_names(console_app) == {"果干"}


@pytest.mark.slow
def test_a_catalog_import_from_the_shell_is_refused(console_app, tmp_path):
    add_term_in_console(console_app)
    storage = console_app.extensions["storage"]
    source = tmp_path / "catalog.csv"
    source.write_text(HEADER + f"零食,坚果,500g,39.9,,100,坚果,{NEW_TERM}每日坚果,1\n",
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")}
    env["DATABASE_URL"] = str(storage.engine.url.render_as_string(hide_password=False))
    env["REDIS_URL"] = f"unix://{storage.redis.socket_file}"
    done = subprocess.run([sys.executable, "-m", "bot", "catalog", "import", str(source)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "created 0" in done.stdout and NEW_TERM in done.stdout
    assert product_names(console_app) == set()


def test_a_faq_answer_is_refused(console_app):
    add_term_in_console(console_app)
    manager = signed_in(console_app, "manager")
    refused = manager.post("/admin/service/faq", {
        "question": "哪款卖得好？", "answer": f"这款是{NEW_TERM}。", "keywords": "热卖"})
    assert refused.status_code == 400 and f"「{NEW_TERM}」" in refused.text


def test_an_agent_reply_is_refused(service):
    add_term_in_console(service.app)
    ticket_id = ask(service)
    customer_messages_wechat(service)
    agent = claimed(service, ticket_id)
    answer = agent.post(f"/admin/service/tickets/{ticket_id}/reply",
                        {"body": f"这款是{NEW_TERM}，放心买"})
    assert answer.status_code == 400 and f"「{NEW_TERM}」" in answer.text
    assert texts_sent(service) == []
