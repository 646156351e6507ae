"""砍价 in the chat: the campaigns open now, starting a launch, its invitation, 我的砍价, a
friend's code, and buying at the bargained price (砍价下单: address → read-back → payment).

The invitation gives three ways in — the launch's QR code (on its page), its short code, and
its page link — and asks nobody to share to Moments or groups, nor to follow the account: a
friend may cut on the page without following (WeChat's rules on induced sharing). Its words
pass the content gate before they go. The rules live in promotions/bargain_*.py.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy.exc import OperationalError

from bot.inbound import Inbound
from bot.replies import ImageReply
from bot.router import Router
from core.clock import shanghai_text
from core.money import yuan
from core.text import normalize
from handlers import commands
from handlers.address_steps import TEXTUAL, gather_address
from handlers.bargain_help import help_reply
from handlers.context import ChatContext
from handlers.payment_links import open_payment, order_link
from promotions import bargain_copy, bargain_ledger, bargain_orders, bargain_qr
from promotions.bargains import (
    CODE_PATTERN,
    BargainLaunch,
    BargainRefused,
    looks_like_code,
    normal_code,
)
from shop import addresses, checkout

router = Router("bargain")

SHOW = ("砍价", "砍价活动", "我要砍价", "看看砍价", "有什么砍价")
MINE = commands.MY_BARGAINS
# Matched on core.text.normalize(text) (half-width, lower case, no trailing punctuation), as
# the router matches: 「发起砍价！」 and a voice message's 「帮砍 K7M3Q2。」 both come through.
START = re.compile(r"^发起砍价\s*第?(\d{1,2})?\s*(?:个)?$")
HELP = re.compile(r"^(?:帮砍|砍一刀|帮忙砍|砍价码|帮ta砍|帮他砍|帮她砍)\s*[:：]?\s*"
                  r"([a-z0-9 ]{0,12})$")
BUY = ("砍价下单", "按底价下单", "砍价购买", "砍价买")
FLOW = "bargain:*"
SHOWN = "bargain_campaigns"  # conversation data: the campaign ids last listed, for 发起砍价 N


@router.state(FLOW, kinds=TEXTUAL)
def continue_buying(msg: Inbound, ctx: ChatContext) -> str:
    """Ordering a launch: the address, then the read-back."""
    text = msg.text.strip()
    if text in checkout.CANCEL or commands.is_cancel_order(msg):
        ctx.conversation.clear()
        return "好的，没有下单。砍价在过期前都可以回复「砍价下单」再下单。"
    step = ctx.conversation.get_state()
    if step == "bargain:reuse" and text in checkout.YES:
        data = ctx.conversation.get_data()
        return _read_back(ctx, addresses.from_dict(data.get("address")))
    if step in ("bargain:reuse", "bargain:address"):
        address, question = gather_address(ctx, msg, "bargain:address")
        if question:
            return question
        return _read_back(ctx, address)
    if step == "bargain:confirm":
        if text in checkout.YES or text == "确认下单":
            return _place(ctx, msg.openid)
        return "回复「确认」按砍价下单，或回复「取消」放弃。"
    ctx.conversation.clear()
    return "这一步已过期，请重新回复「砍价下单」。"


@router.click("MENU_BARGAIN")
@router.text(*SHOW)
def show_campaigns(msg: Inbound, ctx: ChatContext) -> str:
    """The campaigns open now, and the customer's own launches still going."""
    now = ctx.now()
    with ctx.db() as db:
        campaigns = bargain_ledger.open_campaigns(db, now)
        mine = bargain_ledger.live_launches(db, msg.openid, now)
        lines = [_campaign_line(db, number, campaign)
                 for number, campaign in enumerate(campaigns, 1)]
        yours = [_status_line(db, launch) for launch in mine]
    ctx.conversation.update_data(**{SHOWN: [campaign.id for campaign in campaigns]})
    parts = []
    if yours:
        parts.append("你的砍价：\n" + "\n".join(yours) + "\n回复「我的砍价」看明细。")
    if not lines:
        parts.append("现在没有进行中的砍价活动，敬请期待。回复「逛逛」看看其他商品。")
    else:
        start = "回复「发起砍价」开始" if len(lines) == 1 else "回复「发起砍价 序号」开始"
        parts.append("正在进行的砍价：\n" + "\n".join(lines) + f"\n{start}。")
    return "\n\n".join(parts)


def _campaign_line(db, number: int, campaign) -> str:
    product = bargain_ledger.product_name(db, campaign)
    price = campaign.sku.price_fen if campaign.sku else 0
    full = "（名额已满）" if campaign.sold_out else ""
    return (f"{number}. {campaign.title}{full}：{product}，原价 {yuan(price)}，砍到 "
            f"{yuan(campaign.floor_fen)}，需 {campaign.helpers_needed} 位好友帮砍，"
            f"发起后 {campaign.hours_per_launch} 小时内有效（活动 "
            f"{shanghai_text(campaign.ends_at, '%m-%d %H:%M')} 结束）。")


