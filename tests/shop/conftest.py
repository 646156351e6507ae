"""The shop's console pages need the console's accounts: reuse its fixtures."""

from tests.console.conftest import console, console_app  # noqa: F401
