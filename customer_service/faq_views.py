"""The FAQ pages: entries with their hits, and the questions nothing answered yet.

An answer is outgoing copy, so it passes the content gate on every save; one held for review
stays disabled until a reviewer approves it. The rules are in faq.py.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from console import audit_log
from console.auth import client_address, current_account, get_db, get_or_404, requires
from console.shell import console_blueprint
from content_audit import gate, live_screener
from customer_service import faq, faq_answers
from customer_service.faq import Faq, UnansweredQuestion
from customer_service.inbox_views import snippet

bp = console_blueprint("service_faq", __name__, "/admin/service")

FAQ_SOURCE = "reply"  # the content gate's source for reply templates (回复模板)


def _faq_form() -> dict[str, str]:
    form = request.form
    return {"question": form.get("question", ""), "answer": form.get("answer", ""),
            "keywords": form.get("keywords", ""), "wordings": form.get("wordings", ""),
            "unanswered": form.get("unanswered", "")}


def _faq_page(form: dict[str, str] | None = None, error: str = "") -> str:
    db = get_db()
    form = form or {"question": request.args.get("question", "")[:faq.MAX_QUESTION],
                    "answer": "", "keywords": "", "wordings": "",
                    "unanswered": request.args.get("unanswered", "")}
    tried = request.args.get("try", "").strip()[:faq.MAX_QUESTION]
    trial = None
    if tried:
        decision = faq_answers.consult(db, tried, has_orders=faq_answers.no_orders)
        trial = {"text": tried, "decision": decision, "ranked": faq_answers.rank(db, tried)}
    entries = faq.entries(db)
    return render_template("service/faq.html", entries=entries,
                           wordings=faq.all_wordings(db), reaches=faq.reaches(db),
                           unanswered=faq.unanswered(db), form=form, trial=trial,
                           answer_score=faq_answers.ANSWER_SCORE,
                           error=error or request.args.get("error", ""),
                           notice=request.args.get("notice", ""))


def _faq_edit_page(entry: Faq, form: dict[str, str] | None = None, error: str = "") -> str:
    form = form or {"question": entry.question, "answer": entry.answer,
                    "keywords": entry.keywords,
                    "wordings": "\n".join(faq.wordings(get_db(), entry.id)), "unanswered": ""}
    return render_template("service/faq_edit.html", entry=entry, form=form, error=error)


@bp.get("/faq")
@requires("faq")
def faq_list() -> str:
    """The FAQ with its hits, and the questions customers asked that nothing answers yet."""
    return _faq_page()


@bp.post("/faq")
@requires("faq")
def faq_create():
    """Add an entry; the answer passes the content gate before the bot may send it."""
    return _save_faq(None)


@bp.get("/faq/<int:faq_id>/edit")
@requires("faq")
def faq_edit(faq_id: int) -> str:
    """One entry's question, answer and keywords, as they are now."""
    return _faq_edit_page(get_or_404(Faq, faq_id))


@bp.post("/faq/<int:faq_id>/edit")
@requires("faq")
def faq_update(faq_id: int):
    """Save an entry's new words; they pass the content gate again."""
    return _save_faq(get_or_404(Faq, faq_id))


def _page_for(entry: Faq | None, form: dict[str, str], error: str) -> str:
    return _faq_edit_page(entry, form, error) if entry is not None else _faq_page(form, error)


def _save_faq(entry: Faq | None):
    """Check, write, screen, record. A refused answer comes back as typed and nothing is kept;
    one held for review is kept disabled, so the bot never sends unreviewed words."""
    db, account, form = get_db(), current_account(), _faq_form()
    try:
        saved = faq.save(db, question=form["question"], answer=form["answer"],
                         keywords=form["keywords"], author=account.username, faq=entry,
                         enabled=entry.enabled if entry is not None else True,
                         wordings=form["wordings"].splitlines())
    except ValueError as error:
        db.rollback()
        return _page_for(entry, form, str(error)), 400
    outcome = gate.check(db, f"{saved.question}\n{saved.answer}", source=FAQ_SOURCE,
                         author=account.username, source_ref=f"faq:{saved.id}",
                         screener=live_screener())
    if outcome.refused:
        db.rollback()
        return _page_for(entry, form, outcome.message), 400
    held = outcome.held
    if held:
        saved.enabled = False
    if form["unanswered"].isdigit():  # added from the unanswered list: that one is answered
        faq.mark_handled(db, int(form["unanswered"]))
    audit_log.record(db, "faq.update" if entry else "faq.create", actor=account,
                     target=f"faq:{saved.id}", question=saved.question[:80],
                     held_for_review=held, address=client_address())
    db.commit()
    notice = f"问答「{snippet(saved.question, 20)}」已{'保存' if entry else '添加'}"
    if held:
        notice += "。答案已提交合规审核，审核通过前不会自动回复顾客；通过后请点「启用」"
    return redirect(url_for("service_faq.faq_list", notice=notice))


