"""Is the customer complaining? A complaint wants an apology and a person, not a product list:
"我买的口红是假货，要投诉" names a lipstick, and the catalog would happily list lipsticks.

Some words are a complaint whatever surrounds them (投诉, 12315, 差评, 骗子 …). Others only
when they accuse a purchase of the customer's own: "我买的口红是假货" complains, while "是不是假货"
or "上次在别家买到假的" ask whether ours are genuine, which the FAQ answers. The ticket's
priority has its own, wider word list (tickets.COMPLAINT_WORDS: 退款 and 过敏 make an agent
hurry without being complaints).
"""

from __future__ import annotations

import re

from core.text import normalize, simplified

_ALWAYS = re.compile(r"投诉|举报|12315|差评|维权|曝光|起诉|律师|工商局?|消协|消费者协会"
                     r"|欺诈|骗子|骗人|被骗|骗钱|黑店|坑人|坑钱")
_FAKE = re.compile(r"假货|假的|山寨|高仿|仿品|冒牌|不是正品|不是真的")
_MINE = re.compile(r"我(?:买|拍|收到|订)的|(?:买|收)到的?(?:是|竟然|居然)|收到(?:的|了)?假"
                   r"|寄来的|发来的|发给我的|你们(?:卖|发|寄)(?:的|了)?假|卖假")
_ELSEWHERE = re.compile(r"别家|别人家|其他家|别的店|别处|网上")
#: Said as a fact, not asked or feared: "口红是假货" (not "是不是假货", "别是假的", "怕是假的").
_STATED = re.compile(r"(?<![不别会怕心])是(?:假货|假的|高仿|山寨货?|冒牌货?)$")


def is_complaint(text: str) -> bool:
    """A complaint about the shop or an order (see the module docstring)."""
    said = simplified(normalize(text))
    if _ALWAYS.search(said):
        return True
    if _ELSEWHERE.search(said):
        return False
    return bool(_STATED.search(said) or (_FAKE.search(said) and _MINE.search(said)))
