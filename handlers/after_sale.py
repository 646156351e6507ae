"""After the sale, by chat: 修改地址, 确认收货, 退货/退款, the return parcel's tracking number,
退款进度, and 我的会员 with its one birthday question (生日 3-15 / 跳过).

Each change asks for a confirmation first and can be left with 取消; the rules (what can be
changed when, the 7-day window and its statutory exceptions) are in shop/after_sale.py, a
return's steps in shop/returns.py, the carriers' number formats in shop/carriers.py.
"""

from __future__ import annotations

import re

from bot.inbound import Inbound
from bot.replies import Reply
from bot.router import CallNext, Router
from core.money import yuan
from core.text import normalize
from handlers import commands
from handlers.address_steps import TEXTUAL, gather_address
from handlers.context import ChatContext
from handlers.questions import answer_question
from promotions import birthdays, points
from shop import (
    addresses,
    after_sale,
    carriers,
    checkout,
    order_status,
    refund_progress,
    returns,
    tiers,
)
from shop.carriers import TrackingError
from shop.orders import Order, OrderError

router = Router("after_sale")

FLOW = "aftersale:*"
CONFIRM_ADDRESS = "确认修改"
CONFIRM_RETURN = "确认退货"


@router.state(FLOW, kinds=TEXTUAL)
def continue_after_sale(msg: Inbound, ctx: ChatContext) -> str:
    step = ctx.conversation.get_state()
    text = msg.text.strip()
    if text in checkout.CANCEL:
        ctx.conversation.clear()
        return "好的，已放弃，订单保持不变。"
    if step == "aftersale:address":
        address, question = gather_address(ctx, msg, "aftersale:address")
        if question:
            return question
        ctx.conversation.set_state("aftersale:address_ok")
        return (f"收货地址将改为：\n{address.one_line()}\n"
                f"回复「{CONFIRM_ADDRESS}」继续，回复「取消」放弃。")
    if step == "aftersale:address_ok":
        return _change_address(ctx, msg, text)
    if step == "aftersale:opened":
        return _ask_return(ctx, msg, opened=_opened(text))
    if step == "aftersale:return":
        return _file_return(ctx, msg, text)
    ctx.conversation.clear()
    return "这一步已过期，请重新开始。"


@router.regex(r"^(?:我要|我想|帮我|申请)?(?:修改|更改|改|换)(?:一下)?(?:收货)?地址$"
              r"|^(?:我的?)?(?:收货)?地址(?:填|写)错了$")
def ask_new_address(msg: Inbound, ctx: ChatContext) -> str:
    """修改地址 on an order not yet shipped. "地址填错了" without such an order is answered by
    the FAQ (how and until when an address can be changed), as are questions about it
    ("地址填错了能改吗"), which never reach this handler."""
    with ctx.db() as db:
        order = order_status.latest(db, msg.openid, after_sale.ADDRESS_CHANGEABLE)
        if order is None:
            if "错" in msg.text:
                return answer_question(msg, ctx)
            return "没有可以修改地址的订单（已发货的订单请回复「客服」联系我们）。"
        number, current = order.number, addresses.from_dict(order.address_fields).one_line()
        order_id = order.id
    ctx.conversation.clear()
    ctx.conversation.set_state("aftersale:address")
    ctx.conversation.update_data(order_id=order_id)
    return (f"订单 {number} 当前寄往：{current}\n请发送新的收货信息：姓名 手机号 详细地址，"
            "也可以发送位置。回复「取消」放弃。")


def _change_address(ctx: ChatContext, msg: Inbound, text: str) -> str:
    data = ctx.conversation.get_data()
    if text != CONFIRM_ADDRESS:
        return f"回复「{CONFIRM_ADDRESS}」继续，回复「取消」放弃。"
    ctx.conversation.clear()
    try:
        with ctx.db() as db:
            order = db.get(Order, data.get("order_id") or 0)
            if order is None or order.openid != msg.openid:
                return "没有找到这笔订单。"
            after_sale.change_address(db, order, addresses.from_dict(data.get("address")),
                                      actor=msg.openid)
            return f"订单 {order.number} 的收货地址已修改。"
    except OrderError as error:
        return f"地址没有修改：{error}。"


@router.text("确认收货", "已收货", "收到了", "收到货了", "我收到了")
def confirm_receipt(msg: Inbound, ctx: ChatContext) -> str:
    try:
        with ctx.db() as db:
            order = order_status.latest(db, msg.openid, ("shipped",))
            if order is None:
                return "没有待收货的订单。"
            after_sale.confirm_receipt(db, order, actor=msg.openid)
            number = order.number
    except OrderError as error:
        return f"{error}。"
    return (f"订单 {number} 已确认收货，感谢支持！签收后 {after_sale.RETURN_DAYS} 天内支持"
            "无理由退货（定制、生鲜、拆封的贴身卫生用品等除外）。")


@router.regex(r"^(?:我要|我想|帮我)?(?:申请)?(?:退货|退款|退货退款|退钱)$")
def start_return(msg: Inbound, ctx: ChatContext) -> str:
    """退货 / 申请退款: the latest order that can be returned, after the checks."""
    with ctx.db() as db:
        order = order_status.latest(db, msg.openid, after_sale.RETURNABLE) or \
            order_status.latest(db, msg.openid)
        if order is None:
            return order_status.NO_ORDERS
        ask_opened = after_sale.needs_opened_question(db, order)
        order_id = order.id
    ctx.conversation.clear()
    ctx.conversation.update_data(order_id=order_id)
    if ask_opened:
        with ctx.db() as db:
            problem = after_sale.return_problem(db, db.get(Order, order_id), opened=False)
        if problem:
            ctx.conversation.clear()
            return f"无法申请退货：{problem}。如有质量问题请回复「客服」。"
        ctx.conversation.set_state("aftersale:opened")
        return ("这笔订单含有化妆品或贴身用品，拆封后不支持无理由退货。\n"
                "商品拆封了吗？回复「未拆封」或「已拆封」。")
    return _ask_return(ctx, msg, opened=None)