def _status_line(db, launch: BargainLaunch) -> str:
    product = bargain_ledger.product_name(db, launch.campaign)
    if launch.state == "ordered":
        return f"「{product}」已下单（{yuan(launch.price_fen)}）。"
    if launch.state == "completed":
        return (f"「{product}」已砍到底价 {yuan(launch.floor_fen)}，回复「砍价下单」下单，"
                f"{shanghai_text(launch.expires_at, '%m-%d %H:%M')} 前有效。")
    return (f"「{product}」现价 {yuan(launch.price_fen)}，还差 {yuan(launch.left_fen)}，"
            f"还需 {launch.helpers_left} 位好友，砍价码 {launch.code}。")


@router.regex(START.pattern)
def start_launch(msg: Inbound, ctx: ChatContext) -> str:
    """发起砍价 [N]: start (or show again) the customer's launch, with its invitation."""
    number = START.match(normalize(msg.text)).group(1)
    now = ctx.now()
    shown = ctx.conversation.get_data().get(SHOWN)
    with ctx.db() as db:
        ids = shown or [campaign.id for campaign in bargain_ledger.open_campaigns(db, now)]
    if not ids:
        return "现在没有进行中的砍价活动。回复「逛逛」看看其他商品。"
    if number is None and len(ids) > 1:
        return f"现在有 {len(ids)} 个砍价活动，请回复「发起砍价 1」到「发起砍价 {len(ids)}」。"
    index = int(number or 1)
    if not 1 <= index <= len(ids):
        return f"请回复「发起砍价 1」到「发起砍价 {len(ids)}」。"
    try:
        started = bargain_ledger.start(ctx.storage, ids[index - 1], msg.openid, now)
    except BargainRefused as refusal:
        return refusal.message
    text = invitation(ctx, started.launch_id, again=not started.new)
    _send_qr_image(ctx, started.launch_id)
    return text


def _send_qr_image(ctx: ChatContext, launch_id: int) -> None:
    """The launch's QR code as an image message after the invitation, when WeChat gave one
    and the upload works; otherwise the invitation's link alone stands."""
    with ctx.db() as db:
        launch = db.get(BargainLaunch, launch_id)
        qr_url = launch.qr_url if launch is not None else ""
    media_id = bargain_qr.qr_media_id(ctx.api, qr_url, ctx.redis)
    if media_id:
        ctx.send_later(ImageReply(media_id))


def invitation(ctx: ChatContext, launch_id: int, *, again: bool = False) -> str:
    """The starter's invitation: the code, the page (with the QR code), the exact state.
    Screened by the content gate: the campaign's title is the manager's words."""
    if again:  # a QR code WeChat did not give at the start is asked for again
        bargain_ledger.attach_qr(ctx.storage, launch_id, ctx.now())
    with ctx.db() as db:
        launch = db.get(BargainLaunch, launch_id)
        product = bargain_ledger.product_name(db, launch.campaign)
        title, launch_code = launch.campaign.title, launch.code
        lines = [
            ("你已经发起过这个砍价，进度如下：" if again else "砍价已发起！") + f"「{title}」",
            f"{product}：原价 {yuan(launch.start_fen)}，底价 {yuan(launch.floor_fen)}。",
            f"现价 {yuan(launch.price_fen)}，还差 {yuan(launch.left_fen)}，还需 "
            f"{launch.helpers_left} 位好友帮砍，{shanghai_text(launch.expires_at, '%m-%d %H:%M')}"
            " 前有效。",
            f"砍价码：{launch.code}",
            f"砍价页面（含二维码）：{page_link(ctx, launch.code)}",
            "好友打开页面就能帮你砍一刀，不需要关注公众号；已关注的好友也可以在公众号发送"
            f"「帮砍 {launch.code}」或扫页面上的二维码。每位好友只能砍一次。",
            "回复「我的砍价」随时查看进度。",
        ]
    text = "\n".join(lines)
    if bargain_copy.screen(ctx.storage, text) is None:
        return text
    ctx.log.warning("bargain invitation %s held by the content gate", launch_id)
    plain = "\n".join(line for line in lines if title not in line)
    if bargain_copy.screen(ctx.storage, plain) is None:
        return plain
    return (f"砍价已发起，砍价码：{launch_code}\n砍价页面：{page_link(ctx, launch_code)}\n"
            "回复「我的砍价」查看进度。")


def page_link(ctx: ChatContext, code: str) -> str:
    base = str(ctx.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}/b/{code}"


@router.text(*MINE)
def my_bargains(msg: Inbound, ctx: ChatContext) -> str:
    """The customer's launches: the exact amount left and helpers left, and each cut."""
    now = ctx.now()
    with ctx.db() as db:
        mine = bargain_ledger.live_launches(db, msg.openid, now)
        if not mine:
            return "你还没有进行中的砍价。回复「砍价」看看正在进行的活动。"
        blocks = []
        for launch in mine[:3]:
            cuts = bargain_ledger.counted_cuts(db, launch.id)
            ledger = "\n".join(f"  第{n}刀 -{yuan(fen)}（{shanghai_text(at, '%m-%d %H:%M')}）"
                               for n, (fen, at) in enumerate(cuts, 1))
            blocks.append(_status_line(db, launch) + (f"\n{ledger}" if ledger else "")
                          + f"\n页面：{page_link(ctx, launch.code)}")
    return "\n\n".join(blocks)


