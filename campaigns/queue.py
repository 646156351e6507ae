"""Who runs the sender: the scheduler's own thread, or RQ workers on the app's Redis.

PUSH_WORKERS (core/config.py) chooses:

- `inline` (the default; `serve --demo`, tests, a one-machine shop): the scheduler's
  `enqueue_push_sends` job calls campaigns.sender.send_due itself every 15 seconds.
- `rq`: the same job keeps one `run_send_due` job queued or running on the "pushes" queue per
  live `python -m bot worker` process listening there (any number, on any host sharing Redis
  and the database), and at least one, so a job waits for a worker that starts later. The jobs
  send side by side (campaigns/sender.py claims rows: no delivery is held by two senders, a
  mass group is claimed whole), so more workers give more throughput, and a standby when one
  dies.

Each job holds a slot, a Redis key with a TTL (`slot_key(n)`, n < the number of workers): the
tick fills only free slots, and adds nothing while as many jobs wait in the queue as there are
workers, so slow or absent workers do not pile jobs up. A running job renews its slot every
HEARTBEAT_SECONDS and releases it when it ends, even when sending failed; a worker that dies
holding one stops renewing it, and the slot expires after SLOT_SECONDS for the next tick to
refill. Slot 0 keeps the key of the single guard this replaced, which a job queued before it
(no arguments) still releases.

A worker cannot build the WeChat client itself (campaigns may not import bot), so
`python -m bot worker` opens the storage once, hands it over with `use_storage`, and runs the
jobs in its own process (rq.SimpleWorker, no fork): every job reuses that one Storage.
"""

from __future__ import annotations

import logging
import threading
import uuid
from types import TracebackType
from typing import Any

import redis
from rq import Queue, Worker
from rq.worker_registration import clean_worker_registry

from campaigns import sender
from core.storage import Storage

log = logging.getLogger(__name__)

QUEUE_NAME = "pushes"
#: Slot 0's key, and the prefix of the others (`slot_key`).
GUARD_KEY = "campaigns:push-send-job"
#: A slot's TTL: how long a dead worker's slot (or a queued job's) keeps a tick from refilling.
SLOT_SECONDS = 60
#: How often a running job renews its slot; well under SLOT_SECONDS.
HEARTBEAT_SECONDS = 15
#: A send job is stopped (and its claimed rows recovered by the next) after this long.
JOB_TIMEOUT_SECONDS = 1800
JOB_FUNCTION = "campaigns.queue.run_send_due"

#: Set the slot to this job's token (renewing its TTL) when it is free or already this job's.
_HOLD = """
local held = redis.call('GET', KEYS[1])
if held == false or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""
#: Delete the slot only if it is still this job's.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_worker_storage: Storage | None = None


def push_queue(storage: Storage) -> Queue:
    return Queue(QUEUE_NAME, connection=storage.redis)


def slot_key(slot: int) -> str:
    return GUARD_KEY if slot == 0 else f"{GUARD_KEY}:{slot}"


def live_workers(queue: Queue) -> int:
    """Workers registered on `queue` whose key has not expired (rq drops a dead worker's
    registration only when asked: a killed one lingers in the set otherwise)."""
    clean_worker_registry(queue)
    return Worker.count(queue=queue)


def enqueue_due(storage: Storage) -> dict[str, Any]:
    """The scheduler's 15-second job: send now (inline), or keep one send job queued or
    running per live worker, at least one (rq)."""
    if storage.settings.get("PUSH_WORKERS", "inline") != "rq":
        return sender.send_due(storage)
    queue = push_queue(storage)
    wanted = max(1, live_workers(queue))
    room = wanted - queue.count
    enqueued = 0
    for slot in range(wanted):
        if enqueued >= room:
            break
        token = uuid.uuid4().hex
        if not storage.redis.set(slot_key(slot), token, nx=True, ex=SLOT_SECONDS):
            continue
        queue.enqueue_call(JOB_FUNCTION, args=(slot, token), timeout=JOB_TIMEOUT_SECONDS,
                           result_ttl=0, failure_ttl=86400,
                           description=f"send due push deliveries (slot {slot})")
        enqueued += 1
    return {"enqueued": enqueued}


def use_storage(storage: Storage | None) -> None:
    """The storage `run_send_due` sends with in this process (`python -m bot worker`)."""
    global _worker_storage
    _worker_storage = storage


def run_send_due(slot: int | None = None, token: str | None = None) -> dict[str, int]:
    """The RQ job: send what is due with the worker's storage while holding `slot`, then give
    it back, even when sending failed, so the next tick enqueues again."""
    storage = _worker_storage
    if storage is None:
        raise RuntimeError("no storage in this worker: start it with `python -m bot worker`")
    if slot is None or token is None:  # queued before slots: the one guard key was its own
        try:
            return sender.send_due(storage)
        finally:
            storage.redis.delete(GUARD_KEY)
    with _Holding(storage.redis, slot_key(slot), token):
        return sender.send_due(storage)


class _Holding:
    """A running job's hold on its slot: taken back if it expired while the job was queued,
    renewed from a thread while the job runs, released at the end (only if still its own)."""

    def __init__(self, client: redis.Redis, key: str, token: str):
        self.client, self.key, self.token = client, key, token
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"slot {key}", daemon=True)

    def _hold(self) -> bool:
        return bool(self.client.eval(_HOLD, 1, self.key, self.token, SLOT_SECONDS))

    def _beat(self) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            try:
                self._hold()
            except redis.RedisError as error:  # the next beat tries again; the TTL covers it
                log.warning("push send slot %s not renewed: %s", self.key, error)

    def __enter__(self) -> _Holding:
        if not self._hold():
            log.info("push send slot %s was taken by another job; sending anyway", self.key)
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop.set()
        self.thread.join()
        self.client.eval(_RELEASE, 1, self.key, self.token)
