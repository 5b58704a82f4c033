"""Every background failure in one read model: what failed, for which shop, why, and whether the app tries
again by itself. Shown by the merchant admin's Failed jobs page (one shop), `loyalty failures` (every
shop) and `/healthz` (counts only), so the three always agree.

Kinds (each one query, used both to list and to count):

| kind | what | tried again |
|---|---|---|
| webhook_failed | a Shopify event that failed for good | by `loyalty inbox retry` or the admin's Retry |
| webhook_retrying | an event waiting for its next attempt (e.g. Shopify did not give a gift-card order's transactions) | yes, with backoff, then webhook_failed |
| history_import | the shop's latest history import failed | the next `loyalty import history SHOP` resumes it |
| reconciliation | the shop's latest reconciliation failed | the next daily run |
| balance_sync | a customer whose balance Shopify refused (set aside) | yes, with backoff or at its next balance change |
| email_failed | an email that failed after its last attempt | by `loyalty notifications retry` |
| email_retrying | an email waiting for its next attempt after an SMTP error | yes, with backoff, then email_failed |
| voucher_waiting | a redemption whose code Shopify has not confirmed (the points are held) | when the redemption is sent again, or cancelled |
| flow_failed | a Shopify Flow trigger Shopify refused, or that failed its last attempt | by `loyalty flow retry` |
| flow_retrying | a Flow trigger waiting for its next attempt (Shopify unreachable, throttled) | yes, with backoff, then flow_failed |
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from db.tables import customer_sync, customers, flow_triggers, import_runs, notifications, shops, sync_failures, vouchers
from db.tables import webhook_inbox as inbox
from loyalty.defaults import VOUCHER_GRACE


@dataclass(frozen=True)
class Failure:
    """One failed (or failing) piece of background work."""

    kind: str
    shop: str
    id: int
    """The row's id in its own table (the inbox id of a webhook: what `loyalty inbox retry` takes)."""
    subject: str
    """What it concerns: a webhook's topic and id, a run, a customer, an email, a voucher code."""
    reason: str
    attempts: int | None
    at: datetime | None
    """When it failed (or, for what cannot say, when it started)."""
    next_attempt_at: datetime | None
    """When the app tries again by itself; None: it waits for someone (retry, a fix)."""

    def as_dict(self) -> dict:
        """JSON-ready."""
        data = dict(self.__dict__)
        for key in ("at", "next_attempt_at"):
            data[key] = _iso(data[key])
        return data


def _iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC (SQLite hands back naive datetimes, all UTC)."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def _webhooks_failed(now: datetime) -> Select:
    return (select(inbox.c.id, inbox.c.shop_domain.label("shop"), inbox.c.topic, inbox.c.webhook_id,
                   inbox.c.last_error, inbox.c.attempts, inbox.c.received_at, inbox.c.failed_at)
            .where(inbox.c.failed_at.is_not(None)))


def _webhooks_retrying(now: datetime) -> Select:
    # the unprocessed rows are few (partial index); of those, the ones a failed attempt put back
    return (select(inbox.c.id, inbox.c.shop_domain.label("shop"), inbox.c.topic, inbox.c.webhook_id,
                   inbox.c.last_error, inbox.c.attempts, inbox.c.received_at, inbox.c.lease_until)
            .where(inbox.c.processed_at.is_(None), inbox.c.failed_at.is_(None), inbox.c.attempts > 0))


def _runs(kind: str):
    def query(now: datetime) -> Select:
        newer = import_runs.alias("newer")
        superseded = select(newer.c.id).where(newer.c.shop_id == import_runs.c.shop_id, newer.c.kind == kind,
                                             newer.c.id > import_runs.c.id).exists()
        return (select(import_runs.c.id, shops.c.domain.label("shop"), import_runs.c.error,
                       import_runs.c.updated_at, import_runs.c.source)
                .join(shops, shops.c.id == import_runs.c.shop_id)
                .where(import_runs.c.kind == kind, import_runs.c.status == "failed", ~superseded))
    return query


def _balance_sync(now: datetime) -> Select:
    return (select(sync_failures.c.customer_id.label("id"), shops.c.domain.label("shop"), customers.c.email,
                   customers.c.shopify_customer_id, sync_failures.c.reason, sync_failures.c.attempts,
                   sync_failures.c.failed_at, sync_failures.c.next_attempt_at)
            .join(customer_sync, customer_sync.c.customer_id == sync_failures.c.customer_id)  # still to write
            .join(customers, customers.c.id == sync_failures.c.customer_id)
            .join(shops, shops.c.id == sync_failures.c.shop_id))


def _outbox(table, status: str, *columns):
    """Rows of an outbox (emails, Flow triggers) in `status`; `pending` ones only after a failed attempt."""
    def query(now: datetime) -> Select:
        where = [table.c.status == status]
        if status == "pending":
            where.append(table.c.attempts > 0)
        return (select(table.c.id, shops.c.domain.label("shop"), *columns, table.c.last_error, table.c.attempts,
                       table.c.created_at, table.c.next_attempt_at)
                .join(shops, shops.c.id == table.c.shop_id).where(*where))
    return query


def _emails(status: str):
    return _outbox(notifications, status, notifications.c.kind, notifications.c.to_address)


def _flow(status: str):
    return _outbox(flow_triggers, status, flow_triggers.c.handle, flow_triggers.c.customer_id)


