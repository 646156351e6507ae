"""Customer service: FAQ answers, hand-off to people, tickets, and the agents' inbox.

Plain Python over SQLAlchemy (no Flask) except the console pages, which `init_app` adds.
"""


def init_app(app) -> None:
    """The agents' inbox and the FAQ pages in the console."""
    from bot.console.shell import add_nav
    from customer_service import console_views, faq_views  # noqa: F401 - faq_views adds routes

    app.register_blueprint(console_views.bp)
    add_nav(app, "客服工作台", "service.inbox", "inbox")
    add_nav(app, "问答库", "service.faq_list", "faq")
