"""砍价 in the chat, as the starter and three friends see it: the campaigns, the invitation,
a cut by code, by a follow through the QR code and by a scan, then ordering at the floor."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from sqlalchemy import select

from bot.inbound import parse_xml_fields
from content_audit.rulestore import LiveRules
from handlers.context import ChatContext
from handlers.texts import MENU_TEXT
from promotions.bargains import BargainHelp, BargainLaunch
from shop.followers import Follower
from shop.orders import Order
from tests.conftest import WeChat
from tests.promotions.bargain_helpers import NOW, known_follower, make_campaign, make_sku

ADDRESS = "张三 13800138000 浙江省杭州市西湖区文三路100号"
#: Wording WeChat treats as induced sharing or forced following.
INDUCING = ("分享", "转发", "朋友圈", "群", "关注后", "关注才", "先关注", "邀请好友")


def text(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


@pytest.fixture()
def clock(monkeypatch):
    now = {"at": NOW}
    monkeypatch.setattr(ChatContext, "now", lambda self: now["at"])
    return now


@pytest.fixture()
def campaign(app, clock):
    sessions = app.extensions["storage"].sessions
    return make_campaign(sessions, make_sku(sessions))


def person(client, openid: str) -> WeChat:
    someone = WeChat(client)
    someone.user.openid = openid
    return someone


def launch_of(app, openid: str) -> BargainLaunch:
    with app.extensions["storage"].sessions() as db:
        found = db.scalar(select(BargainLaunch).where(BargainLaunch.openid == openid))
        db.expunge(found)
        return found


def test_starter_and_three_friends_from_launch_to_order(app, client, campaign, clock):
    starter = person(client, "o-starter")
    listed = text(starter.reply(starter.user.click("MENU_BARGAIN")))
    assert "3人帮砍，1元带走" in listed and "原价 ¥39.90，砍到 ¥1" in listed
    invitation = text(starter.say("发起砍价"))
    launch = launch_of(app, "o-starter")
    assert f"砍价码：{launch.code}" in invitation
    assert f"/b/{launch.code}" in invitation and "不需要关注公众号" in invitation
    assert "还差 ¥38.90，还需 3 位好友帮砍" in invitation
    assert not any(word in invitation for word in INDUCING)
    cuts = launch.cuts()

    by_code = text(person(client, "o-friend-1").say(f"帮砍 {launch.code}"))
    left = 3890 - cuts[0]
    assert by_code.startswith(f"帮砍成功！你砍掉了 ¥{cuts[0] / 100:.2f}".replace(".00", ""))
    assert "还需 2 位好友" in by_code

    follows = person(client, "o-friend-2")
    welcomed = text(follows.reply(follows.user.subscribe(f"bargain:{launch.id}")))
    assert "帮砍成功" in welcomed and "欢迎关注" in welcomed
    with app.extensions["storage"].sessions() as db:
        assert db.get(Follower, "o-friend-2").source_scene == f"bargain:{launch.id}"

    known_follower(app.extensions["storage"].sessions, "o-friend-3")
    scans = person(client, "o-friend-3")
    last = text(scans.reply(scans.user.scan(f"bargain:{launch.id}")))
    assert "正好砍到底价 ¥1" in last

    mine = text(starter.say("我的砍价"))
    assert "已砍到底价 ¥1" in mine and mine.count("第") >= 3
    assert text(starter.say("砍价下单")).endswith("请发送收货信息：姓名 手机号 详细地址")
    read_back = text(starter.say(ADDRESS))
    assert "砍价价 ¥1" in read_back and "应付：¥1" in read_back
    placed = text(starter.say("确认"))
    assert placed.startswith("下单成功！") and "应付 ¥1。" in placed
    with app.extensions["storage"].sessions() as db:
        order = db.scalar(select(Order).where(Order.openid == "o-starter"))
        assert order.total_fen == 100 and order.state == "pending_payment"
    assert left == 3890 - cuts[0]


def test_bad_codes_self_help_second_help_and_finished_launches(app, client, campaign):
    starter = person(client, "o-starter")
    starter.say("发起砍价")
    code = launch_of(app, "o-starter").code
    assert "没有找到这个砍价码" in text(person(client, "o-x").say("帮砍 ZZZZ22"))
    assert "砍价码是6位字母和数字" in text(person(client, "o-x").say("帮砍 AB"))
    assert "你自己发起的砍价" in text(starter.say(f"帮砍 {code}"))
    friend = person(client, "o-friend")
    friend.say(code)  # the code alone works too
    assert "每人只能砍一次" in text(friend.say(f"帮砍 {code}"))
    person(client, "o-b").say(code)
    person(client, "o-c").say(code)
    assert "已经砍到底价了" in text(person(client, "o-d").say(code))
    with app.extensions["storage"].sessions() as db:
        helps = db.scalars(select(BargainHelp.openid).where(BargainHelp.state == "counted"))
        assert sorted(helps) == ["o-b", "o-c", "o-friend"]
    # a six-letter word is not taken for a code
    assert "砍价码" not in text(person(client, "o-e").say("THANKS"))


def test_no_campaign_and_the_help_text_no_longer_invites(app, client, clock):
    someone = person(client, "o-someone")
    assert "现在没有进行中的砍价活动" in text(someone.reply(someone.user.click("MENU_BARGAIN")))
    assert "邀请好友帮砍" not in MENU_TEXT
    assert not any(word in MENU_TEXT for word in INDUCING)


def test_the_invitation_and_help_copy_pass_the_content_gate(app, client, campaign):
    storage = app.extensions["storage"]
    screener = LiveRules(storage.sessions, storage.redis, background=False).screener()
    starter = person(client, "o-starter")
    invitation = text(starter.say("发起砍价"))
    code = launch_of(app, "o-starter").code
    helped = text(person(client, "o-friend").say(f"帮砍 {code}"))
    for copy in (invitation, helped, MENU_TEXT):
        verdict = screener.screen(copy, "push")
        assert verdict.verdict == "pass", (copy, verdict.flags)


def test_a_command_leaves_the_order_step(app, client, campaign):
    starter = person(client, "o-starter")
    starter.say("发起砍价")
    code = launch_of(app, "o-starter").code
    for n in range(3):
        person(client, f"o-f{n}").say(code)
    starter.say("砍价下单")
    paused = text(starter.say("我的订单"))
    assert "刚才的砍价下单已暂停，回复「继续砍价下单」接着来" in paused
    assert "请发送收货信息" in text(starter.say("继续砍价下单"))
    assert "砍价价 ¥1" in text(starter.say(ADDRESS))


def test_punctuation_voice_and_full_width_text_still_work(app, client, campaign):
    starter = person(client, "o-starter")
    assert "砍价已发起" in text(starter.say("发起砍价！"))
    code = launch_of(app, "o-starter").code
    wide = "".join(chr(ord(c) + 0xFEE0) for c in code)  # 全角 letters and digits
    assert text(person(client, "o-a").say(f"帮砍 {code}。")).startswith("帮砍成功")
    assert text(person(client, "o-b").say(f"帮砍 {wide}")).startswith("帮砍成功")
    assert "砍" in text(person(client, "o-c").say(f"{code.lower()}!"))
    assert "例如「帮砍 K7M3Q2」" in text(person(client, "o-d").say("帮砍"))


def test_cancel_order_leaves_the_bargain_purchase(app, client, campaign):
    starter = person(client, "o-starter")
    starter.say("发起砍价")
    code = launch_of(app, "o-starter").code
    for n in range(3):
        person(client, f"o-f{n}").say(code)
    starter.say("砍价下单")
    assert "没有下单" in text(starter.say("取消订单"))
    assert "请发送收货信息" in text(starter.say("砍价下单"))


def sent_images(sandbox: str, openid: str, seconds: float = 5.0) -> list[dict]:
    """The image customer-service messages the sandbox delivered to `openid` (the outbox
    sends on its own threads, after the reply: poll until one arrives)."""
    deadline = time.monotonic() + seconds
    while True:
        sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": openid},
                            timeout=5).json()["messages"]
        images = [m for m in sent if m["api"] == "custom/send" and m["msgtype"] == "image"]
        if images or time.monotonic() > deadline:
            return images
        time.sleep(0.05)


def test_the_invitation_is_followed_by_the_qr_code_as_an_image(app, client, campaign, sandbox):
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": "o-starter", "kind": "message"},
                  timeout=5)  # the customer spoke: the customer-service window is open
    invitation = text(person(client, "o-starter").say("发起砍价"))
    launch = launch_of(app, "o-starter")
    assert launch.qr_url
    assert f"砍价码：{launch.code}" in invitation and f"/b/{launch.code}" in invitation
    [image] = sent_images(sandbox, "o-starter")
    # The sandbox delivers an image only when its media_id names a live upload (else 40007).
    assert image["body"]["image"]["media_id"]
    calls = requests.get(f"{sandbox}/sandbox/stats", timeout=5).json()["calls"]
    assert calls["/cgi-bin/media/upload"] == 1
    # Shown again (发起砍价 while it runs): the same picture, no second upload in the reply.
    assert "你已经发起过这个砍价" in text(person(client, "o-starter").say("发起砍价"))
    deadline = time.monotonic() + 5
    while len(sent_images(sandbox, "o-starter")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    images = sent_images(sandbox, "o-starter")
    assert len(images) == 2 and images[1]["body"]["image"]["media_id"] == image["body"][
        "image"]["media_id"]
    calls = requests.get(f"{sandbox}/sandbox/stats", timeout=5).json()["calls"]
    assert calls["/cgi-bin/media/upload"] == 1


def test_without_a_qr_code_the_invitation_goes_alone(app, client, campaign, sandbox, caplog):
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": "o-starter", "kind": "message"},
                  timeout=5)
    requests.post(f"{sandbox}/sandbox/faults", timeout=5,
                  json={"path": "/cgi-bin/media/upload", "errcode": 45009})
    with caplog.at_level(logging.INFO, logger="promotions.bargain_qr"):
        invitation = text(person(client, "o-starter").say("发起砍价"))
    assert f"砍价码：{launch_of(app, 'o-starter').code}" in invitation
    assert "not uploaded: WeChatAPIError 45009" in caplog.text
    assert sent_images(sandbox, "o-starter", seconds=0.3) == []
