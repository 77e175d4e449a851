#!/usr/bin/env bash
# An operator's session, next to the tour's tasks.py, on $TASKWARD_DATABASE_URL (else the default).
set -euo pipefail
taskward db upgrade
job_id=$(taskward enqueue tasks.send_welcome --args '["ops@example.com"]' --app tasks:app)

# Look: tables fit 80 columns (--wide shows ids and arguments whole; -o json|yaml for scripts).
taskward jobs list --state available --queue emails --since 1h
taskward queues list
taskward workers list
taskward schedules list

# One job (its whole id, or its end as tables show it): fields, errors, events; its logs.
taskward jobs show "$job_id"
taskward jobs logs "$job_id"

# Act on one job ...
taskward jobs cancel "$job_id"
taskward jobs retry "$job_id"
# ... or on every job a filter matches: it says how many and asks (--yes answers for scripts).
taskward jobs cancel --queue emails --since 1h --yes
taskward jobs delete --state cancelled --task tasks.send_welcome --yes

# Hold a queue while its partner is down (running jobs finish), then let it go.
taskward queues pause emails
taskward queues resume emails
