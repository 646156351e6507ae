"""The compliance reviewer's console pages: the queue, one item, and a copy tester."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select

from console.auth import current_account, get_db, get_or_404, login_required, requires
from console.shell import console_blueprint
from content_audit import live_screener, review
from content_audit.review import ACTIONS, SOURCES, STATES, ReviewError, ReviewItem
from content_audit.ruleset import CATEGORY_LABELS, category_label

bp = console_blueprint("audit", __name__, "/admin/audit", template_folder="templates")
# Reviewers read Chinese: categories and log actions are stored as English names.
bp.add_app_template_filter(category_label, "category_label")
bp.add_app_template_filter(lambda action: ACTIONS.get(action, action), "review_action")


def highlight(text: str, flags: list[dict]) -> Markup:
    """The copy with each flagged span marked, its reason and suggestion in the tooltip."""
    rules = live_screener().ruleset
    marks = sorted(flags, key=lambda f: (f["start"], -f["end"]))
    out, cursor = [], 0
    for flag in marks:
        if flag["start"] < cursor:
            continue  # overlapping spans: the first one shown is enough
        rule = rules.by_id(flag["rule_id"])
        tip = rule.rationale if rule else flag["category"]
        if flag.get("suggestion"):
            tip += f" 建议：{flag['suggestion']}"
        out.append(escape(text[cursor : flag["start"]]))
        out.append(
            Markup('<mark class="{}" title="{}">{}</mark>').format(
                flag["severity"], tip, text[flag["start"] : flag["end"]]
            )
        )
        cursor = flag["end"]
    out.append(escape(text[cursor:]))
    return Markup("").join(out)


@bp.get("/")
@requires("review")
def show_queue():
    """The queue: pending copy oldest first, filterable; bulk approval of identical hits."""
    state = request.args.get("state", "pending")
    source = request.args.get("source", "")
    category = request.args.get("category", "")
    db = get_db()
    items = review.queue(
        db, state=state if state in STATES else "pending", source=source, category=category
    )
    return render_template(
        "audit/queue.html",
        items=items,
        state=state,
        source=source,
        category=category,
        states=STATES,
        sources=SOURCES,
        categories=CATEGORY_LABELS,
        highlight=highlight,
        rates=review.approval_rates(db),
        error=request.args.get("error", ""),
        notice=request.args.get("notice", ""),
    )


@bp.get("/items/<int:item_id>")
@requires("review")
def show_item(item_id: int):
    """One copy: the flagged spans with reason and suggestion, its history, the decision."""
    item = get_or_404(ReviewItem, item_id)
    rules = live_screener().ruleset
    return render_template(
        "audit/item.html",
        item=item,
        highlight=highlight,
        rules=rules,
        events=review.history(get_db(), item.id),
        states=STATES,
        sources=SOURCES,
        error=request.args.get("error", ""),
    )


@bp.post("/items/<int:item_id>/decide")
@requires("review")
def decide(item_id: int):
    item = get_or_404(ReviewItem, item_id)
    db = get_db()
    try:
        review.decide(db, item, current_account().username, request.form.get("decision", ""),
                      request.form.get("reason", ""))
    except ReviewError as error:
        db.rollback()
        return redirect(url_for("audit.show_item", item_id=item_id, error=str(error)))
    db.commit()
    return redirect(url_for("audit.show_queue", notice=f"#{item_id} {STATES[item.state]}"))


@bp.post("/items/<int:item_id>/edit")
@requires("review")
def edit_and_approve(item_id: int):
    """The reviewer's rewrite becomes a new version, screened, and approved if it may be."""
    item = get_or_404(ReviewItem, item_id)
    db = get_db()
    text = request.form.get("text", "").strip()
    try:
        new = review.edit_and_approve(
            db,
            item,
            current_account().username,
            text,
            live_screener().screen(text),
            request.form.get("reason", ""),
        )
    except ReviewError as error:
        db.rollback()
        return redirect(url_for("audit.show_item", item_id=item_id, error=str(error)))
    db.commit()
    return redirect(url_for("audit.show_queue", notice=f"#{new.id} 修改后已通过"))


@bp.post("/bulk")
@requires("review")
def bulk_approve():
    db = get_db()
    ids = [int(i) for i in request.form.getlist("item") if i.isdigit()]
    items = [item for item in (db.get(ReviewItem, i) for i in ids) if item is not None]
    if not items:
        return redirect(url_for("audit.show_queue", error="请先勾选要通过的文案"))
    try:
        result = review.bulk_approve(db, items, current_account().username,
                                     request.form.get("reason", ""))
    except ReviewError as error:
        db.rollback()
        return redirect(url_for("audit.show_queue", error=str(error)))
    db.commit()
    notice = f"已通过 {len(result.approved)} 条"
    if result.skipped:
        notice += f"，跳过 {len(result.skipped)} 条（非待审或本人提交）"
    return redirect(url_for("audit.show_queue", notice=notice))


@bp.route("/check", methods=["GET", "POST"])
@requires("review")
def check_copy():
    """Try copy against the rules, without queueing it: one copy per line, as the CLI reads
    a file (several lines pasted together were once judged as one text)."""
    text = request.form.get("text", "") if request.method == "POST" else ""
    screener = live_screener()
    results = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            verdict = screener.screen(line)
            results.append((number, line, verdict, verdict.as_json()["flags"]))
    summary = {kind: sum(r[2].verdict == kind for r in results)
               for kind in ("pass", "review", "block")}
    return render_template("audit/check.html", text=text, results=results, summary=summary,
                           highlight=highlight)


@bp.get("/mine")
@login_required
def my_submissions():
    """What the signed-in author submitted: approved, waiting, rejected with the reason, or
    expired unsent — this is how an author learns that copy did not go out."""
    db = get_db()
    items = list(
        db.scalars(
            select(ReviewItem)
            .where(ReviewItem.author == current_account().username)
            .order_by(ReviewItem.id.desc())
            .limit(100)
        )
    )
    return render_template("audit/mine.html", items=items, states=STATES, sources=SOURCES,
                           highlight=highlight)
