"""Rules edited in the console: new versions in SQL, live in every worker; exemptions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from console import audit_log
from content_audit import default_screener, exemptions, gate, rulestore
from content_audit.exemptions import ExemptionError
from content_audit.ruleset import load_shipped
from content_audit.rulestore import LiveRules
from tests.console.conftest import signed_in


def test_the_shipped_rules_become_the_first_version(any_storage):
    with any_storage.sessions.begin() as db:
        assert rulestore.latest(db).version == load_shipped().version
    with any_storage.sessions() as db:
        assert [v.actor for v in rulestore.history(db)] == ["system"]


def test_an_edit_is_a_new_version_and_old_ones_replay(any_storage):
    with any_storage.sessions.begin() as db:
        first = rulestore.latest(db)
        rule = next(r for r in first.rules if r.id == "superlative.words")
        data = rulestore.rule_to_dict(rule) | {"terms": [*rule.terms, "爆款神器"]}
        second = rulestore.replace_rule(db, data, actor="lin")
    assert second.version != first.version
    with any_storage.sessions() as db:
        assert rulestore.by_version(db, first.version).by_id("superlative.words").terms == (
            rule.terms
        )
        assert "爆款神器" in rulestore.latest(db).by_id("superlative.words").terms


def test_a_broken_rule_is_refused(any_storage):
    from content_audit.ruleset import RuleError

    with pytest.raises(RuleError), any_storage.sessions.begin() as db:
        rulestore.replace_rule(db, {"id": "x", "kind": "regex", "pattern": "(",
                                    "category": "c", "severity": "block"}, actor="lin")


def test_every_worker_swaps_in_the_new_rules_within_seconds(storage, monkeypatch):
    monkeypatch.setattr(rulestore, "CHECK_EVERY_SECONDS", 0.05)
    worker_a = LiveRules(storage.sessions, storage.redis, background=True)
    worker_b = LiveRules(storage.sessions, storage.redis, background=True)
    assert worker_b.screener().screen("爆款神器").verdict == "pass"
    with storage.sessions.begin() as db:
        rule = rulestore.latest(db).by_id("superlative.words")
        saved = rulestore.replace_rule(
            db, rulestore.rule_to_dict(rule) | {"terms": [*rule.terms, "爆款神器"]}, actor="lin"
        )
    rulestore.announce(storage.redis, saved.version)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        verdicts = [w.screener().screen("爆款神器").verdict for w in (worker_a, worker_b)]
        if verdicts == ["block", "block"]:
            break
        time.sleep(0.05)
    assert verdicts == ["block", "block"]
    assert worker_a.screener().ruleset.version == saved.version


def test_an_exemption_allows_one_term_for_one_product_until_it_expires(any_storage):
    now = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    copy = "国家级金奖工艺，手工古法红糖"
    with any_storage.sessions.begin() as db:
        with pytest.raises(ExemptionError, match="证明"):
            exemptions.grant(db, rule_id="authority.national_grade", term="国家级",
                             source="product", source_ref="p1", note=" ",
                             expires_at=now + timedelta(days=30), actor="wang", at=now)
        exemptions.grant(db, rule_id="authority.national_grade", term="国家级",
                         source="product", source_ref="p1", note="国家级非遗证书 2021-0342",
                         expires_at=datetime.now(UTC) + timedelta(days=30), actor="wang")
        shipped = default_screener()
        allowed = gate.check(db, copy, screener=shipped, source="product", source_ref="p1",
                             author="lin")
        assert allowed.may_send and [f.term for f in allowed.verdict.exempted] == ["国家级金奖"]
        other = gate.check(db, copy, screener=shipped, source="product", source_ref="p2",
                           author="lin")
        assert other.status == "blocked"
        assert gate.check(db, copy, screener=shipped, source="push",
                          author="lin").status == "blocked"
        used = audit_log.recent(db, action="audit.exemption_used")
        assert len(used) == 1 and used[0].details["source_ref"] == "p1"
        exemption = exemptions.listing(db)[0]
        exemptions.revoke(db, exemption)
        assert gate.check(db, copy, screener=default_screener(), source="product", source_ref="p1",
                          author="lin").status == "blocked"


def test_reviewers_edit_rules_and_grant_exemptions_in_the_console(console_app):
    expires = (datetime.now(UTC) + timedelta(days=200)).date()
    reviewer = signed_in(console_app, "reviewer")
    page = reviewer.get("/admin/audit/rules").text
    assert 'data-rule="superlative.zui"' in page
    reviewer.get("/admin/audit/rules/superlative.words")
    form = reviewer.get("/admin/audit/rules/superlative.words").text
    assert "顶级" in form
    reviewer.post("/admin/audit/rules", {
        "id": "superlative.words", "kind": "word", "category": "superlative",
        "severity": "block", "terms": "顶级\n爆款神器", "enabled": "1", "note": "新增用语",
    })
    checked = reviewer.post("/admin/audit/check", {"text": "爆款神器来了"}).text
    assert "第 1 行：禁止" in checked  # live in this worker at once
    broken = reviewer.post("/admin/audit/rules", {"id": "bad", "kind": "regex", "pattern": "(",
                                                  "category": "c", "severity": "block"})
    assert broken.status_code == 400 and "bad regex" in broken.text
    # what was typed is kept for correction
    assert 'name="pattern" rows="4">(</textarea>' in broken.text
    reviewer.post("/admin/audit/exemptions", {
        "rule_id": "authority.national_grade", "term": "国家级", "source": "product",
        "source_ref": "1024", "note": "证书编号 A-1", "expires": expires.isoformat(),
    })
    row = reviewer.get("/admin/audit/rules").text.split("证书编号 A-1")[1][:40]
    assert f"{expires.isoformat()} 23:59" in row  # the end of that day, Beijing time
    refused = reviewer.post("/admin/audit/exemptions", {
        "rule_id": "authority.national_grade", "term": "国家级", "source": "product", "note": "x",
        "expires": "2000-01-01",
    }, follow_redirects=True)
    assert "到期时间必须晚于现在" in refused.text
    with console_app.extensions["storage"].sessions() as db:
        actions = [e.action for e in audit_log.recent(db, action="audit.")]
    assert actions == ["audit.exemption_granted", "audit.rule_saved"]
    manager = signed_in(console_app, "manager")
    assert manager.get("/admin/audit/rules").status_code == 403


def test_a_deploy_with_newer_shipped_rules_replaces_an_older_shipped_version(any_storage):
    from content_audit.ruleset import RuleSet

    shipped = load_shipped()
    with any_storage.sessions.begin() as db:
        rulestore.save(db, shipped.rules[:2], actor="system", note="shipped rules",
                       version="2026.11.22-2")
    with any_storage.sessions.begin() as db:
        assert rulestore.latest(db).version == shipped.version
    with any_storage.sessions.begin() as db:
        edited = rulestore.save(db, shipped.rules[:3], actor="lin", note="edited")
    with any_storage.sessions.begin() as db:
        current = rulestore.latest(db)
    assert isinstance(current, RuleSet) and current.version == edited.version


def test_rules_stored_under_the_old_category_names_load_under_the_standards():
    from content_audit.ruleset import rule_from_dict

    old = {"id": "guarantee.words", "kind": "word", "terms": ["绝对"], "category": "guarantee",
           "severity": "review"}
    assert rule_from_dict(old).category == "absolute_guarantee"
    assert rule_from_dict(old | {"category": "induced_share"}).category == "induced_sharing"
    assert rule_from_dict(old | {"category": "medical"}).category == "medical_claim"


def test_a_rule_naming_an_unknown_context_check_is_refused():
    from content_audit.ruleset import RuleError, rule_from_dict

    with pytest.raises(RuleError, match="unknown context check"):
        rule_from_dict({"id": "x", "kind": "word", "terms": ["最"], "category": "superlative",
                        "severity": "block", "context": ["zui", "guesswork"]})
