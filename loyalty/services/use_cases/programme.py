"""Changing a shop's programme: each change is a new version, the one in force from then on."""
from __future__ import annotations

from loyalty.domain.campaigns import collections_of
from loyalty.domain.programme import Programme
from loyalty.domain.requests import ChangeProgramme, SaveProgramme
from loyalty.services.shops import ShopRef, get_shop, programme, save_programme as save_version
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.wakeups import queue_collection_refresh


def save_programme(request: SaveProgramme, uow: UnitOfWork) -> tuple[int, Programme]:
    """Store the programme as the shop's new version; returns (the version, the programme as stored)."""
    with uow:
        shop = get_shop(uow.conn, request.shop)
        version = store(uow, shop, request.programme)
        return version, programme(uow.conn, shop.id, version)


def change_programme(request: ChangeProgramme, uow: UnitOfWork) -> int:
    """Apply the changes to the programme in force (ProgrammeError names a bad one; nothing is saved then)
    and store the result as a new version; returns the version."""
    with uow:
        shop = get_shop(uow.conn, request.shop)
        new = programme(uow.conn, shop.id, shop.settings_version).with_paths(request.changes)
        return store(uow, shop, new)


def store(uow: UnitOfWork, shop: ShopRef, new: Programme) -> int:
    """Save the new version; once committed, refresh the products of the collections its campaigns name
    (orders are matched against them without asking Shopify)."""
    version = save_version(uow.conn, shop, new, uow.now)
    if collections_of(new.campaigns):
        uow.after_commit(queue_collection_refresh, uow.ctx, shop.domain)
    return version
