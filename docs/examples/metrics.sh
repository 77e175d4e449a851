#!/usr/bin/env bash
# A worker that Prometheus can scrape: http://<host>:9464/metrics (METRICS_PORT to change it).
set -euo pipefail
taskward db upgrade --database "$DATABASE_URL"

taskward worker --app tasks:app --database "$DATABASE_URL" \
    --metrics-port "${METRICS_PORT:-9464}" --metrics-addr "${METRICS_ADDR:-0.0.0.0}"
