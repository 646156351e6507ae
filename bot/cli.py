"""`python -m bot serve|sandbox|chat|migrate|menu push|scheduler|worker|pushes|users|catalog|faq|
address` — the project's commands."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from core import config as core_config
from core.logs import configure_logging
from devtools.demo import DEMO_ACCOUNT, DEMO_ADMIN_PASSWORD, DEMO_SANDBOX_PORT, demo_config


def load_settings(demo: bool, sandbox_url: str | None = None) -> dict[str, Any]:
    """Environment over defaults (plus the demo account with --demo); exit 2 on bad values."""
    settings = core_config.from_env()
    if demo:
        settings.update(demo_config(sandbox_url or f"http://127.0.0.1:{DEMO_SANDBOX_PORT}"))
        if not settings.get("ADMIN_PASSWORD"):
            settings["ADMIN_PASSWORD"] = DEMO_ADMIN_PASSWORD
            settings["ADMIN_PASSWORD_SOURCE"] = "the demo's password"  # for the start-up log
    from bot.domains import build_registry

    try:
        return core_config.validate(settings, checks=build_registry().config_checks)
    except core_config.ConfigError as error:
        for line in error.problems:
            click.echo(f"config error: {line}", err=True)
        click.echo("Set these environment variables (see README), or try --demo.", err=True)
        sys.exit(2)


@click.group()
def cli() -> None:
    """The WeChat micro-mall bot."""
    from bot.domains import build_registry

    configure_logging()
    build_registry()  # every model imported: a shell command on a new database makes every table


@cli.command()
@click.option("--demo", is_flag=True, help="Demo account, with the WeChat sandbox in-process.")
@click.option("--host", default=None, help="Interface to listen on (default HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default PORT or 8080).")
def serve(demo: bool, host: str | None, port: int | None) -> None:
    """Run the webhook (and, with --demo, the sandbox) with the scheduler in one process."""
    import os

    from bot.app import close_app, create_app
    from bot.router import warm_up
    from bot.scheduler import build_scheduler
    from bot.serving import serve_until_stopped
    from core.storage import stop_embedded_redis

    sandbox_url = None
    shop_pay = None
    sandbox = None
    if demo:
        from devtools.demo import pay_keys, pay_pair
        from devtools.sandbox import create_sandbox_app, serve_in_thread

        keys = pay_keys(os.environ.get("BOT_DATA_DIR") or "./var")
        sandbox_pay, shop_pay = pay_pair(keys, f"http://127.0.0.1:{DEMO_SANDBOX_PORT}")
        sandbox = serve_in_thread(
            create_sandbox_app(
                {
                    "APP_ID": DEMO_ACCOUNT["WECHAT_APP_ID"],
                    "APP_SECRET": DEMO_ACCOUNT["WECHAT_APP_SECRET"],
                    "PAY": sandbox_pay,
                }
            ),
            port=DEMO_SANDBOX_PORT,
        )
        sandbox_url = sandbox.url
    settings = load_settings(demo, sandbox_url)
    if shop_pay is not None:
        settings["WXPAY"] = shop_pay
    if port is not None:
        settings["PORT"] = port
        if not os.environ.get("PUBLIC_BASE_URL"):
            settings["PUBLIC_BASE_URL"] = None  # derived again from the port actually used
    host = host or settings["HOST"]
    _migrate(settings)
    app = create_app(settings)
    warm_up()
    storage = app.extensions["storage"]
    scheduler = build_scheduler(storage, app.extensions["registry"].jobs)
    scheduler.start()
    url = f"http://{host}:{settings['PORT']}/wechat"
    click.echo(f"Webhook listening at {url}")
    click.echo(f"Console at http://{host}:{settings['PORT']}/admin")
    if demo:
        from devtools.demo import seed_catalog, seed_console_accounts, seed_faq, seed_promotions

        seed_console_accounts(app.extensions["storage"].sessions)
        rules = app.extensions["audit_rules"].screener()
        if created := seed_catalog(app.extensions["storage"].sessions, rules):
            click.echo(f"Demo catalog: {created} products loaded")
        if created := seed_faq(app.extensions["storage"].sessions):
            click.echo(f"Demo FAQ: {created} questions and answers")
        batches, flash = seed_promotions(app.extensions["storage"].sessions, rules)
        if batches or flash:
            click.echo(f"Demo promotions: {batches} coupon batches (code VIP88), "
                       "flash-sale items in the session on now and the next (回复「秒杀」), "
                       "a bargain campaign (回复「砍价」)")
        click.echo(f"WeChat sandbox at {sandbox_url}  (demo account {settings['WECHAT_APP_ID']})")
        click.echo(demo_passwords_line(settings["ADMIN_PASSWORD"]))
        click.echo("Next: in a second terminal run  .venv/bin/python -m bot chat")
    click.echo("SIGTERM or Ctrl-C stops it cleanly")
    cleanup = [
        ("handlers", lambda: close_app(app)),
        ("scheduler", lambda: scheduler.shutdown(wait=True)),
        ("redis", lambda: stop_embedded_redis(storage.redis)),
    ]
    if sandbox is not None:
        cleanup.append(("sandbox", sandbox.stop))
    serve_until_stopped(app, host, settings["PORT"], cleanup)


def demo_passwords_line(admin_password: str) -> str:
    """The demo's accounts and their passwords: one password when admin's is the demo's."""
    names = "Demo console accounts admin, manager, reviewer and agent"
    if admin_password == DEMO_ADMIN_PASSWORD:
        return f"{names}; password {DEMO_ADMIN_PASSWORD!r} for all four"
    return (f"{names}; admin's password is ADMIN_PASSWORD, the others' "
            f"{DEMO_ADMIN_PASSWORD!r}")


def _migrate(settings: dict[str, Any]) -> None:
    """`serve` brings the schema up to date itself, so `make run` needs no extra step."""
    from core import migrate as migrations
    from core.db import engine_for

    before, after = migrations.upgrade(engine_for(settings))
    if before != after:
        click.echo(f"Database schema migrated from {before or 'nothing'} to {after}")


@cli.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=DEMO_SANDBOX_PORT)
def sandbox(host: str, port: int) -> None:
    """Run only the local WeChat API sandbox (demo account unless WECHAT_APP_ID/SECRET set)."""
    import os

    from werkzeug.serving import run_simple

    from devtools.sandbox import create_sandbox_app

    app = create_sandbox_app(
        {
            "APP_ID": os.environ.get("WECHAT_APP_ID") or DEMO_ACCOUNT["WECHAT_APP_ID"],
            "APP_SECRET": os.environ.get("WECHAT_APP_SECRET") or DEMO_ACCOUNT["WECHAT_APP_SECRET"],
        }
    )
    click.echo(f"WeChat sandbox at http://{host}:{port}")
    run_simple(host, port, app, threaded=True)


@cli.command()
@click.option("--url", default="http://127.0.0.1:8080/wechat", help="The webhook to post to.")
@click.option(
    "--sandbox",
    "sandbox_url",
    default=f"http://127.0.0.1:{DEMO_SANDBOX_PORT}",
    help="The sandbox that records what the server sent.",
)
@click.option("--aes", is_flag=True, help="Send in safe mode (encrypted), as WeChat does.")
@click.option("--openid", default=None, help="Chat as this openid (default: a new one).")
@click.option(
    "--script",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="Run a transcript file non-interactively, one input per line.",
)
def chat(url: str, sandbox_url: str, aes: bool, openid: str | None, script: Any) -> None:
    """Chat with the bot as a WeChat user (demo account credentials)."""
    from devtools.simulator import run_chat

    sys.exit(run_chat(url, sandbox_url, aes=aes, openid=openid, script=script))


@cli.command()
@click.option("--new", "message", default=None, metavar="MESSAGE",
              help="Write a new revision from the models' changes (developers).")
def migrate(message: str | None) -> None:
    """Bring the database to the code's schema (safe to run from many hosts at once)."""
    from core import migrate as migrations
    from core.db import engine_for
    from core.storage import shell_settings

    # Needs DATABASE_URL or BOT_DATA_DIR only, not the WeChat account; the cli group has
    # imported every model already.
    engine = engine_for(shell_settings())
    if message:
        click.echo(f"wrote {migrations.new_revision(engine, message)}")
        return
    before, after = migrations.upgrade(engine)
    if before == after:
        click.echo(f"database schema is current ({after})")
    else:
        click.echo(f"database schema migrated from {before or 'nothing'} to {after}")


