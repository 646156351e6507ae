"""The cart in the chat: 购物车, 删除 2, 2 改 3, 清空购物车, 结算.

加入购物车 itself is in handlers/order.py (it shares the variant and quantity steps with 买);
结算 hands the cart's lines to the same address steps (handlers/address_steps.py) and
read-back as a single purchase.
"""

from __future__ import annotations

from bot.inbound import Inbound
from bot.router import Router
from handlers import commands
from handlers.address_steps import ask_address
from handlers.context import ChatContext
from shop import cart, checkout
from shop.orders import OrderError

router = Router("cart")

_NUMBER = r"(\d{1,12}|[一两二三四五六七八九十])"


@router.text(*commands.CART)
@router.click("MENU_CART")
def show_cart(msg: Inbound, ctx: ChatContext) -> str:
    with ctx.db() as db:
        return cart.summary(cart.lines(db, msg.openid))


@router.regex(rf"^(?:删除|删掉|移除|去掉)\s*第?{_NUMBER}\s*(?:个|件|项)?$")
def remove_line(msg: Inbound, ctx: ChatContext) -> str:
    position = checkout.number_in(msg.text)
    try:
        with ctx.db() as db:
            name = cart.remove(db, msg.openid, position)
            rest = cart.lines(db, msg.openid)
    except OrderError as error:
        return f"{error}。"
    return f"已从购物车删除「{name}」。\n\n" + cart.summary(rest)


@router.regex(rf"^第?{_NUMBER}\s*(?:个|件|项)?\s*(?:改|改为|改成|数量改为?|要)\s*{_NUMBER}\s*(?:件|个)?$")
def change_quantity(msg: Inbound, ctx: ChatContext) -> str:
    position, quantity = checkout.numbers_in(msg.text)
    try:
        with ctx.db() as db:
            cart.set_quantity(db, msg.openid, position, quantity)
            rest = cart.lines(db, msg.openid)
    except OrderError as error:
        return f"{error}。"
    return "已修改。\n\n" + cart.summary(rest)


@router.text("清空购物车", "清空")
def empty_cart(msg: Inbound, ctx: ChatContext) -> str:
    with ctx.db() as db:
        cart.clear(db, msg.openid)
    return "购物车已清空。回复「逛逛」继续看看。"


@router.text("结算", "去结算", "购物车结算", "下单购物车")
def check_out(msg: Inbound, ctx: ChatContext) -> str:
    """Order everything in the cart that can be bought now: address, read-back, confirm."""
    with ctx.db() as db:
        lines = cart.lines(db, msg.openid)
    try:
        items = cart.checkout_items(lines)
    except OrderError as error:
        return f"{error}。回复「逛逛」看看。"
    skipped = len(lines) - len(items)
    ctx.conversation.clear()
    ctx.conversation.update_data(items=[list(item) for item in items], from_cart=True)
    note = f"（{skipped} 种缺货或下架的商品留在购物车里）\n" if skipped else ""
    return note + ask_address(ctx, msg.openid)
