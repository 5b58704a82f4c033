"""Queries about what failed in the background (loyalty.services.failures is the read model): for the
`loyalty failures` and `loyalty inbox` commands and the admin's failed-jobs page."""
from __future__ import annotations

from collections import Counter

from loyalty.services.failures import Failure, count_failures, list_failures
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.webhook_failures import failed_webhooks, retrying_webhooks


def failures(shop: str | None, uow: UnitOfWork, limit: int = 200) -> tuple[dict[str, int], list[Failure]]:
    """Counts per kind, and the failures themselves (at most `limit` of each kind), of a shop or of all."""
    with uow:
        return count_failures(uow.conn, shop), list_failures(uow.conn, shop, limit=limit)


def failed_jobs(shop: str, uow: UnitOfWork) -> tuple[list, dict[str, int], list[Failure]]:
    """The shop's webhooks failed for good (retryable), and every background failure of the shop."""
    with uow:
        return (failed_webhooks(uow.conn, shop), count_failures(uow.conn, shop),
                list_failures(uow.conn, shop))


def webhook_troubles(shop: str | None, uow: UnitOfWork) -> list[tuple[str, object]]:
    """("failed", row) for webhooks failed for good, then ("retrying", row) for those waiting for another
    attempt after a failure."""
    with uow:
        return ([("failed", row) for row in failed_webhooks(uow.conn, shop)]
                + [("retrying", row) for row in retrying_webhooks(uow.conn, shop)])


def retrying_reasons(uow: UnitOfWork) -> Counter:
    """Why the webhooks waiting for another attempt failed, counted by reason."""
    with uow:
        return Counter(row.last_error or "" for row in retrying_webhooks(uow.conn, limit=10_000))
