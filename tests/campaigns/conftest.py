"""Fixtures of the campaigns' tests: the console with one account per role."""

from tests.console.conftest import console, console_app  # noqa: F401
