"""The console in a real browser: sign in, the dashboard's real numbers, roles, CSRF."""

from __future__ import annotations

import requests

from bot import message_stats
from devtools.wechat_user import WeChatUser
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.conftest import AES_KEY, APP_ID, TOKEN
from tests.console.conftest import ADMIN_PASSWORD


def post_to_webhook(url: str, user: WeChatUser, xml: str) -> None:
    signed = user.sign(xml)
    response = requests.post(
        f"{url}/wechat?{signed.query}", data=signed.body,
        headers={"Content-Type": "text/xml"}, timeout=10,
    )
    assert response.status_code == 200


def test_a_manager_sees_the_numbers_the_webhook_produced(page, live):
    customers = [WeChatUser(token=TOKEN, app_id=APP_ID, aes_key=AES_KEY) for _ in range(3)]
    for user in customers:
        post_to_webhook(live.url, user, user.subscribe())
    for words in ("有口红吗", "口红怎么卖", "面霜有货吗"):
        post_to_webhook(live.url, customers[0], customers[0].text(words))
    post_to_webhook(live.url, customers[1], customers[1].click("MENU_BROWSE"))
    post_to_webhook(live.url, customers[2], customers[2].unsubscribe())
    message_stats.flush_message_stats(live.app.extensions["storage"])  # the scheduler's 10 s tick

    sign_in(page, "manager")
    assert page.url.endswith("/admin/dashboard")
    assert page.locator('[data-figure="followers_total"]').inner_text() == "2"
    assert page.locator('[data-figure="new_today"]').inner_text() == "3"
    assert page.locator('[data-figure="lost_today"]').inner_text() == "1"
    assert page.locator('[data-figure="messages_today"]').inner_text() == "8"
    keywords = page.locator("#keywords li").all_inner_texts()
    assert keywords[0].split() == ["口红", "2"]
    assert page.locator("#clicks li").first.inner_text().split() == ["全部商品", "1"]
    assert page.locator("svg.chart").count() == 3
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)


def test_the_board_shows_sales_gross_refunds_and_net_counting_a_payment_once(page, live):
    from shop import addresses, after_sale, catalog, orders

    with live.app.extensions["storage"].sessions.begin() as db:
        product = catalog.add_product(db, name="土蜂蜜", skus=[("500g", 6800, 10)])
        sku = product.skus[0].id
        kept = orders.place(db, "o-a", [(sku, 1)], address={"name": "张三"})
        orders.transition(db, kept, "paid", actor="wxpay")
        after_sale.change_address(db, kept, addresses.parse(
            "李四 13700137000 浙江省杭州市西湖区文一路5号"), actor="o-a")  # paid → paid
        returned = orders.place(db, "o-b", [(sku, 1)], address={"name": "王五"})
        orders.transition(db, returned, "paid", actor="wxpay")
        orders.transition(db, returned, "refunded", actor="manager", note="破损，全额退款")

    sign_in(page, "manager")
    assert page.locator('[data-figure="gmv_total"]').inner_text() == "¥136"
    assert page.locator('[data-figure="refunded_total"]').inner_text() == "¥68"
    assert page.locator('[data-figure="net_total"]').inner_text() == "¥68"
    funnel = page.locator("#funnel li").all_inner_texts()
    assert funnel[1].split() == ["下单", "2"] and funnel[2].split() == ["支付", "2"]


def test_the_dashboard_fits_a_phone(browser, live):
    context = browser.new_context(
        base_url=live.url, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    phone = context.new_page()
    sign_in(phone, "manager")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    context.close()


def test_on_a_phone_the_menu_is_one_row_and_chart_labels_are_readable(browser, live):
    context = browser.new_context(
        base_url=live.url, viewport={"width": 375, "height": 740}, is_mobile=True
    )
    phone = context.new_page()
    sign_in(phone, "admin", ADMIN_PASSWORD)  # the longest menu
    phone.goto("/admin/dashboard")
    nav = phone.get_by_role("navigation", name="主导航")
    row = phone.evaluate("parseFloat(getComputedStyle(document.querySelector("
                         "'header nav a')).lineHeight) || 22")
    assert nav.bounding_box()["height"] < 2 * row  # one row (it scrolls sideways)
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    smallest = phone.evaluate(
        "Math.min(...[...document.querySelectorAll('svg.chart text.axis')]"
        ".map(t => t.getBoundingClientRect().height).filter(h => h > 0))"
    )
    assert smallest >= 10  # px on the screen: the viewBox once shrank 11 px labels to ~5
    ARTIFACTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(ARTIFACTS / "dashboard-phone-menu.png"), full_page=True)
    context.close()


def test_an_agent_is_refused_the_dashboard(page):
    sign_in(page, "agent")
    nav = page.get_by_role("navigation", name="主导航")
    assert "数据看板" not in nav.inner_text()
    response = page.goto("/admin/dashboard")
    assert response.status == 403
    assert page.get_by_role("heading", name="没有权限").is_visible()


def test_a_form_without_its_csrf_token_is_refused(page, live):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/admin/accounts")
    form = page.locator("form", has=page.get_by_role("button", name="创建"))
    form.locator('input[name="csrf_token"]').evaluate("el => el.remove()")
    form.get_by_label("用户名").fill("mallory")
    form.get_by_label("初始密码").fill("harbor-lantern-9")
    with page.expect_response("**/admin/accounts") as answer:
        form.get_by_role("button", name="创建").click()
    assert answer.value.status == 400
    assert page.get_by_role("heading", name="请求无效").is_visible()
    page.goto("/admin/accounts")
    assert page.locator('tr[data-account="mallory"]').count() == 0


def test_an_admin_adds_a_reviewer_who_then_signs_in(page, browser, live):
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/admin/accounts")
    form = page.locator("form", has=page.get_by_role("button", name="创建"))
    form.get_by_label("用户名").fill("lin")
    form.get_by_label("角色").select_option("compliance")
    form.get_by_label("初始密码").fill("reed-flute-path-1")
    form.get_by_role("button", name="创建").click()
    assert page.get_by_role("status").inner_text() == "已创建账号 lin"

    other = browser.new_context(base_url=live.url).new_page()
    sign_in(other, "lin", "reed-flute-path-1")
    assert "lin · 合规审核" in other.locator("header").inner_text()
    assert other.goto("/admin/accounts").status == 403
    other.context.close()