@cli.group()
def menu() -> None:
    """The account's custom menu (bot/menu.json)."""


@menu.command("push")
@click.option("--demo", is_flag=True, help="Push to the demo account on the local sandbox.")
def menu_push(demo: bool) -> None:
    """Send bot/menu.json to WeChat's menu/create."""
    from bot.custom_menu import load_menu
    from bot.wechat_api import WeChatAPI, WeChatAPIError
    from core.storage import make_redis

    settings = load_settings(demo)
    api = WeChatAPI(
        settings["WECHAT_API_BASE"],
        settings["WECHAT_APP_ID"],
        settings["WECHAT_APP_SECRET"],
        make_redis(settings.get("REDIS_URL"), settings["BOT_DATA_DIR"]),
    )
    try:
        api.create_menu(load_menu())
    except WeChatAPIError as error:
        click.echo(f"menu push failed: {error.errcode} {error.errmsg}", err=True)
        sys.exit(1)
    click.echo("menu pushed")


@cli.command()
@click.option("--demo", is_flag=True)
def scheduler(demo: bool) -> None:
    """Run the recurring jobs in their own process (use with gunicorn)."""
    import time

    from bot.domains import build_registry, open_storage
    from bot.scheduler import build_scheduler
    from bot.serving import GRACE_SECONDS, StopSignal, finish_within
    from core.migrate import SchemaNotReady
    from core.storage import stop_embedded_redis

    settings = load_settings(demo)
    registry = build_registry()
    try:
        storage = open_storage(settings)
    except SchemaNotReady as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    jobs = build_scheduler(storage, registry.jobs)
    stop = StopSignal().install()
    jobs.start()
    click.echo("scheduler running; SIGTERM or Ctrl-C stops it")
    stop.wait()
    finish_within(
        [
            ("scheduler", lambda: jobs.shutdown(wait=True)),
            ("redis", lambda: stop_embedded_redis(storage.redis)),
        ],
        time.monotonic() + GRACE_SECONDS,
    )
    click.echo("scheduler stopped")


#: The push worker's TTL in Redis: see `worker`.
WORKER_TTL_SECONDS = 20


@cli.command()
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (tests, cron).")
def worker(burst: bool) -> None:
    """Send pushes: an RQ worker on the "pushes" queue (with PUSH_WORKERS=rq).

    It runs jobs in this process (rq.SimpleWorker, no fork), all with the one storage opened
    here. SIGTERM or Ctrl-C lets the job in hand finish, then stops; a second one stops at
    once, and the rows that job had claimed are recovered by the next sender.
    """
    from rq import SimpleWorker

    from bot.domains import open_storage
    from campaigns import queue
    from core.migrate import SchemaNotReady
    from core.storage import stop_embedded_redis

    settings = load_settings(False)
    try:
        storage = open_storage(settings)
    except SchemaNotReady as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    if settings["PUSH_WORKERS"] != "rq":
        click.echo("note: PUSH_WORKERS is not rq, so the scheduler sends pushes itself and "
                   "queues nothing here", err=True)
    queue.use_storage(storage)
    # A short TTL: RQ waits for jobs in a blocking pop of (TTL − 15) s and only looks at a
    # SIGTERM between two pops, so the default (420 s) would keep a stopped worker up for
    # minutes; with 20 s it stops within about 5 s.
    rq_worker = SimpleWorker([queue.push_queue(storage)], connection=storage.redis,
                             worker_ttl=WORKER_TTL_SECONDS)
    click.echo(f"push worker on queue {queue.QUEUE_NAME!r}; SIGTERM or Ctrl-C stops it")
    try:
        rq_worker.work(burst=burst, with_scheduler=False)
    finally:
        queue.use_storage(None)
        stop_embedded_redis(storage.redis)
    click.echo("push worker stopped")


# ---- pushes: the re-engagement pushes from the shell ------------------------------------------

