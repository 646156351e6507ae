"""The commerce domain: plain Python over SQLAlchemy and Redis, no Flask outside its views.

Chat handlers, console pages and scheduled jobs all call these functions, so a rule lives once.
"""

from __future__ import annotations

from typing import Any

from core.registry import Registry


def register(registry: Registry) -> None:
    """The shop's tables, recurring jobs, configuration check and pages."""
    from shop import jobs, members

    registry.add_models(
        "shop.catalog", "shop.orders", "shop.payments", "shop.cart", "shop.after_sale",
        "shop.followers", "shop.members",
    )
    registry.add_config_check(members.check_config)
    registry.add_job("shop", "flush_follower_touches", 10, jobs.flush_follower_touches)
    registry.add_job("shop", "release_unpaid_orders", 30, jobs.release_unpaid_orders)
    registry.add_job("shop", "complete_received_orders", 3600, jobs.complete_received_orders)
    registry.add_web(init_app)


def init_app(app: Any) -> None:
    """The customer pages (/shop) and the manager's console pages (/admin/shop)."""
    from console.shell import add_nav
    from shop import admin_views, service_views, storefront_views

    app.register_blueprint(storefront_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(service_views.bp)
    add_nav(app, "订单", "shop_admin.list_orders", "orders")
    add_nav(app, "退货退款", "shop_service.list_returns", "orders")
    add_nav(app, "商品", "shop_admin.list_products", "catalog")
    add_nav(app, "顾客", "shop_service.list_customers", "customers")
