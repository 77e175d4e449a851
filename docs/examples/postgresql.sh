#!/usr/bin/env bash
# PostgreSQL for many machines. DATABASE_URL (postgresql://user:password@host:5432/dbname)
# is the only thing the hosts share.
set -euo pipefail

# Once per deploy, from one place (your deploy job); it is a no-op when already current:
taskward db upgrade --database "$DATABASE_URL"

# On every worker host, as many as you like, next to tasks.py:
taskward worker --app tasks:app --database "$DATABASE_URL" --queue default=20 --queue emails=5
