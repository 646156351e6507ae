"""Help, the menu, and the catch-all: nobody is left without an answer."""

from __future__ import annotations

from bot.inbound import Inbound
from bot.router import Router
from handlers.context import ChatContext
from handlers.texts import MENU_TEXT

router = Router("menu")
#: The catch-all, kept in its own router so it can stay last in handlers.ROUTERS.
fallback_router = Router("fallback")

COMING_SOON = "该功能即将上线，敬请期待！\n\n"


@router.text("帮助", "菜单", "help", "?", "？", "menu", "你好", "您好", "hi", "hello")
@router.click("MENU_HELP")
def show_menu(msg: Inbound, ctx: ChatContext) -> str:
    """The customer asked what the account can do."""
    return MENU_TEXT


@router.click("MENU_BARGAIN")
def not_yet(msg: Inbound, ctx: ChatContext) -> str:
    """A menu area whose handlers are not built yet says so instead of staying silent."""
    return COMING_SOON + MENU_TEXT


@fallback_router.message()
def fallback(msg: Inbound, ctx: ChatContext) -> str:
    """Anything we did not understand: say so and show the menu."""
    return "抱歉，我没有听懂。\n\n" + MENU_TEXT
