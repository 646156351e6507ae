"""The board is a console page: reuse the console's fixtures."""

from tests.console.conftest import console, console_app  # noqa: F401
