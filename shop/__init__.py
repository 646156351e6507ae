"""The commerce domain: plain Python over SQLAlchemy and Redis, no Flask.

Chat handlers, console pages and scheduled jobs all call these functions, so a rule lives once.
"""
