"""Run the matched handler within WeChat's time budget ("ack now, finish later").

WeChat abandons a request after 5 s. The handler runs on a worker thread; if it has not
answered within the budget (~4 s), the webhook answers `success`, and when the handler does
finish its reply goes out through the customer-service API instead. The Redis ledger decides
atomically which of the two happened, so the customer gets the reply exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis

from bot.dedup import Claim, Ledger
from bot.inbound import Inbound
from bot.middleware import Delivery, WebhookResponse
from bot.outbox import Outbox
from bot.replies import SUCCESS, Reply, TextReply, coerce, render
from bot.router import Dispatcher
from bot.session import Conversation
from bot.wechat import MessageCrypto

log = logging.getLogger("bot.webhook")

SORRY = "抱歉，系统开小差了，请稍后再试。"
ContextFactory = Callable[[Inbound, Conversation], object]


class HandlerRunner:
    """The last step of the chain: dispatch, run with a deadline, store the reply."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        ledger: Ledger,
        make_context: ContextFactory,
        outbox: Outbox,
        crypto: MessageCrypto | None,
        budget: float,
        threads: int,
    ):
        self.dispatcher = dispatcher
        self.ledger = ledger
        self.make_context = make_context
        self.outbox = outbox
        self.crypto = crypto
        self.budget = budget
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="handler")

    def __call__(self, delivery: Delivery) -> WebhookResponse:
        msg, claim = delivery.msg, delivery.claim
        assert msg is not None and claim is not None
        deadline = delivery.received + self.budget
        future = self.pool.submit(self.run_turn, msg, claim, delivery.safe_mode, deadline)
        try:
            return WebhookResponse.xml(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except FutureTimeout:
            stored = self.ledger.give_up(msg.dedup_id, claim.pending)
            if stored is None:
                log.warning(
                    "handler for %s is slow; answered success, reply follows later", msg.dedup_id
                )
                return WebhookResponse.xml(SUCCESS)
            return WebhookResponse.xml(stored)  # it finished in the instant we gave up

    def run_turn(self, msg: Inbound, claim: Claim, safe_mode: bool, deadline: float) -> bytes:
        """Handle one message on a worker thread; returns the response body it stored."""
        state = claim.state
        if not claim.locked:  # another message of this customer is being handled
            state = self.ledger.wait_for_lock(msg.openid, claim.lock_token, deadline)
        reply, conversation = self._call_handler(msg, state)
        body = self.response_body(reply, msg, safe_mode)
        try:
            on_time = self.ledger.finish(
                msg.dedup_id, msg.openid, body, conversation.dump(), claim.lock_token,
                conversation.ttl_seconds, claim.pending,
            )
        except redis.RedisError:
            if time.monotonic() < deadline:
                raise  # the webhook is still waiting: it answers 503 and WeChat retries
            # The webhook already answered `success` for a reply to follow: it must not be lost
            # with the Redis that could not record it.
            log.exception("could not record the reply to %s; sending it now", msg.dedup_id)
            on_time = False
        if not on_time and reply is not None:
            self.outbox.send(msg.openid, reply)
        return body

    def _call_handler(self, msg: Inbound, state: bytes | None) -> tuple[Reply | None, Conversation]:
        conversation = Conversation(state)
        route = self.dispatcher.resolve(msg, conversation.get_state())
        if route is None:
            return None, conversation
        try:
            return coerce(route.handler(msg, self.make_context(msg, conversation))), conversation
        except Exception:
            log.exception("handler %s failed on %s", route.describe, msg.dedup_id)
            # The customer gets an apology; the conversation stays as it was before the failure.
            return TextReply(SORRY), Conversation(state)

    def response_body(self, reply: Reply | None, msg: Inbound, safe_mode: bool) -> bytes:
        if reply is None:
            return SUCCESS
        xml = render(reply, to_user=msg.openid, from_user=msg.account, create_time=int(time.time()))
        if safe_mode and self.crypto is not None:
            xml = self.crypto.encrypt_reply(xml)
        return xml.encode()
