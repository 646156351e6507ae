"""The data board: figures across the shop and the chat, read-only, for managers."""

from __future__ import annotations

from flask import Flask

from core.registry import Registry


def register(registry: Registry) -> None:
    """Only pages: the board reads the other areas' tables."""
    registry.add_web(init_app)


def init_app(app: Flask) -> None:
    """The board's page and its API route, first in the manager's menu."""
    from console.shell import add_nav
    from dashboard import dashboard_views

    app.register_blueprint(dashboard_views.bp)
    app.register_blueprint(dashboard_views.api_bp)
    add_nav(app, "数据看板", "dashboard.show_dashboard", "dashboard")