@bp.post("/faq/<int:faq_id>/toggle")
@requires("faq")
def faq_toggle(faq_id: int):
    """Enable (the answer passes the content gate first) or disable an entry."""
    db, account = get_db(), current_account()
    entry = get_or_404(Faq, faq_id)
    if not entry.enabled:
        outcome = gate.check(db, f"{entry.question}\n{entry.answer}", source=FAQ_SOURCE,
                             author=account.username, source_ref=f"faq:{entry.id}",
                             screener=live_screener())
        if not outcome.may_send:
            db.commit()  # keeps the review item the gate may have queued
            return redirect(url_for("service_faq.faq_list", error=outcome.message))
    try:  # through faq.save so the matcher's index sees the change
        faq.save(db, question=entry.question, answer=entry.answer, keywords=entry.keywords,
                 author=account.username, faq=entry, enabled=not entry.enabled)
    except ValueError as error:
        db.rollback()
        return redirect(url_for("service_faq.faq_list", error=str(error)))
    audit_log.record(db, "faq.enable" if entry.enabled else "faq.disable", actor=account,
                     target=f"faq:{entry.id}", address=client_address())
    db.commit()
    state = "启用" if entry.enabled else "停用"
    return redirect(url_for("service_faq.faq_list",
                            notice=f"问答「{snippet(entry.question, 20)}」已{state}"))


@bp.post("/faq/<int:faq_id>/delete")
@requires("faq")
def faq_delete(faq_id: int):
    """Remove an entry for good (the audit log keeps its question)."""
    db, account = get_db(), current_account()
    entry = get_or_404(Faq, faq_id)
    question = entry.question
    audit_log.record(db, "faq.delete", actor=account, target=f"faq:{entry.id}",
                     question=question[:80], hits=entry.hits, address=client_address())
    db.delete(entry)
    db.commit()
    return redirect(url_for("service_faq.faq_list",
                            notice=f"问答「{snippet(question, 20)}」已删除"))


@bp.post("/faq/unanswered/<int:question_id>/ignore")
@requires("faq")
def faq_ignore(question_id: int):
    """Not worth an answer (chit-chat, a typo): off the list until someone asks it again."""
    db, account = get_db(), current_account()
    asked = get_or_404(UnansweredQuestion, question_id)
    faq.mark_handled(db, asked.id)
    audit_log.record(db, "faq.unanswered_ignore", actor=account,
                     target=f"unanswered:{asked.id}", text=asked.text[:80],
                     address=client_address())
    db.commit()
    return redirect(url_for("service_faq.faq_list", notice="已忽略该问题"))


@bp.post("/faq/<int:faq_id>/wordings")
@requires("faq")
def faq_add_wording(faq_id: int):
    """One click: a customer's wording (unanswered, or a near-miss) becomes one of the entry's
    相似问, so the next customer who asks it that way is answered."""
    return _add_wording(faq_id)


@bp.post("/faq/wordings")
@requires("faq")
def faq_add_wording_to():
    """The same from the unanswered list, where the entry is picked in the row."""
    faq_id = request.form.get("faq_id", "")
    if not faq_id.isdigit():
        return redirect(url_for("service_faq.faq_list", error="请选择要加到哪个问题"))
    return _add_wording(int(faq_id))


def _add_wording(faq_id: int):
    db, account = get_db(), current_account()
    entry = get_or_404(Faq, faq_id)
    text = request.form.get("text", "").strip()[:faq.MAX_QUESTION]
    try:
        added = faq.add_wording(db, entry, text, account.username)
    except ValueError as error:
        db.rollback()
        return redirect(url_for("service_faq.faq_list", error=str(error)))
    unanswered_id = request.form.get("unanswered", "")
    if unanswered_id.isdigit():
        faq.mark_handled(db, int(unanswered_id))
    audit_log.record(db, "faq.wording_add", actor=account, target=f"faq:{entry.id}",
                     text=text[:80], added=added, address=client_address())
    db.commit()
    quoted, question = snippet(text, 20), snippet(entry.question, 20)
    notice = (f"已把「{quoted}」加为「{question}」的相似问" if added
              else f"「{quoted}」已是「{question}」的相似问")
    return redirect(url_for("service_faq.faq_list", notice=notice))
