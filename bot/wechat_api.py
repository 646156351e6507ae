"""The outbound WeChat API client, with one access token shared by every worker.

WeChat invalidates the previous token whenever a new one is fetched, so workers that each fetch
their own knock each other out (40001). Here the token lives in Redis; one holder of a Redis
lock fetches it from the `stable_token` endpoint while the others wait for the result, and a
call that meets 40001/40014/42001 re-reads the shared token (refreshing it only if nobody did
yet) and is retried once. `WECHAT_API_BASE` points the client at the local sandbox.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import time
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import redis
import requests

log = logging.getLogger(__name__)

TOKEN_PREFIX = "wechat:token:"
TICKET_PREFIX = "wechat:jsapi_ticket:"
TOKEN_ERRORS = {40001, 40014, 42001}
#: Codes after which sending the same thing again cannot succeed (see WECHAT_API.md §3).
PERMANENT_ERRORS = {
    40003,
    40013,
    40029,  # oauth2: invalid or expired code
    40037,
    40125,
    40130,
    40163,  # oauth2: code been used
    43004,
    43019,
    43101,
    45015,
    45047,
    45065,
    45067,
    47001,
    47003,
    48001,
}
BUSY_RETRIES = 3
LOCK_MS = 10_000
REAL_API_HOST = "api.weixin.qq.com"
#: The authorize page lives on another host than the API on the real platform only; the
#: sandbox serves both, so a non-WeChat base is used for the page as well.
REAL_AUTHORIZE_BASE = "https://open.weixin.qq.com"
QR_MAX_EXPIRE = 30 * 86400  # temporary QR codes live at most 30 days (WECHAT_API.md §5F)
QR_SCENE_MAX = 64
#: The chat log hands out at most this many records a call (getmsglist `number`).
CHAT_LOG_PAGE = 10_000
IMAGE_MAX_BYTES = 10 * 1024 * 1024  # temporary image media: bmp/png/jpeg/jpg/gif, ≤10 MB
MASS_MIN_OPENIDS, MASS_MAX_OPENIDS = 2, 10_000  # mass/send by openid list (40130 below 2)
CLIENTMSGID_MAX_BYTES = 64  # 45067 above


class WeChatAPIError(Exception):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def permanent(self) -> bool:
        return self.errcode in PERMANENT_ERRORS


class TokenStore:
    """The account's access token in Redis, refreshed by one lock holder at a time."""

    def __init__(self, client: redis.Redis, fetch: Any, app_id: str, wait_seconds: float = 10.0,
                 prefix: str = ""):
        self.redis = client
        self._fetch = fetch  # (force: bool) -> (token, expires_in)
        self.key = (prefix or TOKEN_PREFIX) + app_id
        self.wait_seconds = wait_seconds

    def get(self) -> str:
        return _text(self.redis.get(self.key)) or self.refresh(stale=None)

    def refresh(self, stale: str | None) -> str:
        """A fresh token; `stale` is the one WeChat just refused (None: there was none)."""
        lock = self.key + ":lock"
        me = uuid.uuid4().hex
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            current = _text(self.redis.get(self.key))
            if current and current != stale:
                return current  # someone else refreshed it meanwhile
            if self.redis.set(lock, me, nx=True, px=LOCK_MS):
                try:
                    return self._refresh_locked(stale)
                finally:
                    self._unlock(lock, me)
            time.sleep(0.05)
        raise WeChatAPIError(-1, "timed out waiting for another worker to refresh the token")

    def _refresh_locked(self, stale: str | None) -> str:
        current = _text(self.redis.get(self.key))
        if current and current != stale:
            return current
        token, expires_in = self._fetch(force=False)
        if token == stale:  # the stable token itself was revoked: ask for a new one
            token, expires_in = self._fetch(force=True)
        # Keep a margin so no worker uses a token in its last minute.
        self.redis.set(self.key, token, ex=max(60, int(expires_in) - 120))
        log.info("%s refreshed (valid %ss)", self.key.rsplit(":", 1)[0], expires_in)
        return token

    def _unlock(self, lock: str, me: str) -> None:
        self.redis.eval(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end",
            1,
            lock,
            me,
        )


