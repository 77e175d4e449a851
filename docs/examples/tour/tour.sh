#!/usr/bin/env bash
# The 5-minute tour as one script: run it next to tasks.py and enqueue.py.
set -euo pipefail

# 1. Create the database (./.taskward/taskward.db unless $TASKWARD_DATABASE_URL says otherwise).
taskward db upgrade

# 2. Enqueue from Python, and from the shell (prints the new job's id).
python enqueue.py
job_id=$(taskward enqueue tasks.send_welcome --args '["ada@example.com"]' --app tasks:app)

# 3. Run a worker: it runs jobs until Ctrl-C or SIGTERM, then finishes what is running.
taskward worker --app tasks:app

# 4. Look at what happened.
taskward jobs list
taskward jobs show "$job_id"
