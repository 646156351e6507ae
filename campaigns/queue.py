"""Who runs the sender: the scheduler's own thread, or RQ workers on the app's Redis.

PUSH_WORKERS (core/config.py) chooses:

- `inline` (the default; `serve --demo`, tests, a one-machine shop): the scheduler's
  `enqueue_push_sends` job calls campaigns.sender.send_due itself every 15 seconds.
- `rq`: the same job only enqueues one `run_send_due` job on the "pushes" queue, and
  `python -m bot worker` processes (any number, on any host sharing Redis and the database)
  run it. Sending is safe with many senders at once (campaigns/sender.py claims rows), but
  the guard below keeps one send job queued or running at a time: more workers give a
  standby when one dies, not more throughput yet (one job per live worker is the next step).

A Redis key with a TTL guards the queue: while a send job is queued or running, the 15-second
ticks add no other, so a slow or absent worker does not pile jobs up; the key expires by itself
should a worker die holding it.

A worker cannot build the WeChat client itself (campaigns may not import bot), so
`python -m bot worker` opens the storage once, hands it over with `use_storage`, and runs the
jobs in its own process (rq.SimpleWorker, no fork): every job reuses that one Storage.
"""

from __future__ import annotations

import logging
from typing import Any

from rq import Queue

from campaigns import sender
from core.storage import Storage

log = logging.getLogger(__name__)

QUEUE_NAME = "pushes"
#: Set while a send job is queued or running; expires if its worker dies.
GUARD_KEY = "campaigns:push-send-job"
GUARD_SECONDS = 300
#: A send job is stopped (and its claimed rows recovered by the next) after this long.
JOB_TIMEOUT_SECONDS = 1800
JOB_FUNCTION = "campaigns.queue.run_send_due"

_worker_storage: Storage | None = None


def push_queue(storage: Storage) -> Queue:
    return Queue(QUEUE_NAME, connection=storage.redis)


def enqueue_due(storage: Storage) -> dict[str, Any]:
    """The scheduler's 15-second job: send now (inline) or make sure a worker will (rq)."""
    if storage.settings.get("PUSH_WORKERS", "inline") != "rq":
        return sender.send_due(storage)
    queue = push_queue(storage)
    if queue.count or not storage.redis.set(GUARD_KEY, "1", nx=True, ex=GUARD_SECONDS):
        return {"enqueued": 0}
    queue.enqueue_call(JOB_FUNCTION, timeout=JOB_TIMEOUT_SECONDS, result_ttl=0,
                       failure_ttl=86400, description="send due push deliveries")
    return {"enqueued": 1}


def use_storage(storage: Storage | None) -> None:
    """The storage `run_send_due` sends with in this process (`python -m bot worker`)."""
    global _worker_storage
    _worker_storage = storage


def run_send_due() -> dict[str, int]:
    """The RQ job: send what is due with the worker's storage, then let the next tick enqueue
    again (the guard is dropped even when sending failed)."""
    storage = _worker_storage
    if storage is None:
        raise RuntimeError("no storage in this worker: start it with `python -m bot worker`")
    try:
        return sender.send_due(storage)
    finally:
        storage.redis.delete(GUARD_KEY)
