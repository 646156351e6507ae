"""The rule objects on their own, without HTTP: the same rules the views apply."""

from __future__ import annotations

import pytest

from devtools.sandbox.errors import WxError
from devtools.sandbox.rules.mass import MassLedger
from devtools.sandbox.rules.tokens import TokenBook
from devtools.sandbox.rules.windows import ServiceWindows
from devtools.sandbox.state import SandboxState

T0 = 1_717_200_000.0


def codes_of(call, times: int) -> list[int]:
    out = []
    for _ in range(times):
        try:
            call()
            out.append(0)
        except WxError as error:
            out.append(error.errcode)
    return out


def test_windows_spend_the_shortest_allowance_first():
    windows = ServiceWindows()
    windows.open("o", "message", T0)
    windows.open("o", "click", T0)
    assert codes_of(lambda: windows.consume("o", T0 + 1), 9) == [0] * 8 + [45047]
    assert codes_of(lambda: windows.consume("o", T0 + 48 * 3600), 1) == [45015]


def test_token_grace_and_expiry():
    book = TokenBook()
    old = book.issue(T0)
    book.issue(T0 + 10)
    book.check(old.value, T0 + 309)
    with pytest.raises(WxError) as caught:
        book.check(old.value, T0 + 310)
    assert caught.value.errcode == 40001


def test_mass_cap_counts_per_month():
    ledger = MassLedger()
    for _ in range(5):
        job = ledger.submit(None, ["o"], T0)
    assert job.capped == ["o"]
    assert ledger.received_this_month("o", T0) == 4


def test_interact_follows_and_opens_windows():
    state = SandboxState("wx", "secret", clock=lambda: T0)
    state.interact("o", "message", T0)
    assert state.followers.is_following("o")
    assert [a.kind for a in state.windows.active("o", T0)] == ["message"]
    state.interact("o", "unsubscribe", T0)
    assert state.windows.active("o", T0) == []
    with pytest.raises(ValueError):
        state.interact("o", "dance", T0)
