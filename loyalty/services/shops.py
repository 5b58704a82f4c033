"""Shops and their versioned programme settings."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from db.tables import orders, programme_settings, shops
from loyalty.domain.commands import UpdateShopFacts
from loyalty.domain.shops import ShopFacts, valid_shop_domain
from loyalty.domain.programme import Programme
from loyalty.services.errors import UnknownShop

@dataclass(frozen=True)
class ShopRef:
    """The identity of an installed shop and the programme version it currently runs."""

    id: int
    domain: str
    settings_version: int


def get_shop(conn: Connection, domain: str, *, installed_only: bool = True, lock: bool = False) -> ShopRef:
    """The shop with that domain, or UnknownShop. `lock`: its row locked until the transaction ends (two
    programme changes are then made one after the other, each seeing the version the other saved)."""
    query = select(shops.c.id, shops.c.domain, shops.c.settings_version).where(shops.c.domain == domain)
    if installed_only:
        query = query.where(shops.c.uninstalled_at.is_(None))
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise UnknownShop(domain)
    return ShopRef(row.id, row.domain, row.settings_version)


def has_token(conn: Connection, domain: str) -> bool:
    """True when the shop is installed with an Admin API token (replacing it is a decision, not a default)."""
    return conn.execute(select(shops.c.id).where(shops.c.domain == domain, shops.c.uninstalled_at.is_(None),
                                                 shops.c.access_token.is_not(None))).first() is not None


def install_shop(conn: Connection, domain: str, encrypted_token: bytes, now: datetime,
                 scopes: str | None = None) -> ShopRef:
    """Register (or re-install) a shop with its encrypted Admin API token; version 1 of the programme."""
    if not valid_shop_domain(domain):
        raise ValueError(f"{domain!r} is not a shop domain (expected name.myshopify.com)")
    existing = conn.execute(select(shops.c.id).where(shops.c.domain == domain)).scalar()
    if existing is None:
        shop_id = conn.execute(insert(shops).values(
            domain=domain, access_token=encrypted_token, scopes=scopes, installed_at=now, settings_version=1,
        )).inserted_primary_key[0]
        conn.execute(insert(programme_settings).values(
            shop_id=shop_id, version=1, data=Programme().to_json(), created_at=now))
    else:
        conn.execute(update(shops).where(shops.c.id == existing).values(
            access_token=encrypted_token, scopes=scopes, uninstalled_at=None))
    return get_shop(conn, domain)


def shopify_shop_id(conn: Connection, domain: str) -> int | None:
    """Shopify's numeric id of the shop, when known."""
    return conn.execute(select(shops.c.shopify_shop_id).where(shops.c.domain == domain)).scalar()


def set_shopify_shop_id(conn: Connection, domain: str, shop_id: int) -> None:
    """Remember Shopify's numeric id of the shop (read from the Admin API with the shop's own token)."""
    conn.execute(update(shops).where(shops.c.domain == domain).values(shopify_shop_id=shop_id))


_PROGRAMMES: dict[tuple[str, int, int], Programme] = {}


def programme(conn: Connection, shop_id: int, version: int) -> Programme:
    """The programme a shop ran at `version` (versions never change once saved, so they are cached)."""
    key = (str(conn.engine.url), shop_id, version)
    found = _PROGRAMMES.get(key)
    if found is None:
        data = conn.execute(select(programme_settings.c.data).where(
            programme_settings.c.shop_id == shop_id, programme_settings.c.version == version)).scalar_one()
        found = _PROGRAMMES[key] = Programme.from_dict(json.loads(data))
    return found


def save_programme(conn: Connection, shop: ShopRef, new: Programme, now: datetime, actor: str | None = None) -> int:
    """Store a new version of the shop's programme and make it current; returns the version. `actor`: the
    staff member who saved it (None: the app, the CLI)."""
    version = (conn.execute(select(func.max(programme_settings.c.version)).where(
        programme_settings.c.shop_id == shop.id)).scalar() or 0) + 1
    conn.execute(insert(programme_settings).values(
        shop_id=shop.id, version=version, data=new.to_json(), created_at=now, actor=actor))
    conn.execute(update(shops).where(shops.c.id == shop.id).values(settings_version=version))
    return version


_LATEST_CURRENCY = (select(orders.c.currency)
                    .where(orders.c.shop_id == bindparam("shop_id"), orders.c.currency.is_not(None))
                    .order_by(orders.c.shopify_order_id.desc()).limit(1))


def latest_order_currency(conn: Connection, shop_id: int) -> str:
    """The currency the shop's latest order states ("" before any order). Latest by Shopify's order id, which
    grows with every order: the shop's unique index on it is read from its end (by row id, SQLite sorted all
    the shop's orders). Built once: the loyalty page asks it on every request."""
    return conn.execute(_LATEST_CURRENCY, {"shop_id": shop_id}).scalar() or ""


def shop_facts(conn: Connection, shop_id: int) -> ShopFacts:
    """The shop's name, time zone, currency and primary locale as last read from Shopify; a currency not yet
    read is the one its latest order states ("" before any order)."""
    row = conn.execute(select(shops.c.domain, shops.c.name, shops.c.iana_timezone, shops.c.currency_code,
                              shops.c.primary_locale).where(shops.c.id == shop_id)).one()
    currency = row.currency_code or latest_order_currency(conn, shop_id)
    return ShopFacts(domain=row.domain, name=row.name or "", timezone=row.iana_timezone or "UTC",
                     currency=currency, locale=row.primary_locale or "en")


def set_shop_facts(conn: Connection, domain: str, at: datetime, *, name: str | None = None,
                   timezone: str | None = None, currency: str | None = None, locale: str | None = None) -> None:
    """Store what Shopify said of the shop (a None leaves that fact as it was)."""
    values = {k: v for k, v in dict(name=name, iana_timezone=timezone, currency_code=currency,
                                    primary_locale=locale).items() if v is not None}
    conn.execute(update(shops).where(shops.c.domain == domain).values(facts_read_at=at, **values))


def update_shop_facts(conn: Connection, domain: str, update: UpdateShopFacts, now: datetime) -> bool:
    """Apply shop/update: store its facts unless the facts stored were read after the update was made (a
    late delivery would undo a newer read or update); returns whether they were stored."""
    read_at = conn.execute(select(shops.c.facts_read_at).where(shops.c.domain == domain)).scalar()
    if update.updated_at is not None and read_at is not None and update.updated_at < read_at:
        return False
    set_shop_facts(conn, domain, update.updated_at or now, name=update.name,
                   timezone=update.timezone, currency=update.currency, locale=update.locale)
    return True


def shop_zone(conn: Connection, shop_id: int) -> ZoneInfo:
    """The shop's time zone (its calendar for the days an email or a page names); UTC until read."""
    name = conn.execute(select(shops.c.iana_timezone, shops.c.domain).where(shops.c.id == shop_id)).first()
    return ShopFacts(name.domain if name else "", timezone=(name.iana_timezone if name else None) or "UTC").zone
