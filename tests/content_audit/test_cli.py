"""`python -m content_audit check`, as a reviewer or a script runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "content_audit", *args],
        input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )


def test_json_is_one_object_per_line_in_order():
    done = run("check", "--json", stdin="全网最好用的面霜\n包邮到家\n转发即可领取红包\n")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["verdict"] for r in records] == ["block", "pass", "review"]
    assert [r["text"] for r in records] == ["全网最好用的面霜", "包邮到家", "转发即可领取红包"]
    flag = records[0]["flags"][0]
    assert (flag["term"], flag["start"], flag["end"], flag["category"]) == ("最好用", 2, 5,
                                                                            "superlative")
    assert flag["severity"] == "block" and flag["suggestion"]
    assert records[1]["flags"] == []


def test_the_readable_report_marks_spans_and_reads_files(tmp_path):
    source = tmp_path / "copy.txt"
    source.write_text("顶级面霜\n最近上新\n", encoding="utf-8")
    done = run("check", str(source))
    assert done.returncode == 0
    assert "[block 禁止] 【顶级】面霜" in done.stdout
    assert "[pass 通过] 最近上新" in done.stdout
    assert "Building prefix dict" not in done.stdout + done.stderr


def test_bad_usage_exits_2():
    assert run("check", "--no-such-option").returncode == 2
    assert run("check", "/no/such/file").returncode == 2


def test_every_flag_carries_one_of_the_standards_categories():
    lines = "签约包过，不过退费\n能治疗鼻炎\n央视推荐\n集满20个赞送小样\n全网最低价\n"
    done = run("check", "--json", stdin=lines)
    assert done.returncode == 0, done.stderr
    categories = [
        [flag["category"] for flag in json.loads(line)["flags"]]
        for line in done.stdout.splitlines()
    ]
    assert categories == [
        ["absolute_guarantee", "absolute_guarantee"], ["medical_claim"], ["authority"],
        ["induced_sharing"], ["superlative"],
    ]
