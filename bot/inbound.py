"""Turn the XML WeChat posts into one typed `Inbound` value; handlers never see XML.

The body is untrusted: defusedxml refuses DTDs and entities (XXE, billion laughs) before any
expansion happens, the webhook has already capped its size, and nesting deeper than
`MAX_DEPTH` stops the parser at the first element too deep, so nothing below ever walks an
attacker's tree of unbounded depth (500 levels once cost a 500 and a 3,000-line traceback).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from bot.errors import ProtocolError

#: Elements that hold repeated children WeChat sends as one item or many.
_LIST_CONTAINERS = {"PicList", "ResultList", "ArticleDetail"}
_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
#: Deepest element allowed, <xml> being 1. WeChat's deepest, a photo event's
#: <xml><SendPicsInfo><PicList><item><PicMd5Sum>, is 5.
MAX_DEPTH = 8


def parse_xml_fields(body: bytes) -> dict[str, Any]:
    """Parse `<xml>…</xml>` into a dict of its children; raise ProtocolError on anything else."""
    parser = DefusedXMLParser(
        target=_DepthCappedBuilder(MAX_DEPTH),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(body)
        root = parser.close()
    except DefusedXmlException:
        raise ProtocolError("XML with a DTD or entities is refused") from None
    except (ParseError, ValueError, UnicodeError):
        raise ProtocolError("body is not well-formed XML") from None
    if root.tag != "xml":
        raise ProtocolError(f"root element is <{root.tag[:20]}>, not <xml>")
    return _fields(root)


class _DepthCappedBuilder(TreeBuilder):
    """ElementTree's tree builder, refusing the first element deeper than `limit`.

    Counting in the parser's start/end callbacks stops a deep body while it is read, before
    any tree exists, with no recursion of ours.
    """

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit
        self.depth = 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        self.depth += 1
        if self.depth > self.limit:
            raise ProtocolError(f"XML nests deeper than {self.limit} levels")
        return super().start(tag, attrs)

    def end(self, tag: str) -> Element:
        self.depth -= 1
        return super().end(tag)


def _fields(root: Element) -> dict[str, Any]:
    """The root's children as a dict, built bottom-up in a loop rather than by recursion.

    `iter()` lists elements parent first, so walking it backwards meets every element after
    all of its children, whose values are then ready.
    """
    values: dict[int, Any] = {}
    for element in reversed(list(root.iter())):
        if element is not root:
            values[id(element)] = _value(element, [values.pop(id(c)) for c in element])
    return _merge(root, [values.pop(id(c)) for c in root])


def _value(element: Element, children: list[Any]) -> Any:
    """A leaf's text, a list container's items, or a dict of named children."""
    if not children:
        return element.text or ""
    if element.tag in _LIST_CONTAINERS:
        return children
    return _merge(element, children)


def _merge(element: Element, children: list[Any]) -> dict[str, Any]:
    """Children by tag; a repeated tag (two <List> in a popup event) becomes a list."""
    fields: dict[str, Any] = {}
    for child, value in zip(element, children, strict=True):
        if child.tag in fields:
            previous = fields[child.tag]
            fields[child.tag] = (
                [*previous, value] if isinstance(previous, list) else [previous, value]
            )
        else:
            fields[child.tag] = value
    return fields


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
