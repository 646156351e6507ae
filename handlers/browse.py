"""逛逛: categories, product lists with paging, a product card, and search by what they type."""

from __future__ import annotations

import re
import time

from redis import RedisError

from bot import message_stats
from bot.inbound import Inbound
from bot.replies import NewsReply
from bot.router import ChatContext, Router
from handlers.texts import MENU_TEXT
from shop import browse
from shop.search import index_for

router = Router("browse")

LIST = "browse:list"
MAX_RESULTS = 50


def _show_list(ctx: ChatContext, title: str, ids: list[int], page: int = 0) -> str:
    ctx.conversation.set_state(LIST)
    ctx.conversation.update_data(title=title, ids=ids[:MAX_RESULTS], page=page)
    with ctx.db() as db:
        return browse.page_text(db, title, ids[:MAX_RESULTS], page)


def _card(ctx: ChatContext, product_id: int) -> NewsReply | str:
    with ctx.db() as db:
        found = browse.card(db, product_id)
    if found is None:
        return "这件商品已下架，看看别的吧～\n回复「逛逛」查看全部分类。"
    ctx.conversation.update_data(product_id=product_id)
    try:
        message_stats.bump(ctx.redis, message_stats.FUNNEL, "view", time.time())
    except RedisError:
        ctx.log.warning("could not count a product view")  # the card matters more
    base = str(ctx.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return NewsReply(title=found.title, description=found.description, url=base + found.path)


@router.click("MENU_BROWSE")
@router.text("逛逛", "商品", "分类", "全部商品", "看看")
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
    return _show_list(ctx, f"「{name}」", ids)


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
            return _show_list(ctx, f"「{msg_name}」", ids)
        return f"请回复 1–{len(names)} 之间的序号。"
    if state == LIST:
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
    if ctx.conversation.get_state() != LIST or "ids" not in data:
        return "请先回复「逛逛」或想买的东西。"
    step = 1 if msg.text.strip() == "下一页" else -1
    return _show_list(ctx, data.get("title", ""), data["ids"], int(data.get("page", 0)) + step)


def find_products(ctx: ChatContext, query: str, min_score: float = 0.0) -> str | None:
    """The catalog's numbered list for `query`, or None when nothing matches (by at least
    `min_score`: a question only lists products whose name, tags or category it names)."""
    with ctx.db() as db:
        hits = [hit for hit in index_for(db).search(query[:50]) if hit.score >= min_score]
    if not hits:
        return None
    return _show_list(ctx, f"「{query[:20]}」", [hit.product_id for hit in hits])


def not_found(query: str) -> str:
    return f"没有找到与「{query[:20]}」相关的商品。\n回复「逛逛」看看全部分类。\n\n" + MENU_TEXT
