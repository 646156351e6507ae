"""The push queue with PUSH_WORKERS=rq: one send job queued or running per live worker, slots
that expire when a worker dies, and workers that really send side by side.

Workers are registered in the real (embedded) Redis the way `python -m bot worker` registers
itself; the side-by-side test runs two real worker processes (send_worker.py rq) against the
sandbox and counts what each customer received in its outbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy.exc import OperationalError

from bot.wechat_api import WeChatAPI
from campaigns import queue
from core.db import make_engine, make_sessionmaker
from core.storage import Storage
from tests.campaigns.test_sender import (
    CUSTOM,
    TEMPLATE,
    add,
    fault,
    follow,
    make_run,
    received,
    run_state,
    states,
)
from tests.conftest import APP_ID, APP_SECRET

WORKER = Path(__file__).with_name("send_worker.py")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def shop(storage: Storage, sandbox: str) -> Storage:
    storage.wechat = WeChatAPI(sandbox, APP_ID, APP_SECRET, storage.redis, backoff=0.01)
    storage.settings = {"NOTICE_TEMPLATE_ID": TEMPLATE, "PUSH_WORKERS": "rq"}
    return storage


@pytest.fixture()
def worker_storage(shop: Storage):
    """`shop` as the storage of this process's send jobs, as `python -m bot worker` sets it."""
    queue.use_storage(shop)
    yield shop
    queue.use_storage(None)


def register_workers(storage: Storage, count: int, first: int = 0) -> list[SimpleWorker]:
    """`count` workers on the "pushes" queue, registered as a started worker registers."""
    workers = [SimpleWorker([queue.push_queue(storage)], connection=storage.redis,
                            name=f"pusher-{i}") for i in range(first, first + count)]
    for worker in workers:
        worker.register_birth()
    return workers


def held_slots(storage: Storage) -> list[str]:
    return sorted(k.decode() for k in storage.redis.scan_iter(f"{queue.GUARD_KEY}*"))


def take(push_queue: Queue) -> Job:
    """The next job, taken off the queue as a worker takes it to run it."""
    job = push_queue.jobs[0]
    push_queue.remove(job)
    return job


def tick(storage: Storage) -> int:
    return queue.enqueue_due(storage)["enqueued"]


def test_inline_mode_still_sends_from_the_tick(shop, sandbox):
    shop.settings["PUSH_WORKERS"] = "inline"
    follow(shop, sandbox, ["o_chat"], chatted=True)
    ids = add(shop, make_run(shop), ["o_chat"], "custom")
    register_workers(shop, 3)
    assert queue.enqueue_due(shop) == {"sent": 1}
    assert states(shop, ids) == ["sent"]
    assert queue.push_queue(shop).count == 0 and held_slots(shop) == []


def test_with_no_worker_one_job_waits_and_ticks_add_none(shop, monkeypatch):
    monkeypatch.setattr(queue, "SLOT_SECONDS", 1)
    assert tick(shop) == 1
    assert [tick(shop) for _ in range(3)] == [0, 0, 0]
    time.sleep(1.3)  # its slot expired, but the job still waits for a worker: no second one
    assert held_slots(shop) == []
    assert tick(shop) == 0
    assert queue.push_queue(shop).count == 1


def test_three_workers_keep_three_jobs_and_no_more(shop, worker_storage):
    workers = register_workers(shop, 3)
    push_queue = queue.push_queue(shop)
    assert tick(shop) == 3
    assert [tick(shop) for _ in range(3)] == [0, 0, 0]
    assert push_queue.count == 3
    assert held_slots(shop) == [queue.GUARD_KEY, f"{queue.GUARD_KEY}:1", f"{queue.GUARD_KEY}:2"]
    # two workers take a job each (as rq dequeues): one waits, two run, their slots held
    first, second = take(push_queue), take(push_queue)
    assert tick(shop) == 0
    # one job runs to its end and gives its slot back; the next tick fills it, and only it
    assert queue.run_send_due(*first.args) == {}
    assert push_queue.count == 1 and len(held_slots(shop)) == 2
    assert second.args[0] != first.args[0]
    assert tick(shop) == 1
    assert tick(shop) == 0
    # a fourth worker starts: one more job for it
    register_workers(shop, 1, first=3)
    assert tick(shop) == 1 and push_queue.count == 3 and len(held_slots(shop)) == 4
    # two workers stop: the jobs already waiting are enough
    for worker in workers[:2]:
        worker.register_death()
    assert queue.live_workers(push_queue) == 2
    assert tick(shop) == 0


