"""Is a question about the shop's policy, or about the customer's own parcel?

"发货快吗", "周末发货吗", "运费谁出" ask how the shop works: the FAQ answers them. "我的快递到哪了",
"我的订单发了吗", "昨天买的怎么还没到" ask where *their* order is: only the order handler knows.
The difference is in the wording — a possessive or a "check for me" (我的, 我买的, 帮我查), or a
word about a parcel on its way (到哪了, 还没到, 派送, 丢了) — not in the topic, which is shipping
either way. Some questions could be either ("发货了吗"): the chat answers both briefly when
the customer has an order.
"""

from __future__ import annotations

import re
from enum import Enum

from core.text import normalize, simplified


class Asks(Enum):
    POLICY = "policy"
    MY_ORDER = "my_order"
    EITHER = "either"


#: Someone's own purchase: 我的快递, 我买的面霜, 我下的单, 我那个单, 帮我查, 查一下订单.
_MINE = re.compile(
    r"我(?:的|们的|买的|订的|拍的|下的|那个|这个|上次|之前|昨天|前天|上周|上个月|刚)"
    r"|(?:帮我|帮忙|麻烦|给我)(?:查|看|问)|^(?:查|看)(?:一下|下|看|查)?(?:我|订单|快递|物流)"
    r"|(?:昨天|前天|上周|上个月|前几天|上次|之前)(?:买|拍|下单|订)")
#: A parcel on its way or late: 到哪了, 还没到, 还没收到, 派送, 不动, 丢了, 没更新.
_ON_ITS_WAY = re.compile(
    r"到哪|到了(?:吗|没)|还没(?:到|收到|发|动静|更新)|怎么还没|一直(?:不动|没)|没(?:动静|更新)"
    r"|派送|在路上|中转|丢了|走到|到哪一步|单号(?:是|多少)|发的(?:什么|哪家)|是哪家|(?:发|寄出)了(?:没|吗)"
    r"|发货了(?:没|吗)|什么状态|物流信息|能到吗|啥时候(?:能)?(?:到|收到)|什么时候(?:能)?(?:到|收到)")
#: The shop in general: 一般, 你们, 节假日, 下单后 ….
_GENERAL = re.compile(
    r"一般|你们|通常|平时|节假日|周末|放假|过年|春节|下单后|付款后|拍了多久|多久发")
_ORDER_WORDS = re.compile(r"订单|快递|物流|包裹|单号|(?<![退发正假真])货|件")


def what_it_asks(text: str) -> Asks:
    """Policy, the customer's own order, or a wording that could be either."""
    text = simplified(normalize(text))
    mine = bool(_MINE.search(text))
    moving = bool(_ON_ITS_WAY.search(text))
    general = bool(_GENERAL.search(text))
    if mine and (moving or _ORDER_WORDS.search(text)):
        return Asks.MY_ORDER
    if moving and not general:
        return Asks.MY_ORDER if mine or _ORDER_WORDS.search(text) else Asks.EITHER
    if mine and not general:
        return Asks.EITHER
    return Asks.POLICY
