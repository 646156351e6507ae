"""The words a customer may type at any step: commands, as opposed to answers to a step.

A flow step (handlers/flows.py) and an open ticket (handlers/service.py) let these through to
their own handlers instead of reading them as a quantity, a name or a message for the agent.
The handlers that answer them register these same tuples, so the two cannot drift apart.
"""

from __future__ import annotations

import re

from bot.inbound import Inbound
from core.text import normalize

MY_ORDERS = ("我的订单", "订单", "查订单", "查看订单")
PARCEL = r"^(?:查快递|查物流|物流|快递|我的快递|我的物流|(?:快递|物流)到哪(?:了|里了)?)$"
CART = ("购物车", "我的购物车", "查看购物车", "看看购物车")
MEMBER = ("我的会员", "会员", "积分", "我的积分", "会员等级", "我的等级")
MY_COUPONS = ("我的优惠券", "我的券", "我的卡券", "查看优惠券", "查优惠券")
MY_BARGAINS = ("我的砍价", "砍价进度", "查看砍价")
REFUNDS = ("退货进度", "退款进度", "退款到哪了", "我的退货", "退货状态", "我的退款", "退款状态")
HELP = ("帮助", "菜单", "help", "menu")
PERSON = ("客服", "人工", "转人工", "人工客服", "找客服", "联系客服", "真人", "在线客服",
          "人工服务")
BROWSE = ("逛逛", "商品", "分类", "全部商品", "看看")
BACK = ("返回", "返回上一页", "回到菜单", "主菜单")
MORE = ("更多", "更多商品", "查看更多", "看更多")
CANCEL_ORDER = ("取消订单", "我要取消订单", "不要了取消订单")

_PARCEL = re.compile(PARCEL)
#: Look-ups answer and change nothing, so they may be answered even inside a ticket.
_LOOKUPS = frozenset(normalize(w) for w in (*MY_ORDERS, *CART, *MEMBER, *MY_COUPONS,
                                              *REFUNDS, *MY_BARGAINS))
_COMMANDS = _LOOKUPS | {normalize(w) for w in (*HELP, *PERSON, *BROWSE, *BACK, *MORE,
                                                  *CANCEL_ORDER)}
_CANCEL_ORDER = frozenset(normalize(w) for w in CANCEL_ORDER)


def _typed(msg: Inbound) -> str:
    """The text as matched by the routes (voice recognition counts as text)."""
    return normalize(msg.text) if msg.kind in ("text", "voice") and msg.text else ""


def is_lookup(msg: Inbound) -> bool:
    """我的订单, 快递到哪了, 购物车, 我的会员, 退款进度: asks to see something, changes nothing."""
    typed = _typed(msg)
    return bool(typed) and (typed in _LOOKUPS or bool(_PARCEL.search(typed)))


def is_command(msg: Inbound) -> bool:
    """A look-up, 帮助, 人工, 逛逛, 返回, 更多, 取消订单 or a menu click: never an answer to a
    step."""
    if msg.kind == "event":
        return msg.event == "click"
    typed = _typed(msg)
    return is_lookup(msg) or typed in _COMMANDS


def is_cancel_order(msg: Inbound) -> bool:
    return _typed(msg) in _CANCEL_ORDER
