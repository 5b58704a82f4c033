"""When points become available (the pending period) and when they expire (store B: months after the
customer's last purchase; store A: never)."""
from __future__ import annotations

from datetime import datetime, timedelta

from loyalty.domain.points import add_months
from loyalty.domain.programme import Programme


def pending_until(processed_at: datetime, prog: Programme) -> datetime:
    """An order's points are pending until this moment (store A: 14 days, the return window)."""
    return processed_at + timedelta(days=prog.pending_days)


def expires_at(last_purchase: datetime, prog: Programme) -> datetime | None:
    """When a customer's available points expire: `expiry_months` after the last purchase under
    `after_last_purchase` (any purchase pushes it back for all points), never (None) under `never`."""
    if prog.expiry != "after_last_purchase":
        return None
    return add_months(last_purchase, prog.expiry_months)
