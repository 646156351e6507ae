"""Every message and event WeChat documents parses into an Inbound (tests/fixtures/xml)."""

from __future__ import annotations

from xml.etree import ElementTree

import pytest

from bot.inbound import MAX_DEPTH, parse_inbound, parse_xml_fields
from bot.wechat import ProtocolError
from tests.conftest import SAMPLES

ALL_SAMPLES = sorted(p.name for p in SAMPLES.glob("*.xml"))


def load(name: str):
    return parse_inbound((SAMPLES / name).read_bytes())


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_every_sample_parses(name):
    msg = load(name)
    assert msg.openid and msg.account and msg.create_time > 0
    assert msg.kind == ("event" if name.startswith("event_") else msg.kind)


def test_text_and_its_ids():
    msg = load("msg_text.xml")
    assert (msg.kind, msg.text, msg.msg_id) == ("text", "this is a test", "1234567890123456")
    assert msg.dedup_id == "m:1234567890123456"


def test_doc_placeholder_ids_do_not_choke():
    assert load("msg_text_doc_msgdataid.xml").fields["MsgDataId"] == "xxxx"


def test_multibyte_text_and_qq_faces():
    assert load("msg_text_real_cn.xml").text == "一"
    assert load("msg_text_real_qqface.xml").text.startswith("/::)")


def test_voice_recognition_reads_as_text():
    assert load("msg_voice_recognition_doc.xml").text == "腾讯微信团队"
    assert load("msg_voice.xml").text == ""


def test_location_message():
    msg = load("msg_location.xml")
    assert msg.location == (23.134521, 113.358803)
    assert msg.fields["Label"] == "位置信息"


def test_events_are_deduplicated_by_sender_time_event_and_key():
    msg = load("event_click.xml")
    assert (msg.event, msg.event_key) == ("click", "EVENTKEY")
    assert msg.dedup_id == f"e:{msg.openid}:{msg.create_time}:click:EVENTKEY"


def test_two_menu_clicks_in_one_second_are_two_events():
    first = parse_inbound(_click_xml("MENU_BROWSE"))
    second = parse_inbound(_click_xml("MENU_HELP"))
    assert first.dedup_id != second.dedup_id
    assert parse_inbound(_click_xml("MENU_BROWSE")).dedup_id == first.dedup_id  # a retry


def _click_xml(key: str) -> bytes:
    return (
        "<xml><ToUserName>gh_a</ToUserName><FromUserName>o1</FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType>event</MsgType><Event>CLICK</Event>"
        f"<EventKey>{key}</EventKey></xml>"
    ).encode()


def test_qr_scenes():
    assert load("event_subscribe_qrscene.xml").scene == "123123"
    assert load("event_scan.xml").scene == "SCENE_VALUE"
    assert load("event_subscribe.xml").scene is None
    # Re-following after a payment sends last_trade_no_…: that is not a QR scene.
    assert load("event_subscribe_last_trade_no.xml").scene is None


def test_nested_event_payloads():
    assert load("event_scancode_push.xml").fields["ScanCodeInfo"]["ScanResult"] == "1"
    assert len(load("event_pic_sysphoto_2pics.xml").fields["SendPicsInfo"]["PicList"]) == 2
    assert len(load("event_pic_sysphoto.xml").fields["SendPicsInfo"]["PicList"]) == 1
    select = load("event_location_select.xml")
    assert select.location == (23.0, 113.0)
    assert select.fields["SendLocationInfo"]["Label"] == "广州市海珠区客村艺苑路 106号"


def test_subscribe_msg_popup_lists_one_or_many():
    popup = load("event_subscribe_msg_popup.xml").fields["SubscribeMsgPopupEvent"]["List"]
    assert [item["SubscribeStatusString"] for item in popup] == ["accept", "reject"]
    change = load("event_subscribe_msg_change.xml").fields["SubscribeMsgChangeEvent"]["List"]
    assert change["SubscribeStatusString"] == "reject"


def test_job_finish_events_keep_their_status():
    assert (
        load("event_templatesendjobfinish_user_block.xml").fields["Status"] == "failed:user block"
    )
    mass = load("event_masssendjobfinish.xml")
    assert (mass.event, mass.fields["Status"]) == ("masssendjobfinish", "err(30003)")


def test_cdata_breakout_stays_text():
    msg = parse_inbound((SAMPLES / "adversarial" / "cdata_breakout_in_content.xml").read_bytes())
    assert (msg.kind, msg.text) == ("text", "x]]><MsgType>image</MsgType>")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("billion_laughs.xml", "DTD"),
        ("xxe_external_entity.xml", "DTD"),
        ("missing_msgtype.xml", "MsgType"),
        ("wrong_root.xml", "root"),
    ],
)
def test_adversarial_inputs_are_refused(name, reason):
    with pytest.raises(ProtocolError, match=reason):
        parse_inbound((SAMPLES / "adversarial" / name).read_bytes())


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<xml>",
        b"\xff\xfe",
        b"<xml><a>1</a></xml>",
        b"<xml><CreateTime>soon</CreateTime></xml>",
    ],
)
def test_garbage_is_refused(body):
    with pytest.raises(ProtocolError):
        parse_inbound(body)


def _nested(depth: int) -> bytes:
    """`<xml>` holding `depth` nested elements: depth + 1 levels counting the root."""
    return f"<xml>{'<a>' * depth}x{'</a>' * depth}</xml>".encode()


def test_nesting_up_to_the_cap_parses():
    fields = parse_xml_fields(_nested(MAX_DEPTH - 1))
    for _ in range(MAX_DEPTH - 2):
        fields = fields["a"]
    assert fields == {"a": "x"}


@pytest.mark.parametrize("depth", [MAX_DEPTH, 500, 100_000])
def test_deeper_nesting_is_refused_while_parsing(depth):
    """100 000 levels would overflow any recursion; the parser stops at level MAX_DEPTH + 1."""
    with pytest.raises(ProtocolError, match=f"deeper than {MAX_DEPTH}"):
        parse_xml_fields(_nested(depth))


def test_every_sample_fits_well_under_the_cap():
    deepest = max(_depth(ElementTree.parse(path).getroot()) for path in SAMPLES.glob("*.xml"))
    assert deepest <= MAX_DEPTH - 3


def _depth(root: ElementTree.Element) -> int:
    """Depth of a trusted sample, counted with a stack."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest
