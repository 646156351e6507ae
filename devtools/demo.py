"""The demo account: fixed, public, harmless credentials for `serve --demo` and `chat`.

They only ever talk to the local sandbox, never to WeChat.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from promotions.coupons import CouponBatch
    from promotions.flash import FlashSession

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


def seed_promotions(sessions, screener: Any = None) -> tuple[int, bool]:
    """The demo's coupons, flash-sale items and bargain campaign: (batches made, flash
    items there)."""
    from datetime import UTC

    now = datetime.now(UTC)
    with sessions.begin() as db:
        batches = seed_demo_coupons(db, now)
        session = seed_demo_flash(db, now)
        if screener is not None:
            seed_demo_bargain(db, now, screener)
    return len(batches), session is not None


def seed_demo_bargain(db: Session, now: datetime, screener: Any) -> int | None:
    """The playbook's farm-product campaign, once: 「3人帮砍，1元带走」 on the sweet potatoes,
    open for 30 days; returns its id (None when it exists or the product is missing)."""
    from sqlalchemy import func, select

    from promotions.bargain_manager import create_campaign
    from promotions.bargains import BargainCampaign, BargainError
    from shop.catalog import Product, Sku

    if db.scalar(select(func.count()).select_from(BargainCampaign)):
        return None
    sku = db.scalar(select(Sku).join(Product).where(Product.name == "烟薯 25 号红薯",
                                                    Product.on_shelf))
    if sku is None:
        return None
    try:
        campaign = create_campaign(
            db, title="3人帮砍，1元带走", sku_id=sku.id, floor_fen=100, helpers_needed=3,
        hours_per_launch=24, starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(days=30), stock_quota=100, launches_per_customer=1,
            helps_per_day=3, helps_per_campaign=10, starter_cuts=False,
            buy_before_floor=False, new_customers_only=False, reserve_at_launch=False,
            front_loading=60, unit_cost_fen=None, now=now, screener=screener, author="demo")
    except BargainError as error:  # the rules in force refuse the title: the demo goes on
        logging.getLogger(__name__).warning("demo bargain campaign not created: %s", error)
        return None
    return campaign.id


def seed_demo_coupons(db: Session, now: datetime) -> list[CouponBatch]:
    """The demo's batches (once): a new-follower bundle, a claim code, a silver-tier gift
    and a birthday gift."""
    from sqlalchemy import func, select

    from promotions.coupon_batches import TIER_TRIGGER, BatchTerms, create_batch
    from promotions.coupons import CouponBatch, end_of_day

    if db.scalar(select(func.count()).select_from(CouponBatch)):
        return []
    made = [
        BatchTerms(name="新人礼 满199减20", kind="threshold", threshold_fen=19900, off_fen=2000,
                   valid_days=30, trigger="follow", bundle="新人礼", total_limit=100_000),
        BatchTerms(name="新人礼 无门槛5元", kind="flat", off_fen=500, valid_days=7,
                   trigger="follow", bundle="新人礼", total_limit=100_000),
        BatchTerms(name="会员日 8.8折", kind="discount", percent=88, cap_fen=3000,
                   valid_from=now, valid_until=end_of_day(now, 30), code="VIP88",
                   total_limit=1000),
        BatchTerms(name="白银会员礼 满300减50", kind="threshold", threshold_fen=30000,
                   off_fen=5000, valid_days=30, trigger=f"{TIER_TRIGGER}白银"),
        # one copy a year: the per-customer limit is the number of birthdays it can serve
        BatchTerms(name="生日礼包 无门槛20元", kind="flat", off_fen=2000, valid_days=7,
                   trigger="birthday", per_customer=20),
    ]
    return [create_batch(db, terms, now, created_by="demo") for terms in made]


def seed_demo_flash(db: Session, now: datetime) -> FlashSession | None:
    """The demo: the session on now (to try 抢 at once) and the next one (to try 提醒我) get
    two on-shelf SKUs at 60% of their price; returns the next one."""
    from sqlalchemy import select

    from core.config import DEFAULTS
    from promotions.flash import (
        FlashError,
        FlashSession,
        ensure_day,
        parse_sessions,
        shanghai_day,
    )
    from promotions.flash_manager import add_item
    from shop.catalog import Product, Sku

    starts = parse_sessions(DEFAULTS["FLASH_SESSIONS"])
    for day in (shanghai_day(now), shanghai_day(now) + timedelta(days=1)):
        ensure_day(db, day, starts)
    sessions = db.scalars(select(FlashSession).where(FlashSession.state == "open",
                                                     FlashSession.ends_at > now)
                          .order_by(FlashSession.starts_at).limit(2)).all()
    skus = db.scalars(select(Sku).join(Product).where(Product.on_shelf, Sku.stock >= 20)
                      .order_by(Sku.id).limit(2)).all()
    for session in sessions:
        for sku in skus:
            try:
                add_item(db, session.id, sku.id, price_fen=max(1, sku.price_fen * 6 // 10),
                         stock=10, limit=1, reference_fen=None, now=now)
            except FlashError as error:
                logging.getLogger(__name__).info("demo flash item for sku %s skipped: %s",
                                                 sku.id, error)
    return sessions[-1] if sessions else None
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
    if not os.environ.get("PUSH_KF_ACCOUNT"):  # pushes go as an agent: exactly once
        config["PUSH_KF_ACCOUNT"] = f"push@{DEMO_ACCOUNT['WECHAT_ACCOUNT']}"
    return config
