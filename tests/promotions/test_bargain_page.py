"""The 砍价 invitation page (/b/<code>): who the visitor is (silent web authorisation through
the sandbox), what the page says (exact amounts, no percentages, no induced sharing), and
helping from it (CSRF, one cut per friend, a retried POST answering as the first one)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from core.money import yuan
from promotions import bargain_ledger, bargain_page
from promotions.bargains import BargainCampaign, BargainHelp, BargainLaunch
from tests.conftest import APP_SECRET
from tests.promotions.flash_helpers import make_sku

STARTER = "o_starter"
#: Wording WeChat's rules forbid on a page asking for help (induced sharing / following).
FORBIDDEN = ("分享", "转发", "朋友圈", "关注后", "%")


@pytest.fixture()
def app(make_app):
    """The shop app with the page registered (promotions registers it; here if not yet)."""
    made = make_app()
    if "bargain_page" not in made.blueprints:
        made.register_blueprint(bargain_page.bp)
    return made


@pytest.fixture()
def launch_code(app) -> str:
    """A campaign of 3 friends from ¥129 to ¥9.90, and the starter's launch of it."""
    storage = app.extensions["storage"]
    now = datetime.now(UTC)
    sku_id = make_sku(storage.sessions, price=12900)
    with storage.sessions.begin() as db:
        campaign = BargainCampaign(
            title="口红砍价", sku_id=sku_id, floor_fen=990, helpers_needed=3,
            hours_per_launch=24, starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=7), stock_quota=20, units_used=0,
            launches_per_customer=1, helps_per_day=3, helps_per_campaign=10,
            starter_cuts=False, buy_before_floor=False, new_customers_only=False,
            reserve_at_launch=False, front_loading=60, state="on", created_at=now)
        db.add(campaign)
        db.flush()
        campaign_id = campaign.id
    return bargain_ledger.start(storage, campaign_id, STARTER, now).code


def launch_row(app, code: str) -> BargainLaunch:
    with app.extensions["storage"].sessions() as db:
        launch = db.scalar(select(BargainLaunch).where(BargainLaunch.code == code))
        db.expunge(launch)
        return launch


def helps(app) -> list[BargainHelp]:
    with app.extensions["storage"].sessions() as db:
        rows = list(db.scalars(select(BargainHelp).order_by(BargainHelp.id)))
        for row in rows:
            db.expunge(row)
        return rows


def visitor(app, sandbox: str, code: str, openid: str):
    """A phone that opens /b/<code> as `openid`: page → WeChat → /auth → page."""
    client = app.test_client()
    first = client.get(f"/b/{code}")
    assert first.status_code == 302
    location = first.headers["Location"]
    assert location.startswith(f"{sandbox}/connect/oauth2/authorize?")
    assert "scope=snsapi_base" in location and location.endswith("#wechat_redirect")
    back = requests.get(location.split("#")[0], params={"sandbox_openid": openid},
                        allow_redirects=False, timeout=5)
    assert back.status_code == 302, back.text
    target = urlsplit(back.headers["Location"])
    assert target.path == f"/b/{code}/auth"
    done = client.get(f"{target.path}?{target.query}")
    assert done.status_code == 302, done.text
    assert urlsplit(done.headers["Location"]).path == f"/b/{code}"
    return client


def page_of(client, code: str) -> str:
    response = client.get(f"/b/{code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def form_of(html: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1)
            for name in ("csrf_token", "nonce")}


def help_once(client, code: str, form: dict[str, str] | None = None) -> tuple[int, str]:
    form = form or form_of(page_of(client, code))
    response = client.post(f"/b/{code}/help", data=form)
    return response.status_code, response.get_data(as_text=True)


def assert_neutral(html: str) -> None:
    for word in FORBIDDEN:
        assert word not in html, word


def test_the_oauth_round_trip_identifies_the_visitor(app, sandbox, launch_code):
    client = visitor(app, sandbox, launch_code, "o_friend1")
    html = page_of(client, launch_code)
    assert "帮TA砍一刀" in html and "请在微信中打开" not in html
    assert "这是你发起的砍价" not in html
    # The redirect_uri WeChat was given is absolute, from PUBLIC_BASE_URL.
    location = app.test_client().get(f"/b/{launch_code}").headers["Location"]
    redirect_uri = parse_qs(urlsplit(location).query)["redirect_uri"][0]
    assert redirect_uri == f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/b/{launch_code}/auth"


