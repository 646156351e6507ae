"""The outbound client: one shared token across workers, WeChat's retry and refusal rules."""

from __future__ import annotations

import multiprocessing
from urllib.parse import parse_qs, urlsplit

import pytest
import redis as redis_lib
import requests

from bot.wechat_api import TOKEN_PREFIX, WeChatAPI, WeChatAPIError
from tests.conftest import APP_ID, APP_SECRET


def stats(sandbox: str) -> dict:
    return requests.get(f"{sandbox}/sandbox/stats", timeout=5).json()


def fault(sandbox: str, path: str, errcode: int, times: int = 1, delay: float = 0.0) -> None:
    requests.post(
        f"{sandbox}/sandbox/faults",
        timeout=5,
        json={"path": path, "errcode": errcode, "times": times, "delay": delay},
    )


def interact(sandbox: str, openid: str, kind: str = "message") -> None:
    requests.post(f"{sandbox}/sandbox/inbound", json={"openid": openid, "kind": kind}, timeout=5)


@pytest.fixture()
def api(sandbox, redis) -> WeChatAPI:
    return WeChatAPI(sandbox, APP_ID, APP_SECRET, redis, backoff=0.01)


def token_fetches(sandbox: str) -> int:
    s = stats(sandbox)
    return s["token_fetches"] + s["stable_token_fetches"]


def test_send_text_reaches_the_customer(api, sandbox):
    interact(sandbox, "o_alice")
    api.send_text("o_alice", "您的订单已发货")
    sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": "o_alice"}, timeout=5)
    assert [m["body"]["text"]["content"] for m in sent.json()["messages"]] == ["您的订单已发货"]


def test_the_token_is_fetched_once_and_shared(api, sandbox, redis):
    interact(sandbox, "o_bob")
    other_worker = WeChatAPI(sandbox, APP_ID, APP_SECRET, redis)
    api.send_text("o_bob", "一")
    other_worker.send_text("o_bob", "二")
    assert token_fetches(sandbox) == 1


def _worker(sandbox: str, redis_url: str, barrier, results) -> None:
    client = redis_lib.Redis(unix_socket_path=redis_url)
    api = WeChatAPI(sandbox, APP_ID, APP_SECRET, client)
    barrier.wait()
    results.put(api.tokens.get())


