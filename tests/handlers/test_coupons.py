"""Coupons in the chat, as the customer sees them: 我的优惠券, 领券 <code>, the follow gift."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.inbound import parse_xml_fields
from devtools.wechat_user import message_xml
from handlers.subscribe import WELCOME
from promotions import coupon_batches, coupons
from promotions.coupon_batches import BatchTerms
from promotions.coupons import Coupon


def text(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


def make_batch(storage, **overrides) -> int:
    terms = {"name": "会员日满减", "kind": "threshold", "threshold_fen": 19900, "off_fen": 2000,
             "valid_days": 7, **overrides}
    with storage.sessions.begin() as db:
        return coupon_batches.create_batch(db, BatchTerms(**terms), datetime.now(UTC)).id


def held(storage) -> int:
    with storage.sessions() as db:
        return db.scalar(select(func.count()).select_from(Coupon))


def test_no_coupons_yet_says_how_to_claim_one(wechat):
    assert text(wechat.say("我的优惠券")) == "你还没有优惠券。\n有券码的话，回复「领券 券码」领取。"


def test_a_code_claimed_shows_in_my_coupons(wechat, storage):
    make_batch(storage, code="VIP88")
    claimed = text(wechat.say("领券 vip88"))
    assert claimed.startswith("领取成功！\n· 满199减20（有效期至")
    mine = text(wechat.say("优惠券"))
    assert mine.startswith("我的优惠券（可用 1 张）：\n1. 会员日满减：满199减20（有效期至")
    assert text(wechat.reply(wechat.user.click("MENU_COUPONS"))) == mine


def test_an_expired_coupon_shows_as_expired(wechat, storage):
    batch_id = make_batch(storage, name="昨天的券")
    with storage.sessions.begin() as db:
        coupons.issue(db, batch_id, wechat.user.openid, datetime.now(UTC) - timedelta(days=10),
                      source="test")
    assert text(wechat.say("我的优惠券")) == (
        "你暂时没有可用的优惠券。\n\n最近使用或过期：\n· 昨天的券：满199减20 已过期\n"
        "有券码的话，回复「领券 券码」领取。")


@pytest.mark.parametrize(("typed", "answer"), [
    ("领券", "请在「领券」后面加上券码，例如：领券 VIP88"),
    ("领券 NOSUCH", "券码不存在，请核对后重新发送。"),
    ("兑换 " + "A" * 60, "券码不存在，请核对后重新发送。"),
    ("领券 <script>", "券码不存在，请核对后重新发送。"),
])
def test_bad_codes_are_explained_and_change_nothing(wechat, storage, typed, answer):
    make_batch(storage, code="VIP88")
    assert text(wechat.say(typed)) == answer
    assert held(storage) == 0


def test_a_code_claimed_twice_or_used_up_is_refused(wechat, storage, client):
    from tests.conftest import WeChat

    make_batch(storage, code="ONLY1", total_limit=1)
    assert text(wechat.say("兑换：only1")).startswith("领取成功！")
    assert text(wechat.say("领券 ONLY1")) == "每人限领1张，你已经领过了。"
    other = WeChat(client)
    other.user.openid = "o-another-customer"
    assert text(other.say("领券 only1")) == "该优惠券已经被领完了。"
    assert held(storage) == 1


def test_a_follow_gift_is_in_the_welcome_once(wechat, storage):
    make_batch(storage, name="新人满减", trigger="follow", bundle="新人礼")
    make_batch(storage, name="新人无门槛", kind="flat", off_fen=500, threshold_fen=0,
               trigger="follow", bundle="新人礼")
    welcome = text(wechat.reply(wechat.user.subscribe()))
    assert welcome.startswith("欢迎关注！这里是我们的微商城 🛍\n\n"
                              "送你新人礼券，已放入「我的优惠券」：\n· 满199减20（有效期至")
    assert "· 无门槛减5元（有效期至" in welcome and welcome.endswith(WELCOME.split("\n\n")[1])
    wechat.reply(wechat.user.unsubscribe())
    refollow = message_xml(wechat.user.openid, wechat.user.account, "event",
                           {"Event": "subscribe"}, create_time=int(time.time()) + 60)
    assert text(wechat.reply(refollow)) == WELCOME  # a re-follow: no second gift
    assert held(storage) == 2


def test_without_a_follow_gift_the_welcome_is_unchanged(wechat, storage):
    make_batch(storage, code="VIP88")  # not a follow gift
    assert text(wechat.reply(wechat.user.subscribe())) == WELCOME
    assert held(storage) == 0


def test_every_claim_wording_takes_the_code_and_other_兑换_questions_pass(app, wechat):
    with app.extensions["storage"].sessions.begin() as db:
        coupon_batches.create_batch(db, BatchTerms(name="会员日", kind="flat", off_fen=500,
                                            valid_days=7, code="VIP88", per_customer=3),
                             datetime.now(UTC))
    for typed in ("兑换码 vip88", "兑换券：VIP88", "领取优惠券 VIP88"):
        assert text(wechat.say(typed)).startswith("领取成功！"), typed
    assert "券码" not in text(wechat.say("兑换积分怎么弄"))
