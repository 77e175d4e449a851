#!/usr/bin/env bash
# PostgreSQL for many machines. TASKWARD_DATABASE_URL (postgresql://user:password@host:5432/dbname)
# is the only thing the hosts share: every command and app reads it.
set -euo pipefail

# Every host has TASKWARD_DATABASE_URL=postgresql://user:password@host:5432/dbname set.
# Once per deploy, from one place (your deploy job); it is a no-op when already current:
taskward db upgrade

# On every worker host, as many as you like, next to tasks.py:
taskward worker --app tasks:app --queue default=20 --queue emails=5
