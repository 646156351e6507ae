"""The WSGI entry point for gunicorn: `gunicorn -k gevent -w 2 bot.wsgi:app` (see README)."""

from bot.app import create_app
from bot.router import warm_up
from core.logs import configure_logging

configure_logging()
app = create_app()
warm_up()
