"""Buying in the conversation: 买 2 → variant → quantity → address → read-back → order.

Every step can be left with 取消 (or 取消订单, which never touches an order placed before);
a command such as 我的订单 pauses it until 继续下单 (handlers/flows.py); the conversation state
expires on its own, so an abandoned order never haunts the customer. The rules (quantities,
addresses, the read-back, stock) are in shop/checkout.py, shop/addresses.py and shop/orders.py.
"""

from __future__ import annotations

import uuid

from bot.inbound import Inbound
from bot.router import Router
from core.clock import shanghai_text
from core.money import yuan
from handlers import address_steps, commands
from handlers.context import ChatContext
from handlers.payment_links import open_payment, order_link
from promotions import checkout as promotion_checkout
from shop import addresses, after_sale, cart, checkout, order_status, orders
from shop.catalog import Product, Sku
from shop.orders import Order, OrderError, PriceChanged

router = Router("order")

FLOW = "order:*"

@router.state(FLOW, kinds=address_steps.TEXTUAL)
def continue_order(msg: Inbound, ctx: ChatContext) -> str:
    """The customer is in the middle of buying: this message answers the current step."""
    text = msg.text.strip()
    step = ctx.conversation.get_state()
    if step == "order:cancel":
        return _confirm_cancel(ctx, msg)
    if text in checkout.CANCEL or commands.is_cancel_order(msg):
        ctx.conversation.clear()
        return "已取消本次下单。回复「逛逛」继续看看。" + _placed_orders_stay(ctx, msg)
    if step == "order:sku":
        return _choose_sku(ctx, text, msg.openid)
    if step == "order:qty":
        return _choose_quantity(ctx, text, msg.openid)
    if step == "order:reuse":
        if text in checkout.YES:
            data = ctx.conversation.get_data()
            return _confirm(ctx, addresses.from_dict(data.get("last_address")))
        return _take_address(ctx, msg)
    if step == "order:address":
        return _take_address(ctx, msg)
    if step == "order:coupon":
        return _pick_coupon(ctx, text)
    if step == "order:confirm":
        if text in checkout.YES or text == "确认下单":
            return _place(ctx, msg.openid)
        if changed := _change_bill(ctx, text):
            return changed
        return "回复「确认」下单，或回复「取消」放弃。"
    ctx.conversation.clear()
    return "这一步已过期，请重新选择商品。回复「逛逛」看看。"


@router.regex(r"^(?:我要|我想|帮我)?(?:买|购买|下单)\s*(?:\d+|[一两二三四五六七八九十])?\s*\S?$")
def start_order(msg: Inbound, ctx: ChatContext) -> str:
    """买 / 买 2 / 我要买两件, after a product card was shown."""
    wanted, count = checkout.buy_request(msg.text)
    if not wanted:
        return "请先选一件商品：回复「逛逛」或商品名，看到商品卡片后再回复「买 1」。"
    return _start(ctx, msg.openid, count, "buy")


@router.regex(r"^(?:加入|加到|放入|放进|添加到?)购物车\s*(?:\d+|[一两二三四五六七八九十])?\s*\S?$")
def add_to_cart(msg: Inbound, ctx: ChatContext) -> str:
    """加入购物车 / 加入购物车 2, after a product card: variant if needed, one unless said."""
    count = checkout.cart_request(msg.text)
    if count is None:
        return "请回复「加入购物车」或「加入购物车 2」。"
    return _start(ctx, msg.openid, count, "cart")


def _placed_orders_stay(ctx: ChatContext, msg: Inbound) -> str:
    """取消订单 while buying leaves the purchase under way; an order placed before is not
    touched without its own confirmation, and the customer is told how to reach it."""
    if not commands.is_cancel_order(msg):
        return ""
    with ctx.db() as db:
        order_id, _ = order_status.cancellable(db, msg.openid)
    if order_id is None:
        return ""
    return "\n已提交的订单不受影响；要取消它，请再回复「取消订单」。"


def _start(ctx: ChatContext, openid: str, count: int | None, mode: str) -> str:
    """The product of the last card: pick the variant, then the quantity."""
    product_id = ctx.conversation.get_data().get("product_id")
    if not product_id:
        return ("请先选一件商品：回复「逛逛」或商品名，"
                "看到商品卡片后再回复「买 1」或「加入购物车」。")
    with ctx.db() as db:
        product = db.get(Product, product_id)
        if product is None or not product.on_shelf:
            return "这件商品已下架，看看别的吧～"
        skus = [(sku.id, sku.stock) for sku in product.skus]
        choices = checkout.sku_choices(product)
    ctx.conversation.set_state("order:sku")
    ctx.conversation.update_data(product_id=product_id, count=count, sku_id=None, mode=mode)
    if len(skus) == 1:
        return _choose_sku(ctx, "1", openid)
    return choices


