"""RETURN_ADDRESS: where approved returns are posted, checked once at start."""

from __future__ import annotations

import pytest

from core.config import DEFAULTS, ConfigError, from_env, validate
from shop import returns_config

GOOD = "售后部 0571-88886666 浙江省杭州市余杭区文一西路1500号"


def test_a_full_address_is_kept_and_unset_means_no_return_address(monkeypatch):
    monkeypatch.delenv("RETURN_ADDRESS", raising=False)
    config = validate({**DEFAULTS, "RETURN_ADDRESS": f"  {GOOD} "}, require_account=False,
                      checks=[returns_config.check_config])
    assert returns_config.return_address(config) == GOOD
    unset = validate({**DEFAULTS}, require_account=False, checks=[returns_config.check_config])
    assert returns_config.return_address(unset) == ""


def test_the_address_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("RETURN_ADDRESS", GOOD)
    config = validate(from_env(), require_account=False, checks=[returns_config.check_config])
    assert config["RETURN_ADDRESS"] == GOOD
    assert validate(dict(config), require_account=False,
                    checks=[returns_config.check_config]) == config


@pytest.mark.parametrize(("text", "why"), [
    ("浙江省杭州市余杭区文一西路1500号", "missing 收件人姓名、手机号"),
    ("售后部 0571-88886666", "missing 省份、城市"),
    ("售后部 0571-88886666 浙江省杭州市余杭区" + "很长" * 100, "at most 200"),
])
def test_an_address_no_courier_can_use_is_one_config_line(text, why):
    with pytest.raises(ConfigError) as raised:
        validate({**DEFAULTS, "RETURN_ADDRESS": text}, require_account=False,
                 checks=[returns_config.check_config])
    [line] = raised.value.problems
    assert line.startswith("RETURN_ADDRESS:") and why in line


def test_the_shop_registers_the_check_so_a_bad_address_stops_the_start():
    from bot.domains import build_registry

    assert returns_config.check_config in build_registry().config_checks