def test_a_dead_workers_slot_expires_and_the_next_tick_refills(shop, monkeypatch):
    monkeypatch.setattr(queue, "SLOT_SECONDS", 1)
    register_workers(shop, 1)
    push_queue = queue.push_queue(shop)
    assert tick(shop) == 1
    # the worker takes the job and is killed -9 before it ends: nobody releases the slot
    take(push_queue)
    assert tick(shop) == 0  # it may still be sending
    assert 0 < shop.redis.ttl(queue.GUARD_KEY) <= 1
    time.sleep(1.3)
    assert tick(shop) == 1
    assert push_queue.count == 1


def test_a_running_job_keeps_its_slot_past_the_ttl_then_gives_it_back(
        shop, sandbox, worker_storage, monkeypatch):
    monkeypatch.setattr(queue, "SLOT_SECONDS", 1)
    monkeypatch.setattr(queue, "HEARTBEAT_SECONDS", 0.2)
    openids = [f"o_c{i}" for i in range(20)]
    follow(shop, sandbox, openids, chatted=True)
    ids = add(shop, make_run(shop), openids, "custom")
    fault(sandbox, CUSTOM, 0, times=20, delay=0.1)  # about 2 s of sending
    push_queue = queue.push_queue(shop)
    assert tick(shop) == 1
    job = take(push_queue)
    job_thread = threading.Thread(target=queue.run_send_due, args=job.args)
    job_thread.start()
    time.sleep(1.5)  # past the slot's TTL
    assert job_thread.is_alive(), "the job ended before the slot's TTL"
    assert held_slots(shop) == [queue.GUARD_KEY]
    assert tick(shop) == 0
    job_thread.join(30)
    assert states(shop, ids) == ["sent"] * 20
    assert held_slots(shop) == []
    assert tick(shop) == 1


def test_a_failed_job_gives_its_slot_back(shop, worker_storage, tmp_path):
    push_queue = queue.push_queue(shop)
    assert tick(shop) == 1
    job = take(push_queue)
    engine = make_engine(f"sqlite:///{tmp_path / 'no-tables.sqlite3'}")
    queue.use_storage(Storage(engine=engine, sessions=make_sessionmaker(engine),
                              redis=shop.redis, wechat=shop.wechat))
    with pytest.raises(OperationalError):
        queue.run_send_due(*job.args)
    engine.dispose()
    assert held_slots(shop) == []
    assert tick(shop) == 1


def test_a_job_releases_only_its_own_slot(shop, worker_storage):
    shop.redis.set(queue.slot_key(0), "another job's token")
    assert queue.run_send_due(0, "this job's token") == {}
    assert shop.redis.get(queue.slot_key(0)) == b"another job's token"


def test_two_workers_send_side_by_side_and_nobody_gets_two(shop, sandbox, tmp_path):
    """Two real worker processes, one job each, on the same 500 due deliveries (300
    customer-service messages, 200 in one mass group): both send, at the same time, and each
    customer receives the push exactly once."""
    custom = [f"o_c{i}" for i in range(300)]
    mass = [f"o_m{i}" for i in range(200)]
    follow(shop, sandbox, custom, chatted=True)
    follow(shop, sandbox, mass, chatted=False)
    run_id = make_run(shop)
    ids = add(shop, run_id, custom, "custom") + add(shop, run_id, mass, "mass")
    fault(sandbox, CUSTOM, 0, times=300, delay=0.01)  # slower calls: the two jobs overlap
    push_queue = queue.push_queue(shop)
    url = str(shop.engine.url)
    socket_path = shop.redis.connection_pool.connection_kwargs["path"]
    logs = [tmp_path / f"worker-{i}.log" for i in range(2)]
    processes = []
    for log in logs:
        with log.open("wb") as out:
            processes.append(subprocess.Popen(
                [sys.executable, str(WORKER), "rq", url, socket_path, sandbox],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": "."}))
    running_at_once = 0

    def tails() -> str:
        return "\n".join(log.read_text()[-1500:] for log in logs)

    try:
        deadline = time.monotonic() + 60
        while queue.live_workers(push_queue) < 2 and time.monotonic() < deadline:
            assert all(p.poll() is None for p in processes), tails()
            time.sleep(0.05)
        assert queue.live_workers(push_queue) == 2, tails()
        assert tick(shop) == 2
        assert tick(shop) == 0
        started = StartedJobRegistry(queue=push_queue)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            running = started.count
            running_at_once = max(running_at_once, running)
            if not push_queue.count and not running and not held_slots(shop):
                break
            time.sleep(0.02)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
    assert running_at_once == 2, tails()
    got = received(sandbox)
    assert [openid for openid, times in got.items() if times > 1] == []
    assert sorted(got) == sorted(custom + mass)
    assert set(states(shop, ids)) == {"sent"}
    assert run_state(shop, run_id) == "done"
    # each worker sent part of them (a job that found nothing left logs no counts)
    for log in logs:
        assert "push deliveries: {'sent'" in log.read_text(), tails()
