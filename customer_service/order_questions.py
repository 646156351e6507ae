"""Is a question about the shop's policy, or about the customer's own parcel?

"发货快吗", "周末发货吗", "运费谁出" ask how the shop works: the FAQ answers them. "我的快递到哪了",
"我的订单发了吗", "昨天买的怎么还没到" ask where *their* order is: only the order handler knows.
The difference is in the wording — a possessive or a "check for me" (我的, 我买的, 帮我查), or a
word about a parcel on its way (到哪了, 还没到, 派送, 丢了) — not in the topic, which is shipping
either way. Some questions could be either ("发货了吗", "我买的口红能退吗"): an FAQ entry that
fits answers them (with the order's state too when the customer has one), else the order does.
"""

from __future__ import annotations

import re
from enum import Enum

from core.text import normalize, simplified


class Asks(Enum):
    POLICY = "policy"
    MY_ORDER = "my_order"
    EITHER = "either"


#: The customer points at a purchase of their own: 我的快递, 我买的面霜, 昨天拍的, an order
#: number, "帮我查", "催一下".
_PERSONAL = re.compile(
    r"我(?:的|们的|家的|那个|这个|那单|这单|那件)|俺的|我(?:买|拍|订|下单|付款|付)(?:的|了)"
    r"|我(?:上次|之前|昨天|前天|上周|上个月|前几天|刚)"
    r"|(?:昨天|前天|昨晚|上周|上星期|上个月|前几天|几天前|上次|之前|刚才|刚刚|今早|那天)"
    r"(?:就)?(?:买|拍|下单|下的单|付|订)"
    r"|\d{8,}|订单号|催|加急|快点发|赶紧发|怎么还不发"
    r"|(?:帮我|帮忙|麻烦|给我|请)(?:查|看|问|催)|^(?:查|看)(?:一下|下|看|查)?")
#: A parcel on its way, late or lost: 到哪了, 还没到, 没收到, 不动, 派送, 丢了, 单号给我.
_ON_ITS_WAY = re.compile(
    r"到哪|到了(?:吗|没)|还没(?:到|收到|发|动|更新)|没收到|没到|怎么还没|一直(?:不动|没)|不动了?"
    r"|没(?:动静|更新)|派送|派件|配送中|在路上|中转|丢(?:了|件)|延误|卡(?:住|在)|走到"
    r"|到哪一步|单号(?:是|多少|给|发)|发的(?:什么|哪家)|是哪家|发货了(?:没|吗)|(?:发|寄出)了(?:没|吗)"
    r"|什么状态|物流信息|物流(?:停|没)|显示(?:签收|已签收|已送达)|被退回|能到吗"
    r"|(?:啥|什么)时候(?:能)?(?:到|收到)")
#: The shop in general, or a purchase not made yet: 一般, 你们, 节假日, 下单后, 如果 ….
_GENERAL = re.compile(
    r"一般|你们|通常|平时|节假日|周末|放假|过年|春节|下单后|付款后|拍下后|拍了多久|多久发|几天发"
    r"|如果|要是|的话|现在(?:下单|买|拍)|今天(?:下单|买|拍)|会不会|能不能|可以")
_ORDER_WORDS = re.compile(r"订单|快递|物流|包裹|单号|(?<![退发正假真])货|件|东西|发(?!票)")


def what_it_asks(text: str) -> Asks:
    """Policy, the customer's own order, or a wording that could be either."""
    text = simplified(normalize(text))
    personal = bool(_PERSONAL.search(text))
    moving = bool(_ON_ITS_WAY.search(text))
    general = bool(_GENERAL.search(text))
    if moving:
        return Asks.EITHER if general and not personal else Asks.MY_ORDER
    if personal and (_ORDER_WORDS.search(text) or not general):
        return Asks.EITHER  # "我买的口红能退吗": the FAQ if it fits, else their order
    return Asks.POLICY
