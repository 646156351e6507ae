"""Small talk: 在吗, 谢谢, 好的, 再见, an emoji. A person answers these in a few words; a product
search ("没有找到「谢谢」相关的商品") and the whole menu read as a machine that did not listen.

Only a message that is small talk and nothing else counts: "在吗 我前天买的红薯发了吗" is a
question and goes on to the FAQ. What else the customer can do is one tap away (帮助), so the
answers stay short.
"""

from __future__ import annotations

import re
import unicodedata

from core.text import normalize

_OPENING = r"(?:亲|亲亲|你好|您好|哈喽|嗨|hello|hi|老板|客服|掌柜的?)?[,，\s]*"
_GREETING = re.compile(_OPENING + r"(?:在吗|在么|在嘛|在不在|在没|有人吗|有人在吗|在线吗|还在吗)$")
_THANKS = re.compile(r"(?:好的|好|嗯+|ok|收到)?[,，\s]*(?:谢谢|谢啦|谢了|多谢|感谢|thanks|thank you"
                     r"|thx|3q)(?:你|您|亲|啦|了|哈|哦|呀)*(?:[,，\s]*(?:辛苦了|麻烦了))?$")
_ACK = re.compile(r"(?:好的?|好滴|好嘞|好吧|嗯+|哦+|噢+|ok|okay|收到|知道了|明白了?|了解|行)"
                  r"(?:的|啦|了|哈|呀)*$")
_BYE = re.compile(r"(?:再见|拜拜|bye|byebye|88|晚安)(?:啦|了|哈|呀)*$")
#: WeChat's own emoji arrive as codes: "/::)" (微笑), "/:rose", "[捂脸]", "[Smile]".
_WECHAT_EMOJI = re.compile(r"(?:/:[^\s/]{1,8}|\[[^\[\]\s]{1,8}\])+")

GREETING_REPLY = "在的～请问有什么可以帮您？想买什么直接发商品名就好，回复「帮助」看看我能做什么。"
THANKS_REPLY = "不客气～还有需要随时找我。"
ACK_REPLY = "好的～还有需要随时告诉我。"
BYE_REPLY = "再见～欢迎随时回来逛逛！"
EMOJI_REPLY = "😊 有什么需要随时告诉我哦～"


def is_emoji(text: str) -> bool:
    """Only emoji (Unicode pictographs or WeChat's codes), maybe with punctuation."""
    text = "".join(text.split())
    if not text:
        return False
    if _WECHAT_EMOJI.fullmatch(text):
        return True
    categories = [unicodedata.category(ch) for ch in text]
    pictures = sum(c == "So" for c in categories)
    # Sk: skin tones; Mn/Cf: variation selectors and the joiner of composed emoji; Sm and P:
    # the ~ and ! typed after them
    return pictures > 0 and all(c in ("So", "Sk", "Sm", "Mn", "Cf") or c.startswith("P")
                                for c in categories)


def reply(text: str) -> str | None:
    """The short answer to small talk, or None when `text` says something more."""
    if is_emoji(text):
        return EMOJI_REPLY
    said = normalize(text).rstrip("~～。.!！ ")
    for pattern, answer in ((_GREETING, GREETING_REPLY), (_THANKS, THANKS_REPLY),
                            (_BYE, BYE_REPLY), (_ACK, ACK_REPLY)):
        if said and pattern.fullmatch(said):
            return answer
    return None