class WeChatAPI:
    """Calls api.weixin.qq.com (or the sandbox) with the shared token and WeChat's retry rules."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        app_secret: str,
        client: redis.Redis,
        *,
        timeout: float = 5.0,
        backoff: float = 0.2,
    ):
        self.base_url = base_url.rstrip("/")
        self.app_id = app_id
        self._secret = app_secret
        self.http = requests.Session()
        self.timeout = timeout
        self.backoff = backoff
        self.tokens = TokenStore(client, self._fetch_token, app_id)
        # The JS-SDK's jsapi_ticket: like the token, one per account, shared by every worker.
        self.tickets = TokenStore(client, self._fetch_ticket, app_id, prefix=TICKET_PREFIX)

    def _fetch_token(self, force: bool) -> tuple[str, int]:
        body = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._secret,
            "force_refresh": force,
        }
        data = self._post_json("/cgi-bin/stable_token", body, params={})
        if "access_token" not in data:
            raise WeChatAPIError(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
        return data["access_token"], int(data.get("expires_in", 7200))

    def _fetch_ticket(self, force: bool) -> tuple[str, int]:
        data = self.call("GET", "/cgi-bin/ticket/getticket", params={"type": "jsapi"})
        return str(data["ticket"]), int(data.get("expires_in", 7200))

    def jsapi_ticket(self) -> str:
        """The ticket pages sign `wx.config` with (cached in Redis until shortly before expiry)."""
        return self.tickets.get()

    def _post_json(self, path: str, body: Any, params: dict[str, str]) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False).encode()  # WeChat wants raw UTF-8
        response = self.http.post(
            self.base_url + path,
            params=params,
            data=payload,
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        )
        return _json(response)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        retry_busy: bool = True,
    ) -> dict[str, Any]:
        """Call one endpoint; returns the JSON on errcode 0, raises WeChatAPIError otherwise.

        `files` ({field: (filename, bytes, content type)}) POSTs a multipart form instead of
        JSON, as WeChat's media uploads want. `retry_busy=False` raises on the first -1
        instead of retrying it BUSY_RETRIES times here: for a caller that owns its own
        back-off (the push sender), since a -1 that followed delivery makes each retry a copy."""
        token_retried, busy = False, 0
        while True:
            token = self.tokens.get()
            query = {**(params or {}), "access_token": token}
            if method == "GET":
                data = _json(
                    self.http.get(self.base_url + path, params=query, timeout=self.timeout)
                )
            elif files is not None:
                data = _json(self.http.post(self.base_url + path, params=query, files=files,
                                            timeout=self.timeout))
            else:
                data = self._post_json(path, body or {}, query)
            code = int(data.get("errcode", 0) or 0)
            if code == 0:
                return data
            if code in TOKEN_ERRORS and not token_retried:
                token_retried = True
                self.tokens.refresh(stale=token)
                continue
            if code == -1 and retry_busy and busy < BUSY_RETRIES:
                busy += 1
                time.sleep(self.backoff * 2 ** (busy - 1))
                continue
            raise WeChatAPIError(code, str(data.get("errmsg", "")))

    def send_custom(self, openid: str, message: dict[str, Any], *,
                    retry_busy: bool = True) -> dict[str, Any]:
        """A customer-service message (only within 48 h of the customer's last interaction)."""
        return self.call("POST", "/cgi-bin/message/custom/send", {"touser": openid, **message},
                         retry_busy=retry_busy)

    def send_text(self, openid: str, content: str, *, retry_busy: bool = True,
                  kf_account: str = "") -> dict[str, Any]:
        """A text customer-service message; `kf_account` sends it as that agent
        (`prefix@account`), which also files it in the agents' chat log (`chat_log`)."""
        message: dict[str, Any] = {"msgtype": "text", "text": {"content": content}}
        if kf_account:
            message["customservice"] = {"kf_account": kf_account}
        return self.send_custom(openid, message, retry_busy=retry_busy)

    def chat_log(self, start: int, end: int, msgid: int = 1,
                 number: int = CHAT_LOG_PAGE) -> dict[str, Any]:
        """One page of the customer-service chat log between two Unix times (at most 24 h
        apart): {"recordlist": [{openid, opercode, text, time, worker}], "number", "msgid"};
        the next page starts at the returned `msgid`. What the push sender reads to learn
        whether a call whose answer it never got did go out."""
        return self.call("POST", "/customservice/msgrecord/getmsglist",
                         {"starttime": int(start), "endtime": int(end), "msgid": int(msgid),
                          "number": int(number)})

    def send_template(self, openid: str, template_id: str, data: dict[str, str], *,
                      client_msg_id: str = "") -> dict[str, Any]:
        """A template message (服务通知): allowed outside the 48-hour window, for service
        notices only. `data` is {field: value}; a repeated `client_msg_id` within about ten
        minutes is delivered once."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id,
                                "data": {key: {"value": value} for key, value in data.items()}}
        if client_msg_id:
            body["client_msg_id"] = client_msg_id
        return self.call("POST", "/cgi-bin/message/template/send", body)

    def send_subscribe_notice(self, openid: str, template_id: str, data: dict[str, str], *,
                              page: str = "", retry_busy: bool = True) -> dict[str, Any]:
        """A subscription notice (订阅通知): spends one opt-in the customer gave for
        `template_id` (43101 when none is left). `data` is {field: value}."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id,
                                "data": {key: {"value": value} for key, value in data.items()}}
        if page:
            body["page"] = page
        return self.call("POST", "/cgi-bin/message/subscribe/bizsend", body,
                         retry_busy=retry_busy)

    def mass_send_text(self, openids: list[str], text: str, clientmsgid: str, *,
                       retry_busy: bool = True) -> dict[str, Any]:
        """A text mass send (群发) to an openid list: 服务号 only, 2..10 000 openids, each
        follower receiving at most 4 a month. `clientmsgid` (≤ 64 bytes) makes a resend
        within 24 h harmless: WeChat refuses it with 45065 and the first job's msg_id, so a
        sender that lost the first answer can simply send again.

        Returns {"msg_id", ...} (the job is accepted, not yet delivered); raises
        WeChatAPIError on an errcode and ValueError, before any call, on a list or id WeChat
        would refuse (40130, 45067).
        """
        if not MASS_MIN_OPENIDS <= len(openids) <= MASS_MAX_OPENIDS:
            raise ValueError(f"a mass send takes {MASS_MIN_OPENIDS}..{MASS_MAX_OPENIDS} openids")
        if not clientmsgid or len(clientmsgid.encode()) > CLIENTMSGID_MAX_BYTES:
            raise ValueError(f"clientmsgid must be 1..{CLIENTMSGID_MAX_BYTES} bytes")
        body = {"touser": list(openids), "msgtype": "text", "text": {"content": text},
                "clientmsgid": clientmsgid}
        return self.call("POST", "/cgi-bin/message/mass/send", body, retry_busy=retry_busy)

    def upload_image(self, data: bytes, filename: str = "qr.png") -> str:
        """Upload `data` as temporary image media (WeChat keeps it 3 days); returns its
        media_id, e.g. for an image customer-service message.

        Raises ValueError, before any call, on an empty or over-10 MB image; WeChatAPIError on
        an errcode (40005 not an image format WeChat takes, 40006 size, 41005 no data) or on
        a network failure, whose message then names only its kind: requests would quote the
        URL, access token included.
        """
        if not data:
            raise ValueError("the image is empty")
        if len(data) > IMAGE_MAX_BYTES:
            raise ValueError(f"the image is over {IMAGE_MAX_BYTES} bytes")
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        try:
            answer = self.call("POST", "/cgi-bin/media/upload", params={"type": "image"},
                               files={"media": (filename, data, content_type)})
        except requests.RequestException as error:
            raise WeChatAPIError(-2, f"media upload failed ({type(error).__name__})") from None
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise WeChatAPIError(-2, "no media_id in the upload answer")
        return media_id

    def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        return self.call("POST", "/cgi-bin/menu/create", menu)

    def get_menu(self) -> dict[str, Any]:
        return self.call("GET", "/cgi-bin/menu/get")

    def create_qrcode(self, scene: str, expire_seconds: int = QR_MAX_EXPIRE) -> dict[str, Any]:
        """A temporary QR code carrying `scene` (QR_STR_SCENE), for campaigns that must learn
        which poster a new follower scanned: the follow event then says `qrscene_<scene>`.

        Temporary codes are used because permanent ones are capped at 100 000 per account.
        Returns {"ticket", "expire_seconds", "url"}; raises WeChatAPIError on an errcode and
        ValueError, before any call, on a scene or lifetime WeChat would refuse.
        """
        if not 0 < len(scene) <= QR_SCENE_MAX:
            raise ValueError(f"scene must be 1..{QR_SCENE_MAX} characters")
        if not 0 < expire_seconds <= QR_MAX_EXPIRE:
            raise ValueError(f"expire_seconds must be 1..{QR_MAX_EXPIRE}")
        body = {"expire_seconds": expire_seconds, "action_name": "QR_STR_SCENE",
                "action_info": {"scene": {"scene_str": scene}}}
        data = self.call("POST", "/cgi-bin/qrcode/create", body)
        return {"ticket": data["ticket"], "expire_seconds": data.get("expire_seconds"),
                "url": data.get("url")}

    def oauth_authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where a mobile page sends the browser to learn its visitor's openid silently
        (snsapi_base: no consent page, works for visitors who do not follow).

        WeChat serves this page on open.weixin.qq.com, not on the API host; against the
        sandbox (any other WECHAT_API_BASE) the configured base serves it.
        """
        host = urlsplit(self.base_url).hostname
        base = REAL_AUTHORIZE_BASE if host == REAL_API_HOST else self.base_url
        query = urlencode({"appid": self.app_id, "redirect_uri": redirect_uri,
                           "response_type": "code", "scope": "snsapi_base", "state": state})
        return f"{base}/connect/oauth2/authorize?{query}#wechat_redirect"

    def oauth_openid(self, code: str) -> str:
        """The openid behind a web-authorisation `code` (valid 5 minutes, usable once).

        This endpoint authenticates with appid + secret, not with the shared access token, so
        it bypasses `call`; a failure raises WeChatAPIError with WeChat's errcode (40029
        invalid code, 40163 code been used) and never the secret or the code itself.
        """
        params = {"appid": self.app_id, "secret": self._secret, "code": code,
                  "grant_type": "authorization_code"}
        try:
            response = self.http.get(self.base_url + "/sns/oauth2/access_token", params=params,
                                     timeout=self.timeout)
        except requests.RequestException as error:
            # requests puts the URL, secret included, in its message: keep only the kind.
            raise WeChatAPIError(-2, f"oauth2 exchange failed ({type(error).__name__})") from None
        data = _json(response)
        openid = data.get("openid")
        if not data.get("errcode") and isinstance(openid, str) and openid:
            return openid
        errcode = int(data.get("errcode") or -2)
        log.info("oauth2 code exchange refused: errcode %s", errcode)
        raise WeChatAPIError(errcode, str(data.get("errmsg", "no openid in the answer")))

    def list_tags(self) -> list[dict[str, Any]]:
        """The account's user tags (用户标签): [{"id", "name", "count"}], reserved 星标组 (2)
        included. What campaigns/tags.py mirrors so pushes can be narrowed by tag."""
        tags = self.call("GET", "/cgi-bin/tags/get").get("tags")
        if not isinstance(tags, list):
            raise WeChatAPIError(-2, "no tag list in the answer")
        return tags

    def tag_members(self, tagid: int, next_openid: str = "") -> dict[str, Any]:
        """One page of the followers carrying `tagid`: {"count", "data": {"openid": [...]},
        "next_openid"}; the next page starts after `next_openid` (the last page answers an
        empty one, or a page with count 0)."""
        return self.call("POST", "/cgi-bin/user/tag/get",
                         {"tagid": int(tagid), "next_openid": next_openid})


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise WeChatAPIError(-2, f"non-JSON answer (HTTP {response.status_code})") from None
    if not isinstance(data, dict):
        raise WeChatAPIError(-2, "unexpected JSON answer")
    return data


def _text(value: bytes | str | None) -> str | None:
    """A Redis value as text (the client returns bytes: it is not made with decode_responses)."""
    return value.decode() if isinstance(value, bytes) else value
