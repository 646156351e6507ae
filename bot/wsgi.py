"""The WSGI entry point for gunicorn: `gunicorn bot.wsgi:app` with ./gunicorn.conf.py (README).

Run `python -m bot migrate` first: a worker does not create tables. If it finds the schema
behind, it says so in one line and exits with gunicorn's "app failed to load" code, which
stops gunicorn instead of restarting the worker forever.
"""

import logging
import sys

from bot.app import create_app
from bot.router import warm_up
from core.logs import configure_logging
from core.migrate import SchemaNotReady

APP_LOAD_ERROR = 4  # gunicorn.arbiter.Arbiter.APP_LOAD_ERROR

configure_logging()
try:
    app = create_app()
except SchemaNotReady as error:
    logging.getLogger("bot.wsgi").error("%s", error)
    sys.exit(APP_LOAD_ERROR)
warm_up()
