"""Scenarios run the app with a paying sandbox, as the shop's tests do."""

from tests.shop.conftest import keys, shop  # noqa: F401
