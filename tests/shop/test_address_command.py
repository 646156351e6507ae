"""`python -m bot address`: the parser from the shell, readable or as JSON lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: str = "", tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["BOT_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.run([sys.executable, "-m", "bot", "address", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=60)


def test_json_lines_give_official_names_missing_parts_and_candidates(tmp_path):
    typed = "李四 13700137000 杭州西湖区文一路5号\n\n赵六 18612345678 朝阳区建国路1号\n"
    done = run("--json", stdin=typed, tmp_path=tmp_path)
    assert done.returncode == 0
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first == {"text": "李四 13700137000 杭州西湖区文一路5号", "name": "李四",
                     "phone": "13700137000", "province": "浙江省", "city": "杭州市",
                     "district": "西湖区", "street": "文一路5号", "missing": [],
                     "ambiguous": []}
    assert second["ambiguous"] == ["北京市/北京市/朝阳区", "吉林省/长春市/朝阳区"]
    assert second["missing"] == ["province", "city"] and second["district"] == ""


def test_a_file_is_read_and_shown_readably_and_bad_usage_exits_2(tmp_path):
    source = tmp_path / "addresses.txt"
    source.write_text("13800138000\n", encoding="utf-8")
    done = run(str(source), tmp_path=tmp_path)
    assert done.returncode == 0
    assert "手机号：13800138000" in done.stdout
    assert "缺少：收件人姓名、省份、城市、区县、详细地址" in done.stdout
    assert run(str(tmp_path / "missing.txt"), tmp_path=tmp_path).returncode == 2
    assert run("--no-such-option", tmp_path=tmp_path).returncode == 2
