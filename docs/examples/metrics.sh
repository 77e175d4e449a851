#!/usr/bin/env bash
# A worker that Prometheus can scrape: http://<host>:9464/metrics (METRICS_PORT to change it).
set -euo pipefail
taskward db upgrade  # on $TASKWARD_DATABASE_URL

taskward worker --app tasks:app \
    --metrics-port "${METRICS_PORT:-9464}" --metrics-addr "${METRICS_ADDR:-0.0.0.0}"
