"""Free text no keyword took: the FAQ's answer, else the catalog, else a person offered.

Last before the fallback in ROUTERS. handlers/service.py also hands a customer's text here
when their ticket has just ended, so a new question after a closed ticket is still answered.
"""

from __future__ import annotations

from bot.inbound import Inbound
from bot.router import Router
from customer_service import faq
from handlers.context import ChatContext
from handlers.product_lists import find_products, not_found
from handlers.texts import MENU_TEXT

router = Router("questions")

ASK_FOR_PERSON = "没解决？回复「人工」联系客服。"


@router.message("text", "voice")
def answer_question(msg: Inbound, ctx: ChatContext) -> str:
    """The FAQ's best answer; else the catalog; else counted as unanswered and 人工 offered."""
    text = msg.text.strip()
    if not text:  # a voice message WeChat could not recognise
        return "抱歉，我没有听懂。\n\n" + MENU_TEXT
    with ctx.db() as db:
        match = faq.best_match(db, text)
        if match is not None:
            faq.count_hit(db, match.faq_id)
    if match is not None:
        return f"{match.answer}\n\n{ASK_FOR_PERSON}"
    question = faq.looks_like_question(text)
    products = find_products(ctx, text,
                             min_score=faq.QUESTION_MIN_PRODUCT_SCORE if question else 0.0)
    if products:
        return products
    with ctx.db() as db:
        faq.record_unanswered(db, text)
    if not question:
        return not_found(text)  # it reads like a product name: the menu shows the way on
    ctx.conversation.update_data(unanswered=text[:200])  # 人工 next carries the question
    return f"抱歉，暂时没有找到「{text[:20]}」的答案。\n{ASK_FOR_PERSON}\n\n{MENU_TEXT}"
