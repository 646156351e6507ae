"""Is a question about the shop's policy, or about the customer's own parcel?

"发货快吗", "周末发货吗", "运费谁出" ask how the shop works: the FAQ answers them. "我的快递到哪了",
"我的订单发了吗", "昨天买的怎么还没到" ask where *their* order is: only the order handler knows.
The difference is in the wording — a possessive or a "check for me" (我的, 我买的, 帮我查), or a
word about a parcel on its way (到哪了, 还没到, 派送, 丢了) — not in the topic, which is shipping
either way. Signs are weighed, not matched: own-order ones (a purchase of one's own, a parcel
late or "delivered", a hurry-up) against policy ones (一般, 如果, 下单后, 能…吗). Some questions
could be either ("我买的口红能退吗", "我的订单能开发票吗"): an FAQ entry that fits answers them
(with the order's state too when the customer has one), else the order does.
"""

from __future__ import annotations

import re
from enum import Enum

from core.text import normalize, simplified


class Asks(Enum):
    POLICY = "policy"
    MY_ORDER = "my_order"
    EITHER = "either"


#: Signs of the customer's own order, with their weight: a possessive or a purchase already
#: made points at one (1); a parcel on its way, late, lost or "delivered" but not there, a
#: "has it shipped?" or a hurry-up is about one (2).
_OWN = (
    (1, re.compile(
        r"我(?:的|们的|家的|那个|这个|那单|这单|那件)|俺的|我(?:买|拍|订|下单|下|付款|付)(?:的|了)"
        r"|(?:昨天|前天|昨晚|上周|上星期|上个月|前几天|几天前|上次|之前|刚才|刚刚|今早|那天)"
        r"(?:就)?(?:买|拍|下单|下的单|付|订)"
        r"|订单号|单号|\d{8,}|(?:帮我|帮忙|麻烦|给我|请)(?:查|看|问)|^(?:查|看)(?:一下|下|看|查)?"
        r"|一直|快递员|驿站|快递柜")),
    (2, re.compile(
        r"到哪|到了(?:吗|没)|还没(?:有)?(?:到|收到|发|动|更新)|没(?:有)?收到|没到|怎么还没|怎么还不"
        r"|不动了?|没动|不更新|没(?:动静|更新|物流)|派送|派件|配送中|在路上|中转|丢(?:了|件)|延误"
        r"|卡(?:住|在)|没拿到|还没给我发|还不发|待发货|单号呢|过了\d+(?:个)?小时"
        r"|走到|到哪一步|单号(?:是|多少|给|发)|查不到|发的(?:什么|哪家)|是哪家"
        r"|发(?:货|出去|出来)?了(?:没|吗|没有)|发(?:货|出去|出来)?没(?:有)?(?:啊|呢|哈)?$"
        r"|有没有发(?!票)|寄出了(?:没|吗)|签收了|显示|被退回|退回了"
        r"|订单状态|什么状态|物流信息|物流(?:停|没)|能到吗|(?:啥|什么)时候(?:能)?(?:到|收到)"
        r"|催|加急|快点发|赶紧发|等了|等好久|好几天了|好多天了")),
)
#: The shop in general, or a purchase not made yet: 一般, 你们, 节假日, 如果 ….
_POLICY = (
    (2, re.compile(r"一般|通常|平时|如果|要是|的话|现在(?:下单|买|拍)|今天(?:下单|买|拍)|下周|以后"
                   r"|下单后|付款后|拍下后")),
    (1, re.compile(r"你们|节假日|周末|放假|过年|春节|会不会|能不能|可以|能|多久|(?<!好)几天")),
)
_DIALECT = (("木有", "没有"), ("莫得", "没有"), ("没得", "没有"))


def what_it_asks(text: str) -> Asks:
    """Policy, the customer's own order, or a wording that could be either."""
    text = simplified(normalize(text))
    for said, meant in _DIALECT:
        text = text.replace(said, meant)
    own = sum(weight for weight, pattern in _OWN if pattern.search(text))
    policy = sum(weight for weight, pattern in _POLICY if pattern.search(text))
    lean = own - policy
    if lean >= 2:
        return Asks.MY_ORDER
    if lean == 1 or (own and lean == 0):
        return Asks.EITHER  # "我买的口红能退吗": the FAQ if an entry fits, else their order
    return Asks.POLICY
