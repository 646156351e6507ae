"""The commerce domain: plain Python over SQLAlchemy and Redis, no Flask.

Chat handlers, console pages and scheduled jobs all call these functions, so a rule lives once.
"""


def init_app(app) -> None:
    """The customer pages (/shop) and the manager's console pages (/admin/shop)."""
    from bot.console.shell import add_nav
    from shop import console_service, console_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(console_views.bp)
    app.register_blueprint(console_service.bp)
    add_nav(app, "订单", "shop_admin.list_orders", "orders")
    add_nav(app, "退货退款", "shop_service.list_returns", "orders")
    add_nav(app, "商品", "shop_admin.list_products", "catalog")
    add_nav(app, "顾客", "shop_service.list_customers", "customers")
