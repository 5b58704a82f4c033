"""The audit log: who changed what, when and why (audit_events). A use case that changes the programme or a
customer's account on a person's behalf records one event in its own transaction, so the log holds exactly
what was committed. The admin's Audit page and its CSV read them back (loyalty.services.read.audit).

`actor` is the staff member (session token `sub`); None is the operator's CLI, and the summary says so."""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from db.tables import AUDIT_ACTIONS, audit_events
from loyalty.domain.programme_diff import programme_diff, summarise

__all__ = ["AUDIT_ACTIONS", "record", "programme_saved", "by"]

CLI = "CLI"
"""Who a change with no staff member was made by: the operator's command line."""


def record(conn: Connection, shop_id: int, *, action: str, at: datetime, actor: str | None, summary: str,
           customer_id: int | None = None, subject: str | None = None, details: dict | list | None = None) -> int:
    """Append one event (in the caller's transaction) and return its id. `action` is one of AUDIT_ACTIONS;
    `actor` the staff member (session token `sub`), None for the operator's CLI; `summary` one line a person
    reads; `details` JSON-ready (a programme diff, before and after)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return conn.execute(insert(audit_events).values(
        shop_id=shop_id, action=action, at=at, actor=actor, summary=summary[:2000], customer_id=customer_id,
        subject=None if subject is None else str(subject)[:255],
        details=None if details is None else json.dumps(details, sort_keys=True, default=str),
    )).inserted_primary_key[0]


def by(actor: str | None) -> str:
    """The end of a summary naming who did it when no staff member did (` (CLI)`); '' for staff, whose id
    is the event's own field."""
    return "" if actor else f" ({CLI})"


def programme_saved(conn: Connection, shop_id: int, at: datetime, actor: str | None, version: int,
                    before: dict | None, after: dict, template: str | None = None) -> int:
    """Record a new programme version: its diff from the version it replaced as the details, summarised."""
    diff = programme_diff(before, after)
    applied = f"template {template} applied: " if template else ""
    return record(conn, shop_id, action="programme_saved", at=at, actor=actor, subject=str(version),
                  summary=f"programme version {version}: {applied}{summarise(diff)}{by(actor)}", details=diff)
