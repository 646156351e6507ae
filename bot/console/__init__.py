"""The web console under /admin: accounts, roles, sign-in, the dashboard, and the shell that
later areas (review queue, campaigns, catalog, agent inbox) hang their blueprints on.

Domain modules here (accounts, api_tokens, audit_log, lockout, sessions, dashboard) take a SQL
session or a Redis client and import no Flask; the Flask glue is auth.py, shell.py, views.py,
admin_views.py and api.py.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Cookie settings, the first admin, the console and API blueprints, the menu."""
    from bot.clock import shanghai_text
    from bot.console import api, auth, views
    from bot.console.shell import add_nav, init_error_pages

    auth.init_app(app)
    app.jinja_env.filters["shanghai"] = shanghai_text
    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    init_error_pages(app)
    add_nav(app, "数据看板", "console.show_dashboard", "dashboard")
    add_nav(app, "账号管理", "console.list_accounts", "accounts")
    add_nav(app, "操作日志", "console.show_audit_log", "audit_log")
    add_nav(app, "我的账户", "console.my_account", None)
