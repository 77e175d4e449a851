# Taskward: `make run` starts the demo on embedded defaults, `make test` runs every check.
SHELL := /bin/bash
# uv from PATH, else the one `make setup` installed (user site, or ./.uv where pip may not
# install: a Debian system Python refuses both plain and --user installs, PEP 668).
# Looked up when a recipe is expanded (after `setup`, its prerequisite, has run).
FIND_UV = { command -v uv >/dev/null 2>&1 && echo uv; } \
	|| { python3 -m uv --version >/dev/null 2>&1 && echo "python3 -m uv"; } || echo .uv/bin/uv
UV = $(shell $(FIND_UV))
export UV_LINK_MODE ?= copy

.PHONY: help setup run test lint typecheck importlint pytest ci bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## install uv (from PyPI) if missing, then the workspace
	@if [ "$$($(FIND_UV))" = .uv/bin/uv ] && [ ! -x .uv/bin/uv ]; then \
		echo "installing uv from PyPI"; \
		python3 -m pip install --quiet --user uv 2>/dev/null \
		|| python3 -m pip install --quiet --user --break-system-packages uv 2>/dev/null \
		|| { python3 -m venv .uv && .uv/bin/pip install --quiet uv; }; \
	fi
	@$$($(FIND_UV)) sync --quiet

run: setup ## the demo: `taskward up --demo` on SQLite, one line per job outcome (Ctrl-C stops it)
	$(UV) run taskward up --demo

lint: setup ## ruff lint and format check
	$(UV) run ruff check .
	$(UV) run ruff format --check core ops notifiers archiver

typecheck: setup ## mypy --strict on every member's src
	$(UV) run mypy --strict core/src ops/src notifiers/src archiver/src

importlint: setup ## the dependency direction between members
	$(UV) run lint-imports

pytest: setup ## the test suite
	$(UV) run pytest $(PYTEST_ARGS)

test: lint typecheck importlint pytest ## every check CI runs

ci: ## install what CI needs, then `make test`
	bash .ci/install
	$(MAKE) test

bench: setup ## benchmarks: print figures, write bench/results/latest.json
	$(UV) run python -m bench
