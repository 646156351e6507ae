"""Screening of every outgoing copy for wording the Advertising Law and WeChat's rules forbid.

normalize.py (one normalisation for text and patterns; pinyin.py reads pinyin syllables
inside words back), ruleset.py (rules as versioned data in the standard's five categories,
rules/adlaw.toml with its lexicon lists), screener.py (one Aho-Corasick pass finds the
candidates), context.py (each candidate decided by its surroundings), homophones.py (an older
rule kind, kept so stored rule sets still load), cli.py (`python -m content_audit check`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from content_audit.ruleset import RuleSet, load_shipped
from content_audit.screener import Flag, Screener, Verdict
from core.registry import Registry

__all__ = [
    "Flag", "RuleSet", "Screener", "Verdict", "default_screener", "live_screener", "register",
]


@lru_cache(maxsize=1)
def default_screener() -> Screener:
    """A screener on the shipped rule set, built once per process."""
    return Screener(load_shipped())


def register(registry: Registry) -> None:
    """The review queue's tables and expiry job, and the compliance pages."""
    from content_audit import jobs

    registry.add_models(
        "content_audit.review", "content_audit.exemptions", "content_audit.rulestore"
    )
    registry.add_job("content_audit", "expire_undecided_reviews", 60,
                     jobs.expire_undecided_reviews)
    registry.add_web(init_app)


def init_app(app: Any) -> None:
    """The review pages and API, and the compliance menu entry."""
    from console.shell import add_nav
    from content_audit import api, review_views, rules_views
    from content_audit.rulestore import LiveRules

    storage = app.extensions["storage"]
    app.extensions["audit_rules"] = LiveRules(storage.sessions, storage.redis)
    app.register_blueprint(review_views.bp)
    app.register_blueprint(rules_views.bp)
    app.register_blueprint(api.bp)
    add_nav(app, "内容审核", "audit.show_queue", "review")
    add_nav(app, "规则与豁免", "audit_rules.show_rules", "lexicon")
    add_nav(app, "我提交的文案", "audit.my_submissions", None)


def live_screener() -> Screener:
    """The screener on this worker's current rules (inside a request of the app)."""
    from flask import current_app

    return current_app.extensions["audit_rules"].screener()
