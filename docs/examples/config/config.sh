#!/usr/bin/env bash
# Validate and inspect docs/examples/config/taskward.toml (run from that directory).
set -euo pipefail
export DB_PASSWORD=${DB_PASSWORD:-example}

taskward config check                  # every error at once, exit status 2 if any
taskward config show --output json     # the effective config, secrets masked
taskward config schema > taskward.schema.json  # JSON Schema for your editor
TASKWARD_QUEUES__EMAILS__CONCURRENCY=50 taskward config show | grep -A1 'queues.emails'
