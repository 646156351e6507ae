"""The address step two flows share: a new order (买, 结算) and an address change after it.

Reuse the last address or ask for one; then gather it over several messages (text or a
location), asking only for what is still missing. A message is first told apart from an address
part: 确认, 1 or 谢谢 sent while an address is being gathered fills no field (the parser would
take 确认 for a name and 1 for the street). The parsing rules are shop/addresses.py.
"""

from __future__ import annotations

import re

from bot.inbound import Inbound
from core.text import normalize
from customer_service import small_talk
from handlers.context import ChatContext
from shop import address_picker, addresses, checkout

ASK_ADDRESS = (
    "请发送收货信息：姓名 手机号 详细地址\n"
    "例如：张三 13800138000 浙江省杭州市西湖区文三路100号\n也可以发送位置。"
)
TEXTUAL = ("text", "voice", "location")
#: Answers to a question, never a part of an address.
REPLY_WORDS = frozenset({*checkout.YES, "确认下单", "下单", "提交", "提交订单", "没问题", "对的",
                         "好滴", "好嘞", "行", "不对", "不是", "错了", "继续", "确认修改",
                         "确认退货", "确认取消", "确认收货", "否", "没有", "不用", "不要"})
_QUESTION = re.compile(r"[?？吗呢]\s*$|怎么|多少钱|为什么|能不能|可不可以|是不是|有没有|什么时候")
_SOMETHING = re.compile(r"[0-9a-z\u4e00-\u9fff]")


def is_address_part(text: str, *, choosing: bool = False) -> bool:
    """Whether `text` may hold a part of an address. Not: a reply word (确认, 好的), small talk
    or an emoji, a question, punctuation, or a short number — unless `choosing`, when the
    customer was asked to pick one of several districts by its number."""
    typed = normalize(text)
    if not _SOMETHING.search(typed) or typed in REPLY_WORDS or small_talk.reply(text):
        return False
    if typed.isdigit():
        return choosing or len(typed) >= 7  # 7 digits or more: a phone number, maybe mistyped
    return not _QUESTION.search(text)


def ask_address(ctx: ChatContext, openid: str) -> str:
    """The address step for the items in the conversation: reuse the last one or ask."""
    with ctx.db() as db:
        last = checkout.last_address(db, openid)
    if last is not None:
        last = addresses.official(last)  # an order from before the division list: 浙江 → 浙江省
        ctx.conversation.set_state("order:reuse")
        ctx.conversation.update_data(last_address=last.as_dict())
        return f"寄到上次的地址吗？\n{last.one_line()}\n回复「是」确认，或直接发送新的收货信息。"
    ctx.conversation.set_state("order:address")
    return ASK_ADDRESS


def gather_address(ctx: ChatContext, msg: Inbound, step: str) -> tuple[addresses.Address,
                                                                      str | None]:
    """Add this message (text or a location) to the address being collected at `step`;
    returns it with the question for what is still missing, or None once it is whole."""
    typed = msg.text
    if msg.kind == "location":
        typed = str(msg.fields.get("Label") or "")
    data = ctx.conversation.get_data()
    before = addresses.from_dict(data.get("address"))
    picked = address_picker.take(ctx.redis, msg.openid)
    if picked is not None:  # chosen on the 使用微信收货地址 page: that, whatever was typed now
        address, typed = picked.merged(before), ""
    elif msg.kind != "location" and not is_address_part(typed, choosing=bool(before.ambiguous)):
        return before, _not_taken(ctx, msg.openid, typed, before)  # the step stays as it was
    else:
        address = addresses.combine(before, typed)
    ctx.conversation.update_data(address=address.with_candidates())
    ctx.conversation.set_state(step)
    if (wrong := addresses.bad_phone(typed)) and not address.phone:
        return address, f"「{wrong}」不是有效的手机号（11 位，以 1 开头），请重新发送手机号。"
    if address.ambiguous:
        return address, _which_one(address)
    if not address.missing:
        return address, None
    return address, _still_missing(ctx, msg.openid, address)


def _still_missing(ctx: ChatContext, openid: str, address: addresses.Address) -> str:
    wanted = "、".join(addresses.LABELS[part] for part in address.missing)
    got = address.one_line()
    prefix = f"已记下：{got}\n" if got else ""
    return f"{prefix}还需要：{wanted}。请补充发送。\n{_picker_link(ctx, openid)}"


def _not_taken(ctx: ChatContext, openid: str, typed: str, before: addresses.Address) -> str:
    """The message was not an address part: say so, and ask again for what is missing."""
    said = f"「{typed.strip()[:20]}」不是收货信息"
    if before.ambiguous:
        return f"{said}。\n{_which_one(before)}"
    if not before.one_line() or not before.missing:
        return f"{said}。\n{ASK_ADDRESS}"
    return f"{said}，地址没有改动。\n{_still_missing(ctx, openid, before)}"


def _picker_link(ctx: ChatContext, openid: str) -> str:
    """The page where the customer picks one of the addresses they keep in WeChat."""
    base = str(ctx.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    token = address_picker.issue_page(ctx.redis, openid)
    return f'也可以<a href="{base}/shop/address/{token}">使用微信收货地址</a>。'


def _which_one(address: addresses.Address) -> str:
    """Several places have the district named (朝阳区): ask which, never guess."""
    district = address.ambiguous[0].split("/")[2]
    lines = [f"「{district}」有{len(address.ambiguous)}个，请问是哪一个？"]
    for number, label in enumerate(address.ambiguous, start=1):
        province, city, _ = label.split("/")
        lines.append(f"{number}. {province}{city if city != province else ''}{district}")
    lines.append("回复序号，或回复省份、城市。")
    return "\n".join(lines)
