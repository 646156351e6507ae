"""Numbered product lists the customer picks from by number, shared by 逛逛 and by answers
to free text (handlers/questions.py): the list's ids and page live in the conversation."""

from __future__ import annotations

from handlers.context import ChatContext
from handlers.texts import MENU_TEXT
from shop import browse
from shop.search import index_for

LIST = "browse:list"
MAX_RESULTS = 50


def show_list(ctx: ChatContext, title: str, ids: list[int], page: int = 0) -> str:
    ctx.conversation.set_state(LIST)
    ctx.conversation.update_data(title=title, ids=ids[:MAX_RESULTS], page=page)
    with ctx.db() as db:
        return browse.page_text(db, title, ids[:MAX_RESULTS], page)


def pages(ids: list[int]) -> int:
    """How many pages a list of these products takes."""
    return max(1, -(-min(len(ids), MAX_RESULTS) // browse.PAGE_SIZE))


def find_products(ctx: ChatContext, query: str, min_score: float = 0.0) -> str | None:
    """The catalog's numbered list for `query`, or None when nothing matches (by at least
    `min_score`: a question only lists products whose name, tags or category it names)."""
    with ctx.db() as db:
        hits = [hit for hit in index_for(db).search(query[:50]) if hit.score >= min_score]
    if not hits:
        return None
    return show_list(ctx, f"「{query[:20]}」", [hit.product_id for hit in hits])


def not_found(query: str) -> str:
    return f"没有找到与「{query[:20]}」相关的商品。\n回复「逛逛」看看全部分类。\n\n" + MENU_TEXT
