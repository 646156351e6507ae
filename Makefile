# Two commands for a newcomer: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: run test lint bench install browser clean check-production

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot serve --demo

# Debian's Chromium for the browser tests (apt; skipped with a hint when not root).
browser:
	./scripts/install-browser.sh

test: $(STAMP) browser
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest

# ruff; the import layers of ../shared/DESIGN.md (pyproject's [tool.importlinter]); mypy on
# the foundation and the WeChat side. `make test` (and so CI) runs this first.
lint: $(STAMP)
	$(BIN)/python -m ruff check .
	$(BIN)/lint-imports
	$(BIN)/python -m mypy

# The README's production steps (migrate, gunicorn, SIGTERM) in a requirements-only venv (CI).
check-production:
	./scripts/check-production.sh

bench: $(STAMP)
	$(BIN)/python bench/webhook_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
