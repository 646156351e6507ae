"""ChatContext: everything a handler may use besides the message, declared in one place.

The app factory (bot/app.py) builds one per message. A handler that needs something not
listed here should add it here, typed, rather than reach into the app: that keeps what the
chat can touch visible, and lets tests build a context from real parts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from sqlalchemy.orm import Session, sessionmaker

from bot.inbound import Inbound
from bot.outbox import Outbox
from bot.replies import Reply
from bot.session import Conversation
from bot.wechat_api import WeChatAPI
from core.storage import Storage
from shop.wxpay import WxPay


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ChatContext:
    msg: Inbound
    conversation: Conversation  # this customer's flow step and its data (Redis, with a TTL)
    config: Mapping[str, Any]  # the validated configuration (core/config.py and the checks)
    api: WeChatAPI  # WeChat's API with the shared access token
    outbox: Outbox  # customer-service messages sent after the reply
    sessions: sessionmaker[Session]
    redis: redis.Redis
    wxpay: WxPay | None  # None: WeChat Pay is not configured
    log: logging.Logger
    clock: Callable[[], datetime] = field(default=_utc_now)

    def db(self) -> AbstractContextManager[Session]:
        """A SQL session in a transaction: `with ctx.db() as db: ...` commits on exit."""
        return self.sessions.begin()

    def now(self) -> datetime:
        """The current time in UTC (tests may pass a fixed clock)."""
        return self.clock()

    @property
    def storage(self) -> Storage:
        """The handles as the domains' functions take them (as jobs and the console pass)."""
        return Storage(engine=self.sessions.kw.get("bind"), sessions=self.sessions,
                       redis=self.redis, wxpay=self.wxpay, wechat=self.api,
                       settings=dict(self.config))

    def send_later(self, reply: Reply | str) -> None:
        """Send a follow-up to this customer through the customer-service API."""
        self.outbox.send(self.msg.openid, reply)
