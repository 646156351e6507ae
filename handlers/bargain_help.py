"""A friend's cut in the chat, wherever it comes from: a scan of the launch's QR code (a
follow with `qrscene_bargain:<id>`, or SCAN when already following) or a typed code.

Shared by handlers/subscribe.py (the follow and the scan) and handlers/bargain.py (codes), so
both answer a helper the same way. The rules are in promotions/bargain_ledger.py.
"""

from __future__ import annotations

import hashlib

from bot.inbound import Inbound
from core.money import yuan
from handlers.context import ChatContext
from promotions import bargain_ledger
from promotions.bargain_ledger import HelpOutcome
from promotions.bargains import BargainRefused, launch_from_scene

#: Offered to a helper who might want one too: a plain pointer, no reward for sharing.
YOURS_TOO = "想要同款？回复「砍价」看看正在进行的活动。"


def is_bargain_scene(msg: Inbound) -> bool:
    return launch_from_scene(msg.scene) is not None


def help_from_scene(msg: Inbound, ctx: ChatContext) -> str | None:
    """The answer to a scan of a launch's QR code, or None when the scene is not one."""
    launch_id = launch_from_scene(msg.scene)
    if launch_id is None:
        return None
    return help_reply(msg, ctx, launch_id, source="scan")


def help_reply(msg: Inbound, ctx: ChatContext, ref: int | str, *, source: str) -> str:
    """Cut once and say what the cut did (or why nothing happened)."""
    key = "wx:" + hashlib.sha1(msg.dedup_id.encode()).hexdigest()
    try:
        outcome = bargain_ledger.help_cut(ctx.storage, ref, msg.openid, source=source, key=key,
                                          now=ctx.now())
    except BargainRefused as refusal:
        if refusal.code == "self":
            return "这是你自己发起的砍价。回复「我的砍价」查看进度。"
        if refusal.code == "unknown" and source == "scan":
            return "这个砍价二维码已经失效了。回复「砍价」看看正在进行的活动。"
        return refusal.message
    return outcome_text(outcome)


def outcome_text(outcome: HelpOutcome) -> str:
    if outcome.state == "held":
        return "已收到你的帮砍，需要审核后才会计入，请稍候。"
    if outcome.completed:
        return (f"你这一刀砍掉了 {yuan(outcome.amount_fen)}，正好砍到底价 "
                f"{yuan(outcome.floor_fen)}！「{outcome.product}」谢谢你的帮忙。\n{YOURS_TOO}")
    head = "你已经帮砍过了：" if outcome.repeated else "帮砍成功！"
    if outcome.left_fen <= 0:
        return f"{head}你砍掉了 {yuan(outcome.amount_fen)}，已经砍到底价了。\n{YOURS_TOO}"
    return (f"{head}你砍掉了 {yuan(outcome.amount_fen)}。「{outcome.product}」现价 "
            f"{yuan(outcome.price_fen)}，离底价 {yuan(outcome.floor_fen)} 还差 "
            f"{yuan(outcome.left_fen)}，还需 {outcome.helpers_left} 位好友。\n{YOURS_TOO}")
