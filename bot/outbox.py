"""Customer-service messages sent after the passive reply: late replies and handler follow-ups.

Sends run on a small thread pool so neither the webhook nor a handler waits on WeChat. A refusal
WeChat means (45015: the 48-hour window is closed; 45047: the window's quota is used up) is
logged as such — there is nothing to retry — and every other failure is logged without secrets.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor

import requests

from bot.replies import Reply, TextReply
from bot.wechat_api import WeChatAPI, WeChatAPIError

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, api: WeChatAPI, threads: int = 4):
        self.api = api
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")

    def send(self, openid: str, reply: Reply | str) -> Future:
        """Queue one customer-service message to `openid`; returns a future of success."""
        message = reply if isinstance(reply, Reply) else TextReply(reply)
        return self._pool.submit(self._send, openid, message)

    def _send(self, openid: str, reply: Reply) -> bool:
        try:
            self.api.send_custom(openid, reply.as_custom_message())
            return True
        except WeChatAPIError as error:
            kind = "refused" if error.permanent else "failed"
            log.warning(
                "customer-service message to %s %s: %s %s",
                openid,
                kind,
                error.errcode,
                error.errmsg,
            )
        except requests.RequestException as error:
            log.warning("customer-service message to %s failed: %s", openid, type(error).__name__)
        return False

    def close(self) -> None:
        self._pool.shutdown(wait=True)