def test_a_wrong_or_missing_state_is_refused(app, launch_code):
    client = app.test_client()
    assert client.get(f"/b/{launch_code}").status_code == 302  # the state cookie is set
    response = client.get(f"/b/{launch_code}/auth?code=abc&state=not-the-one")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "重新打开" in html and f'href="/b/{launch_code}"' in html and "Traceback" not in html
    fresh = app.test_client().get(f"/b/{launch_code}/auth?code=abc&state=x")
    assert fresh.status_code == 400
    # Nobody was identified: the page still asks WeChat.
    assert client.get(f"/b/{launch_code}").status_code == 302


def test_a_code_wechat_refuses_gives_a_friendly_page(app, launch_code):
    client = app.test_client()
    location = client.get(f"/b/{launch_code}").headers["Location"]
    state = parse_qs(urlsplit(location).query)["state"][0]
    response = client.get(f"/b/{launch_code}/auth?code=never-issued&state={state}")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "微信授权已过期" in html
    assert APP_SECRET not in html and "never-issued" not in html and "40029" not in html


def test_help_counts_and_the_amounts_are_exact(app, sandbox, launch_code):
    client = visitor(app, sandbox, launch_code, "o_friend1")
    form = form_of(page_of(client, launch_code))
    status, html = help_once(client, launch_code, form)
    launch = launch_row(app, launch_code)
    first = launch.cuts()[0]
    assert status == 200
    assert f"你帮TA砍掉了 {yuan(first)}" in html
    left = 12900 - 990 - first
    assert launch.left_fen == left and launch.helpers_left == 2
    assert f"还差 {yuan(left)}" in html and "还需 2 位好友" in html
    assert f"现价 {yuan(12900 - first)}" in html
    (row,) = helps(app)
    key = "page:" + form["nonce"]  # stored bound to the launch and the helper
    stored = "h:" + hashlib.sha1(f"{launch.id}:o_friend1:{key}".encode()).hexdigest()
    assert (row.openid, row.amount_fen, row.source, row.key) == (
        "o_friend1", first, "page", stored)
    assert "o_friend1" not in html and STARTER not in html
    assert "好友 1" in html
    assert_neutral(html)


def test_a_retried_post_shows_the_same_result(app, sandbox, launch_code):
    client = visitor(app, sandbox, launch_code, "o_friend1")
    form = form_of(page_of(client, launch_code))
    _, once = help_once(client, launch_code, form)
    status, again = help_once(client, launch_code, form)
    first = launch_row(app, launch_code).cuts()[0]
    assert status == 200 and f"你帮TA砍掉了 {yuan(first)}" in again
    assert len(helps(app)) == 1
    assert re.search(r'id="result".*?</div>', once, re.S).group(0) == \
        re.search(r'id="result".*?</div>', again, re.S).group(0)


def test_a_second_help_is_refused(app, sandbox, launch_code):
    client = visitor(app, sandbox, launch_code, "o_friend1")
    form = form_of(page_of(client, launch_code))
    help_once(client, launch_code, form)
    html = page_of(client, launch_code)
    assert "帮TA砍一刀" not in html and "你已经帮TA砍过一刀了" in html
    status, again = help_once(client, launch_code, {**form, "nonce": "another-nonce-1234567"})
    assert status == 200 and "你已经帮这位好友砍过一刀了" in again
    assert len(helps(app)) == 1


