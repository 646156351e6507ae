"""A flow set aside for a command: 我的订单 in the middle of buying is answered, not read as a
quantity, and the purchase waits for 继续下单.

The guard sees every message first (it heads handlers.ROUTERS). While the customer is in a flow
(buying, 加入购物车, 结算, 砍价下单, 修改地址, 退货), a command of handlers/commands.py — or a
menu click — is answered by its own handler as if no flow were under way, and the flow is
paused: its step and data are put by, and 继续 brings them back with the question last asked.
A yes-or-no step that any other answer declines (取消订单's 确认取消, 退货's 确认退货) is
declined instead. Either way the reply says what became of the flow. Otherwise the guard only
keeps the question each flow step last asked, so 继续 can ask it again without knowing the
flow's wording.
"""

from __future__ import annotations

from typing import Any

from bot.inbound import Inbound
from bot.replies import Reply
from bot.router import CallNext, Router
from handlers import commands
from handlers.context import ChatContext

router = Router("flows")
#: 继续, in its own router: it must come after service's (an open ticket takes 继续 too).
resume_router = Router("resume")

FLOWS = ("order:", "aftersale:", "bargain:")
PAUSED = "paused_flow"  # conversation data: {"step", "name", "data"} of the flow put by
QUESTION = "flow_question"  # conversation data: what the flow asked last
#: Steps any answer but their own declines, and what the customer is told stayed as it was.
DECLINED = {"order:cancel": "（订单没有取消）", "aftersale:return": "（退货申请没有提交）"}
#: Kept when a flow is paused: the product card on screen, so 买 still means that product.
KEPT = ("product_id",)
#: After-sale steps by the name the customer knows them by (handlers/after_sale.py's states).
AFTER_SALE = {"aftersale:address": "修改地址", "aftersale:address_ok": "修改地址",
              "aftersale:opened": "退货申请"}
NAMES = ("砍价下单", "下单", "加入购物车", "结算", "修改地址", "退货申请", "售后")


def in_flow(step: str | None) -> bool:
    return step is not None and step.startswith(FLOWS)


def flow_name(step: str, data: dict[str, Any]) -> str:
    """The flow at `step` as the customer would name it (one of NAMES)."""
    if step.startswith("aftersale:"):
        return AFTER_SALE.get(step, "售后")
    if step.startswith("bargain:"):
        return "砍价下单"
    if data.get("mode") == "cart":
        return "加入购物车"
    return "结算" if data.get("from_cart") else "下单"


def _steps_aside(msg: Inbound, step: str) -> bool:
    """A command, except 取消订单 while buying: there it leaves the purchase (order.py,
    bargain.py)."""
    if not commands.is_command(msg):
        return False
    return not (step.startswith(("order:", "bargain:")) and commands.is_cancel_order(msg))


@router.around()
def steer(msg: Inbound, ctx: ChatContext, call_next: CallNext) -> Reply | str | None:
    """Every message: a command sets the flow aside; a flow step's question is kept."""
    step = ctx.conversation.get_state()
    if in_flow(step) and _steps_aside(msg, str(step)):
        return _set_aside(ctx, str(step), call_next)
    before = _where(ctx)
    reply = call_next(step)
    # A reply that moved the flow on is its question now; one that changed nothing (a quantity
    # refused, a message that was no address) leaves the question it repeats as it was.
    if isinstance(reply, str) and in_flow(ctx.conversation.get_state()) and _where(ctx) != before:
        ctx.conversation.update_data(**{QUESTION: reply})
    return reply


def _where(ctx: ChatContext) -> tuple[str | None, dict[str, Any]]:
    data = ctx.conversation.get_data()
    data.pop(QUESTION, None)
    return ctx.conversation.get_state(), data


def _set_aside(ctx: ChatContext, step: str, call_next: CallNext) -> Reply | str | None:
    data = ctx.conversation.get_data()
    data.pop(PAUSED, None)
    name = flow_name(step, data)
    ctx.conversation.clear()
    if step not in DECLINED:
        kept = {key: data[key] for key in KEPT if key in data}
        ctx.conversation.update_data(**kept, **{PAUSED: {"step": step, "name": name,
                                                         "data": data}})
    reply = call_next(None)
    if step in DECLINED:
        note = DECLINED[step]
    elif ctx.conversation.get_data().get(PAUSED):
        note = f"（刚才的{name}已暂停，回复「继续{name}」接着来）"
    else:  # the command ended the conversation (人工 opens a ticket)
        note = f"（刚才的{name}已取消）"
    return _with_note(reply, note)


def _with_note(reply: Reply | str | None, note: str) -> Reply | str | None:
    if reply is None:
        return note
    if isinstance(reply, str):
        return f"{reply}\n\n{note}"
    return reply  # a card or a transfer to 多客服 carries no text to add to


@resume_router.regex(rf"^继续(?:{'|'.join(NAMES)}|购买|退货)?$")
def resume(msg: Inbound, ctx: ChatContext) -> str:
    """继续: the paused flow at the step it was left, its question asked again (as it was:
    the guard keeps what is said here as the step's question too)."""
    data = ctx.conversation.get_data()
    if in_flow(ctx.conversation.get_state()):
        return str(data.get(QUESTION) or "请回复上面的问题，或回复「取消」放弃。")
    paused = data.get(PAUSED)
    if not paused:
        return "没有暂停中的操作。回复「帮助」看看我能做什么。"
    ctx.conversation.clear()
    ctx.conversation.update_data(**paused["data"])
    ctx.conversation.set_state(paused["step"])
    return str(paused["data"].get(QUESTION) or "请回复刚才的问题，或回复「取消」放弃。")
