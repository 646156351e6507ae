"""Handlers register on a per-module `Router`; a `Dispatcher` built per app picks one per message.

A Router only records (like a Flask blueprint), so every app — and every test — builds a fresh
Dispatcher from `handlers.ROUTERS`; the order of that list is the precedence, catch-all last.

    router = Router("bargain")

    @router.text("砍价", "帮我砍")          # exact keywords (case- and width-insensitive)
    @router.regex(r"^砍价\\s*(\\d+)$")
    @router.intent("砍价", "砍一刀")        # any of these jieba words in the message
    @router.click("MENU_BARGAIN")           # menu EventKey
    @router.event("subscribe")              # event type
    @router.scan(prefix="bargain:")         # parametric QR scene, on follow or on scan
    @router.message("image", "voice")       # message types; no argument = any message
    @router.state("bargain:*")              # while a multi-step flow is at that step
    def start_bargain(msg: Inbound, ctx: ChatContext) -> Reply | str | None: ...

    @router.around("bargain:*", when=...)   # wraps the routes after it (see Router.around)
    def set_aside(msg: Inbound, ctx: ChatContext, call_next: CallNext) -> Reply | str | None: ...
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from bot.inbound import Inbound
from bot.replies import Reply
from core.text import normalize

#: A handler takes the message and the context the app builds for it (handlers/context.py's
#: ChatContext; this layer does not know its fields, so it is typed loosely here).
Handler = Callable[[Inbound, Any], "Reply | str | None"]
#: What a guard calls to go on: the first later route that takes the message, run as if the
#: conversation were at the given step (None: no flow under way); None when no route takes it.
CallNext = Callable[[str | None], "Reply | str | None"]
Guard = Callable[[Inbound, Any, CallNext], "Reply | str | None"]


class Incoming:
    """The message plus things several matchers need, computed at most once."""

    def __init__(self, msg: Inbound, state: str | None = None):
        self.msg = msg
        self.state = state  # the customer's conversation step, if a flow is under way

    @cached_property
    def normalized(self) -> str:
        return normalize(self.msg.text)

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(w for w in segment(self.normalized) if w.strip())


# Intent words go into jieba's dictionary so "帮我砍一刀" keeps "砍一刀" whole. They are added
# on first use, not at import, because touching jieba loads its 0.7 s dictionary.
_pending_words: set[str] = set()
_words_lock = threading.Lock()


def segment(text: str) -> list[str]:
    """jieba's segmentation, with every registered intent word kept as one token."""
    import jieba

    if _pending_words:
        with _words_lock:
            while _pending_words:
                jieba.add_word(_pending_words.pop())
    return jieba.lcut(text)


def warm_up() -> None:
    """Load jieba's dictionary now, so the first customer doesn't wait for it."""
    segment("预热")


Matcher = Callable[[Incoming], bool]
_WINDOW_EVENTS = {"click", "scancode_push", "scancode_waitmsg", "subscribe", "scan"}


@dataclass(frozen=True)
class Route:
    matcher: Matcher
    handler: Handler
    describe: str  # for logs and `python -m bot routes`
    guard: Guard | None = None  # set for Router.around: it wraps the routes after it


def _refuse_direct_call(msg: Inbound, ctx: Any) -> None:
    raise TypeError("a guard runs through Dispatcher.resolve, which gives it call_next")


