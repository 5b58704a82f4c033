"""Inbox rows written with their bodies, through SQLAlchemy Core: for the callers that are not the
webhook intake (which goes straight to the driver, webhooks.group_commit): benchmarks feeding a backlog,
tests setting up a waiting or failed webhook."""
from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from db.tables import webhook_bodies, webhook_inbox


def insert_webhooks(conn: Connection, rows: list[dict]) -> list[int]:
    """Insert inbox rows, each given with its `body` beside any webhook_inbox columns, and their bodies,
    in the caller's transaction; returns the rows' ids in the order given."""
    if not rows:
        return []
    ids = conn.execute(insert(webhook_inbox).returning(webhook_inbox.c.id, sort_by_parameter_order=True),
                       [{name: value for name, value in row.items() if name != "body"} for row in rows]).scalars().all()
    conn.execute(insert(webhook_bodies), [dict(inbox_id=inbox_id, body=row["body"]) for inbox_id, row in zip(ids, rows)])
    return ids
