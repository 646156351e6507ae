"""Catalog import: every bad row reported by line, no product half-imported, copy screened."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from content_audit import default_screener
from shop.catalog import Product
from shop.catalog_import import import_catalog

ROOT = Path(__file__).resolve().parents[2]
HEADER = "category,name,variant,price,original_price,stock,tags,description,on_shelf\n"


def products(storage) -> dict[str, Product]:
    with storage.sessions() as db:
        found = {p.name: p for p in db.scalars(select(Product))}
        for product in found.values():
            _ = product.skus
        return found


def test_bad_rows_are_reported_and_their_product_is_skipped_whole(any_storage):
    text = HEADER + (
        "美妆,口红,正红,129,159,10,口红,显色,1\n"          # line 2 ok
        "美妆,口红,豆沙,abc,,10,口红,显色,1\n"             # line 3 bad price → 口红 whole out
        "美妆,面霜,50ml,168,,5,面霜,保湿,1\n"              # line 4 ok
        "美妆,面霜,100ml,298,,-3,面霜,保湿,1\n"            # line 5 bad stock
        "零食,坚果,500g,39.9,,100,坚果,每日坚果,1\n"       # line 6 ok
        ",,x,1,,1,,,1\n"                                   # line 7 no name
    )
    with any_storage.sessions.begin() as db:
        report = import_catalog(db, text, fmt="csv", author="lin",
                                screener=default_screener())
    assert report.created == 1
    lines = dict(report.rejected)
    assert "价格「abc」无效" in lines[3] and "整件未导入" in lines[2]
    assert "库存「-3」无效" in lines[5] and "整件未导入" in lines[4]
    assert "商品名称" in lines[7]
    assert set(products(any_storage)) == {"坚果"}


def test_copy_that_breaks_the_ad_law_is_rejected_and_review_copy_waits_off_shelf(any_storage):
    text = HEADER + (
        "美妆,全网最好用的面霜,50ml,168,,5,,,1\n"
        "美妆,会员面霜,50ml,168,,5,,转发朋友圈即可领取小样,1\n"
    )
    with any_storage.sessions.begin() as db:
        report = import_catalog(db, text, fmt="csv", author="lin",
                                screener=default_screener())
    assert "「最好用」" in dict(report.rejected)[2]
    assert report.held_for_review == ["会员面霜"]
    assert products(any_storage)["会员面霜"].on_shelf is False


def test_importing_again_updates_instead_of_duplicating(any_storage):
    first = HEADER + "美妆,口红,正红,129,,10,,,1\n"
    again = HEADER + "美妆,口红,正红,119,,30,,,1\n美妆,口红,豆沙,119,,5,,,1\n"
    with any_storage.sessions.begin() as db:
        import_catalog(db, first, fmt="csv", author="lin",
                                screener=default_screener())
    with any_storage.sessions.begin() as db:
        report = import_catalog(db, again, fmt="csv", author="lin",
                                screener=default_screener())
    assert (report.created, report.updated) == (0, 1)
    skus = {s.variant: (s.price_fen, s.stock) for s in products(any_storage)["口红"].skus}
    assert skus == {"正红": (11900, 30), "豆沙": (11900, 5)}


def test_the_cli_dry_run_writes_nothing_and_exits_1_on_rejects(tmp_path):
    source = tmp_path / "catalog.csv"
    source.write_text(HEADER + "美妆,口红,正红,129,,10,,,1\n美妆,眼影,盘,x,,1,,,1\n",
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["BOT_DATA_DIR"] = str(tmp_path / "var")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "bot", "catalog", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)

    subprocess.run([sys.executable, "-m", "bot", "migrate"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)  # the operator's first step
    dry = run("import", "--dry-run", str(source))
    assert dry.returncode == 1
    assert "would create 1" in dry.stdout and "line 3: 价格「x」无效" in dry.stdout
    assert run("export").stdout.strip() == "[]"
    real = run("import", str(source))
    assert real.returncode == 1 and "created 1" in real.stdout
    assert '"name": "口红"' in run("export").stdout
    assert run("import", str(tmp_path / "missing.csv")).returncode == 2


def test_prices_beyond_a_million_yuan_are_rejected(any_storage):
    text = HEADER + "收藏,金条,1kg,50000000,,1,,,1\n收藏,银币,1枚,999999.99,,1,,,1\n"
    with any_storage.sessions.begin() as db:
        report = import_catalog(db, text, fmt="csv", author="lin",
                                screener=default_screener())
    assert report.created == 1 and "价格" in dict(report.rejected)[2]
