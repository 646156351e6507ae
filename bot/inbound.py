"""Turn the XML WeChat posts into one typed `Inbound` value; handlers never see XML.

The body is untrusted: defusedxml refuses DTDs and entities (XXE, billion laughs) before any
expansion happens, and the webhook has already capped its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from bot.errors import ProtocolError

#: Elements that hold repeated children WeChat sends as one item or many.
_LIST_CONTAINERS = {"PicList", "ResultList", "ArticleDetail"}
_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


def parse_xml_fields(body: bytes) -> dict[str, Any]:
    """Parse `<xml>…</xml>` into a dict of its children; raise ProtocolError on anything else."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ProtocolError("XML with a DTD or entities is refused") from None
    except (ParseError, ValueError, UnicodeError):
        raise ProtocolError("body is not well-formed XML") from None
    if root.tag != "xml":
        raise ProtocolError(f"root element is <{root.tag[:20]}>, not <xml>")
    return _children(root)


def _children(element: Element) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for child in element:
        value = _value(child)
        if child.tag in fields:  # repeated element, e.g. two <List> in a popup event
            previous = fields[child.tag]
            fields[child.tag] = (
                [*previous, value] if isinstance(previous, list) else [previous, value]
            )
        else:
            fields[child.tag] = value
    return fields


def _value(element: Element) -> Any:
    if len(element) == 0:
        return element.text or ""
    if element.tag in _LIST_CONTAINERS:
        return [_value(child) for child in element]
    return _children(element)


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message or event from one customer, as handlers see it."""

    openid: str
    account: str
    kind: str  # MsgType: text, image, voice, video, shortvideo, location, link, file, event…
    create_time: int
    event: str = ""  # lower-cased Event for kind == "event": subscribe, scan, click, view…
    event_key: str = ""
    msg_id: str = ""
    text: str = ""  # Content, or a voice message's Recognition
    fields: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def dedup_id(self) -> str:
        """What makes a delivery unique: MsgId for messages, sender+time+event+key for events.

        WeChat's own advice for events is sender + CreateTime, but a customer can tap two
        menu buttons within one second; a retry repeats the EventKey, so it is added.
        """
        if self.kind != "event" and self.msg_id:
            return f"m:{self.msg_id}"
        return f"e:{self.openid}:{self.create_time}:{self.event or self.kind}:{self.event_key}"

    @property
    def scene(self) -> str | None:
        """The parametric QR scene behind a follow or a scan, if any."""
        if self.event == "subscribe" and self.event_key.startswith("qrscene_"):
            return self.event_key[len("qrscene_") :]
        if self.event == "scan":
            return self.event_key
        return None

    @property
    def location(self) -> tuple[float, float] | None:
        """(latitude, longitude) of a location message, LOCATION or location_select event."""
        source = self.fields.get("SendLocationInfo") or self.fields
        try:
            if "Location_X" in source:
                return float(source["Location_X"]), float(source["Location_Y"])
            if "Latitude" in source:
                return float(source["Latitude"]), float(source["Longitude"])
        except (TypeError, ValueError):
            return None
        return None


def parse_inbound(body: bytes) -> Inbound:
    """Parse a decrypted body into an Inbound; raise ProtocolError if it is not a message."""
    fields = parse_xml_fields(body)
    missing = [
        name for name in _REQUIRED if not isinstance(fields.get(name), str) or not fields[name]
    ]
    if missing:
        raise ProtocolError(f"message lacks {', '.join(missing)}")
    try:
        create_time = int(fields["CreateTime"])
    except ValueError:
        raise ProtocolError("CreateTime is not a number") from None
    kind = fields["MsgType"].strip().lower()
    text = fields.get("Content") or fields.get("Recognition") or ""
    return Inbound(
        openid=fields["FromUserName"],
        account=fields["ToUserName"],
        kind=kind,
        create_time=create_time,
        event=str(fields.get("Event", "")).strip().lower() if kind == "event" else "",
        event_key=_text(fields.get("EventKey")),
        msg_id=_text(fields.get("MsgId") or fields.get("MsgID")),
        text=text if isinstance(text, str) else "",
        fields=fields,
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
