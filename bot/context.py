"""The one object every handler receives next to the message (see ChatContext in router.py)."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy.orm import Session

from bot.inbound import Inbound
from bot.outbox import Outbox
from bot.replies import Reply
from bot.session import Conversation
from bot.storage import Storage
from bot.wechat_api import WeChatAPI


@dataclass
class BotContext:
    msg: Inbound
    conversation: Conversation
    storage: Storage
    api: WeChatAPI
    outbox: Outbox
    config: dict[str, Any]
    log: logging.Logger

    def db(self) -> AbstractContextManager[Session]:
        """A SQL session in a transaction: `with ctx.db() as db: ...` commits on exit."""
        return self.storage.sessions.begin()

    @property
    def redis(self) -> redis.Redis:
        return self.storage.redis

    def send_later(self, reply: Reply | str) -> None:
        """Send a follow-up to this customer through the customer-service API."""
        self.outbox.send(self.msg.openid, reply)
