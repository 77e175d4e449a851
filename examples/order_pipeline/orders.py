"""Orders as a workflow: payment, then stock, then shipping, then the confirmation email.

A step that is discarded cancels the steps after it, and ``settle`` (which runs
whatever happened before it) undoes what was done: it refunds a payment and releases
reserved stock for an order that did not ship. The order's own record is a table of
the app, written in the same database as the jobs.
"""

import os

import sqlalchemy as sa

from taskward.core import Taskward
from taskward.core.workflows import Workflow, WorkflowRun

app = Taskward(os.environ.get("TASKWARD_DATABASE_URL", "sqlite:///.taskward/orders.db"))
orders = sa.Table(
    "shop_orders",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("item", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False, default="new"),
    sa.Column("charged", sa.Boolean, nullable=False, default=False),
    sa.Column("reserved", sa.Boolean, nullable=False, default=False),
    sa.Column("shipped", sa.Boolean, nullable=False, default=False),
)
IN_STOCK = {"book", "lamp"}


def _update(order_id: int, **values: object) -> None:
    with app.engine.begin() as conn:
        conn.execute(orders.update().where(orders.c.id == order_id).values(**values))


def _order(order_id: int) -> sa.Row[tuple[object, ...]]:
    with app.engine.connect() as conn:
        return conn.execute(orders.select().where(orders.c.id == order_id)).one()


@app.task(name="orders.payment", max_attempts=3, never_retry_on=(PermissionError,))
def payment(order_id: int, card: str) -> str:
    if card == "declined":
        raise PermissionError(f"card declined for order {order_id}")  # not worth a retry
    _update(order_id, charged=True)
    return f"charged order {order_id}"


@app.task(name="orders.stock", max_attempts=2)
def stock(order_id: int) -> str:
    item = _order(order_id).item
    if item not in IN_STOCK:
        raise LookupError(f"{item} is out of stock")
    _update(order_id, reserved=True)
    return f"reserved {item}"


@app.task(name="orders.shipping")
def shipping(order_id: int) -> str:
    _update(order_id, shipped=True)
    return f"label for order {order_id}"


@app.task(name="orders.email")
def email(order_id: int) -> str:
    return f"confirmation sent for order {order_id}"


@app.task(name="orders.settle")
def settle(order_id: int) -> str:
    """The compensation step: runs last whatever happened, undoes an order that did not ship."""
    order = _order(order_id)
    if order.shipped:
        _update(order_id, status="shipped")
        return "shipped"
    undone = [name for name, done in (("refunded", order.charged), ("released", order.reserved))
              if done]  # fmt: skip
    _update(order_id, status="failed", charged=False, reserved=False)
    return "failed: " + (", ".join(undone) or "nothing to undo")


def place(order_id: int, item: str, card: str) -> WorkflowRun:
    """Record the order and enqueue its workflow in one transaction."""
    with app.engine.begin() as conn:
        conn.execute(orders.insert().values(id=order_id, item=item))
        return (
            Workflow()
            .add("payment", payment.spec(order_id, card))
            .add("stock", stock.spec(order_id), after=["payment"])
            .add("shipping", shipping.spec(order_id), after=["stock"])
            .add("email", email.spec(order_id), after=["shipping"])
            .add("settle", settle.spec(order_id), after=["shipping"], on_dependency_failure="run")
            .enqueue(app, connection=conn)
        )
