"""Help, the menu, 返回 and 更多, and the catch-all: nobody is left without an answer."""

from __future__ import annotations

from bot.inbound import Inbound
from bot.router import Router
from core.text import normalize
from handlers import commands, product_lists
from handlers.context import ChatContext
from handlers.texts import MENU_TEXT

router = Router("menu")
#: The catch-all, kept in its own router so it can stay last in handlers.ROUTERS.
fallback_router = Router("fallback")



@router.text(*commands.HELP, "?", "？", "你好", "您好", "hi", "hello")
@router.click("MENU_HELP")
def show_menu(msg: Inbound, ctx: ChatContext) -> str:
    """The customer asked what the account can do."""
    return MENU_TEXT


@router.text(*commands.BACK, *commands.MORE)
def back_or_more(msg: Inbound, ctx: ChatContext) -> str:
    """返回 and 更多 mean the list on screen: its previous or next page; without a list, 返回
    goes to the menu and 更多 to the catalog's categories."""
    forward = normalize(msg.text) in commands.MORE
    data = ctx.conversation.get_data()
    on_list = ctx.conversation.get_state() == product_lists.LIST and data.get("ids")
    if on_list:
        page = int(data.get("page", 0)) + (1 if forward else -1)
        if 0 <= page < product_lists.pages(data["ids"]):
            return product_lists.show_list(ctx, data.get("title", ""), data["ids"], page)
        if forward:
            return "已经是最后一页了。回复序号查看商品，或回复「逛逛」看看其他分类。"
    if forward:
        return "想看更多商品，请回复「逛逛」查看全部分类，或直接发送想买的东西。"
    return "好的，回到主菜单。\n\n" + MENU_TEXT


@fallback_router.message()
def fallback(msg: Inbound, ctx: ChatContext) -> str:
    """Anything we did not understand: say so and show the menu."""
    return "抱歉，我没有听懂。\n\n" + MENU_TEXT
