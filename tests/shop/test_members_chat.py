"""What a member sees of their tier and points: 我的会员 in the chat, and 优先发货 in the
manager's list of paid orders."""

from __future__ import annotations

from datetime import UTC, datetime

from core.clock import SHANGHAI
from shop import catalog, orders
from tests.console.conftest import signed_in
from tests.handlers.test_order import text


def pay(app, openid: str, price: int, at: datetime | None = None) -> str:
    at = at or datetime.now(UTC)
    with app.extensions["storage"].sessions.begin() as db:
        sku = catalog.add_product(db, name="土蜂蜜", skus=[("500g", price, 5)]).skus[0].id
        order = orders.place(db, openid, [(sku, 1)], now=at)
        assert orders.transition(db, order, "paid", actor="wxpay", now=at)
        return order.number


def test_my_membership_shows_tier_benefits_progress_and_points(app, wechat):
    now = datetime.now(UTC)
    year = now.astimezone(SHANGHAI).year
    last_year = datetime(year - 1, 6, 1, 4, 0, tzinfo=UTC)
    old = pay(app, wechat.user.openid, 10_000, at=last_year)
    new = pay(app, wechat.user.openid, 800_000)
    day = f"{now.astimezone(SHANGHAI):%m-%d}"
    assert text(wechat.say("我的会员")) == (
        "会员等级：白银会员\n"
        "会员权益：积分抵现、生日礼包、专属客服、优先发货\n"
        "连续12个月每月消费超¥5000升级黄金（已连续1个月）\n"
        "积分：8100（100积分抵¥1）\n"
        f"其中100分将于{year}-12-31到期\n"
        "最近积分：\n"
        f"{day} 获得 +8000（订单{new}）\n"
        f"06-01 获得 +100（订单{old}）\n"
        "\n"
        "登记生日，生日当天送您生日礼包（可跳过）："
        "回复「生日 3-15」登记生日，回复「跳过」不再提醒。")


def test_an_ordinary_member_sees_how_far_bronze_is(app, wechat):
    pay(app, wechat.user.openid, 38_000)
    reply = text(wechat.say("我的会员")).split("\n")
    assert reply[:3] == ["会员等级：普通会员", "再消费¥120升级青铜",
                         "积分：380（100积分抵¥1，青铜会员起可用）"]


def test_silver_orders_ship_first_and_are_marked(console_app):
    first = pay(console_app, "o-ordinary", 1_000)
    silver = pay(console_app, "o-silver", 800_000)
    last = pay(console_app, "o-ordinary", 2_000)
    manager = signed_in(console_app, "manager")
    listing = manager.get("/admin/shop/orders?state=paid").text
    rows = [part.split('"')[0] for part in listing.split('<tr data-order="')[1:]]
    assert rows == [silver, last, first]  # 白银 first, then newest first as before
    marked = listing.split(f'data-order="{silver}"')[1].split("</tr>")[0]
    assert marked.startswith(" data-priority") and "优先发货" in marked
    assert "优先发货" not in listing.split(f'data-order="{last}"')[1].split("</tr>")[0]
    everything = manager.get("/admin/shop/orders?state=all").text
    assert "data-priority" not in everything  # only the list waiting to be shipped is sorted


def owing(storage, openid: str) -> None:
    """¥10,000 paid, its 10,000 points spent on a ¥300 order, then the first refunded."""
    from tests.promotions.test_points import move, paid

    now = datetime.now(UTC)
    first = paid(storage, openid, 1_000_000, at=now)
    paid(storage, openid, 30_000, use=10_000, at=now)
    move(storage, first, "refunded", at=now)


def test_a_negative_balance_is_shown_as_it_is_in_the_chat(app, wechat):
    owing(app.extensions["storage"], wechat.user.openid)
    lines = text(wechat.say("我的会员")).split("\n")
    assert "积分：-9800（退款扣回已用积分，之后获得的积分先抵扣）" in lines
    assert not any("将于" in line for line in lines)  # a debt does not expire


def test_a_negative_balance_is_shown_as_it_is_in_the_console(console_app):
    owing(console_app.extensions["storage"], "o-owing")
    manager = signed_in(console_app, "manager")
    listing = manager.get("/admin/shop/customers").text
    row = listing.split('data-customer="o-owing"')[1].split("</tr>")[0]
    assert 'title="退款扣回已用积分，之后获得的积分先抵扣">-9800</td>' in row
    detail = manager.get("/admin/shop/customers/o-owing").text
    assert ('<dd data-points="-9800">-9800（退款扣回已用积分，之后获得的积分先抵扣）</dd>'
            in detail)
    assert "<td>扣回</td><td>-10000</td>" in detail
