"""Trying failed work again."""
from __future__ import annotations

from loyalty.domain.requests import RetryFailedWebhooks
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.wakeups import wake_worker
from loyalty.services.webhook_failures import retry


def retry_failed_webhooks(request: RetryFailedWebhooks, uow: UnitOfWork) -> int:
    """Give the failed webhook(s) a fresh round of attempts; returns how many (0: no such failed webhook).
    Once committed, a worker is woken to apply them (the sweeper would, later)."""
    with uow:
        count = retry(uow.conn, request.inbox_id, request.shop)
        if count and request.wake_worker:
            uow.after_commit(wake_worker, uow.ctx)
    return count
