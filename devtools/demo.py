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
    from console import accounts

    with sessions.begin() as db:
        for name, role in DEMO_CONSOLE_ACCOUNTS.items():
            if accounts.find(db, name) is None:
                accounts.create(db, name, role, DEMO_ADMIN_PASSWORD)


def seed_catalog(sessions, screener) -> int:
    """Load shop/demo_catalog.json (beauty, mother-and-baby, farm produce, collectibles) into an
    empty catalog; returns how many products were created."""
    from pathlib import Path

    from sqlalchemy import func, select

    from shop.catalog import Product, category
    from shop.catalog_import import import_catalog

    with sessions.begin() as db:
        if db.scalar(select(func.count()).select_from(Product)):
            return 0
        text = (Path(__file__).resolve().parents[1] / "shop" / "demo_catalog.json").read_text(
            encoding="utf-8"
        )
        created = import_catalog(db, text, fmt="json", author="demo", screener=screener).created
        # Cosmetics cannot come back once opened (a category-wide exception to 7天无理由).
        category(db, "美妆护肤").return_exception = "hygiene"
        return created


def seed_promotions(sessions) -> tuple[int, bool]:
    """The demo's coupons (a new-follower gift, the code VIP88, a 白银 gift) and flash-sale
    items in the session on now and the next: (batches made, flash items there)."""
    from datetime import UTC, datetime

    from promotions.coupons import seed_demo_coupons
    from promotions.flash import seed_demo_flash

    now = datetime.now(UTC)
    with sessions.begin() as db:
        batches = seed_demo_coupons(db, now)
        session = seed_demo_flash(db, now)
    return len(batches), session is not None


def seed_faq(sessions) -> int:
    """A starting FAQ (returns, shipping, invoices …) for an empty one."""
    from customer_service.faq import seed_defaults

    with sessions.begin() as db:
        return seed_defaults(db)


def pay_keys(data_dir: str) -> dict[str, bytes]:
    """The demo's WeChat Pay keys (merchant and platform RSA, APIv3 key), made once under the
    data dir, so the shop and its sandbox trust each other across restarts."""
    import secrets
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder = Path(data_dir).resolve() / "wxpay-demo"
    folder.mkdir(parents=True, exist_ok=True)
    keys = {}
    for name in ("merchant", "platform"):
        path = folder / f"{name}.pem"
        if not path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
            path.chmod(0o600)
        keys[name] = path.read_bytes()
    v3 = folder / "apiv3.key"
    if not v3.exists():
        v3.write_text(secrets.token_hex(16))
        v3.chmod(0o600)
    keys["api_v3"] = v3.read_text().strip().encode()
    return keys


DEMO_MCH_ID = "1900000109"


def pay_pair(keys: dict[str, bytes], sandbox_url: str, retry_seconds=None
             ) -> tuple[dict, dict]:
    """(the sandbox's PAY setting, the shop's WXPAY setting) for one set of demo keys."""
    from cryptography.hazmat.primitives import serialization

    def public_pem(private_pem: bytes) -> bytes:
        key = serialization.load_pem_private_key(private_pem, password=None)
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)

    sandbox = {"mch_id": DEMO_MCH_ID, "api_v3_key": keys["api_v3"],
               "merchant_public_pem": public_pem(keys["merchant"]),
               "platform_private_pem": keys["platform"], "retry_seconds": retry_seconds}
    shop = {"mch_id": DEMO_MCH_ID, "api_v3_key": keys["api_v3"],
            "merchant_private_pem": keys["merchant"],
            "platform_public_pem": public_pem(keys["platform"]), "base": sandbox_url}
    return sandbox, shop


#: Where the demo's returns are posted, so a return can be approved in the demo.
DEMO_RETURN_ADDRESS = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"


def demo_config(sandbox_url: str) -> dict[str, object]:
    import os

    config = {key: value for key, value in DEMO_ACCOUNT.items() if key != "WECHAT_ACCOUNT"} | {
        "WECHAT_API_BASE": sandbox_url,
    }
    if not os.environ.get("RETURN_ADDRESS"):
        config["RETURN_ADDRESS"] = DEMO_RETURN_ADDRESS
    return config
