"""A push sender in its own process, for the kill -9 drill in test_sender.py.

    python tests/campaigns/send_worker.py <database url> <redis socket> <sandbox url> <batch>

It sends what is due, batch by batch, until killed (or nothing is left).
"""

from __future__ import annotations

import sys

import redis

from bot.domains import build_registry
from bot.wechat_api import WeChatAPI
from campaigns import sender
from core.db import make_engine, make_sessionmaker
from core.storage import Storage
from tests.conftest import APP_ID, APP_SECRET


def main(url: str, socket_path: str, sandbox: str, batch: int) -> None:
    build_registry()
    engine = make_engine(url)
    client = redis.Redis(unix_socket_path=socket_path)
    storage = Storage(engine=engine, sessions=make_sessionmaker(engine), redis=client,
                      wechat=WeChatAPI(sandbox, APP_ID, APP_SECRET, client, backoff=0.01))
    while sender.send_due(storage, batch=batch):
        pass


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
