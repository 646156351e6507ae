"""The web console's shell under /admin: accounts, roles, sign-in, the audit log, API tokens,
charts, and the blueprint set-up each area (dashboard, review queue, catalog, agent inbox,
campaigns) builds its own pages with.

Domain modules here (accounts, api_tokens, audit_log, lockout, sessions) take a SQL
session or a Redis client and import no Flask; the Flask glue is auth.py, shell.py, home_views.py,
admin_views.py and api.py.
"""

from __future__ import annotations

from flask import Flask

from core.registry import Registry


def register(registry: Registry) -> None:
    """Accounts, API tokens and the audit log; the shell's own pages."""
    registry.add_models("console.accounts", "console.api_tokens", "console.audit_log")
    registry.add_web(init_app)


def init_app(app: Flask) -> None:
    """Cookie settings, the first admin, the console and API blueprints, the menu."""
    from console import admin_views, api, auth, home_views
    from console.shell import add_nav, init_error_pages
    from core.clock import shanghai_text

    auth.init_app(app)
    app.jinja_env.filters["shanghai"] = shanghai_text
    app.register_blueprint(home_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(api.bp)
    init_error_pages(app)
    add_nav(app, "账号管理", "console_admin.list_accounts", "accounts")
    add_nav(app, "操作日志", "console_admin.show_audit_log", "audit_log")
    add_nav(app, "我的账户", "console.my_account", None)
