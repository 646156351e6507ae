"""gunicorn's settings for production: `gunicorn bot.wsgi:app` reads this file from the current
directory (see README, "Production"). Command-line options override it.

The checks run once in the master before any worker starts, so a bad start is one clear line
instead of every worker failing in turn.
"""

import os
import sys

worker_class = "gevent"
# Several workers need a Redis they all share (REDIS_URL): each would start its own embedded one.
workers = int(os.environ.get("WEB_CONCURRENCY") or (2 if os.environ.get("REDIS_URL") else 1))
bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8080'}"
# SIGTERM: workers stop accepting and get this long to finish what is in flight.
graceful_timeout = 20
# WeChat gives up after 5 s; a worker stuck far longer than that is replaced.
timeout = 60


def on_starting(server):
    """Refuse what cannot work, before any worker is forked."""
    problem = startup_problem(server.cfg.workers)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)


def startup_problem(worker_count):
    if worker_count > 1 and not os.environ.get("REDIS_URL"):
        return (
            f"{worker_count} workers cannot share the embedded Redis (each would start its own, "
            "and a console session would work on one worker only): set REDIS_URL, or run 1 worker"
        )
    from core.config import from_env
    from core.db import engine_for
    from core.migrate import SchemaNotReady, check_current

    engine = engine_for(from_env())
    try:
        check_current(engine)
    except SchemaNotReady as error:
        return str(error)
    finally:
        engine.dispose()
    return None


def worker_exit(server, worker):
    """A worker's last step: send what its handlers still have queued, stop its embedded Redis."""
    app = getattr(worker, "wsgi", None)
    if "webhook" not in getattr(app, "extensions", {}):
        return  # not this project's app (a benchmark's bare baseline), or it never loaded
    from bot.app import close_app
    from core.storage import stop_embedded_redis

    close_app(app)
    stop_embedded_redis(app.extensions["storage"].redis)
