"""Queries about shops: is it installed, which are there, what programme runs. Each takes its parameters
and a (read-only) unit of work, like a use case, and opens one read transaction."""
from __future__ import annotations

from sqlalchemy import select

from db.tables import shops
from loyalty.domain.programme import Programme
from loyalty.domain.shops import ShopFacts
from loyalty.services.shops import ShopRef, get_shop, programme, shop_facts
from loyalty.services.unit_of_work import UnitOfWork


def shop_of(uow: UnitOfWork, shop: ShopRef | str) -> ShopRef:
    """The installed shop, found by domain when only that is given (UnknownShop otherwise); inside the
    caller's open transaction."""
    return shop if isinstance(shop, ShopRef) else get_shop(uow.conn, shop)


def installed_shop(domain: str, uow: UnitOfWork, *, installed_only: bool = True) -> ShopRef:
    """The installed shop of that domain, or UnknownShop; with installed_only=False, one uninstalled too."""
    with uow:
        return get_shop(uow.conn, domain, installed_only=installed_only)


def installed_shop_programme(domain: str, uow: UnitOfWork) -> tuple[ShopRef, Programme]:
    """The installed shop of that domain (UnknownShop otherwise) and its programme in force, in one read
    transaction (a request that needs both opens one, not two)."""
    with uow:
        shop = get_shop(uow.conn, domain)
        return shop, programme(uow.conn, shop.id, shop.settings_version)


def all_shops(uow: UnitOfWork) -> list:
    """Every shop ever installed: domain, installed_at, uninstalled_at, settings_version."""
    with uow:
        return uow.conn.execute(select(shops.c.domain, shops.c.installed_at, shops.c.uninstalled_at,
                                       shops.c.settings_version)).all()


def programme_in_force(shop: ShopRef | str, uow: UnitOfWork) -> tuple[int, Programme]:
    """The shop's current programme version and the programme."""
    with uow:
        ref = shop_of(uow, shop)
        return ref.settings_version, programme(uow.conn, ref.id, ref.settings_version)


def facts_of(shop: ShopRef | str, uow: UnitOfWork) -> ShopFacts:
    """The shop's name, time zone, currency and locale (loyalty.services.shops.shop_facts)."""
    with uow:
        return shop_facts(uow.conn, shop_of(uow, shop).id)
