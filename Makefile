# Taskward: `make run` starts the demo on embedded defaults, `make test` runs every check.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export UV_LINK_MODE ?= copy

.PHONY: help setup run test lint typecheck importlint pytest ci bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## install uv (from PyPI) if missing, then the workspace
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --quiet

run: setup ## the demo: a worker on SQLite running example jobs (Ctrl-C stops it)
	$(UV) run taskward demo

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
