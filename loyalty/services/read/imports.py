"""Queries about history imports and reconciliations."""
from __future__ import annotations

from loyalty.services import import_runs as runs
from loyalty.services.shops import get_shop
from loyalty.services.unit_of_work import UnitOfWork


def latest_import(shop: str, uow: UnitOfWork, kind: str = "history") -> dict | None:
    """The installed shop's latest run of that kind (status, progress, figures), or None before any."""
    with uow:
        run = runs.latest(uow.conn, get_shop(uow.conn, shop).id, kind)
        return None if run is None else runs.as_dict(run)
