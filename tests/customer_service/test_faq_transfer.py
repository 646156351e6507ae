"""The FAQ to and from JSON, with alternative wordings, through the content gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import delete

from content_audit import default_screener
from customer_service import faq, faq_answers
from customer_service.faq_transfer import export_json, import_json

ROOT = Path(__file__).resolve().parents[2]


def test_an_export_imports_into_an_empty_faq_with_its_wordings(storage):
    with storage.sessions.begin() as db:
        faq.seed_defaults(db)
        exported = export_json(db)
    rows = json.loads(exported)
    assert rows[0]["question"] == "退货怎么办？" and "能退吗" in rows[0]["wordings"]
    with storage.sessions.begin() as db:
        db.execute(delete(faq.Faq))  # the wordings go with their entries
        assert faq.all_wordings(db) == {}
    with storage.sessions.begin() as db:
        report = import_json(db, exported, author="lin", screener=default_screener())
    assert (report.created, report.updated, report.rejected) == (len(rows), 0, [])
    with storage.sessions() as db:
        assert faq_answers.best_match(db, "能退吗").question == "退货怎么办？"
        assert export_json(db) == exported


def test_import_updates_by_question_refuses_banned_copy_and_holds_doubtful(storage):
    with storage.sessions.begin() as db:
        faq.seed_defaults(db)
    text = json.dumps([
        {"question": "包邮吗？", "answer": "满 99 元包邮。", "wordings": "运费多少\n邮费谁出"},
        {"question": "是最好的吗？", "answer": "全网最低价，国家级品质。"},
        {"question": "", "answer": "没有问题"},
    ], ensure_ascii=False)
    with storage.sessions.begin() as db:
        report = import_json(db, text, author="lin", screener=default_screener())
    assert (report.created, report.updated) == (0, 1)
    assert [n for n, _ in report.rejected] == [2, 3]
    assert "问题需" in dict(report.rejected)[3]
    with storage.sessions() as db:
        fee = faq_answers.best_match(db, "邮费谁出")
        assert fee.answer == "满 99 元包邮。"
        assert faq.wordings(db, fee.faq_id) == ["运费多少", "邮费谁出"]
        assert len(faq.entries(db)) == len(faq.DEFAULT_FAQ)


def test_the_cli_exports_and_imports(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["BOT_DATA_DIR"] = str(tmp_path / "var")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "bot", "faq", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)  # the operator's first step
    assert run("export").stdout.strip() == "[]"
    source = tmp_path / "faq.json"
    source.write_text(json.dumps([{"question": "能开发票吗？", "answer": "可以，回复「人工」。",
                                   "wordings": ["要报销能开票吗"]}], ensure_ascii=False),
                      encoding="utf-8")
    dry = run("import", "--dry-run", str(source))
    assert dry.returncode == 0 and "would create 1" in dry.stdout
    assert run("export").stdout.strip() == "[]"
    assert "created 1" in run("import", str(source)).stdout
    assert '"要报销能开票吗"' in run("export").stdout
    source.write_text("{not json", encoding="utf-8")
    assert run("import", str(source)).returncode == 2
