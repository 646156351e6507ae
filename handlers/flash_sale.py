"""每日秒杀 in the chat: 秒杀 shows the session on now (live 已抢/仅剩) or the next one with a
countdown; 抢 N buys item N at once; 提醒我 asks for a reminder before the start.

The rules are in promotions/flash.py (sessions), flash_buying.py (抢, and the gate in
flash_gate.py) and flash_reminders.py (提醒我). Address: the order is placed at once (in the
first seconds a unit not taken is a unit lost) with the customer's last address; a customer
without one gets the order all the same and is asked for the address right after (the
`flash:address` step). Such an order cannot be paid before it has an address (nothing is paid
for that cannot be shipped; the order page opens payment only then), so the reply says so
plainly instead of giving a 去支付 link, and the payment link follows once the address is
taken. A command in that step leaves it; the order stays, and 修改地址 adds the address
later, as for any unshipped order.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.inbound import Inbound
from bot.replies import Reply
from bot.router import CallNext, Router
from core.clock import as_utc, shanghai_text
from core.money import yuan
from handlers import commands
from handlers.address_steps import ASK_ADDRESS, TEXTUAL, gather_address
from handlers.context import ChatContext
from handlers.payment_links import open_payment, order_link
from promotions import flash, flash_buying, flash_gate, flash_reminders, prices
from promotions.flash import FlashItem, FlashRefused, FlashSession
from shop import addresses, after_sale, checkout, notices
from shop.orders import Order, OrderError

router = Router("flash_sale")

SHOW = ("秒杀", "每日秒杀", "限时秒杀", "秒杀活动", "今日秒杀")
REMIND = ("提醒我", "秒杀提醒", "开抢提醒", "提醒我秒杀")
GRAB = re.compile(r"^(?:抢|抢购|秒杀)\s*第?(\d{1,3})\s*(?:件|个|号)?$")
STEP = "flash:address"
SHOWN = "flash_session"  # conversation data: the session last shown, for 提醒我
LEFT_STEP = "（收货地址还没填：付款前请回复「修改地址」补上）"


@router.around(STEP)
def address_or_command(msg: Inbound, ctx: ChatContext, call_next: CallNext
                       ) -> Reply | str | None:
    """While the address is asked for, a command or a flash keyword leaves the step."""
    if commands.is_command(msg) or _is_flash_keyword(msg):
        ctx.conversation.clear()
        reply = call_next(None)
        return f"{reply}\n\n{LEFT_STEP}" if isinstance(reply, str) else reply
    return call_next(STEP)


def _is_flash_keyword(msg: Inbound) -> bool:
    text = msg.text.strip()
    return text in SHOW or text in REMIND or bool(GRAB.match(text))


@router.click("MENU_FLASH")
@router.text(*SHOW)
def show_flash(msg: Inbound, ctx: ChatContext) -> str:
    """The session on now with live counts, or the next one with its countdown."""
    now = ctx.now()
    with ctx.db() as db:
        session = flash.upcoming(db, now)
        if session is None:
            return "暂时没有秒杀场次，敬请期待。回复「逛逛」看看其他商品。"
        ctx.conversation.update_data(**{SHOWN: session.id})
        if session.is_on(now):
            return _on_now(ctx, db, session, now)
        return _coming(ctx, db, session, now)


def _on_now(ctx: ChatContext, db, session: FlashSession, now: datetime) -> str:
    items = list(session.items)
    left = _live_left(ctx, items, now)
    rows = [f"⚡ {session.title} · {flash.session_label(session, now)} 进行中"
            f"（{shanghai_text(session.ends_at, '%H:%M')} 结束）"]
    for number, item in enumerate(items, start=1):
        units = max(0, left[item.id])
        counts = (f"已抢{item.stock - units}件 · 仅剩{units}件" if units
                  else f"已抢光（{item.stock}件）")
        rows.append(f"{number}. {_name(item)}\n   {_price(db, item, now)}\n"
                    f"   {counts} · 每人限购{item.limit_per_customer}件")
    minutes = flash.setting(ctx.config, "FLASH_PAYMENT_MINUTES")
    rows.append(f"回复「抢 1」立即抢购，下单后请在{minutes}分钟内付款。")
    following = flash.upcoming(db, now, after=session)
    if following is not None:
        rows.append(f"下一场：{flash.session_label(following, now)}")
    return "\n".join(rows)


def _coming(ctx: ChatContext, db, session: FlashSession, now: datetime) -> str:
    rows = [f"⚡ {session.title} · {flash.session_label(session, now)}",
            f"距开始还有 {flash.countdown(as_utc(session.starts_at) - now)}"]
    for number, item in enumerate(session.items, start=1):
        rows.append(f"{number}. {_name(item)}\n   {_price(db, item, now)} · "
                    f"限量{item.stock}件 · 每人限购{item.limit_per_customer}件")
    minutes = flash.setting(ctx.config, "FLASH_REMINDER_MINUTES")
    rows.append(f"回复「提醒我」，开抢前{minutes}分钟提醒你。")
    return "\n".join(rows)


def _name(item: FlashItem) -> str:
    return f"{item.sku.product.name}（{item.sku.variant}）"


def _price(db, item: FlashItem, now: datetime) -> str:
    """秒杀价, and 原价 only when set and the 7 days of sales before the session still
    support it."""
    reference = prices.shown_reference(db, item.sku_id, item.reference_price_fen,
                                       item.price_fen, prices.anchor(item.session.starts_at, now))
    return f"秒杀价 {yuan(item.price_fen)}" + (f" 原价 {yuan(reference)}" if reference else "")


def _live_left(ctx: ChatContext, items: list[FlashItem], now: datetime) -> dict[int, int]:
    """Units left as the gate sees them; an item it does not know yet is loaded first."""
    left = flash_gate.left(ctx.redis, [item.id for item in items])
    for item in items:
        if left[item.id] is None:
            done = flash_buying.reconcile_item(ctx.sessions, ctx.redis, item.id, now)
            left[item.id] = done[0] if done else item.stock - item.sold
    return {key: int(value or 0) for key, value in left.items()}


@router.regex(GRAB.pattern)
def grab(msg: Inbound, ctx: ChatContext) -> str:
    """抢 N: item N of the session on now, one unit, ordered at once."""
    number = int(GRAB.match(msg.text.strip()).group(1))
    now = ctx.now()
    listing = flash_buying.listing(ctx.sessions, ctx.redis, now)
    if listing is None:
        return "现在没有秒杀场次。回复「逛逛」看看其他商品。"
    if not listing.is_on(now):
        label, wait = flash.label_for(listing.starts_at, now), listing.starts_at - now
        return (f"{label}秒杀还没开始，距开始还有 {flash.countdown(wait)}。"
                "回复「提醒我」，开抢前提醒你。")
    if not 1 <= number <= len(listing.items):
        count = len(listing.items)
        return f"本场只有 {count} 件秒杀商品，请回复「抢 1」到「抢 {count}」。"
    item_id, limit, name = listing.items[number - 1]
    minutes = flash.setting(ctx.config, "FLASH_PAYMENT_MINUTES")
    try:
        grabbed = flash_buying.grab(ctx.sessions, ctx.redis, item_id, msg.openid, now,
                                    payment_minutes=minutes)
    except FlashRefused as refused:
        if refused.code == "limit":
            return _over_limit(ctx, item_id, msg.openid, name, limit)
        return _refused(refused, name, limit)
    used = f"（已用优惠券减 {yuan(grabbed.coupon_fen)}）" if grabbed.coupon_fen else ""
    head = (f"抢到了！{name}，订单号 {grabbed.number}，应付 {yuan(grabbed.total_fen)}{used}。\n"
            f"请在 {shanghai_text(grabbed.pay_by, '%H:%M')} 前完成支付，超时订单自动取消，"
            "名额让给别人。\n")
    if grabbed.address_line:
        pay = open_payment(ctx, grabbed.number, grabbed.total_fen, msg.openid)
        return (f"{head}寄到：{grabbed.address_line}（要改请回复「修改地址」）\n"
                f"{pay}{order_link(ctx, grabbed.number)}")
    ctx.conversation.clear()
    ctx.conversation.set_state(STEP)
    ctx.conversation.update_data(flash_order=grabbed.order_id)
    return (f"{head}⚠️ 还差收货地址：须先补上地址才能付款（没有地址无法发货），"
            f"地址记下后再发付款链接给你。\n查看订单：{order_link(ctx, grabbed.number)}\n\n"
            f"{ASK_ADDRESS}")


def _over_limit(ctx: ChatContext, item_id: int, openid: str, name: str, limit: int) -> str:
    """限购 reached, worded by the customer's order: 请尽快付款 only to one still waiting for
    payment (with the address first if it has none); a paid one is told it is paid."""
    head = f"{name}每人限购{limit}件，你已经抢到了"
    with ctx.db() as db:
        held = flash_buying.held_orders(db, item_id, openid)
        waiting = next((order for order in held if order.state == "pending_payment"), None)
        if waiting is not None:
            number, total, pay_by = waiting.number, waiting.total_fen, as_utc(waiting.pay_by)
            addressed = not addresses.from_dict(waiting.address_fields).missing
    if waiting is None:
        if held:
            return f"{head}，订单已付款，我们会尽快发货。回复「我的订单」查看。"
        return f"{head}。回复「我的订单」查看。"
    at = shanghai_text(pay_by, "%H:%M")
    if not addressed:
        return (f"{head}（订单 {number}），还没付款。付款前须先补上收货地址：请回复「修改地址」"
                f"补上，再在 {at} 前付款，超时订单自动取消。")
    pay = open_payment(ctx, number, total, openid)
    return (f"{head}（订单 {number}），还没付款，请在 {at} 前付款，超时订单自动取消。\n"
            f"{pay}{order_link(ctx, number)}")


def _refused(refused: FlashRefused, name: str, limit: int) -> str:
    answers = {
        "soldout": f"手慢了，{name}已抢光。回复「秒杀」看看其他秒杀商品。",
        "early": "这场秒杀还没开始。回复「秒杀」看开始时间。",
        "ended": "这场秒杀已经结束了。回复「秒杀」看下一场。",
        "missing": "抢购的人太多了，请稍后再试一次。",
    }
    return answers.get(refused.code) or f"没有抢到：{refused}。回复「秒杀」看看其他商品。"


@router.state(STEP, kinds=TEXTUAL)
def take_address(msg: Inbound, ctx: ChatContext) -> str:
    """The address of a flash order placed without one, gathered like any address."""
    order_id = ctx.conversation.get_data().get("flash_order")
    if msg.text.strip() in checkout.CANCEL:
        ctx.conversation.clear()
        return "好的，订单保留。" + LEFT_STEP
    address, question = gather_address(ctx, msg, STEP)
    if question:
        return question
    ctx.conversation.clear()
    try:
        with ctx.db() as db:
            order = db.get(Order, order_id)
            if order is None or order.openid != msg.openid:
                return "没有找到这笔秒杀订单。回复「我的订单」查看。"
            after_sale.change_address(db, order, address, actor=msg.openid)
            number, total, pay_by = order.number, order.total_fen, as_utc(order.pay_by)
            waiting = order.state == "pending_payment"
    except OrderError as error:
        return f"地址没有记下：{error}。"
    done = f"收货地址已记下：{address.one_line()}\n"
    if not waiting:
        return f"{done}订单 {number}：{order_link(ctx, number)}"
    pay = open_payment(ctx, number, total, msg.openid)
    return (f"{done}订单 {number} 现在可以付款了，请在 {shanghai_text(pay_by, '%H:%M')} 前"
            f"完成支付。\n{pay}{order_link(ctx, number)}")


@router.text(*REMIND)
def remind_me(msg: Inbound, ctx: ChatContext) -> str:
    """提醒我: the session shown (or the next one), through a channel WeChat will allow."""
    now = ctx.now()
    minutes = flash.setting(ctx.config, "FLASH_REMINDER_MINUTES")
    with ctx.db() as db:
        session = _session_to_remind(ctx, db, now)
        if session is None:
            return "暂时没有即将开始的秒杀场次，敬请期待。"
        label = flash.session_label(session, now)
        wait = as_utc(session.starts_at) - now
        if wait.total_seconds() <= minutes * 60:
            return f"{label}马上开始（还有{flash.countdown(wait)}），开始后回复「秒杀」直接抢～"
        answer = flash_reminders.ask_reminder(
            db, session, msg.openid, now, minutes=minutes,
            template_id=ctx.config.get("NOTICE_TEMPLATE_ID"))
    return _reminder_reply(answer, label, minutes, now)


def _session_to_remind(ctx: ChatContext, db, now: datetime) -> FlashSession | None:
    shown = ctx.conversation.get_data().get(SHOWN)
    session = db.get(FlashSession, shown) if shown else None
    if session is not None and session.state == "open" and as_utc(session.starts_at) > now:
        return session
    current = flash.upcoming(db, now)
    if current is not None and current.is_on(now):
        return flash.upcoming(db, now, after=current)
    return current


def _reminder_reply(answer: flash_reminders.ReminderAnswer, label: str, minutes: int,
                    now: datetime) -> str:
    at = shanghai_text(answer.remind_at, "%H:%M")
    said = "好的，" if answer.new else "已经记下了，"
    if answer.channel == "custom":
        return f"{said}{label}开抢前{minutes}分钟（{at}）会在这里提醒你。"
    if answer.channel == "subscribe":
        return f"{said}{label}开抢前{minutes}分钟会通过订阅通知提醒你。"
    wait = flash.countdown(as_utc(answer.session.starts_at) - now)
    return (f"已记下，但{label}要{wait}后才开始。到提醒时，离你上次给我们发消息已超过48小时，"
            "微信不允许公众号主动发消息给你，提醒很可能发不出去。\n"
            "想收到提醒：开抢前48小时内回来给我们发条消息（比如回复「秒杀」），"
            "提醒就能送到；或者开抢时直接回复「秒杀」。")


@router.event("subscribe_msg_popup_event")
def record_opt_ins(msg: Inbound, ctx: ChatContext) -> None:
    """The customer accepted (or rejected) subscription notices in WeChat's popup: each
    acceptance of our reminder template allows one reminder (WECHAT_API.md §5C)."""
    template = ctx.config.get("NOTICE_TEMPLATE_ID")
    accepted = notices.accepted_in_popup(msg.fields, str(template or ""))
    if accepted:
        with ctx.db() as db:
            notices.record_opt_in(db, msg.openid, str(template), ctx.now(), times=accepted)
    return None
