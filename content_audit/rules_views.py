"""Rule and exemption management for the compliance role (routes on the `audit` blueprint).

Saving a rule stores a new rule-set version in SQL and bumps the version in Redis; every
worker swaps in a screener built on it within a few seconds (content_audit/rulestore.py).
"""

from __future__ import annotations

from datetime import datetime, time

from flask import abort, current_app, redirect, render_template, request, url_for

from console import audit_log
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.shell import console_blueprint
from content_audit import exemptions, live_screener, rulestore
from content_audit.exemptions import Exemption, ExemptionError
from content_audit.review import SOURCES, approval_rates
from content_audit.ruleset import CATEGORIES, KINDS, SEVERITIES, RuleError
from content_audit.rulestore import rule_to_dict
from core.clock import SHANGHAI

bp = console_blueprint("audit_rules", __name__, "/admin/audit")

LIST_FIELDS = (
    "terms", "first", "second", "tails", "suggestions", "allow", "scopes", "context", "anchors",
)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace("，", "\n").splitlines() if line.strip()]


@bp.get("/rules")
@requires("lexicon")
def show_rules():
    """Every rule with its terms and how often reviewers approved its hits anyway."""
    db = get_db()
    ruleset = rulestore.latest(db)
    db.commit()  # the shipped rules are stored as the first version on first visit
    rates = {rule_id: (total, ok) for rule_id, total, ok in approval_rates(db)}
    return render_template(
        "audit/rules.html",
        ruleset=ruleset,
        live_version=live_screener().ruleset.version,
        rates=rates,
        versions=rulestore.history(db, 10),
        exemption_rows=exemptions.listing(db),
        sources=SOURCES,
        error=request.args.get("error", ""),
        notice=request.args.get("notice", ""),
    )


@bp.get("/rules/<rule_id>")
@requires("lexicon")
def edit_rule(rule_id: str):
    rule = rulestore.latest(get_db()).by_id(rule_id)
    if rule is None and rule_id != "new":
        abort(404)
    data = rule_to_dict(rule) if rule else {"id": "", "kind": "word", "severity": "review",
                                            "category": "", "enabled": True}
    return render_template("audit/rule_edit.html", rule=data, kinds=KINDS, severities=SEVERITIES,
                           list_fields=LIST_FIELDS, categories=CATEGORIES,
                           error=request.args.get("error", ""))


@bp.post("/rules")
@requires("lexicon")
def save_rule():
    """Save a rule as a new rule-set version; live in every worker within seconds."""
    form = request.form
    data = {
        "id": form.get("id", "").strip(),
        "kind": form.get("kind", ""),
        "category": form.get("category", "").strip(),
        "severity": form.get("severity", ""),
        "basis": form.get("basis", "").strip(),
        "rationale": form.get("rationale", "").strip(),
        "pattern": form.get("pattern", ""),
        "enabled": form.get("enabled") == "1",
        **{name: _lines(form.get(name, "")) for name in LIST_FIELDS},
    }
    db = get_db()
    account = current_account()
    try:
        before = rulestore.latest(db).by_id(data["id"])
        saved = rulestore.replace_rule(db, data, actor=account.username,
                                       note=form.get("note", ""))
    except RuleError as error:
        db.rollback()
        page = render_template("audit/rule_edit.html", rule=data, kinds=KINDS,
                               severities=SEVERITIES, list_fields=LIST_FIELDS,
                               categories=CATEGORIES, error=str(error))
        return page, 400
    audit_log.record(
        db, "audit.rule_saved", actor=account, target=data["id"], version=saved.version,
        before=rule_to_dict(before) if before else None, after=data, address=client_address(),
    )
    db.commit()
    rulestore.announce(current_app.extensions["storage"].redis, saved.version)
    current_app.extensions["audit_rules"].load_now(saved.version)
    return redirect(url_for("audit_rules.show_rules", notice=f"已保存，规则集版本 {saved.version}"))


@bp.post("/exemptions")
@requires("lexicon")
def grant_exemption():
    """Allow one term for one source (or one item of it) until a date, with evidence."""
    form = request.form
    db = get_db()
    account = current_account()
    try:
        day = datetime.strptime(form.get("expires", ""), "%Y-%m-%d").date()
        expires = datetime.combine(day, time(23, 59, 59), SHANGHAI)
        exemption = exemptions.grant(
            db, rule_id=form.get("rule_id", ""), term=form.get("term", ""),
            source=form.get("source", "") if form.get("source") in SOURCES else "product",
            source_ref=form.get("source_ref", ""), note=form.get("note", ""),
            expires_at=expires, actor=account.username,
        )
    except ValueError as error:
        db.rollback()
        message = str(error) if isinstance(error, ExemptionError) else "请填写有效的到期日期"
        return redirect(url_for("audit_rules.show_rules", error=message))
    audit_log.record(
        db, "audit.exemption_granted", actor=account, target=f"exemption:{exemption.id}",
        rule=exemption.rule_id, term=exemption.term, source=exemption.source,
        source_ref=exemption.source_ref, note=exemption.note, expires=day.isoformat(),
        address=client_address(),
    )
    db.commit()
    return redirect(url_for("audit_rules.show_rules", notice=f"已添加豁免 #{exemption.id}"))


@bp.post("/exemptions/<int:exemption_id>/revoke")
@requires("lexicon")
def revoke_exemption(exemption_id: int):
    db = get_db()
    exemption = get_or_404(Exemption, exemption_id)
    exemptions.revoke(db, exemption)
    audit_log.record(db, "audit.exemption_revoked", actor=current_account(),
                     target=f"exemption:{exemption.id}", address=client_address())
    db.commit()
    return redirect(url_for("audit_rules.show_rules", notice=f"已撤销豁免 #{exemption.id}"))