@dataclass
class Router:
    """Records routes in declaration order; matching is the Dispatcher's job."""

    name: str
    routes: list[Route] = field(default_factory=list)

    def _add(self, matcher: Matcher, describe: str) -> Callable[[Handler], Handler]:
        def decorator(handler: Handler) -> Handler:
            self.routes.append(
                Route(matcher, handler, f"{self.name}.{handler.__name__} {describe}")
            )
            return handler

        return decorator

    def text(self, *keywords: str) -> Callable[[Handler], Handler]:
        wanted = {normalize(k) for k in keywords}
        return self._add(lambda i: _is_text(i) and i.normalized in wanted, f"text{sorted(wanted)}")

    def regex(self, pattern: str, flags: int = 0) -> Callable[[Handler], Handler]:
        compiled = re.compile(pattern, flags)
        return self._add(
            lambda i: _is_text(i) and bool(compiled.search(i.normalized)), f"regex({pattern})"
        )

    def intent(self, *words: str) -> Callable[[Handler], Handler]:
        wanted = frozenset(normalize(w) for w in words)
        _pending_words.update(wanted)
        return self._add(
            lambda i: _is_text(i) and bool(i.words & wanted), f"intent{sorted(wanted)}"
        )

    def click(self, *keys: str) -> Callable[[Handler], Handler]:
        wanted = set(keys)
        return self._add(
            lambda i: i.msg.event == "click" and i.msg.event_key in wanted, f"click{sorted(wanted)}"
        )

    def event(self, *events: str) -> Callable[[Handler], Handler]:
        wanted = {e.lower() for e in events}
        return self._add(
            lambda i: i.msg.kind == "event" and i.msg.event in wanted, f"event{sorted(wanted)}"
        )

    def scan(self, prefix: str = "") -> Callable[[Handler], Handler]:
        def matches(i: Incoming) -> bool:
            scene = i.msg.scene
            return scene is not None and scene.startswith(prefix)

        return self._add(matches, f"scan(prefix={prefix!r})")

    def state(self, *states: str, kinds: Iterable[str] = ()) -> Callable[[Handler], Handler]:
        """While the conversation is at one of these steps ("order:qty", or "order:*").

        `kinds` limits it to those message types (e.g. text and location), so a menu click in
        the middle of a flow still reaches its own handler.
        """
        exact = {s for s in states if not s.endswith("*")}
        prefixes = tuple(s[:-1] for s in states if s.endswith("*"))
        allowed = set(kinds)

        def matches(i: Incoming) -> bool:
            if allowed and i.msg.kind not in allowed:
                return False
            return i.state is not None and (i.state in exact or i.state.startswith(prefixes))

        return self._add(matches, f"state{sorted(states)}")

    def around(self, *states: str, when: Matcher | None = None) -> Callable[[Guard], Guard]:
        """Wrap the routes after this one, like aiogram's inner middleware or Bolt's `next`.

        While the conversation is at one of `states` (none given: at any step, or none) and
        `when` holds, the guard gets the message, the context and `call_next(step)`, which runs
        the first later route that takes the message at that step. So a flow can step aside
        for a command (call_next(None)) and say so, or see every reply of a flow step.
        """
        exact = {s for s in states if not s.endswith("*")}
        prefixes = tuple(s[:-1] for s in states if s.endswith("*"))

        def matches(i: Incoming) -> bool:
            if states and (i.state is None or not (i.state in exact
                                                   or i.state.startswith(prefixes))):
                return False
            return when is None or when(i)

        def decorator(guard: Guard) -> Guard:
            self.routes.append(Route(matches, _refuse_direct_call,
                                     f"{self.name}.{guard.__name__} around{sorted(states)}",
                                     guard))
            return guard

        return decorator

    def message(self, *kinds: str) -> Callable[[Handler], Handler]:
        wanted = set(kinds)
        return self._add(
            lambda i: i.msg.kind != "event" and (not wanted or i.msg.kind in wanted),
            f"message{sorted(wanted) or '(any)'}",
        )


def _is_text(incoming: Incoming) -> bool:
    # A voice message with WeChat's speech recognition counts as text for keyword matching.
    return bool(incoming.msg.text) and incoming.msg.kind in ("text", "voice")


def opens_service_window(msg: Inbound) -> bool:
    """Whether WeChat counts this as the customer interacting (48-hour service window)."""
    return msg.kind != "event" or msg.event in _WINDOW_EVENTS


class Dispatcher:
    """The app's routes, flattened in precedence order."""

    def __init__(self, routers: Iterable[Router]):
        self.routes: list[Route] = [route for router in routers for route in router.routes]

    def resolve(self, msg: Inbound, state: str | None = None, start: int = 0) -> Route | None:
        """The first route from `start` on that takes the message; a guard comes back bound
        to the routes after it."""
        incoming = Incoming(msg, state)
        for index in range(start, len(self.routes)):
            route = self.routes[index]
            if not route.matcher(incoming):
                continue
            if route.guard is None:
                return route
            return Route(route.matcher, partial(self._guarded, route.guard, index + 1),
                         route.describe)
        return None

    def _guarded(self, guard: Guard, after: int, msg: Inbound, ctx: Any) -> Reply | str | None:
        def call_next(state: str | None) -> Reply | str | None:
            route = self.resolve(msg, state, after)
            if route is None:
                return None
            try:
                return route.handler(msg, ctx)
            except Exception as error:
                error.add_note(f"in {route.describe}")  # the runner logs the guard's name only
                raise

        return guard(msg, ctx, call_next)
