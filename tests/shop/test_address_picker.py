"""使用微信收货地址: the jsapi_ticket, the signed page, the picked address checked and used."""

from __future__ import annotations

import json
import re

import pytest
import requests
from sqlalchemy import select

from bot.inbound import parse_xml_fields
from bot.wechat_api import WeChatAPI
from content_audit import default_screener
from devtools.demo import seed_catalog
from shop.catalog import Product
from tests.conftest import APP_ID, APP_SECRET

PICKED = {"userName": "王芳", "telNumber": "138 1234 5678", "postalCode": "310012",
          "provinceName": "浙江省", "cityName": "杭州市", "countryName": "西湖区",
          "detailInfo": "文一路5号", "errMsg": "openAddress:ok"}


def text(reply: str) -> str:
    return parse_xml_fields(reply.encode())["Content"]


def test_the_ticket_is_fetched_once_and_shared_by_every_worker(sandbox, redis):
    first = WeChatAPI(sandbox, APP_ID, APP_SECRET, redis)
    second = WeChatAPI(sandbox, APP_ID, APP_SECRET, redis)
    ticket = first.jsapi_ticket()
    assert ticket.startswith("sandbox_jsapi_")
    assert second.jsapi_ticket() == ticket
    calls = requests.get(f"{sandbox}/sandbox/stats", timeout=5).json()["calls"]
    assert calls["/cgi-bin/ticket/getticket"] == 1


@pytest.fixture()
def ordering(app, wechat):
    """A customer at the address step of an order, with the page link the chat gave them."""
    seed_catalog(app.extensions["storage"].sessions, default_screener())
    with app.extensions["storage"].sessions() as db:
        honey = db.scalar(select(Product.id).where(Product.name == "土蜂蜜"))
    wechat.say(f"商品 {honey}")
    wechat.say("买 1")
    wechat.say("1")
    asked = text(wechat.say("王芳"))
    link = re.search(r'<a href="[^"]*(/shop/address/[\w-]+)">使用微信收货地址</a>', asked)
    assert link, asked
    return wechat, link.group(1)


def test_the_page_signs_wx_config_so_wechat_accepts_it(app, sandbox, ordering):
    _, path = ordering
    page = app.test_client().get(path)
    assert page.status_code == 200 and "使用微信收货地址" in page.text
    assert "https://res.wx.qq.com" in page.headers["Content-Security-Policy"]
    config = json.loads(re.search(r"data-config=\"([^\"]+)\"", page.text).group(1)
                        .replace("&#34;", '"').replace("&quot;", '"'))
    assert config["jsApiList"] == ["openAddress"]
    url = app.config["PUBLIC_BASE_URL"].rstrip("/") + path  # what the chat linked
    checked = requests.post(f"{sandbox}/sandbox/jssdk/config",
                            json={**config, "url": url + "#wechat_redirect"}, timeout=5)
    assert checked.json() == {"errMsg": "config:ok"}
    elsewhere = requests.post(f"{sandbox}/sandbox/jssdk/config",
                              json={**config, "url": "http://localhost/shop/other"}, timeout=5)
    assert elsewhere.json() == {"errMsg": "config:invalid signature"}


def test_a_picked_address_is_checked_then_read_back_in_the_chat(app, ordering):
    customer, path = ordering
    client = app.test_client()
    assert client.get("/shop/address/not-a-token").status_code == 404
    wrong = client.post(path, json={**PICKED, "countryName": "朝阳区"})
    assert wrong.status_code == 400 and "没能确认「浙江省杭州市朝阳区」" in wrong.json["error"]
    assert client.post(path, data="userName=x").status_code == 400  # JSON only
    done = client.post(path, json=PICKED)
    assert done.status_code == 200
    assert done.json["address"] == "王芳 138****5678 浙江省杭州市西湖区文一路5号"
    read_back = text(customer.say("好了"))
    assert read_back.startswith("请确认订单：")
    assert "寄到：王芳 138****5678 浙江省杭州市西湖区文一路5号" in read_back
