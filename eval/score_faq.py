"""Score the chat's FAQ decisions on eval/faq (issue 19).

    python eval/score_faq.py [dev|test] [--misses]    # the decision, customer_service only
    python eval/score_faq.py [dev|test] --webhook     # the reply, through the whole webhook

A fresh SQLite database gets the demo FAQ (customer_service.faq.DEFAULT_FAQ, labels 1–6 in its
order). Every wording is asked by a new customer (no orders): either straight to
customer_service.faq_answers.consult, or — with --webhook — as a signed WeChat text message to
the real app with the demo catalog, embedded Redis and every router in front, the reply read
as the customer would. Right means: an entry label answered by that entry; my_order sent to the
order handler ("您还没有订单"); none not given an FAQ answer. Tune on dev only; test is for the
README.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.db import create_tables, make_engine, make_sessionmaker
from customer_service import faq, faq_answers
from customer_service.faq_answers import Outcome

HERE = Path(__file__).resolve().parent / "faq"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", nargs="?", default="dev",
                        choices=["dev", "tune2", "tune3", "test", "fresh", "holdout", "holdout2"])
    parser.add_argument("--misses", action="store_true", help="print every wrong decision")
    parser.add_argument("--webhook", action="store_true", help="through the whole webhook")
    args = parser.parse_args()
    rows = [json.loads(line) for line in (HERE / f"{args.part}.jsonl").open(encoding="utf-8")]
    if args.webhook:
        return _report(args.part, *_through_webhook(rows, args.misses))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/faq.db")
        create_tables(engine)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as db:
            faq.seed_defaults(db)
        with sessions() as db:
            ids = {str(n): entry.id for n, entry in enumerate(
                sorted(faq.entries(db), key=lambda e: e.id), start=1)}
            counts, right, offered = collections.Counter(), collections.Counter(), 0
            for row in rows:
                label, text = row["label"], row["text"]
                decided = faq_answers.consult(db, text, has_orders=faq_answers.no_orders)
                got = decided.match.faq_id if decided.match else None
                if label == "none":
                    ok = decided.outcome is not Outcome.ANSWER
                elif label == "my_order":
                    ok = decided.outcome is Outcome.MY_ORDER
                else:
                    ok = decided.outcome is Outcome.ANSWER and got == ids[label]
                    if not ok and any(c.faq_id == ids[label] for c in decided.choices):
                        offered += 1
                kind = label if label in ("none", "my_order") else "faq"
                counts[kind] += 1
                right[kind] += ok
                if args.misses and not ok:
                    print(f"{label:>8}  {decided.outcome.value:<8} {got or '':<3} {text}"
                          f"  {[(c.faq_id, c.score) for c in decided.choices]}")
        engine.dispose()
    return _report(args.part, counts, right, offered)


def _through_webhook(rows: list[dict], misses: bool) -> tuple[collections.Counter,
                                                               collections.Counter, int]:
    from xml.etree import ElementTree

    from bot.app import close_app, create_app
    from content_audit import default_screener
    from devtools.demo import seed_catalog, seed_faq
    from devtools.wechat_user import WeChatUser

    token, app_id = "evaltoken", "wx00000000000e0a1a"
    counts, right, offered = collections.Counter(), collections.Counter(), 0
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"WECHAT_TOKEN": token, "WECHAT_APP_ID": app_id,
                          "WECHAT_APP_SECRET": "evalsecret", "BOT_DATA_DIR": tmp,
                          "WECHAT_API_BASE": "http://127.0.0.1:9", "TESTING": True})
        try:
            sessions = app.extensions["storage"].sessions
            seed_catalog(sessions, default_screener())
            seed_faq(sessions)
            answers = {str(n): entry[1] for n, entry in enumerate(faq.DEFAULT_FAQ, start=1)}
            client = app.test_client()
            for row in rows:
                label, text = row["label"], row["text"]
                user = WeChatUser(token=token, app_id=app_id)
                signed = user.sign(user.text(text))
                body = client.post(f"/wechat?{signed.query}", data=signed.body,
                                   content_type="text/xml").data
                reply = "" if body == b"success" else (
                    ElementTree.fromstring(body).findtext("Content") or "")
                given = next((n for n, answer in answers.items() if reply.startswith(answer)),
                             None)
                if label == "none":
                    ok = given is None
                elif label == "my_order":
                    ok = reply.startswith("您还没有订单")
                else:
                    ok = given == label
                    if not ok and faq.DEFAULT_FAQ[int(label) - 1][0] in reply:
                        offered += 1
                kind = label if label in ("none", "my_order") else "faq"
                counts[kind] += 1
                right[kind] += ok
                if misses and not ok:
                    print(f"{label:>8}  {given or '-':<3} {text}  → {reply[:40]!r}")
        finally:
            close_app(app)
    return counts, right, offered


def _report(part: str, counts: collections.Counter, right: collections.Counter,
            offered: int) -> int:
    total = sum(counts.values())
    print(f"eval/faq/{part}.jsonl: {total} wordings")
    print(f"  FAQ wordings answered with the right entry: {right['faq']}/{counts['faq']}"
          f" = {right['faq'] / counts['faq']:.1%}  (right entry offered as a choice: {offered})")
    wrong_none = counts["none"] - right["none"]
    print(f"  uncovered questions given an FAQ answer:    {wrong_none}/{counts['none']}"
          f" = {wrong_none / counts['none']:.1%}")
    print(f"  own-order questions sent to the order:      {right['my_order']}/{counts['my_order']}"
          f" = {right['my_order'] / counts['my_order']:.1%}")
    print(f"  all decisions right:                        {sum(right.values())}/{total}"
          f" = {sum(right.values()) / total:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
