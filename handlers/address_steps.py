"""The address step two flows share: a new order (买, 结算) and an address change after it.

Reuse the last address or ask for one; then gather it over several messages (text or a
location), asking only for what is still missing. The parsing rules are shop/addresses.py.
"""

from __future__ import annotations

from bot.inbound import Inbound
from handlers.context import ChatContext
from shop import address_picker, addresses, checkout

ASK_ADDRESS = (
    "请发送收货信息：姓名 手机号 详细地址\n"
    "例如：张三 13800138000 浙江省杭州市西湖区文三路100号\n也可以发送位置。"
)
TEXTUAL = ("text", "voice", "location")


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
    wanted = "、".join(addresses.LABELS[part] for part in address.missing)
    got = address.one_line()
    prefix = f"已记下：{got}\n" if got else ""
    return address, f"{prefix}还需要：{wanted}。请补充发送。\n{_picker_link(ctx, msg.openid)}"


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
