"""Screening throughput: the full screener against a naive loop and the bare Aho-Corasick scan.

On one deterministic corpus of realistic shop copy (~10 MB by default, seeded), in one run:
- naive: every term of every word rule tested with `in` on the raw line (what flat
  word-list tools do; no normalisation, no boundaries, so also less correct);
- ceiling: the bare Aho-Corasick scan of the raw line, no normalisation and no context;
- screener: `Screener.screen`, everything included.
Then the screener on the blind tuning copy (eval/content_audit dev, tune2-4: real-looking
shop copy, about half with a violation, so the slow path runs far more often), and the
latency of one 500-character push, screened 2,000 times (p50, p99).

    .venv/bin/python bench/audit_speed.py [--megabytes 10]

Prints MB/s (UTF-8 bytes) and each ratio; aim: ≥ 5 MB/s end to end on one core, p99 < 5 ms.
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jieba

from content_audit.ruleset import load_shipped
from content_audit.screener import Screener

PRODUCTS = [
    "保湿面霜", "玻尿酸精华", "婴儿纸尿裤", "有机大米", "赣南脐橙", "手办盲盒", "限量球鞋",
    "羊毛围巾", "蜂蜜柚子茶", "宝宝辅食机", "口红礼盒", "防晒喷雾", "五常稻花香", "高山茶叶",
]
CLEAN = [
    "今日上新{p}，限时{n}元包邮",
    "{p}补货啦，每人限购{k}件，先到先得",
    "满199减20，{p}参加活动",
    "{p}支持7天无理由退货，放心选购",
    "第一次购买{p}享9折，顺丰发货",
    "最近很多朋友问{p}什么时候到货",
    "{p}规格：{k}00ml，保质期三年，产地直发",
    "会员日{p}第二件半价，积分翻倍",
    "宝妈们注意啦，{p}今晚8点开抢，数量有限",
    "{p}已发货，预计{k}天内送达，请注意查收",
]
DIRTY = ["全网最好用的{p}，销量第一", "{p}国家级配方，央视推荐", "{p}100%有效，无效退款",
         "转发朋友圈即可领取{p}小样", "{p}顶级品质，zui好的选择", "{p}能消炎排毒，根治痘痘"]


def corpus(megabytes: float, seed: int = 20261122) -> list[str]:
    """Lines of copy: 95% clean, 5% with a violation; about `megabytes` of UTF-8."""
    rng = random.Random(seed)
    lines: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        template = rng.choice(DIRTY) if rng.random() < 0.05 else rng.choice(CLEAN)
        parts = [template.format(p=rng.choice(PRODUCTS), n=rng.randint(9, 399), k=rng.randint(1, 9))
                 for _ in range(rng.randint(1, 4))]
        line = "；".join(parts)
        lines.append(line)
        size += len(line.encode())
    return lines


def labelled_copy(repeat: int = 5) -> list[str]:
    """The blind tuning sets' lines (real-looking copy, about half of it dirty), five times."""
    import json

    folder = Path(__file__).resolve().parents[1] / "eval" / "content_audit"
    lines = [
        json.loads(raw)["text"]
        for name in ("dev.jsonl", *(f"tune{n}.jsonl" for n in range(2, 7)))
        if (folder / name).exists()
        for raw in (folder / name).read_text(encoding="utf-8").splitlines()
        if raw.strip()
    ]
    return lines * repeat


def mb_per_second(lines: list[str], run) -> tuple[float, float]:
    size = sum(len(line.encode()) for line in lines) / 1_000_000
    started = time.perf_counter()
    for line in lines:
        run(line)
    elapsed = time.perf_counter() - started
    return size / elapsed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=10.0)
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    rules = load_shipped()
    screener = Screener(rules)
    jieba.lcut("预热")
    lines = corpus(args.megabytes)
    terms = [term for rule in rules.rules if rule.kind == "word" for term in rule.terms]
    automaton = screener._automaton  # the same automaton the screener scans with

    def naive(line: str) -> list[str]:
        return [term for term in terms if term in line]

    def ceiling(line: str) -> int:
        return sum(1 for _ in automaton.iter(line))

    print(f"corpus: {len(lines)} lines, {sum(len(x.encode()) for x in lines) / 1e6:.1f} MB "
          f"(seeded, 5% with a violation); rule set {rules.version}, {len(terms)} word terms")
    results = {}
    for name, run in (("naive `in` loop", naive), ("bare Aho-Corasick", ceiling),
                      ("screener", screener.screen)):
        rate, elapsed = mb_per_second(lines, run)
        results[name] = rate
        print(f"  {name:<18} {rate:7.2f} MB/s  ({elapsed:.1f} s)")
    full = results["screener"]
    print(f"  screener / naive = {full / results['naive `in` loop']:.2f}×, "
          f"screener / ceiling = {full / results['bare Aho-Corasick']:.0%}")

    labelled = labelled_copy()
    if labelled:
        rate, _ = mb_per_second(labelled, screener.screen)
        size = sum(len(x.encode()) for x in labelled) / 1e6
        print(f"  screener on the labelled tuning copy ({len(labelled)} lines, {size:.2f} MB, "
              f"about half with a violation): {rate:.2f} MB/s")

    rng = random.Random(7)
    push = ""
    while len(push) < 500:
        push += rng.choice(CLEAN).format(p=rng.choice(PRODUCTS), n=99, k=3) + "，"
    push = push[:480] + "全网最好用，转发即可领取小样"
    timings = []
    for _ in range(2000):
        started = time.perf_counter()
        screener.screen(push, "push")
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p99 = timings[int(len(timings) * 0.99)]
    print(f"500-character push ({screener.screen(push).verdict}, {len(push)} chars): "
          f"p50 {statistics.median(timings):.2f} ms, p99 {p99:.2f} ms")
    aim = "met" if full >= 5 and p99 < 5 else "NOT met"
    print(f"aim (≥ 5 MB/s end to end, p99 < 5 ms for a 500-character push): {aim}")


if __name__ == "__main__":
    main()
