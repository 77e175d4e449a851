"""The app docs/examples/config/taskward.toml configures (``[app] module = "tasks:app"``)."""

import os

from taskward.core import Taskward

app = Taskward(os.environ.get("TASKWARD_DATABASE_URL", "sqlite:///.taskward/taskward.db"))


@app.task(name="billing.charge", queue="billing")
def charge(customer_id: int, cents: int) -> str:
    return f"charged {customer_id} {cents}"


@app.task(name="emails.send", queue="emails")
def send(address: str) -> None:
    print(f"mail to {address}")


@app.task(name="reports.daily", queue="reports")
def daily_report(kind: str = "sales") -> str:
    return f"{kind} report"