def _choose_sku(ctx: ChatContext, text: str, openid: str) -> str:
    data = ctx.conversation.get_data()
    with ctx.db() as db:
        product = db.get(Product, data["product_id"])
        skus = list(product.skus)
        if not text.isdigit() or not 1 <= int(text) <= len(skus):
            return f"请回复 1–{len(skus)} 之间的序号选择规格，或回复「取消」。"
        sku = skus[int(text) - 1]
        if sku.stock <= 0:
            return f"「{sku.variant}」已经卖完了，请选择其他规格。"
        sku_id, stock = sku.id, sku.stock
    ctx.conversation.update_data(sku_id=sku_id)
    if data.get("count"):
        return _choose_quantity(ctx, str(data["count"]), openid)
    ctx.conversation.set_state("order:qty")
    return f"要买几件？（库存 {stock}）"


def _choose_quantity(ctx: ChatContext, text: str, openid: str) -> str:
    data = ctx.conversation.get_data()
    with ctx.db() as db:
        stock = db.get(Sku, data["sku_id"]).stock
        try:
            count = checkout.quantity(text, stock)
        except checkout.QuantityError as error:
            ctx.conversation.set_state("order:qty")
            return str(error)
    if data.get("mode") == "cart":
        ctx.conversation.clear()
        ctx.conversation.update_data(product_id=data["product_id"])  # 买 still means this one
        try:
            with ctx.db() as db:
                in_cart = cart.add(db, openid, data["sku_id"], count)
        except OrderError as error:
            return f"没有加入购物车：{error}。"
        return (f"已加入购物车（这件共 {in_cart} 件）。\n"
                "回复「购物车」查看，回复「结算」下单，或继续逛逛。")
    ctx.conversation.update_data(items=[[data["sku_id"], count]], from_cart=False)
    return address_steps.ask_address(ctx, openid)


def _take_address(ctx: ChatContext, msg: Inbound) -> str:
    reusing = ctx.conversation.get_state() == "order:reuse"
    address, question = address_steps.gather_address(ctx, msg, "order:address")
    if question and reusing and ctx.conversation.get_state() == "order:reuse":
        question += "\n或回复「是」寄到上次的地址。"  # the message was no address: still asking
    return question or _confirm(ctx, address)


def _confirm(ctx: ChatContext, address: addresses.Address) -> str:
    """The read-back: goods, the suggested coupon, the points offer, what to pay."""
    data = ctx.conversation.get_data()
    ctx.conversation.update_data(address=address.as_dict())
    if not data.get("checkout_key"):  # one key per confirmation, kept if it is shown again
        ctx.conversation.update_data(checkout_key=uuid.uuid4().hex)
    ctx.conversation.set_state("order:confirm")
    items = _items(data)
    with ctx.db() as db:
        bill = promotion_checkout.bill(
            db, ctx.msg.openid, checkout.total(db, items), ctx.now(), ctx.config,
            coupon=data.get("coupon", promotion_checkout.BEST),
            points_wanted=int(data.get("points") or 0))
        # What is confirmed: this coupon (the best one resolved to its id), these points.
        declined = data.get("coupon") == promotion_checkout.NO_COUPON
        ctx.conversation.update_data(
            total=bill.pay_fen, points=bill.points_used,
            coupon=bill.coupon_id if bill.coupon_id is not None else (
                promotion_checkout.NO_COUPON if declined else promotion_checkout.BEST))
        return checkout.read_back(db, items, address, bill.lines())


def _change_bill(ctx: ChatContext, text: str) -> str | None:
    """换券 / 不用券 / 用积分 [N] / 不用积分 at the read-back; None if the text is none."""
    data = ctx.conversation.get_data()
    address = addresses.from_dict(data.get("address"))
    if text in promotion_checkout.CHANGE_COUPON:
        with ctx.db() as db:
            menu, ids = promotion_checkout.coupon_menu(
                db, ctx.msg.openid, checkout.total(db, _items(data)), ctx.now())
        if not ids:
            return menu + "\n回复「确认」下单，或回复「取消」放弃。"
        ctx.conversation.set_state("order:coupon")
        ctx.conversation.update_data(coupon_ids=ids)
        return menu
    if text in promotion_checkout.NO_COUPON_WORDS:
        ctx.conversation.update_data(coupon=promotion_checkout.NO_COUPON)
        return "好的，本单不使用优惠券。\n" + _confirm(ctx, address)
    if text in promotion_checkout.NO_POINTS_WORDS:
        ctx.conversation.update_data(points=0)
        return "好的，本单不使用积分。\n" + _confirm(ctx, address)
    wanted = promotion_checkout.points_request(text)
    if wanted is None:
        return None
    ctx.conversation.update_data(points=wanted)
    reply = _confirm(ctx, address)
    used = int(ctx.conversation.get_data().get("points") or 0)
    if not used:
        return "本单暂无可用积分。\n" + reply
    if wanted != promotion_checkout.ALL_POINTS and used < wanted:
        return f"本单最多可用 {used} 分，已按 {used} 分抵扣。\n" + reply
    return reply


