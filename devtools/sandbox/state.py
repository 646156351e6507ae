"""All of the sandbox's memory, behind one lock.

Views take `state.lock` around every read-modify-write, because the threaded test server runs
requests concurrently (ten workers racing for a token is exactly what tests want to provoke).
`interact` is the one rule that spans parts: a user's action changes follow status, opens a
customer-service allowance and may grant a subscription opt-in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from devtools.sandbox.rules.clock import SandboxClock
from devtools.sandbox.rules.faults import Faults
from devtools.sandbox.rules.followers import PAGE_SIZE, Followers
from devtools.sandbox.rules.mass import MassLedger
from devtools.sandbox.rules.notices import Notices
from devtools.sandbox.rules.oauth import OAuthCodes
from devtools.sandbox.rules.outbox import Outbox
from devtools.sandbox.rules.qrcodes import QrCodes
from devtools.sandbox.rules.quotas import Quotas
from devtools.sandbox.rules.stats import Stats
from devtools.sandbox.rules.tags import TagBook
from devtools.sandbox.rules.tokens import TokenBook
from devtools.sandbox.rules.windows import ServiceWindows

if TYPE_CHECKING:
    from devtools.sandbox.media import StoredMedia

KINDS = ("message", "click", "subscribe", "scan", "unsubscribe", "payment", "event",
         "subscribe_msg")
#: Only a follower can send a message, click the menu or get a SCAN event, so these imply one.
IMPLIES_FOLLOW = ("message", "click", "scan")


class SandboxState:
    """Tokens, followers, windows, jobs, outbox, media, faults and counters of one fake account."""

    def __init__(self, app_id: str, app_secret: str,
                 clock: Callable[[], float] | None = None,
                 daily_limits: Mapping[str, int] | None = None,
                 page_size: int = PAGE_SIZE,
                 template_ids: Iterable[str] | None = None,
                 oauth_domains: Iterable[str] | None = None) -> None:
        self.lock = threading.Lock()
        self.app_id = app_id
        self.app_secret = app_secret
        self.clock = SandboxClock(clock)
        self.page_size = page_size
        self.template_ids = set(template_ids) if template_ids is not None else None
        # 网页授权域名: hosts a redirect_uri may point at; None = any (else 10003).
        self.oauth_domains = set(oauth_domains) if oauth_domains is not None else None
        self._daily_limits = dict(daily_limits or {})
        self.reset()

    def reset(self) -> None:
        """Forget everything, as a brand-new account would (the clock offset too)."""
        self.clock.offset = 0.0
        self.tokens = TokenBook()
        self.followers = Followers()
        self.tags = TagBook()
        self.windows = ServiceWindows()
        self.mass = MassLedger()
        self.notices = Notices()
        self.outbox = Outbox()
        self.faults = Faults()
        self.stats = Stats()
        self.quotas = Quotas(self._daily_limits)
        self.qrcodes = QrCodes()
        self.oauth = OAuthCodes()
        self.media: dict[str, StoredMedia] = {}  # temporary media by media_id (media.py)
        self.menu: dict[str, Any] | None = None
        self.jsapi_ticket: tuple[str, float] | None = None  # (ticket, issued at)

    def now(self) -> float:
        return self.clock.now()

    def interact(self, openid: str, kind: str, at: float, scene: int | str | None = None,
                 template_id: str | None = None, accept: bool = True) -> None:
        """What WeChat learns when the user acts: follow status, allowances, opt-ins."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        user = self.followers.ensure(openid)
        user.last_interaction = at
        if kind == "unsubscribe":
            self.followers.unfollow(openid)
            self.windows.close(openid)
            return
        if kind == "subscribe_msg":
            if not template_id:
                raise ValueError("subscribe_msg needs a template_id")
            (self.notices.accept if accept else self.notices.refuse)(openid, template_id)
            return
        if kind == "subscribe" or (kind in IMPLIES_FOLLOW and not user.following):
            self.followers.follow(openid, at, scene)
        self.windows.open(openid, kind, at)

    def describe_user(self, openid: str) -> dict[str, Any]:
        """A debugging view of one user: info, open allowances, mass count, opt-ins."""
        now = self.now()
        user = self.followers.get(openid)
        return {
            "info": user.info() if user else {"subscribe": 0, "openid": openid},
            "last_interaction": user.last_interaction if user else None,
            "windows": [a.as_dict() for a in self.windows.active(openid, now)],
            "mass_this_month": self.mass.received_this_month(openid, now),
            "optins": self.notices.optins(openid),
        }
