"""The timing loop the in-process benchmarks share: call, time each call, summarise."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def timed(call: Callable[[Any], Any], inputs: Sequence[Any], seconds: float
          ) -> tuple[float, float, float]:
    """(calls per second, p50, p99 in seconds) of `call` over `inputs`, cycled for `seconds`."""
    samples, started, n = [], time.perf_counter(), 0
    while time.perf_counter() - started < seconds:
        item = inputs[n % len(inputs)]
        begin = time.perf_counter()
        call(item)
        samples.append(time.perf_counter() - begin)
        n += 1
    samples.sort()
    return (len(samples) / sum(samples), statistics.median(samples),
            samples[max(int(len(samples) * 0.99) - 1, 0)])
