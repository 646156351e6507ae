"""The demo account: fixed, public, harmless credentials for `serve --demo` and `chat`.

They only ever talk to the local sandbox, never to WeChat.
"""

from __future__ import annotations

DEMO_SANDBOX_PORT = 8081

DEMO_ACCOUNT = {
    "WECHAT_TOKEN": "demotoken",
    "WECHAT_APP_ID": "wxd0d0d0d0d0d0d0d0",
    "WECHAT_APP_SECRET": "demo-secret-not-for-production",
    "WECHAT_AES_KEY": "DemoAesKeyForTheLocalSandbox0000000000000ab",
    "WECHAT_ACCOUNT": "gh_demo00000000",
}


#: The demo's console password (only with --demo, and only if ADMIN_PASSWORD is not set).
DEMO_ADMIN_PASSWORD = "demo-console-2026"
#: One account per role, so each role's view of the console can be tried.
DEMO_CONSOLE_ACCOUNTS = {"manager": "manager", "reviewer": "compliance", "agent": "agent"}


def seed_console_accounts(sessions) -> None:
    """Create the demo's manager, reviewer and agent accounts unless they exist."""
    from bot.console import accounts

    with sessions.begin() as db:
        for name, role in DEMO_CONSOLE_ACCOUNTS.items():
            if accounts.find(db, name) is None:
                accounts.create(db, name, role, DEMO_ADMIN_PASSWORD)


def seed_catalog(sessions) -> int:
    """Load shop/demo_catalog.json (beauty, mother-and-baby, farm produce, collectibles) into an
    empty catalog; returns how many products were created."""
    from pathlib import Path

    from sqlalchemy import func, select

    from shop.catalog import Product
    from shop.catalog_import import import_catalog

    with sessions.begin() as db:
        if db.scalar(select(func.count()).select_from(Product)):
            return 0
        text = (Path(__file__).resolve().parents[1] / "shop" / "demo_catalog.json").read_text(
            encoding="utf-8"
        )
        return import_catalog(db, text, fmt="json", author="demo").created


def demo_config(sandbox_url: str) -> dict[str, object]:
    return {key: value for key, value in DEMO_ACCOUNT.items() if key != "WECHAT_ACCOUNT"} | {
        "WECHAT_API_BASE": sandbox_url,
    }
