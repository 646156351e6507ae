"""Probe a running bot as its users would (scripts/check-production.sh): health, a signed
WeChat message, and a console session that holds on every worker. Exit 1 with the reason."""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time

import requests


def wait_healthy(base: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            answer = requests.get(f"{base}/healthz", timeout=2)
            if answer.status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or the worker still loading
            pass
        time.sleep(0.5)
    sys.exit(f"probe: {base}/healthz never answered 200")


def signed_message(base: str, text: str) -> str:
    token = os.environ["WECHAT_TOKEN"]
    timestamp, nonce = str(int(time.time())), str(time.time_ns())
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    body = (
        "<xml><ToUserName><![CDATA[gh_check]]></ToUserName>"
        "<FromUserName><![CDATA[o_probe_user]]></FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{time.time_ns()}</MsgId></xml>"
    )
    answer = requests.post(
        f"{base}/wechat",
        params={"signature": signature, "timestamp": timestamp, "nonce": nonce},
        data=body.encode(), timeout=10,
    )
    if answer.status_code != 200 or "<xml>" not in answer.text:
        sys.exit(f"probe: the webhook answered {answer.status_code}: {answer.text[:200]!r}")
    return answer.text


def console_session_holds(base: str, requests_after: int = 20) -> None:
    session = requests.Session()
    page = session.get(f"{base}/admin/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not token:
        sys.exit("probe: the sign-in page has no CSRF token")
    signed_in = session.post(
        f"{base}/admin/login",
        data={"username": "admin", "password": os.environ["ADMIN_PASSWORD"],
              "csrf_token": token.group(1)},
        timeout=10, allow_redirects=False,
    )
    if signed_in.status_code not in (302, 303):
        sys.exit(f"probe: signing in answered {signed_in.status_code}")
    lost = sum(
        "/admin/login" in session.get(f"{base}/admin/account", timeout=10,
                                      allow_redirects=False).headers.get("Location", "")
        for _ in range(requests_after)
    )
    if lost:
        sys.exit(f"probe: {lost} of {requests_after} console requests lost the session")


def main() -> None:
    base = sys.argv[1].rstrip("/")
    wait_healthy(base)
    signed_message(base, "帮助")
    console_session_holds(base)
    print("probe: /healthz 200, a signed message answered, the console session held")


if __name__ == "__main__":
    main()
