"""Changing a shop's programme: each change is a new version, the one in force from then on."""
from __future__ import annotations

from loyalty.domain.campaigns import collections_of
from loyalty.domain.errors import StaleProgramme
from loyalty.domain.programme import Programme
from loyalty.domain.programme_diff import programme_diff
from loyalty.domain.theme_block import programme_summary
from loyalty.domain.requests import ChangeProgramme, SaveProgramme
from loyalty.services import audit, tiers, wakeups
from loyalty.services.shops import ShopRef, get_shop, programme, save_programme as save_version
from loyalty.services.unit_of_work import UnitOfWork


def save_programme(request: SaveProgramme, uow: UnitOfWork) -> tuple[int, Programme]:
    """Store the programme as the shop's new version; returns (the version, the programme as stored)."""
    with uow:
        shop = get_shop(uow.conn, request.shop, lock=True)
        _check_based_on(uow, shop, request.based_on)
        version = _store(uow, shop, request.programme, request.actor, request.template)
        return version, programme(uow.conn, shop.id, version)


def change_programme(request: ChangeProgramme, uow: UnitOfWork) -> int:
    """Apply the changes to the programme in force (ProgrammeError names a bad one; nothing is saved then)
    and store the result as a new version; returns the version."""
    with uow:
        shop = get_shop(uow.conn, request.shop, lock=True)
        _check_based_on(uow, shop, request.based_on)
        new = programme(uow.conn, shop.id, shop.settings_version).with_paths(request.changes)
        return _store(uow, shop, new, request.actor)


def _check_based_on(uow: UnitOfWork, shop: ShopRef, based_on: int | None) -> None:
    """Refuse a change edited from another version than the one in force (StaleProgramme, with what changed
    from the edited version to the one in force: an unknown version counts as an empty document)."""
    in_force = shop.settings_version
    if based_on is None or based_on == in_force:
        return
    known = 1 <= based_on < in_force
    before = programme(uow.conn, shop.id, based_on).to_dict() if known else None
    raise StaleProgramme(based_on, in_force, programme_diff(before, programme(uow.conn, shop.id, in_force).to_dict()))


def _store(uow: UnitOfWork, shop: ShopRef, new: Programme, actor: str | None, template: str | None = None) -> int:
    """Store the new version, and what it sets off once committed: if its tier settings differ from the
    version in force, every customer's tier is recalculated under it in the background (the request is
    recorded in this transaction); the products of the collections its campaigns name are refreshed (orders
    are matched against them without asking Shopify); if what the theme block says changes, its summary
    is written to the shop's metafield (jobs.theme). The version is recorded in the audit log with who saved
    it and its diff from the one it replaces."""
    old = programme(uow.conn, shop.id, shop.settings_version)
    version = save_version(uow.conn, shop, new, uow.now, actor)
    audit.programme_saved(uow.conn, shop.id, uow.now, actor, version, old.to_dict(), new.to_dict(), template)
    if old.tiers != new.tiers:
        tiers.request_recalculation(uow.conn, shop.id, version, uow.now)
        uow.after_commit(wakeups.queue_tier_recalculation, uow.ctx, shop.id)
    if collections_of(new.campaigns):
        uow.after_commit(wakeups.queue_collection_refresh, uow.ctx, shop.domain)
    if programme_summary(old) != programme_summary(new):
        uow.after_commit(wakeups.queue_programme_summary, uow.ctx, shop.domain)
    return version