def _pick_coupon(ctx: ChatContext, text: str) -> str:
    data = ctx.conversation.get_data()
    ids = [int(coupon_id) for coupon_id in data.get("coupon_ids") or []]
    if text in promotion_checkout.NO_COUPON_WORDS or text == "0":
        ctx.conversation.update_data(coupon=promotion_checkout.NO_COUPON)
    elif text.isdigit() and 1 <= int(text) <= len(ids):
        ctx.conversation.update_data(coupon=ids[int(text) - 1])
    else:
        return f"请回复 0–{len(ids)} 之间的序号选择优惠券，或回复「取消」放弃下单。"
    return _confirm(ctx, addresses.from_dict(data.get("address")))


def _items(data: dict) -> list[tuple[int, int]]:
    return [(int(sku_id), int(count)) for sku_id, count in data.get("items") or []]


def _place(ctx: ChatContext, openid: str) -> str:
    data = ctx.conversation.get_data()
    items = _items(data)
    minutes = int(ctx.config.get("ORDER_PAYMENT_MINUTES") or orders.PAYMENT_MINUTES)
    key = data.get("checkout_key")
    try:
        with ctx.db() as db:
            placed = orders.placed_with(db, openid, key)
            if placed is not None:
                number, state = placed.number, placed.state
            else:
                coupon = data.get("coupon")
                order = promotion_checkout.place(
                    db, openid, items, address=data.get("address"),
                    coupon_id=coupon if isinstance(coupon, int) else None,
                    points_used=int(data.get("points") or 0), expected_total=data.get("total"),
                    now=ctx.now(), config=ctx.config, payment_minutes=minutes, checkout_key=key)
                number, total, pay_by = order.number, order.total_fen, order.pay_by
                if data.get("from_cart"):
                    cart.clear(db, openid, [sku_id for sku_id, _ in items])
    except PriceChanged:
        return "价格刚刚有变动，请看新的金额：\n" + _confirm(
            ctx, addresses.from_dict(data.get("address"))
        )
    except promotion_checkout.CheckoutError as error:  # nothing was placed: ask again
        # Only what failed is chosen anew: a coupon declined stays declined, and points
        # stay asked for (the new read-back caps them at what the balance allows now).
        if isinstance(data.get("coupon"), int):
            ctx.conversation.update_data(coupon=promotion_checkout.BEST)
        return f"{error}，请看新的金额：\n" + _confirm(
            ctx, addresses.from_dict(data.get("address")))
    except OrderError as error:
        ctx.conversation.clear()
        return f"下单没有成功：{error}。回复「逛逛」看看其他商品。"
    ctx.conversation.clear()
    if placed is not None:  # this 确认 was already taken: the server stopped before it said so
        return (f"这笔订单已经提交过了，订单号 {number}（{orders.STATES[state]}），"
                f"不会重复下单。\n查看订单：{order_link(ctx, number)}")
    how = open_payment(ctx, number, total, openid)
    return (
        f"下单成功！订单号 {number}，应付 {yuan(total)}。\n"
        f"请在 {shanghai_text(pay_by, '%H:%M')} 前完成支付，超时订单自动取消。\n"
        f"{how}{order_link(ctx, number)}"
    )


@router.click("MENU_ORDERS")
@router.text(*commands.MY_ORDERS)
def my_orders(msg: Inbound, ctx: ChatContext) -> str:
    """The customer's latest orders with their state."""
    with ctx.db() as db:
        return order_status.recent(db, msg.openid)


@router.regex(commands.PARCEL)
def where_is_my_parcel(msg: Inbound, ctx: ChatContext) -> str:
    """快递到哪了: the latest order's shipping state and tracking number. Other wordings
    ("我买的面霜怎么还没到") reach the order through handlers/questions.py, which tells them
    from policy questions about shipping ("周末发货吗")."""
    with ctx.db() as db:
        return order_status.parcel(db, msg.openid)


@router.text(*commands.CANCEL_ORDER)
def ask_cancel(msg: Inbound, ctx: ChatContext) -> str:
    """Cancel the latest order that has not shipped, after a confirmation."""
    with ctx.db() as db:
        order_id, question = order_status.cancellable(db, msg.openid)
    if order_id is not None:
        ctx.conversation.set_state("order:cancel")
        ctx.conversation.update_data(order_id=order_id)
    return question


@router.text("确认取消")
def confirm_cancel_too_late(msg: Inbound, ctx: ChatContext) -> str:
    """确认取消 when no cancellation waits for it (declined, set aside or expired): nothing is
    cancelled without its question having just been asked."""
    return "现在没有等待确认的取消，订单保持不变。要取消订单，请回复「取消订单」。"


def _confirm_cancel(ctx: ChatContext, msg: Inbound) -> str:
    order_id = ctx.conversation.get_data().get("order_id")
    ctx.conversation.clear()
    if msg.text.strip() != "确认取消":
        return "好的，订单保留不变。"
    client = ctx.wxpay
    try:
        with ctx.db() as db:
            order = db.get(Order, order_id)
            if order is None or order.openid != msg.openid:
                return "没有找到这笔订单。"
            return after_sale.cancel(db, order, client, actor=msg.openid)
    except OrderError as error:
        return f"取消没有成功：{error}。"