T = TypeVar("T")
#: Seconds between two looks at the database while a long run shows its progress.
PROGRESS_POLL_SECONDS = 0.5


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def _with_progress(work: Callable[[], T], poll: Callable[[], tuple[int, int, str]],
                   label: str) -> T:
    """`work()`'s result. When stderr is a terminal, `work` runs in a thread while a counter
    on stderr shows poll()'s (done, total, note), read from the database every half second
    (the planner and the sender commit as they go, so another connection sees their
    progress); otherwise it just runs (no output to clutter a log or a pipe)."""
    if not _stderr_is_tty():
        return work()
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # re-raised below, in the command's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name=f"cli-{label}", daemon=True)
    thread.start()
    width = 0
    while True:
        thread.join(PROGRESS_POLL_SECONDS)
        done, total, note = poll()
        total = max(total, done)
        percent = f" {done * 100 // total:3d}%" if total else ""
        line = f"{label}: {done}/{total}{percent}{f' ({note})' if note else ''}"
        width = max(width, len(line))
        click.echo(f"\r{line.ljust(width)}", err=True, nl=False)
        if not thread.is_alive():
            break
    click.echo(err=True)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _parse_time(text: str | None) -> datetime | None:
    """An ISO 8601 time with its offset as aware UTC; exit 2 on anything else."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        at = None
    if at is None or at.utcoffset() is None:
        click.echo(f"error: --now needs an ISO 8601 time with its offset, "
                   f"e.g. 2026-12-05T10:00:00+08:00 (got {text!r})", err=True)
        sys.exit(2)
    return at.astimezone(UTC)


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {number}" for key, number in sorted(counts.items())) or "nothing"


@cli.group()
def pushes() -> None:
    """Re-engagement pushes: list, dry-run, plan and send now (the scheduler does the same
    every minute / 15 seconds; these are for a shell, a benchmark or a cron job)."""


@pushes.command("list")
def pushes_list() -> None:
    """Every push, newest first: id, state, review, next send (Shanghai), segment, name."""
    from sqlalchemy import select

    from campaigns.push_reports import REVIEW_STATES, next_fire
    from campaigns.pushes import PUSH_STATES, Push
    from core.clock import shanghai_text
    from core.storage import storage_from_env

    now = datetime.now(UTC)
    with storage_from_env().sessions() as db:
        found = list(db.scalars(select(Push).order_by(Push.id.desc())))
        if not found:
            click.echo("no pushes")
            return
        for push in found:
            upcoming = next_fire(push, now)
            click.echo("\t".join([
                f"#{push.id}", PUSH_STATES.get(push.state, push.state),
                REVIEW_STATES.get(push.review, push.review),
                shanghai_text(upcoming) if upcoming else "-", push.segment, push.name]))


@pushes.command("dry-run")
@click.argument("push_id", type=int)
@click.option("--sample", type=click.IntRange(0, 1000), default=0,
              help="Also print this many recipients (openids cut to 6 characters).")
def pushes_dry_run(push_id: int, sample: int) -> None:
    """Who push PUSH_ID would reach at its next fire, by which channel, who is skipped and
    why. Writes nothing."""
    from campaigns import planner, segments
    from campaigns.pushes import Push
    from core.clock import shanghai_text
    from core.storage import storage_from_env

    storage = storage_from_env()
    with storage.sessions() as db:
        push = db.get(Push, push_id)
        if push is None:
            click.echo(f"error: no push #{push_id}", err=True)
            sys.exit(1)
        name = push.name
        try:
            dry = planner.dry_run(db, push, datetime.now(UTC), sample=sample,
                                  thresholds=segments.thresholds_from(storage.settings),
                                  template_id=planner.push_template_id(storage.settings))
        except (ValueError, OverflowError) as error:
            click.echo(f"error: cannot dry-run push #{push_id}: {error}", err=True)
            sys.exit(1)
        finally:
            db.rollback()  # a dry run writes nothing
    click.echo(f"push #{push_id} {name}: dry run at {shanghai_text(dry.fire_at)} "
               "(Shanghai)")
    click.echo(f"recipients {dry.total}: planned {dry.counts.get('planned', 0)}, "
               f"holdout {dry.holdout}, skipped {dry.skipped_total}")
    for channel, number in sorted(dry.by_channel.items()):
        click.echo(f"  channel {channel}: {number}")
    for variant, number in sorted(dry.by_variant.items()):
        click.echo(f"  variant {variant}: {number}")
    for reason, number in sorted(dry.skipped.items(), key=lambda item: -item[1]):
        click.echo(f"  skipped ({reason}): {number}")
    for row in dry.sample:
        click.echo("\t".join([row.openid, row.state, row.variant or "-", row.channel or "-",
                              row.reason or "-", row.text or "-"]))


@pushes.command("plan")
@click.option("--now", "now_text", default=None, metavar="TIME",
              help="Plan as of this ISO 8601 time with offset (default: the current time).")
def pushes_plan(now_text: str | None) -> None:
    """Plan what is due once (campaigns/planner.py plan_due): create the runs of every
    scheduled push and write the deliveries of those due. A counter of deliveries planned
    and runs done shows on stderr when it is a terminal; one summary line always."""
    from sqlalchemy import func, select

    from campaigns import planner
    from campaigns.pushes import Push, PushDelivery, PushRun
    from core.storage import storage_from_env

    at = _parse_time(now_text)
    storage = storage_from_env()
    started = at or datetime.now(UTC)
    with storage.sessions() as db:
        before = db.scalar(select(func.count()).select_from(PushDelivery)) or 0
        runs_before = db.scalar(select(func.count()).select_from(PushRun)
                                .where(PushRun.state != "planning")) or 0

    def poll() -> tuple[int, int, str]:
        """Runs done / done + still waiting, and the deliveries written so far."""
        with storage.sessions() as db:
            written = (db.scalar(select(func.count()).select_from(PushDelivery)) or 0) - before
            done = (db.scalar(select(func.count()).select_from(PushRun)
                              .where(PushRun.state != "planning")) or 0) - runs_before
            waiting = db.scalar(select(func.count()).select_from(PushRun)
                                .join(Push, Push.id == PushRun.push_id)
                                .where(PushRun.state == "planning", Push.state == "scheduled",
                                       PushRun.fire_at <= started)) or 0
        return max(done, 0), max(done, 0) + waiting, f"{written} deliveries written"

    result = _with_progress(lambda: planner.plan_due(storage, at), poll, "runs planned")
    click.echo(f"planned {result.get('planned', 0)} run(s), "
               f"{result.get('deliveries', 0)} deliveries to send; "
               f"runs created {result.get('runs_created', 0)}, held {result.get('held', 0)}, "
               f"missed {result.get('missed', 0)}, failed {result.get('failed', 0)}")
    if result.get("failed"):
        sys.exit(1)


@pushes.command("send")
@click.option("--until-done", is_flag=True,
              help="Send in rounds until nothing is due (one round otherwise).")
def pushes_send(until_done: bool) -> None:
    """Send the due deliveries now (campaigns/sender.py send_due), as the scheduler's job or
    a worker would; safe beside them. A progress bar of deliveries handled out of those due
    shows on stderr when it is a terminal; one summary line always."""

    from bot.domains import open_storage
    from campaigns import sender
    from core.migrate import SchemaNotReady
    from core.storage import stop_embedded_redis

    settings = load_settings(False)
    try:
        storage = open_storage(settings)
    except SchemaNotReady as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(2)

    def due(at: datetime) -> int:
        with storage.sessions() as db:
            return sender.outstanding(db, at)

    totals: dict[str, int] = {}
    rounds = 0
    try:
        while True:
            at = datetime.now(UTC)
            total = due(at)
            if rounds and not total:
                break

            def poll(at: datetime = at, total: int = total) -> tuple[int, int, str]:
                return max(total - due(at), 0), total, ""

            rounds += 1
            result = _with_progress(lambda: sender.send_due(storage), poll,
                                    f"deliveries sent (round {rounds})" if until_done
                                    else "deliveries sent")
            for key, number in result.items():
                totals[key] = totals.get(key, 0) + number
            if not until_done or not any(result.values()):
                break
        left = due(datetime.now(UTC))
    finally:
        stop_embedded_redis(storage.redis)
    click.echo(f"sent in {rounds} round(s): {_counts_text(totals)}; {left} still due")


def _add_console_commands() -> None:
    from console.commands import users
    from customer_service.commands import faq
    from shop.address_command import address
    from shop.commands import catalog

    cli.add_command(users)
    cli.add_command(catalog)
    cli.add_command(faq)
    cli.add_command(address)


_add_console_commands()


def main() -> None:
    cli(prog_name="python -m bot")
