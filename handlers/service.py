"""Customer service in the chat: FAQ answers, 人工 (a ticket or WeChat's 多客服), 结束, rating.

While a ticket is open every message of the customer goes to it (text, voice recognition,
pictures, locations), not to the bot's keywords, until they type 结束 or an agent closes it;
menu clicks still work, and so do the look-ups (我的订单, 快递到哪了 …): they reach the agent's
thread too, and the bot answers them at once. The ticket opens with what the customer wrote
just before asking (customer_service/recent_messages.py). The rules and the wording live in
customer_service/.
"""

from __future__ import annotations

from bot.inbound import Inbound
from bot.replies import Reply, TransferReply
from bot.router import CallNext, Router
from customer_service import handoff, recent_messages
from handlers import commands
from handlers.context import ChatContext
from handlers.questions import answer_question

router = Router("service")

TICKET = "service:ticket"
RATING = "service:rating"
MESSAGE_KINDS = ("text", "voice", "image", "location", "video", "shortvideo", "link", "file")


def _wechat_mode(ctx: ChatContext) -> bool:
    return str(ctx.config.get("SERVICE_MODE") or "inbox") == "wechat"


@router.text(*commands.PERSON)
@router.click("MENU_SERVICE")
def hand_off(msg: Inbound, ctx: ChatContext) -> Reply | str:
    """A person, now or at the next opening time: the conversation becomes a ticket, opened
    with what the customer wrote just before (or, if nothing, the request itself)."""
    now = ctx.now()
    earlier = recent_messages.take(ctx.redis, msg.openid, now)
    asked = "" if earlier else (msg.text or "（请求人工客服）")
    with ctx.db() as db:
        result = handoff.hand_off(db, msg.openid, asked, config=ctx.config, now=now,
                                  earlier=earlier)
    ctx.conversation.clear()
    ctx.conversation.set_state(TICKET)
    ctx.conversation.hold(handoff.TICKET_HOLD_SECONDS)
    if _wechat_mode(ctx) and result.in_hours:
        return TransferReply()  # WeChat's own 多客服 takes the conversation from here
    return result.text


@router.around(TICKET, when=lambda incoming: commands.is_lookup(incoming.msg))
def look_up_in_ticket(msg: Inbound, ctx: ChatContext, call_next: CallNext) -> Reply | str | None:
    """我的订单 or 快递到哪了 while waiting for a person: the agent sees it in the thread, the
    customer gets the answer now, and the ticket stays open for whatever comes next."""
    body = handoff.message_body(msg.kind, msg.text, msg.fields)
    with ctx.db() as db:
        kept = handoff.customer_writes(db, msg.openid, body, kind=msg.kind, config=ctx.config)
    if not kept:  # an agent closed it meanwhile: an ordinary look-up
        ctx.conversation.clear()
        return call_next(None)
    answer = call_next(None)  # look-ups change nothing, so the ticket's state stays as it was
    still = "（您仍在与客服的会话中，回复「结束」可结束会话。）"
    return f"{answer}\n\n{still}" if isinstance(answer, str) else answer


@router.state(TICKET, kinds=MESSAGE_KINDS)
def in_ticket(msg: Inbound, ctx: ChatContext) -> Reply | str | None:
    text = msg.text.strip()
    if text in handoff.END_WORDS:
        with ctx.db() as db:
            answer = handoff.customer_ends(db, msg.openid)
        ctx.conversation.clear()
        ctx.conversation.set_state(RATING)
        return answer
    body = handoff.message_body(msg.kind, msg.text, msg.fields)
    with ctx.db() as db:
        kept = handoff.customer_writes(db, msg.openid, body, kind=msg.kind, config=ctx.config)
        if not kept:  # an agent closed it: this may be the rating, or a new question
            thanks = handoff.rate(db, msg.openid, text)
    if kept:  # the agent answers; in 多客服 mode WeChat's agents, when they are there
        wechat_now = _wechat_mode(ctx) and handoff.people_available(ctx.config)
        return TransferReply() if wechat_now else None
    ctx.conversation.clear()
    if thanks:
        return thanks
    if msg.kind not in ("text", "voice"):
        return "本次客服会话已结束。如需帮助，请回复「人工」。"
    return answer_question(msg, ctx)


@router.around(RATING, when=lambda incoming: commands.is_command(incoming.msg))
def skip_rating(msg: Inbound, ctx: ChatContext, call_next: CallNext) -> Reply | str | None:
    """A command instead of a rating: the rating is optional, the command is answered."""
    ctx.conversation.clear()
    return call_next(None)


@router.state(RATING, kinds=("text", "voice"))
def rating(msg: Inbound, ctx: ChatContext) -> str:
    with ctx.db() as db:
        thanks = handoff.rate(db, msg.openid, msg.text)
    ctx.conversation.clear()
    return thanks or answer_question(msg, ctx)