def test_the_starter_sees_their_own_page_and_cannot_help(app, sandbox, launch_code):
    client = visitor(app, sandbox, launch_code, STARTER)
    html = page_of(client, launch_code)
    assert "这是你发起的砍价" in html and "帮TA砍一刀" not in html
    assert "砍价下单" not in html  # not at the floor yet
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf is None  # no form for the starter; post one anyway with the cookie's token
    other = visitor(app, sandbox, launch_code, "o_friend1")
    token = form_of(page_of(other, launch_code))["csrf_token"]
    status, _ = help_once(client, launch_code, {"csrf_token": token, "nonce": "n" * 22})
    assert status == 400  # someone else's token is not the starter's
    cookie = client.get_cookie(bargain_page.VISITOR_COOKIE, path="/b")
    with app.test_request_context():
        salt = bargain_page.visitor_salt()
    mine = URLSafeTimedSerializer(app.secret_key, salt=salt).loads(cookie.value)["t"]
    status, answer = help_once(client, launch_code, {"csrf_token": mine, "nonce": "n" * 22})
    assert status == 200 and "不能给自己帮砍" in answer
    assert helps(app) == []


def test_a_help_without_the_csrf_token_is_refused(app, sandbox, launch_code):
    client = visitor(app, sandbox, launch_code, "o_friend1")
    form = form_of(page_of(client, launch_code))
    response = client.post(f"/b/{launch_code}/help", data={"nonce": form["nonce"]})
    assert response.status_code == 400 and "刷新" in response.get_data(as_text=True)
    wrong = client.post(f"/b/{launch_code}/help", data={**form, "csrf_token": "x" * 43})
    assert wrong.status_code == 400
    assert helps(app) == []


def test_a_help_without_a_visitor_goes_to_wechat_first(app, sandbox, launch_code):
    response = app.test_client().post(f"/b/{launch_code}/help",
                                      data={"csrf_token": "x", "nonce": "n" * 22})
    assert response.status_code == 303
    assert response.headers["Location"].startswith(f"{sandbox}/connect/oauth2/authorize?")
    assert helps(app) == []


def test_an_unknown_code_is_a_chinese_404(app, sandbox, launch_code):
    client = visitor(app, sandbox, launch_code, "o_friend1")
    for response in (client.get("/b/ZZZZ99"), client.post("/b/ZZZZ99/help", data={}),
                     client.get("/b/" + "A" * 40)):
        assert response.status_code == 404
        assert "没有找到这个砍价" in response.get_data(as_text=True)


def test_the_page_is_exact_and_neutral_until_the_floor(app, sandbox, launch_code):
    starter = visitor(app, sandbox, launch_code, STARTER)
    html = page_of(starter, launch_code)
    assert f"还差 {yuan(12900 - 990)}，还需 3 位好友" in html
    assert "原价" in html and yuan(12900) in html and "底价" in html and yuan(990) in html
    assert "进行中" in html and "还没有人帮砍" in html
    assert "长按识别二维码也可以帮砍" in html and 'src="data:image/png;base64,' in html
    assert f"帮砍 <span class=\"code\">{launch_code}</span>" in html
    assert "想要同款？在公众号回复「砍价」看看" in html
    assert_neutral(html)
    pages = []
    for number in (1, 2, 3):
        friend = visitor(app, sandbox, launch_code, f"o_friend{number}")
        status, answer = help_once(friend, launch_code)
        assert status == 200
        pages.append(answer)
    launch = launch_row(app, launch_code)
    assert launch.state == "completed" and launch.price_fen == 990
    assert "已经砍到底价 ¥9.90" in pages[-1]
    done = page_of(starter, launch_code)
    assert "已砍到底" in done and "砍价下单" in done and "帮TA砍一刀" not in done
    for number, cut in enumerate(launch.cuts(), start=1):
        assert re.search(rf"好友 {number} .*?砍掉 {re.escape(yuan(cut))}", done)
    late = visitor(app, sandbox, launch_code, "o_friend4")
    late_page = page_of(late, launch_code)
    assert "帮TA砍一刀" not in late_page and "长按识别二维码" not in late_page
    for html in [*pages, done, late_page]:
        assert_neutral(html)
        assert "o_friend" not in html and STARTER not in html


def test_without_the_account_the_page_is_read_only(app, launch_code, monkeypatch):
    monkeypatch.setattr(app.extensions["storage"], "wechat", None)
    response = app.test_client().get(f"/b/{launch_code}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "请在微信中打开" in html and "帮TA砍一刀" not in html
    assert f"还差 {yuan(12900 - 990)}" in html
    assert_neutral(html)