def _vouchers_waiting(now: datetime) -> Select:
    return (select(vouchers.c.id, shops.c.domain.label("shop"), vouchers.c.code, vouchers.c.points,
                   vouchers.c.kind, vouchers.c.reason, vouchers.c.created_at)
            .join(shops, shops.c.id == vouchers.c.shop_id)
            .where(vouchers.c.status == "creating",
                   (vouchers.c.reason.is_not(None)) | (vouchers.c.created_at < now - VOUCHER_GRACE)))


def _write_back_blocked(now: datetime) -> Select:
    return (select(shops.c.id, shops.c.domain.label("shop"), shops.c.write_back_error,
                   shops.c.write_back_error_at)
            .where(shops.c.write_back_error.is_not(None), shops.c.uninstalled_at.is_(None)))


def _customer(row) -> str:
    """`customer a@b.c (gid://shopify/Customer/7)`; the email is left out when there is none."""
    return " ".join(filter(None, ("customer", row.email, f"(gid://shopify/Customer/{row.shopify_customer_id})")))


KINDS = {
    "webhook_failed": (_webhooks_failed, inbox.c.shop_domain, lambda r: Failure(
        "webhook_failed", r.shop, r.id, f"{r.topic} {r.webhook_id}", r.last_error or "", r.attempts, r.failed_at,
        None)),
    "webhook_retrying": (_webhooks_retrying, inbox.c.shop_domain, lambda r: Failure(
        "webhook_retrying", r.shop, r.id, f"{r.topic} {r.webhook_id}", r.last_error or "", r.attempts,
        r.received_at, r.lease_until)),
    "history_import": (_runs("history"), shops.c.domain, lambda r: Failure(
        "history_import", r.shop, r.id, f"history import run {r.id}", r.error or "", None, r.updated_at, None)),
    "reconciliation": (_runs("reconcile"), shops.c.domain, lambda r: Failure(
        "reconciliation", r.shop, r.id, f"reconciliation run {r.id} ({r.source})", r.error or "", None,
        r.updated_at, None)),
    "balance_sync": (_balance_sync, shops.c.domain, lambda r: Failure(
        "balance_sync", r.shop, r.id, _customer(r), r.reason, r.attempts, r.failed_at, r.next_attempt_at)),
    "write_back_blocked": (_write_back_blocked, shops.c.domain, lambda r: Failure(
        "write_back_blocked", r.shop, r.id, "every balance write-back of the shop", r.write_back_error, None,
        r.write_back_error_at, None)),
    "email_failed": (_emails("failed"), shops.c.domain, lambda r: Failure(
        "email_failed", r.shop, r.id, f"{r.kind} email to {r.to_address}", r.last_error or "", r.attempts,
        r.created_at, None)),
    "email_retrying": (_emails("pending"), shops.c.domain, lambda r: Failure(
        "email_retrying", r.shop, r.id, f"{r.kind} email to {r.to_address}", r.last_error or "", r.attempts,
        r.created_at, r.next_attempt_at)),
    "voucher_waiting": (_vouchers_waiting, shops.c.domain, lambda r: Failure(
        "voucher_waiting", r.shop, r.id, f"{r.kind} {r.code} for {r.points} points",
        r.reason or "Shopify has not confirmed the code: the redemption stopped before it was made",
        None, r.created_at, None)),
    "flow_failed": (_flow("failed"), shops.c.domain, lambda r: Failure(
        "flow_failed", r.shop, r.id, f"Flow trigger {r.handle} (customer {r.customer_id})", r.last_error or "",
        r.attempts, r.created_at, None)),
    "flow_retrying": (_flow("pending"), shops.c.domain, lambda r: Failure(
        "flow_retrying", r.shop, r.id, f"Flow trigger {r.handle} (customer {r.customer_id})", r.last_error or "",
        r.attempts, r.created_at, r.next_attempt_at)),
}
"""kind -> (query(now), its shop-domain column, row -> Failure)."""


def _query(kind: str, shop: str | None, now: datetime) -> Select:
    make, shop_column, _ = KINDS[kind]
    query = make(now)
    return query if shop is None else query.where(shop_column == shop)


def list_failures(conn: Connection, shop: str | None = None, now: datetime | None = None,
                  limit: int = 200) -> list[Failure]:
    """Every failure (of one shop, or all), kind by kind in KINDS' order, newest first; at most `limit`
    of each kind (the counts say how many there are)."""
    now = now or datetime.now(timezone.utc)
    return [failure for kind in KINDS for failure in list_failures_of(conn, kind, shop, now, limit)]


def count_failures(conn: Connection, shop: str | None = None, now: datetime | None = None) -> dict[str, int]:
    """How many failures of each kind there are (kinds with none left out), in one round trip."""
    now = now or datetime.now(timezone.utc)
    counts = [select(func.count()).select_from(_query(kind, shop, now).subquery()).scalar_subquery().label(kind)
              for kind in KINDS]
    row = conn.execute(select(*counts)).one()
    return {kind: value for kind, value in row._mapping.items() if value}


def kind_rows(conn: Connection, kind: str, shop: str | None = None, now: datetime | None = None,
              limit: int = 500) -> list:
    """The raw rows of one kind (every column its query selects), newest first."""
    query = _query(kind, shop, now or datetime.now(timezone.utc))
    return conn.execute(query.order_by(query.selected_columns[0].desc()).limit(limit)).all()


def list_failures_of(conn: Connection, kind: str, shop: str | None, now: datetime, limit: int) -> list[Failure]:
    """The failures of one kind, newest first."""
    to_failure = KINDS[kind][2]
    return sorted((to_failure(row) for row in kind_rows(conn, kind, shop, now, limit)),
                  key=lambda f: (_iso(f.at) or "", f.id), reverse=True)
