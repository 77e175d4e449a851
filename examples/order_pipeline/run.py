"""Place three orders and run their workflows to the end: `python run.py`.

One ships; one is out of stock (stock is discarded, so shipping and the email are
cancelled and settle refunds the payment); one has its card declined (settle has
nothing to undo).
"""

from pathlib import Path

import sqlalchemy as sa

from taskward.core.testing import drain
from taskward.ops.config import load_settings
from taskward.ops.config.apply import open_app

config = load_settings(Path(__file__).with_name("taskward.toml"))
app = open_app(config, migrate=True)  # imports orders.py ([app] module) onto [database] url

import orders  # noqa: E402 - the module open_app just imported

orders.orders.metadata.create_all(app.engine)
with app.engine.begin() as conn:
    conn.execute(orders.orders.delete())  # a fresh run each time
runs = [orders.place(1, "book", "visa"), orders.place(2, "piano", "visa"),
        orders.place(3, "lamp", "declined")]  # fmt: skip
while app.list_jobs(state="available") or app.list_jobs(state="retryable"):
    drain(app, with_scheduled=True)  # retries run now instead of after their backoff

with app.engine.connect() as conn:
    rows = conn.execute(sa.select(orders.orders).order_by(orders.orders.c.id)).all()
for row in rows:
    print(f"order {row.id} ({row.item}): {row.status}")
for run in runs:
    steps = " ".join(f"{s.step}={s.job.state.value}" for s in app.workflows.get(run.id).steps)
    print(f"  {steps} -> {app.get_job(run['settle'].id).result}")
