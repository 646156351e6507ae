"""FAQ answering speed: the index kept until the FAQ changes, against rebuilding it per message.

issue 19 asks that the index be built when the FAQ changes, not per message. In one run, on a
fresh SQLite file with the demo FAQ (6 entries, their alternative wordings) and with a large
one (200 entries of 12 wordings each, generated), it times:
- kept: customer_service.faq_answers.consult, as the chat calls it (a one-row query checks
  the FAQ has not changed, then the kept index ranks the question);
- rebuilt: the same decision with the index built from the database for every message (what
  the chat would cost if it did not keep it);
- bare: the ranking alone on a ready index, no database (the ceiling).
Questions are everyday wordings from the demo entries and the catalog, cycled.

    .venv/bin/python bench/faq_speed.py [--seconds 3]

Prints questions/s, p50 and p99 for each, and kept/rebuilt as a ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.timing import timed
from bot.domains import build_registry
from core.db import create_tables, make_engine, make_sessionmaker
from customer_service import faq, faq_answers

QUESTIONS = ["能退吗", "不要了怎么退", "几天发货啊", "周末发货吗", "能开票吗", "包不包邮",
             "地址写错了", "是正品吗", "我的快递到哪了", "口红有几个色号", "你好", "新疆包邮吗"]
TOPICS = ["退换", "发货", "发票", "运费", "地址", "正品", "会员", "积分", "优惠", "直播", "预售",
          "定制", "礼盒", "保质期", "产地", "尺码", "色号", "赠品", "拼团", "砍价"]


def big_faq(db) -> None:
    for n in range(200):
        topic = TOPICS[n % len(TOPICS)]
        faq.save(db, question=f"{topic}问题{n}怎么办？", answer=f"关于{topic}的第{n}条答复。",
                 keywords=topic, author="bench",
                 wordings=[f"{topic}{n}相关的第{k}种问法吗" for k in range(12)])


def run(label: str, sessions, seconds: float) -> None:
    with sessions() as db:
        # jieba's dictionary, the first index
        faq_answers.consult(db, "预热", has_orders=faq_answers.no_orders)

        def kept(question: str) -> None:
            faq_answers.consult(db, question, has_orders=faq_answers.no_orders)

        def rebuilt(question: str) -> None:
            faq_answers._cache.clear()
            faq_answers.consult(db, question, has_orders=faq_answers.no_orders)

        index, _ = faq_answers._index(db)
        results = {"kept": timed(kept, QUESTIONS, seconds),
                   "rebuilt": timed(rebuilt, QUESTIONS, seconds),
                   "bare": timed(index.rank, QUESTIONS, seconds)}
    print(f"\n{label}")
    print(f"  {'':<8} {'questions/s':>12} {'p50 ms':>8} {'p99 ms':>8}")
    for name, (rate, p50, p99) in results.items():
        print(f"  {name:<8} {rate:>12,.0f} {p50 * 1000:>8.2f} {p99 * 1000:>8.2f}")
    print(f"  kept / rebuilt: {results['kept'][0] / results['rebuilt'][0]:.1f}×   "
          f"kept / bare: {results['kept'][0] / results['bare'][0]:.2f}×")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    build_registry()
    with tempfile.TemporaryDirectory() as tmp:
        for label, fill in (("demo FAQ (6 entries)", faq.seed_defaults),
                            ("large FAQ (200 entries × 13 wordings)", big_faq)):
            engine = make_engine(f"sqlite:///{tmp}/{len(label)}.db")
            create_tables(engine)
            sessions = make_sessionmaker(engine)
            with sessions.begin() as db:
                fill(db)
            run(label, sessions, args.seconds)
            engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
