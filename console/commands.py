"""`python -m bot users ...`: console accounts from the shell (first admin, lost passwords).

These need only the database and Redis, not the WeChat account, so they work before the
account is configured.
"""

from __future__ import annotations

import sys

import click

from console import accounts, api_tokens, audit_log, lockout
from console.permissions import ROLES


def _storage():
    from core.storage import storage_from_env

    return storage_from_env()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def users() -> None:
    """Console accounts."""


@users.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(sorted(ROLES)), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def create_user(name: str, role: str, password_stdin: bool) -> None:
    """Create an account (asks for its password)."""
    password = _read_password(password_stdin)
    storage = _storage()
    try:
        with storage.sessions.begin() as db:
            account = accounts.create(db, name, role, password)
            audit_log.record(db, "account.create", target=account.username, role=role, via="cli")
    except accounts.AccountError as error:
        click.echo(f"not created: {error}", err=True)
        sys.exit(1)
    click.echo(f"created {account.username} ({role})")


@users.command("list")
def list_users() -> None:
    """Every account with its role and state."""
    storage = _storage()
    with storage.sessions() as db:
        for account in accounts.all_accounts(db):
            state = "active" if account.active else "disabled"
            if lockout.is_locked(storage.redis, account.username):
                state += ", locked"
            click.echo(f"{account.username:<24} {account.role:<12} {state}")


@users.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
def set_password(name: str, password_stdin: bool) -> None:
    """Set a new password (ends the account's sessions and API tokens) and lift any lock."""
    password = _read_password(password_stdin)
    storage = _storage()
    try:
        with storage.sessions.begin() as db:
            account = accounts.find(db, name)
            if account is None:
                click.echo(f"no account named {name}", err=True)
                sys.exit(1)
            revoked = accounts.set_password(db, account, password)
            audit_log.record(db, "account.password", target=account.username, via="cli",
                             **api_tokens.revoked_detail(revoked))
    except accounts.AccountError as error:
        click.echo(f"not changed: {error}", err=True)
        sys.exit(1)
    lockout.unlock(storage.redis, accounts.normalize_username(name))
    click.echo(f"password of {accounts.normalize_username(name)} changed"
               + (f"; {revoked} API token(s) revoked" if revoked else ""))
