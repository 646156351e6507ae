"""One logging set-up for every process: timestamps, level, logger name, message; no secrets.

Nothing in the project logs request bodies, tokens, the app secret or the AES key; the
access token is never logged, only that it was refreshed.
"""

from __future__ import annotations

import logging
import os


def configure_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=(level or os.environ.get("LOG_LEVEL") or "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # urllib3 logs full request URLs, and ours carry access_token in the query string.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # jieba's import sets its logger to DEBUG with a stderr handler of its own, so its
    # dictionary-loading lines came out twice (its handler and ours): import it now, undo both.
    import jieba  # noqa: F401  (imported for its side effect on the "jieba" logger)

    jieba_log = logging.getLogger("jieba")
    for handler in list(jieba_log.handlers):
        jieba_log.removeHandler(handler)
    jieba_log.setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # "Context impl SQLiteImpl" on every check; `migrate` says what it did in one line instead.
    logging.getLogger("alembic").setLevel(logging.WARNING)
