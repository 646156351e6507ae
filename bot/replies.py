"""What a handler may return, and the one place it becomes XML (or a customer-service message).

A handler returns a `str`, a `Reply` or None. `coerce` and `render` enforce WeChat's rules in one
spot: a passive news reply carries exactly one article, and user text echoed back can never
close its CDATA section early (wechatpy 1.8.18 does not escape `]]>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SUCCESS = b"success"  # WeChat's "received, no reply"


@dataclass(frozen=True, slots=True)
class Reply:
    """Base class of passive replies."""

    msg_type = ""

    def body(self) -> str:
        raise NotImplementedError

    def as_custom_message(self) -> dict[str, Any]:
        """The same content as a customer-service API payload (without `touser`)."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TextReply(Reply):
    content: str
    msg_type = "text"

    def body(self) -> str:
        return f"<Content>{cdata(self.content)}</Content>"

    def as_custom_message(self) -> dict[str, Any]:
        return {"msgtype": "text", "text": {"content": self.content}}


@dataclass(frozen=True, slots=True)
class NewsReply(Reply):
    """One article card: WeChat shows only one in a passive reply, so we never send more."""

    title: str
    description: str = ""
    url: str = ""
    picurl: str = ""
    msg_type = "news"

    def body(self) -> str:
        return (
            "<ArticleCount>1</ArticleCount><Articles><item>"
            f"<Title>{cdata(self.title)}</Title><Description>{cdata(self.description)}</Description>"
            f"<PicUrl>{cdata(self.picurl)}</PicUrl><Url>{cdata(self.url)}</Url>"
            "</item></Articles>"
        )

    def as_custom_message(self) -> dict[str, Any]:
        article = {
            "title": self.title,
            "description": self.description,
            "url": self.url,
            "picurl": self.picurl,
        }
        return {"msgtype": "news", "news": {"articles": [article]}}


@dataclass(frozen=True, slots=True)
class ImageReply(Reply):
    media_id: str
    msg_type = "image"

    def body(self) -> str:
        return f"<Image><MediaId>{cdata(self.media_id)}</MediaId></Image>"

    def as_custom_message(self) -> dict[str, Any]:
        return {"msgtype": "image", "image": {"media_id": self.media_id}}


@dataclass(frozen=True, slots=True)
class TransferReply(Reply):
    """Hand the conversation to WeChat's 多客服 agents."""

    kf_account: str = ""
    msg_type = "transfer_customer_service"

    def body(self) -> str:
        if not self.kf_account:
            return ""
        return f"<TransInfo><KfAccount>{cdata(self.kf_account)}</KfAccount></TransInfo>"

    def as_custom_message(self) -> dict[str, Any]:
        return {"msgtype": "text", "text": {"content": "正在为您转接人工客服，请稍候。"}}


def cdata(text: str) -> str:
    """A CDATA section holding `text` verbatim, even when it contains `]]>`."""
    return "<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def coerce(result: Reply | str | None) -> Reply | None:
    """The one reply coercion: str → TextReply, empty → no reply."""
    if result is None or isinstance(result, Reply):
        return result
    if isinstance(result, str):
        return TextReply(result) if result.strip() else None
    raise TypeError(f"a handler returned {type(result).__name__}, expected str, Reply or None")


def render(reply: Reply, *, to_user: str, from_user: str, create_time: int) -> str:
    """The passive-reply XML for one reply (plaintext; safe mode encrypts it afterwards)."""
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime>"
        f"<MsgType>{cdata(reply.msg_type)}</MsgType>{reply.body()}</xml>"
    )
