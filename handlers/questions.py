"""Free text no keyword took: a short answer to small talk, an apology and a person for a
complaint, the FAQ's answer, the customer's own order, the closest entries to pick from, else
the catalog, else a person offered.

Last before the fallback in ROUTERS. handlers/service.py also hands a customer's text here
when their ticket has just ended, so a new question after a closed ticket is still answered.
What answers what is decided in customer_service/ (small_talk.py, complaints.py,
faq_answers.py); each message but small talk is remembered for a ticket opened soon after
(recent_messages.py).
"""

from __future__ import annotations

from bot.inbound import Inbound
from bot.router import Router
from customer_service import complaints, faq, recent_messages, small_talk
from customer_service.faq_answers import (
    QUESTION_MIN_PRODUCT_SCORE,
    Consultation,
    Outcome,
    consult,
    record,
)
from handlers.context import ChatContext
from handlers.product_lists import find_products, not_found
from handlers.texts import MENU_TEXT
from shop import order_status
from shop.browse import menu_link

router = Router("questions")

ASK_FOR_PERSON = "没解决？回复「人工」联系客服。"
#: A menu id for the 人工 choice, apart from the entries' ids.
PERSON_MENU_ID = 0
COMPLAINT_REPLY = ("非常抱歉给您带来不好的体验！您的问题我们会认真处理：回复「人工」或点击"
                   f"{menu_link('转人工客服', '人工', PERSON_MENU_ID)}，客服会优先为您处理。")


@router.message("text", "voice")
def answer_question(msg: Inbound, ctx: ChatContext) -> str:
    """Answer, look up the order, offer choices, or count it as unanswered and offer 人工."""
    text = msg.text.strip()
    if not text:  # a voice message WeChat could not recognise
        return "抱歉，我没有听懂。\n\n" + MENU_TEXT
    if (chat := small_talk.reply(text)) is not None:
        return chat
    recent_messages.remember(ctx.redis, msg.openid, text, ctx.now())  # for 人工 next
    if complaints.is_complaint(text):  # never the catalog, nor the FAQ's reassurance
        return COMPLAINT_REPLY
    offered = ctx.conversation.get_data().get("offered")
    with ctx.db() as db:
        decided = consult(db, text,
                          has_orders=lambda: order_status.latest(db, msg.openid) is not None)
        record(db, text, decided, offered)
        parcel = (order_status.parcel(db, msg.openid)
                  if decided.outcome in (Outcome.MY_ORDER, Outcome.BOTH) else "")
    if offered:
        ctx.conversation.update_data(offered=None)
    if decided.outcome is Outcome.ANSWER and decided.match:
        return f"{decided.match.answer}\n\n{ASK_FOR_PERSON}"
    if decided.outcome is Outcome.MY_ORDER:
        return parcel
    if decided.outcome is Outcome.BOTH and decided.match:
        return f"您的订单：{parcel}\n\n关于「{decided.match.question}」：{decided.match.answer}"
    if decided.outcome is Outcome.CHOICES:
        return _offer(ctx, text, decided)
    return _not_in_faq(ctx, text)


def _offer(ctx: ChatContext, text: str, decided: Consultation) -> str:
    """The closest entries as tappable questions, and a person: tapping sends the question.
    Still counted as unanswered: the manager may add it to an entry (相似问) in one click."""
    with ctx.db() as db:
        faq.record_unanswered(db, text)
    ctx.conversation.update_data(offered={
        "text": text[:200], "ids": [c.faq_id for c in decided.choices]})
    lines = ["您是想问：" if len(decided.choices) == 1 else "您想问的是哪一个？"]
    for number, choice in enumerate(decided.choices, start=1):
        lines.append(f"{number}. {menu_link(choice.question, choice.question, choice.faq_id)}")
    lines.append(f"都不是？{menu_link('转人工客服', '人工', PERSON_MENU_ID)}")
    return "\n".join(lines)


def _not_in_faq(ctx: ChatContext, text: str) -> str:
    question = faq.looks_like_question(text)
    products = find_products(ctx, text, min_score=QUESTION_MIN_PRODUCT_SCORE if question else 0.0)
    if products:
        return products
    with ctx.db() as db:
        faq.record_unanswered(db, text)
    if not question:
        return not_found(text)  # it reads like a product name: the menu shows the way on
    return f"抱歉，暂时没有找到「{text[:20]}」的答案。\n{ASK_FOR_PERSON}\n\n{MENU_TEXT}"
