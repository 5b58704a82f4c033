"""Queries about the customer email outbox (loyalty.services.notifications is the read model): counts,
lists, one email; and the demo shop's captured mailbox (/dev/mail)."""
from __future__ import annotations

from loyalty.services import notifications
from loyalty.services.errors import UnknownShop
from loyalty.services.shops import get_shop
from loyalty.services.unit_of_work import UnitOfWork


def email_counts(uow: UnitOfWork) -> dict:
    """How many emails are pending, sent, failed and skipped."""
    with uow:
        return notifications.counts(uow.conn)


def emails(uow: UnitOfWork, shop: str | None = None, status: str | None = None, limit: int = 50) -> list[dict]:
    """The latest emails, newest first, of an installed shop (UnknownShop) or of every shop."""
    with uow:
        shop_id = get_shop(uow.conn, shop).id if shop is not None else None
        return notifications.listing(uow.conn, shop_id, status, limit)


def email(notification_id: int, uow: UnitOfWork):
    """One email (headers and bodies), or None."""
    with uow:
        return notifications.find(uow.conn, notification_id)


def unsubscribe_page(shop: str, customer_id: int, uow: UnitOfWork) -> dict | None:
    """What the unsubscribe page shows: the programme's language, the shop's name, whether the customer
    still receives loyalty emails; None when the installed shop has no such customer (UnknownShop)."""
    with uow:
        ref = get_shop(uow.conn, shop)
        accepts = notifications.accepts_emails(uow.conn, ref.id, customer_id)
        if accepts is None:
            return None
        prog = notifications.current_programme(uow.conn, ref.id)
        return {"language": prog.language, "shop_name": notifications.shop_name(prog, ref.domain),
                "shop_url": notifications.shop_url(ref.domain), "accepts": accepts}


def mailbox(shop: str, uow: UnitOfWork, limit: int = 200) -> list[dict]:
    """The emails of a shop installed or not (nothing when the app never saw it), newest first."""
    with uow:
        shop_id = _any_shop_id(uow, shop)
        return [] if shop_id is None else notifications.listing(uow.conn, shop_id, limit=limit)


def mailbox_message(shop: str, notification_id: int, uow: UnitOfWork):
    """One email of that shop (installed or not), or None: never another shop's."""
    with uow:
        shop_id = _any_shop_id(uow, shop)
        return None if shop_id is None else notifications.find(uow.conn, notification_id, shop_id)


def _any_shop_id(uow: UnitOfWork, domain: str) -> int | None:
    try:
        return get_shop(uow.conn, domain, installed_only=False).id
    except UnknownShop:
        return None
