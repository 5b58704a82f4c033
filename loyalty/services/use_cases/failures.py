"""Trying failed work again."""
from __future__ import annotations

from loyalty.domain.requests import RetryFailedWebhooks
from loyalty.services import audit
from loyalty.services.errors import UnknownShop
from loyalty.services.shops import get_shop
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.wakeups import wake_worker
from loyalty.services.webhook_failures import retry_per_shop


def retry_failed_webhooks(request: RetryFailedWebhooks, uow: UnitOfWork) -> int:
    """Give the failed webhook(s) a fresh round of attempts; returns how many (0: no such failed webhook).
    Each shop's audit log records what was retried for it, and by whom. Once committed, a worker is woken
    to apply them (the sweeper would, later)."""
    with uow:
        counts = retry_per_shop(uow.conn, request.inbox_id, request.shop)
        for domain, count in sorted(counts.items()):
            _audit(uow, domain, count, request)
        count = sum(counts.values())
        if count and request.wake_worker:
            uow.after_commit(wake_worker, uow.ctx)
    return count


def _audit(uow: UnitOfWork, domain: str, count: int, request: RetryFailedWebhooks) -> None:
    try:
        shop = get_shop(uow.conn, domain, installed_only=False)
    except UnknownShop:  # webhooks of a shop the app never had: no shop's log to write in
        return
    what = f"failed webhook {request.inbox_id}" if request.inbox_id is not None else f"{count} failed webhook(s)"
    audit.record(uow.conn, shop.id, action="failed_work_retried", at=uow.now, actor=request.actor,
                 subject=str(request.inbox_id) if request.inbox_id is not None else "all",
                 summary=f"{what} given another round of attempts{audit.by(request.actor)}",
                 details={"inbox_id": request.inbox_id, "scope": "one" if request.inbox_id is not None else "all",
                          "count": count})
