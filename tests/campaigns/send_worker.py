"""A push sender in its own process, for the kill -9 drill in test_sender.py and the
side-by-side RQ workers in test_queue.py.

    python tests/campaigns/send_worker.py <database url> <redis socket> <sandbox url> <batch> \
        [<agent account>]
    python tests/campaigns/send_worker.py rq <database url> <redis socket> <sandbox url>

The first sends what is due, batch by batch, until killed (or nothing is left). `rq` is what
`python -m bot worker` runs (campaigns.queue.use_storage, an rq.SimpleWorker on the "pushes"
queue) with a 1-second poll, until SIGTERM; it logs each job's counts to stderr.
"""

from __future__ import annotations

import logging
import sys

import redis

from bot.domains import build_registry
from bot.wechat_api import WeChatAPI
from campaigns import sender
from core.db import make_engine, make_sessionmaker
from core.storage import Storage
from tests.conftest import APP_ID, APP_SECRET


def main(url: str, socket_path: str, sandbox: str, batch: int, kf_account: str = "") -> None:
    build_registry()
    engine = make_engine(url)
    client = redis.Redis(unix_socket_path=socket_path)
    storage = Storage(engine=engine, sessions=make_sessionmaker(engine), redis=client,
                      wechat=WeChatAPI(sandbox, APP_ID, APP_SECRET, client, backoff=0.01))
    if kf_account:  # customer-service pushes go as this agent (PUSH_KF_ACCOUNT)
        storage.settings = {"PUSH_KF_ACCOUNT": kf_account}
    while sender.send_due(storage, batch=batch):
        pass


def rq_worker(url: str, socket_path: str, sandbox: str) -> None:
    from rq import SimpleWorker

    from campaigns import queue

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(process)d %(name)s %(message)s")
    build_registry()
    engine = make_engine(url)
    client = redis.Redis(unix_socket_path=socket_path)
    storage = Storage(engine=engine, sessions=make_sessionmaker(engine), redis=client,
                      wechat=WeChatAPI(sandbox, APP_ID, APP_SECRET, client, backoff=0.01))
    queue.use_storage(storage)
    # worker_ttl 16: RQ's blocking pop lasts TTL − 15 = 1 s, so SIGTERM stops it within ~1 s
    SimpleWorker([queue.push_queue(storage)], connection=storage.redis,
                 worker_ttl=16).work(with_scheduler=False)


if __name__ == "__main__":
    if sys.argv[1] == "rq":
        rq_worker(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), *sys.argv[5:6])