def _opened(text: str) -> bool | None:
    if text in ("未拆封", "没拆封", "没有拆封", "没拆", "没开封", "未开封", "否", "没有"):
        return False
    if text in ("已拆封", "拆了", "拆封了", "开封了", "已开封", "是"):
        return True
    return None


def _ask_return(ctx: ChatContext, msg: Inbound, *, opened: bool | None) -> str:
    if ctx.conversation.get_state() == "aftersale:opened" and opened is None:
        return "请回复「未拆封」或「已拆封」，或回复「取消」放弃。"
    with ctx.db() as db:
        order = db.get(Order, ctx.conversation.get_data().get("order_id") or 0)
        if order is None or order.openid != msg.openid:
            problem = "没有找到这笔订单"
        else:
            problem = after_sale.return_problem(db, order, opened=opened)
            summary = f"{order.number}（{yuan(order.total_fen)}）"
    if problem:
        ctx.conversation.clear()
        return f"无法申请退货：{problem}。如有质量问题请回复「客服」。"
    ctx.conversation.set_state("aftersale:return")
    ctx.conversation.update_data(opened=opened)
    return (f"申请订单 {summary}七天无理由退货退款？\n"
            "商家收到退回的商品后，款项原路退回。\n"
            f"回复「{CONFIRM_RETURN}」提交申请，回复其他内容放弃。")


def _file_return(ctx: ChatContext, msg: Inbound, text: str) -> str:
    data = ctx.conversation.get_data()
    ctx.conversation.clear()
    if text != CONFIRM_RETURN:
        return "好的，没有提交退货申请。"
    try:
        with ctx.db() as db:
            order = db.get(Order, data.get("order_id") or 0)
            if order is None or order.openid != msg.openid:
                return "没有找到这笔订单。"
            after_sale.request_return(db, order, reason="七天无理由退货",
                                      opened=data.get("opened"))
            number = order.number
    except OrderError as error:
        return f"无法申请退货：{error}。"
    return (f"退货申请已提交（订单 {number}）。商家同意后会在这里发给您退货地址；"
            "寄出后回复快递单号，商家收到商品后款项原路退回。回复「退款进度」查看。")


@router.text(*commands.REFUNDS)
def return_progress(msg: Inbound, ctx: ChatContext) -> str:
    """Every refund, whatever caused it, and each return under way with its next step."""
    with ctx.db() as db:
        return refund_progress.text(db, msg.openid)


@router.regex(carriers.SENT_PATTERN.pattern, re.IGNORECASE)
def send_return_parcel(msg: Inbound, ctx: ChatContext) -> str:
    """A tracking number, taken as the return parcel's while an approved return waits for it;
    at any other time the text goes where it went before (the FAQ, the catalog)."""
    try:
        with ctx.db() as db:
            recorded = returns.record_sent(db, msg.openid, msg.text)
            if recorded is not None:
                return order_status.parcel_recorded(*recorded)
    except TrackingError as error:
        return (f"{error}。请发送退货的快递公司和单号，"
                f"例如：顺丰 {carriers.CARRIERS[0].example}")
    except OrderError as error:
        return f"{error}。"
    return answer_question(msg, ctx)


@router.text("退货地址", "寄回地址", "退货寄到哪", "退货寄到哪里", "寄到哪里", "寄回哪里",
             "已寄回", "寄回了", "已经寄回", "退货单号", "填写退货单号")
def ask_return_parcel(msg: Inbound, ctx: ChatContext) -> str:
    """Where to post an approved return, and how to send its number; else the FAQ answers."""
    with ctx.db() as db:
        request = returns.awaiting_parcel(db, msg.openid)
        step = (refund_progress.return_step(request, db.get(Order, request.order_id))
                if request else "")
    return step or answer_question(msg, ctx)


@router.text(*commands.MEMBER)
@router.click("MENU_MEMBER")
def membership(msg: Inbound, ctx: ChatContext) -> str:
    """我的会员: tier and benefits, the way to the next tier, points and their history; the
    birthday is asked here, once."""
    now = ctx.now()
    with ctx.db() as db:
        standing = tiers.standing(db, msg.openid, now, tiers.tiers_from(
            ctx.config.get("MEMBER_TIERS")))
        lines = [*standing.lines(), *points.chat_lines(db, msg.openid, now, ctx.config)]
        ask = birthdays.ask_once(db, msg.openid, now, member=standing.level >= 1)
    return "\n".join(lines + ([f"\n{ask}"] if ask else []))


@router.regex(birthdays.PATTERN.pattern)
def register_birthday(msg: Inbound, ctx: ChatContext) -> str:
    """生日 3-15: stored once (a bad date is explained and changes nothing)."""
    try:
        with ctx.db() as db:
            return birthdays.record(db, msg.openid, normalize(msg.text), ctx.now())
    except birthdays.BirthdayError as error:
        return str(error)


@router.around(when=lambda incoming: incoming.normalized == "跳过")
def skip_birthday(msg: Inbound, ctx: ChatContext, call_next: CallNext) -> Reply | str | None:
    """跳过 answers the birthday question when it is waiting; otherwise it goes on as before."""
    with ctx.db() as db:
        skipped = birthdays.skip(db, msg.openid, ctx.now())
    if skipped:
        return "好的，不再提醒登记生日。以后想登记，随时回复「生日 3-15」。"
    return call_next(ctx.conversation.get_state())
