"""Follow, unfollow and QR scans: welcome the customer and remember where they came from."""

from __future__ import annotations

from bot.inbound import Inbound
from bot.router import Router
from handlers.bargain_help import help_from_scene
from handlers.context import ChatContext
from handlers.texts import MENU_TEXT
from promotions import coupon_issuing, coupon_text
from shop import followers

router = Router("subscribe")

WELCOME = "欢迎关注！这里是我们的微商城 🛍\n\n" + MENU_TEXT


@router.event("subscribe")
def welcome(msg: Inbound, ctx: ChatContext) -> str:
    """A new follower gets the welcome and the menu, and the follow gift if the shop has one
    (a re-follow gets it only once); the QR scene that brought them is kept."""
    with ctx.db() as db:
        followers.record_subscribe(db, msg.openid, followers.utc(msg.create_time), msg.scene)
        gift = coupon_text.gift_text(coupon_issuing.issue_on(db, msg.openid, "follow", ctx.now()))
    helped = help_from_scene(msg, ctx)  # followed by scanning a bargain's QR code
    if not gift:
        return f"{helped}\n\n{WELCOME}" if helped else WELCOME
    welcome = (f"欢迎关注！这里是我们的微商城 🛍\n\n送你新人礼券，已放入「我的优惠券」：\n{gift}\n"
               f"下单时自动选用最划算的一张。\n\n{MENU_TEXT}")
    return f"{helped}\n\n{welcome}" if helped else welcome


@router.event("unsubscribe")
def goodbye(msg: Inbound, ctx: ChatContext) -> None:
    """WeChat shows no reply to an unfollow; we only stop counting them as a follower."""
    with ctx.db() as db:
        followers.record_unsubscribe(db, msg.openid, followers.utc(msg.create_time))


@router.event("scan")
def welcome_back(msg: Inbound, ctx: ChatContext) -> str:
    """A follower scanned one of our QR codes: a bargain's is a cut; any other, a welcome."""
    return help_from_scene(msg, ctx) or "欢迎回来！\n\n" + MENU_TEXT
