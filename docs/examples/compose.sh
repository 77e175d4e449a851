#!/usr/bin/env bash
# The whole stack (tests/opkit/test_compose.py validates the file this names).
set -euo pipefail
cd "$(dirname "$0")/../.."
docker compose -f compose/compose.yaml up --build
