"""Customer service: FAQ answers, hand-off to people, tickets, and the agents' inbox.

Plain Python over SQLAlchemy (no Flask) except the console pages, which `init_app` adds.
"""

from __future__ import annotations

from typing import Any

from core.registry import Registry


def register(registry: Registry) -> None:
    """Tickets and the FAQ's tables, the service-hours check, the inbox and FAQ pages."""
    from customer_service import hours

    registry.add_models("customer_service.faq", "customer_service.tickets")
    registry.add_config_check(hours.check_config)
    registry.add_web(init_app)


def init_app(app: Any) -> None:
    """The agents' inbox and the FAQ pages in the console."""
    from console.shell import add_nav
    from customer_service import faq_views, inbox_views

    app.register_blueprint(inbox_views.bp)
    app.register_blueprint(faq_views.bp)
    add_nav(app, "客服工作台", "service.inbox", "inbox")
    add_nav(app, "问答库", "service_faq.faq_list", "faq")