def test_two_processes_racing_fetch_one_token(sandbox, redis):
    """Two worker processes start at once with no token: exactly one fetch happens."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    socket_path = redis.connection_pool.connection_kwargs["path"]
    workers = [
        ctx.Process(target=_worker, args=(sandbox, socket_path, barrier, results)) for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    tokens = {results.get(timeout=5) for _ in workers}
    assert len(tokens) == 1
    assert token_fetches(sandbox) == 1


def test_invalid_token_is_refreshed_once_and_retried(api, sandbox, redis):
    interact(sandbox, "o_carol")
    api.send_text("o_carol", "一")
    redis.set(api.tokens.key, "stale-token-from-a-crashed-worker")
    api.send_text("o_carol", "二")  # 40001 → re-read/refresh → retried
    sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": "o_carol"}, timeout=5)
    assert len(sent.json()["messages"]) == 2


def test_system_busy_is_retried_with_backoff(api, sandbox):
    interact(sandbox, "o_dan")
    fault(sandbox, "/cgi-bin/message/custom/send", -1, times=2)
    api.send_text("o_dan", "稍等")
    assert stats(sandbox)["calls"]["/cgi-bin/message/custom/send"] == 3


def test_busy_for_too_long_gives_up(api, sandbox):
    interact(sandbox, "o_erin")
    fault(sandbox, "/cgi-bin/message/custom/send", -1, times=10)
    with pytest.raises(WeChatAPIError) as caught:
        api.send_text("o_erin", "稍等")
    assert caught.value.errcode == -1 and not caught.value.permanent


def test_closed_window_is_permanent_and_not_retried(api, sandbox):
    with pytest.raises(WeChatAPIError) as caught:
        api.send_text("o_never_spoke", "在吗")
    assert caught.value.errcode == 45015 and caught.value.permanent
    assert stats(sandbox)["calls"]["/cgi-bin/message/custom/send"] == 1


def test_wrong_secret_names_the_error_without_the_secret(sandbox, redis):
    api = WeChatAPI(sandbox, APP_ID, "wrong-secret-value", redis)
    with pytest.raises(WeChatAPIError) as caught:
        api.send_text("o_x", "hi")
    assert caught.value.errcode == 40125
    assert "wrong-secret-value" not in str(caught.value)


def test_create_qrcode_carries_the_scene_to_the_follow(api, sandbox):
    code = api.create_qrcode("bargain_42", expire_seconds=7 * 86400)
    assert set(code) == {"ticket", "expire_seconds", "url"}
    assert code["expire_seconds"] == 7 * 86400
    # The simulated follower scans the ticket; the sandbox resolves it to its scene.
    answer = requests.post(f"{sandbox}/sandbox/inbound", timeout=5,
                           json={"openid": "o_scanner", "kind": "subscribe",
                                 "ticket": code["ticket"]})
    assert answer.json() == {"ok": True}
    info = requests.get(f"{sandbox}/sandbox/users/o_scanner", timeout=5).json()["info"]
    assert info["qr_scene_str"] == "bargain_42"
    assert api.create_qrcode("x")["expire_seconds"] == 2592000  # the 30-day default


def test_create_qrcode_refuses_what_wechat_would(api, sandbox):
    for scene, seconds in (("", 60), ("x" * 65, 60), ("ok", 2592001), ("ok", 0)):
        with pytest.raises(ValueError):
            api.create_qrcode(scene, seconds)
    fault(sandbox, "/cgi-bin/qrcode/create", 45009)
    with pytest.raises(WeChatAPIError) as caught:
        api.create_qrcode("quota")
    assert caught.value.errcode == 45009


def visit(url: str, openid: str) -> str:
    """Follow the authorize URL as the browser of `openid` would; returns the code."""
    response = requests.get(url, params={"sandbox_openid": openid}, allow_redirects=False,
                            timeout=5)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    query = parse_qs(location.query)
    assert location.netloc == "shop.example.com" and query["state"] == ["st8"]
    return query["code"][0]


def test_oauth_round_trip_identifies_the_visitor(api, sandbox):
    url = api.oauth_authorize_url("https://shop.example.com/m/me?x=1", "st8")
    assert url.startswith(f"{sandbox}/connect/oauth2/authorize?")
    assert url.endswith("#wechat_redirect") and "scope=snsapi_base" in url
    assert api.oauth_openid(visit(url, "o_visitor")) == "o_visitor"


def test_oauth_code_errors(api, sandbox):
    with pytest.raises(WeChatAPIError) as caught:
        api.oauth_openid("never-issued")
    assert caught.value.errcode == 40029 and caught.value.permanent
    code = visit(api.oauth_authorize_url("https://shop.example.com/m/me", "st8"), "o_again")
    api.oauth_openid(code)
    with pytest.raises(WeChatAPIError) as caught:
        api.oauth_openid(code)
    assert caught.value.errcode == 40163
    assert APP_SECRET not in str(caught.value) and code not in str(caught.value)


def test_oauth_authorize_url_uses_open_weixin_in_production(redis):
    api = WeChatAPI("https://api.weixin.qq.com/", APP_ID, APP_SECRET, redis)
    url = api.oauth_authorize_url("https://shop.example.com/m/me", "s")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "open.weixin.qq.com",
                                                        "/connect/oauth2/authorize")
    assert parse_qs(parts.query) == {
        "appid": [APP_ID], "redirect_uri": ["https://shop.example.com/m/me"],
        "response_type": ["code"], "scope": ["snsapi_base"], "state": ["s"],
    }
    assert parts.fragment == "wechat_redirect" and APP_SECRET not in url


def test_oauth_secret_stays_out_of_network_errors(redis):
    api = WeChatAPI("http://127.0.0.1:9", APP_ID, "very-secret-value", redis, timeout=1)
    with pytest.raises(WeChatAPIError) as caught:
        api.oauth_openid("abc")
    assert caught.value.errcode == -2 and "very-secret-value" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def test_upload_image_gives_a_media_id_an_image_message_can_use(api, sandbox):
    interact(sandbox, "o_dora")
    media_id = api.upload_image(PNG_BYTES)
    api.send_custom("o_dora", {"msgtype": "image", "image": {"media_id": media_id}})
    sent = requests.get(f"{sandbox}/sandbox/sent", params={"touser": "o_dora"}, timeout=5)
    assert [m["body"]["image"]["media_id"] for m in sent.json()["messages"]] == [media_id]


def test_upload_image_refusals_and_token_retry(api, sandbox):
    for data in (b"", PNG_BYTES + b"\0" * (10 * 1024 * 1024)):
        with pytest.raises(ValueError):
            api.upload_image(data)
    with pytest.raises(WeChatAPIError) as caught:
        api.upload_image(b"GIF? no: plain text", "qr.png")
    assert caught.value.errcode == 40005
    fault(sandbox, "/cgi-bin/media/upload", 40001)
    assert api.upload_image(PNG_BYTES)  # the stale token is refreshed and the upload resent
    assert stats(sandbox)["calls"]["/cgi-bin/media/upload"] == 3


def test_upload_image_keeps_the_token_out_of_network_errors(redis):
    redis.set(TOKEN_PREFIX + APP_ID, "very-secret-token")
    api = WeChatAPI("http://127.0.0.1:9", APP_ID, APP_SECRET, redis, timeout=1)
    with pytest.raises(WeChatAPIError) as caught:
        api.upload_image(PNG_BYTES)
    assert caught.value.errcode == -2 and "very-secret-token" not in str(caught.value)
    assert caught.value.__suppress_context__


def test_mass_send_by_openid_list_is_deduped_by_clientmsgid(api, sandbox):
    """WeChat's own idempotency for mass sends: the same clientmsgid again is refused with
    45065 and the first job's msg_id, and nobody receives a second copy."""
    requests.post(f"{sandbox}/sandbox/users", json={"openids": ["o_a", "o_b"]}, timeout=5)
    first = api.mass_send_text(["o_a", "o_b"], "新品上架", "push1-A-0123456789abcdef")
    with pytest.raises(WeChatAPIError) as refused:
        api.mass_send_text(["o_a", "o_b"], "新品上架", "push1-A-0123456789abcdef")
    assert refused.value.errcode == 45065
    sent = requests.get(f"{sandbox}/sandbox/sent", params={"api": "mass/send"}, timeout=5)
    assert sorted(m["touser"] for m in sent.json()["messages"]) == ["o_a", "o_b"]
    assert first["msg_id"]


@pytest.mark.parametrize("openids, clientmsgid", [(["o_a"], "k"), (["o_a", "o_b"], ""),
                                                  (["o_a", "o_b"], "x" * 65)])
def test_mass_send_refuses_what_wechat_would_before_calling(api, sandbox, openids, clientmsgid):
    with pytest.raises(ValueError):
        api.mass_send_text(openids, "新品上架", clientmsgid)
    assert stats(sandbox)["calls"].get("/cgi-bin/message/mass/send", 0) == 0
