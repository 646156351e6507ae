"""The dashboard shows what the webhook really received, counted per Shanghai day."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot import message_stats
from console import charts
from core.clock import SHANGHAI, local_day
from dashboard import figures
from tests.conftest import WeChat
from tests.console.conftest import signed_in


def chat_a_little(app) -> None:
    """Three customers: two follow, one leaves; texts, a retry, menu clicks and an image."""
    alice, bob, carol = (WeChat(app.test_client()) for _ in range(3))
    alice.reply(alice.user.subscribe())
    bob.reply(bob.user.subscribe())
    alice.say("有口红吗")
    alice.say("口红多少钱")
    bob.say("我们想要口红和面霜")  # 我们 is a stop-word
    retry = carol.user.text("面霜")
    carol.reply(retry)
    carol.reply(retry)  # WeChat's retry of the same MsgId is not a second message
    alice.reply(alice.user.click("MENU_BROWSE"))
    bob.reply(bob.user.click("MENU_BROWSE"))
    bob.reply(bob.user.click("MENU_HELP"))
    carol.reply(carol.user.image())
    bob.reply(bob.user.unsubscribe())


def test_the_board_counts_what_the_webhook_received(console_app):
    chat_a_little(console_app)
    storage = console_app.extensions["storage"]
    message_stats.flush_message_stats(storage)  # what the scheduler runs every 10 s
    manager = signed_in(console_app, "manager")
    board = manager.client.get(
        "/api/v1/dashboard", headers={"Authorization": f"Bearer {_token(console_app)}"}
    ).json
    today = board["days"][-1]
    assert board["followers_total"] == 1  # alice stayed, bob left
    assert (today["new_followers"], today["lost_followers"]) == (2, 1)
    # 4 texts (the retry is not counted), 1 image, and 6 events: 2 follows, 1 unfollow, 3 clicks
    assert board["messages_by_kind"] == {"事件": 6, "文字": 4, "图片": 1}
    assert today["messages"] == 11
    assert board["menu_clicks"] == [{"menu": "全部商品", "count": 2}, {"menu": "帮助", "count": 1}]
    words = {k["word"]: k["count"] for k in board["top_keywords"]}
    assert words["口红"] == 3 and words["面霜"] == 2
    assert "我们" not in words and "吗" not in words

    page = manager.get("/admin/dashboard").text
    assert 'data-figure="followers_total">1<' in page
    assert 'data-figure="new_today">2<' in page
    assert "口红" in page and "全部商品" in page
    assert "<svg" in page and "http" not in page.split("<main>")[1].split("</main>")[0]


def _token(app) -> str:
    from console import accounts, api_tokens

    with app.extensions["storage"].sessions.begin() as db:
        return api_tokens.issue(db, accounts.find(db, "manager"), "t")[1]


def test_days_are_the_merchants_shanghai_days():
    # 23:30 on Nov 21 in UTC is 07:30 on Nov 22 in Shanghai.
    assert local_day(datetime(2026, 11, 21, 23, 30, tzinfo=UTC)) == "2026-11-22"
    assert local_day(datetime(2026, 11, 21, 15, 59, tzinfo=UTC)) == "2026-11-21"


def test_the_page_offers_7_14_and_30_days(console_app):
    manager = signed_in(console_app, "manager")
    page = manager.get("/admin/dashboard?days=30").text
    assert page.count("<rect") == 120  # 30 days × (new, lost) + messages + GMV
    assert manager.get("/admin/dashboard?days=9999").status_code == 200


def test_chart_labels_are_escaped():
    svg = charts.bar_chart(["<b>"], [("<script>", [3], "x")], title="t&t")
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "t&amp;t" in svg
    assert "<b>" not in charts.ranking([("<b>bold</b>", 2)])


def test_axis_tops_are_round_numbers():
    assert [charts.nice_ceiling(v) for v in (0, 1, 3, 7, 12, 180)] == [1, 1, 5, 10, 20, 200]


def test_the_board_sums_a_month_in_sql_on_every_backend(any_storage):
    from collections import Counter
    from datetime import date

    from bot import message_stats
    from shop import followers

    today = date(2026, 11, 22)
    counts: Counter = Counter()
    for n, day in enumerate(figures.day_range(today, 30)):
        counts[(day, "kind", "text")] = n + 1
        counts[(day, "keyword", "口红")] = 2
        counts[(day, "keyword", f"词{n}")] = 1
        counts[(day, "click", "MENU_BROWSE")] = 1
    counts[("2026-10-01", "keyword", "口红")] = 999  # outside the span
    message_stats.add_counts(any_storage.sessions, counts)
    with any_storage.sessions.begin() as db:
        followers.record_subscribe(db, "o1", datetime(2026, 11, 21, 17, 0, tzinfo=UTC))  # 11/22
        followers.record_unsubscribe(db, "o2", datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    with any_storage.sessions() as db:
        board = figures.build(db, today, 30)
    assert board.days[-1].messages == 30 and board.totals()["messages"] == sum(range(1, 31))
    assert board.keywords[0] == ("口红", 60) and len(board.keywords) == figures.TOP_KEYWORDS
    assert board.clicks == [("全部商品", 30)]
    assert (board.days[-1].new_followers, board.days[-3].lost_followers) == (1, 1)
    assert board.followers_total == 1


def test_orders_gmv_and_the_funnel(console_app):
    from sqlalchemy import select

    from content_audit import default_screener
    from devtools.demo import seed_catalog
    from shop import orders
    from shop.catalog import Product, Sku

    seed_catalog(console_app.extensions["storage"].sessions, default_screener())
    customer = WeChat(console_app.test_client())
    customer.say("商品 1")  # a product card: the funnel's first step
    customer.say("商品 2")
    with console_app.extensions["storage"].sessions.begin() as db:
        sku = db.scalar(select(Sku).join(Product).where(Product.name == "土蜂蜜"))
        paid = orders.place(db, "o1", [(sku.id, 2)])
        orders.transition(db, paid, "paid", actor="wxpay")
        orders.place(db, "o2", [(sku.id, 1)])  # placed, not paid
    message_stats.flush_message_stats(console_app.extensions["storage"])
    board = signed_in(console_app, "manager").client.get(
        "/api/v1/dashboard", headers={"Authorization": f"Bearer {_token(console_app)}"}
    ).json
    today = board["days"][-1]
    assert (today["orders"], today["paid"], today["gmv_fen"]) == (2, 1, 13600)
    assert board["funnel"] == [{"step": "浏览商品", "count": 2}, {"step": "下单", "count": 2},
                               {"step": "支付", "count": 1}]
    page = signed_in(console_app, "manager").get("/admin/dashboard").text
    assert 'data-figure="gmv_today">¥136<' in page


# --- numbers that must not lie (issue 13) -----------------------------------------------------


def _paid_order(db, sku_id: int, openid: str = "o-buyer"):
    from shop import orders

    order = orders.place(db, openid, [(sku_id, 1)], address={"name": "张三"})
    orders.transition(db, order, "paid", actor="wxpay")
    return order


def _one_sku(db) -> int:
    from shop import catalog
    from shop.catalog import Sku

    catalog.add_product(db, name="土蜂蜜", category_name="农家特产", skus=[("500g", 6800, 10)])
    return db.scalars(select(Sku.id)).first()


def test_a_paid_order_counts_once_whatever_else_happens_to_it(console_app):
    from shop import addresses, after_sale

    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        order = _paid_order(db, _one_sku(db))
        # an address change on a paid order writes a paid → paid event
        after_sale.change_address(db, order, addresses.parse(
            "李四 13700137000 浙江省杭州市西湖区文一路5号"), actor="o-buyer")
    with storage.sessions() as db:
        today = figures.build(db, datetime.now(SHANGHAI).date(), 7)
    totals = today.totals()
    assert (totals["orders"], totals["paid"], totals["gmv_fen"]) == (1, 1, 6800)
    assert dict(today.funnel)["支付"] == 1


def test_sales_show_gross_refunds_and_net(console_app):
    from shop import orders

    storage = console_app.extensions["storage"]
    with storage.sessions.begin() as db:
        sku = _one_sku(db)
        _paid_order(db, sku)
        refunded = _paid_order(db, sku, "o-other")
        orders.transition(db, refunded, "refunded", actor="manager", note="破损，全额退款")
    manager = signed_in(console_app, "manager")
    board = manager.client.get(
        "/api/v1/dashboard", headers={"Authorization": f"Bearer {_token(console_app)}"}
    ).json
    assert board["totals"]["gmv_fen"] == 13600
    assert (board["totals"]["refunds"], board["totals"]["refunded_fen"]) == (1, 6800)
    assert board["totals"]["net_fen"] == 6800
    page = manager.get("/admin/dashboard").text
    assert 'data-figure="gmv_total">¥136<' in page
    assert 'data-figure="refunded_total">¥68<' in page
    assert 'data-figure="net_total">¥68<' in page


def test_keywords_leave_out_flow_answers_and_contact_details(console_app):
    from content_audit import default_screener
    from devtools.demo import seed_catalog
    from shop.catalog import Product

    storage = console_app.extensions["storage"]
    seed_catalog(storage.sessions, default_screener())
    with storage.sessions() as db:
        honey = db.scalar(select(Product.id).where(Product.name == "土蜂蜜"))
    buyer = WeChat(console_app.test_client())
    buyer.say("土蜂蜜")
    buyer.say(f"商品 {honey}")
    buyer.say("买")
    buyer.say("1")
    buyer.say("王小明 13912345678 上海市浦东新区世纪大道100号")  # a flow answer
    buyer.say("确认")
    chatty = WeChat(console_app.test_client())
    chatty.say("好看" * 38)  # one message, one mention
    chatty.say("张三 13800138000 北京市朝阳区建国路1号")  # contact details outside any flow
    message_stats.flush_message_stats(storage)
    with storage.sessions() as db:
        words = dict(figures.build(db, datetime.now(SHANGHAI).date(), 7).keywords)
    assert words.get("蜂蜜", 0) + words.get("土蜂蜜", 0) >= 1  # what the customer looked for
    assert words.get("好看") == 1
    for private in ("王小明", "张三", "浦东新区", "世纪大道", "朝阳区", "建国路", "确认"):
        assert private not in words, private
