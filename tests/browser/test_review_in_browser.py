"""A compliance reviewer clears the queue in a real browser."""

from __future__ import annotations

from content_audit import default_screener, gate
from tests.browser.conftest import ARTIFACTS, sign_in


def test_a_reviewer_clears_the_queue(page, live):
    with live.app.extensions["storage"].sessions.begin() as db:
        for text in ("转发朋友圈即可领取小样", "关注公众号才能查看优惠券"):
            gate.check(db, text, screener=default_screener(), source="push", author="manager")

    sign_in(page, "reviewer")
    assert page.url.endswith("/admin/audit/")
    rows = page.locator("tr[data-item]")
    assert rows.count() == 2
    assert page.locator("mark.review").first.inner_text() == "转发朋友圈即可领取小样"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-queue.png"), full_page=True)

    rows.first.get_by_role("link").click()
    page.get_by_role("button", name="通过", exact=True).click()
    assert page.get_by_role("status").inner_text().endswith("已通过")

    page.locator("tr[data-item]").first.get_by_role("link").click()
    page.get_by_role("button", name="驳回").click()  # without a reason: refused
    assert "请填写原因" in page.get_by_role("alert").inner_text()
    page.get_by_label("原因").fill("以查看内容为条件诱导关注")
    page.get_by_role("button", name="驳回").click()
    assert page.get_by_text("队列为空").is_visible()


def test_the_copy_tester_judges_each_pasted_line_in_chinese(page, live):
    sign_in(page, "reviewer")
    page.goto("/admin/audit/check")
    page.get_by_label("文案（每行一条）").fill("今日上新，包邮到家\n全网最好用的面霜\n转发朋友圈即可领取小样")
    page.get_by_role("button", name="检测").click()
    assert page.locator("#summary").inner_text() == "共 3 条（每行一条）：通过 1，需审核 1，禁止 1"
    assert page.locator("#line-2 h2").inner_text() == "第 2 行：禁止"
    assert "绝对化用语" in page.locator("#line-2").inner_text()
    assert "superlative" not in page.content()
