"""Queries of the audit log (audit_events, written by loyalty.services.audit) and of the programme's
versions: a page of events newest first, filtered by action, staff member, customer and the shop's calendar
days; the same events for a CSV, in bounded chunks; every programme version with who saved it and what it
changed from the one before. Each opens its own read transaction."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterator

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Connection

from db.tables import audit_events as ae, customers, programme_settings as ps
from loyalty.defaults import AUDIT_CSV_CHUNK, AUDIT_CSV_MAX_ROWS, AUDIT_PAGE_SIZE, PROGRAMME_VERSIONS_PAGE_SIZE
from loyalty.domain.programme_diff import programme_diff, summarise
from loyalty.domain.times import iso
from loyalty.services.read.shops import shop_of
from loyalty.services.shops import ShopRef, programme, shop_facts
from loyalty.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AuditFilter:
    """Which events: one action, one staff member, one customer, the shop's calendar days `first`..`last`
    (inclusive; either may be open). None: any."""

    action: str | None = None
    actor: str | None = None
    customer_id: int | None = None
    first: date | None = None
    last: date | None = None


CSV_COLUMNS = ("at", "actor", "action", "customer_id", "customer_email", "subject", "summary", "details")


def audit_page(shop: ShopRef | str, filters: AuditFilter, uow: UnitOfWork, before: int | None = None,
               size: int = AUDIT_PAGE_SIZE) -> tuple[list[dict], bool]:
    """One page of the shop's events, newest first, after the event `before` (the last one of the page
    before: a keyset, so a page costs the same however deep); and whether more follow."""
    with uow:
        ref = shop_of(uow, shop)
        rows = _events(uow.conn, ref, filters, before, size + 1)
        return [_event(r) for r in rows[:size]], len(rows) > size


def audit_csv(shop: ShopRef | str, filters: AuditFilter, uow: UnitOfWork,
              limit: int = AUDIT_CSV_MAX_ROWS) -> Iterator[str]:
    """The shop's events as CSV text, newest first, at most `limit` rows, yielded a chunk at a time (each
    chunk read in its own short read transaction, so a long download holds nothing open)."""
    yield _csv_line(CSV_COLUMNS)
    before, left = None, limit
    while left > 0:
        with uow:
            ref = shop_of(uow, shop)
            rows = _events(uow.conn, ref, filters, before, min(AUDIT_CSV_CHUNK, left))
        if not rows:
            return
        yield "".join(_csv_line(_csv_row(_event(r))) for r in rows)
        before, left = rows[-1].id, left - len(rows)


def _events(conn: Connection, shop: ShopRef, filters: AuditFilter, before: int | None, limit: int) -> list:
    query = (select(ae, customers.c.email.label("customer_email"))
             .select_from(ae.outerjoin(customers, customers.c.id == ae.c.customer_id))
             .where(ae.c.shop_id == shop.id))
    if filters.action:
        query = query.where(ae.c.action == filters.action)
    if filters.actor:
        query = query.where(ae.c.actor == filters.actor)
    if filters.customer_id is not None:
        query = query.where(ae.c.customer_id == filters.customer_id)
    if filters.first is not None or filters.last is not None:
        facts = shop_facts(conn, shop.id)
        if filters.first is not None:
            query = query.where(ae.c.at >= facts.start_of_day(filters.first))
        if filters.last is not None:
            query = query.where(ae.c.at < facts.start_of_day(filters.last + timedelta(days=1)))
    if before is not None:
        after = conn.execute(select(ae.c.at).where(ae.c.id == before, ae.c.shop_id == shop.id)).scalar()
        if after is None:  # not an event of this shop: nothing comes after it
            return []
        query = query.where(or_(ae.c.at < after, and_(ae.c.at == after, ae.c.id < before)))
    return conn.execute(query.order_by(ae.c.at.desc(), ae.c.id.desc()).limit(limit)).all()


def _event(row) -> dict:
    return {"id": row.id, "at": iso(row.at), "actor": row.actor, "action": row.action,
            "customer_id": row.customer_id, "customer_email": row.customer_email, "subject": row.subject,
            "summary": row.summary, "details": None if row.details is None else json.loads(row.details)}


def _csv_row(event: dict) -> tuple:
    details = "" if event["details"] is None else json.dumps(event["details"], sort_keys=True, ensure_ascii=False)
    return (event["at"], event["actor"] or "", event["action"], event["customer_id"] or "",
            event["customer_email"] or "", event["subject"] or "", event["summary"], details)


def _csv_line(values) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


# -- programme versions ------------------------------------------------------------------------------

def programme_versions(shop: ShopRef | str, uow: UnitOfWork, before: int | None = None,
                       size: int = PROGRAMME_VERSIONS_PAGE_SIZE) -> tuple[list[dict], bool]:
    """The shop's programme versions, newest first, below version `before` (a keyset): each one's number,
    when and by whom it was saved, and a summary of what it changed from the version before it; and
    whether more follow."""
    with uow:
        ref = shop_of(uow, shop)
        query = select(ps.c.version, ps.c.created_at, ps.c.actor).where(ps.c.shop_id == ref.id)
        if before is not None:
            query = query.where(ps.c.version < before)
        rows = uow.conn.execute(query.order_by(ps.c.version.desc()).limit(size + 1)).all()
        listed = []
        for row in rows[:size]:
            diff = _diff(uow.conn, ref.id, row.version)
            listed.append({"version": row.version, "created_at": iso(row.created_at), "actor": row.actor,
                           "changes": len(diff), "summary": summarise(diff)})
        return listed, len(rows) > size


def programme_version(shop: ShopRef | str, version: int, uow: UnitOfWork) -> dict | None:
    """One version of the shop's programme: the document, who saved it and when, and its diff from the
    version before it (everything, for the first); None when the shop has no such version."""
    with uow:
        ref = shop_of(uow, shop)
        row = uow.conn.execute(select(ps.c.version, ps.c.created_at, ps.c.actor).where(
            ps.c.shop_id == ref.id, ps.c.version == version)).first()
        if row is None:
            return None
        return {"version": row.version, "created_at": iso(row.created_at), "actor": row.actor,
                "previous": _previous(uow.conn, ref.id, version),
                "programme": programme(uow.conn, ref.id, version).to_dict(), "diff": _diff(uow.conn, ref.id, version)}


def _previous(conn: Connection, shop_id: int, version: int) -> int | None:
    """The version saved before `version` (versions count up from 1, but a redacted shop keeps none)."""
    return conn.execute(select(ps.c.version).where(ps.c.shop_id == shop_id, ps.c.version < version)
                        .order_by(ps.c.version.desc()).limit(1)).scalar()


def _diff(conn: Connection, shop_id: int, version: int) -> list[dict]:
    """What `version` changed from the one before it (both read through the versions' cache)."""
    previous = _previous(conn, shop_id, version)
    before = None if previous is None else programme(conn, shop_id, previous).to_dict()
    return programme_diff(before, programme(conn, shop_id, version).to_dict())
