"""逛逛: categories, product lists with paging, a product card, and search by what they type."""

from __future__ import annotations

import re

from redis import RedisError

from bot import message_stats
from bot.inbound import Inbound
from bot.replies import NewsReply
from bot.router import Router
from handlers import commands, product_lists
from handlers.context import ChatContext
from shop import browse
from shop.images import absolute

router = Router("browse")

def _card(ctx: ChatContext, product_id: int) -> NewsReply | str:
    with ctx.db() as db:
        found = browse.card(db, product_id)
    if found is None:
        return "这件商品已下架，看看别的吧～\n回复「逛逛」查看全部分类。"
    ctx.conversation.update_data(product_id=product_id)
    try:
        message_stats.bump(ctx.redis, message_stats.FUNNEL, "view", ctx.now().timestamp())
    except RedisError:
        ctx.log.warning("could not count a product view")  # the card matters more
    base = str(ctx.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    picture = absolute(base, found.picture) if found.picture else ""  # PicUrl must be absolute
    return NewsReply(title=found.title, description=found.description, url=base + found.path,
                     picurl=picture)


@router.click("MENU_BROWSE")
@router.text(*commands.BROWSE)
def show_categories(msg: Inbound, ctx: ChatContext) -> str:
    """The menu's 逛逛: categories with how many products each has."""
    with ctx.db() as db:
        rows = browse.categories(db)
    ctx.conversation.set_state("browse:categories")
    ctx.conversation.update_data(categories=[name for name, _ in rows])
    return browse.category_text(rows)


@router.regex(r"^分类\s*(.+)$")
def show_category(msg: Inbound, ctx: ChatContext) -> str:
    """A tapped category link (its text is 分类 <name>)."""
    name = re.sub(r"^分类\s*", "", msg.text.strip())
    with ctx.db() as db:
        ids = browse.in_category(db, name)
    if not ids:
        return f"「{name}」分类暂时没有商品。回复「逛逛」查看全部分类。"
    return product_lists.show_list(ctx, f"「{name}」", ids)


@router.regex(r"^商品\s*#?(\d{1,9})$")
def show_product(msg: Inbound, ctx: ChatContext) -> NewsReply | str:
    """A tapped product link (商品 <id>): the product as one card."""
    return _card(ctx, int(re.sub(r"\D", "", msg.text)))


@router.regex(r"^\d{1,2}$")
def pick_number(msg: Inbound, ctx: ChatContext) -> NewsReply | str:
    """A number answers the list on screen: a category, or a product on the current page."""
    number = int(msg.text.strip())
    state, data = ctx.conversation.get_state(), ctx.conversation.get_data()
    if state == "browse:categories":
        names = data.get("categories", [])
        if 1 <= number <= len(names):
            msg_name = names[number - 1]
            with ctx.db() as db:
                ids = browse.in_category(db, msg_name)
            return product_lists.show_list(ctx, f"「{msg_name}」", ids)
        return f"请回复 1–{len(names)} 之间的序号。"
    if state == product_lists.LIST:
        ids, page = data.get("ids", []), int(data.get("page", 0))
        index = page * browse.PAGE_SIZE + number - 1
        on_page = min(browse.PAGE_SIZE, len(ids) - page * browse.PAGE_SIZE)
        if 1 <= number <= on_page:
            return _card(ctx, ids[index])
        return f"请回复 1–{max(on_page, 1)} 之间的序号。"
    return "请先回复「逛逛」看看商品分类，或直接回复想买的东西。"


@router.text("下一页", "上一页")
def turn_page(msg: Inbound, ctx: ChatContext) -> str:
    data = ctx.conversation.get_data()
    if ctx.conversation.get_state() != product_lists.LIST or "ids" not in data:
        return "请先回复「逛逛」或想买的东西。"
    step = 1 if msg.text.strip() == "下一页" else -1
    page = int(data.get("page", 0)) + step
    return product_lists.show_list(ctx, data.get("title", ""), data["ids"], page)
