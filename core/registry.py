"""What each domain contributes to the running service, collected in one place.

Every domain package has a `register(registry)` function; the app factory and the scheduler
process call them in order (bot/domains.py). A domain adds its model modules (so their tables
exist), its recurring jobs, its configuration checks and, for the web process, a function that
adds its pages. Nothing is registered by importing a module, so what runs is what is listed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.storage import Storage

#: A configuration check: returns one line per bad variable, and may normalise values.
ConfigCheck = Callable[[dict[str, Any]], list[str]]


@dataclass(frozen=True)
class Job:
    """A recurring job: a plain function of the storage handles, run every `every_seconds`."""

    name: str
    every_seconds: int
    run: Callable[[Storage], object]
    domain: str = ""


@dataclass
class Registry:
    models: list[str] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    config_checks: list[ConfigCheck] = field(default_factory=list)
    web: list[Callable[[Any], None]] = field(default_factory=list)

    def add_models(self, *modules: str) -> None:
        """Model modules to import before tables are created (their tables join Base.metadata)."""
        self.models.extend(modules)

    def add_job(self, domain: str, name: str, every_seconds: int,
                run: Callable[[Storage], object]) -> None:
        if any(job.name == name for job in self.jobs):
            raise ValueError(f"two recurring jobs are named {name!r}")
        self.jobs.append(Job(name, every_seconds, run, domain))

    def add_config_check(self, check: ConfigCheck) -> None:
        self.config_checks.append(check)

    def add_web(self, init: Callable[[Any], None]) -> None:
        """A function taking the Flask app that adds this domain's pages and menu entries."""
        self.web.append(init)

    def import_models(self) -> None:
        for module in self.models:
            importlib.import_module(module)