@router.regex(HELP.pattern)
def help_by_code(msg: Inbound, ctx: ChatContext) -> str:
    """帮砍 CODE: a friend's cut, typed."""
    code = normal_code(HELP.match(normalize(msg.text)).group(1))
    if not code:
        return "请发送「帮砍 砍价码」，例如「帮砍 K7M3Q2」。砍价码在好友发给你的砍价页面上。"
    if not looks_like_code(code):
        return "砍价码是6位字母和数字，例如「帮砍 K7M3Q2」，请核对后再发一次。"
    return help_reply(msg, ctx, code, source="code")


@router.regex(CODE_PATTERN)
def bare_code(msg: Inbound, ctx: ChatContext) -> str:
    """A code sent alone (what a friend copies): six of the code's characters, a digit and a
    letter among them, so a word like THANKS is not taken for one."""
    code = normal_code(normalize(msg.text))
    with ctx.db() as db:
        known = bargain_ledger.find(db, code) is not None
    if not known:
        return "没有找到这个砍价码，请核对后再发一次（6位字母数字）。"
    return help_reply(msg, ctx, code, source="code")


@router.text(*BUY)
def buy(msg: Inbound, ctx: ChatContext) -> str:
    """砍价下单: the customer's launch that can be bought, then the address."""
    now = ctx.now()
    with ctx.db() as db:
        launches = bargain_ledger.live_launches(db, msg.openid, now)
        chosen, refusal = None, None
        for launch in launches:
            try:
                bargain_orders.buyable(db, launch, msg.openid, now)
            except BargainRefused as why:
                refusal = refusal or why
                continue
            chosen = launch
            break
        if chosen is None:
            if refusal is not None:
                return refusal.message
            return "你没有可以下单的砍价。回复「砍价」看看正在进行的活动。"
        product = bargain_ledger.product_name(db, chosen.campaign)
        last = checkout.last_address(db, msg.openid)
        price = chosen.price_fen
    ctx.conversation.clear()
    ctx.conversation.update_data(launch=chosen.id, key=uuid.uuid4().hex)
    head = f"按砍价下单：「{product}」{yuan(price)} ×1。\n"
    if last is not None:
        ctx.conversation.set_state("bargain:reuse")
        ctx.conversation.update_data(address=last.as_dict())
        return (f"{head}寄到：{last.one_line()}\n回复「是」用这个地址，或直接发送新的收货信息。")
    ctx.conversation.set_state("bargain:address")
    return head + "请发送收货信息：姓名 手机号 详细地址"


def _read_back(ctx: ChatContext, address: addresses.Address) -> str:
    data = ctx.conversation.get_data()
    with ctx.db() as db:
        launch = db.get(BargainLaunch, data.get("launch"))
        if launch is None:
            ctx.conversation.clear()
            return "没有找到这个砍价。回复「我的砍价」查看。"
        product = bargain_ledger.product_name(db, launch.campaign)
        price = launch.price_fen
    ctx.conversation.set_state("bargain:confirm")
    ctx.conversation.update_data(address=address.as_dict(), price=price)
    return (f"请确认订单：\n「{product}」×1，砍价价 {yuan(price)}\n寄到：{address.one_line()}\n"
            f"应付：{yuan(price)}\n回复「确认」下单，回复「取消」放弃。")


def _place(ctx: ChatContext, openid: str) -> str:
    data = ctx.conversation.get_data()
    now = ctx.now()
    minutes = bargain_ledger.setting(ctx.config, "BARGAIN_PAYMENT_MINUTES")
    try:
        with ctx.db() as db:
            order = bargain_orders.place(db, int(data.get("launch") or 0), openid,
                                         address=data.get("address") or {}, now=now,
                                         payment_minutes=minutes,
                                         checkout_key=data.get("key"))
            number, total, pay_by = order.number, order.total_fen, order.pay_by
    except BargainRefused as refusal:
        ctx.conversation.clear()
        return refusal.message
    except OperationalError:
        return "现在下单的人太多了，请过几秒再回复「确认」。"
    ctx.conversation.clear()
    bargain_ledger.sync_launch(ctx.storage, int(data.get("launch") or 0), now)  # no more cuts
    if total != data.get("price"):
        ctx.log.info("bargain order %s placed at %s, read back at %s", number, total,
                     data.get("price"))
    pay = open_payment(ctx, number, total, openid)
    return (f"下单成功！订单号 {number}，应付 {yuan(total)}。\n请在 "
            f"{shanghai_text(pay_by, '%H:%M')} 前完成支付，超时订单自动取消。\n"
            f"{pay}{order_link(ctx, number)}")
