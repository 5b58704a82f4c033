"""What staff and operators change on a customer, and what a customer gives of themselves: manual point
adjustments, the birthday, the loyalty-email opt-out."""
from __future__ import annotations

from loyalty.domain.requests import (
    AdjustPoints, CorrectBirthday, GiveOwnBirthday, SetAcceptsEmails, SetBirthday, Unsubscribe,
)
from loyalty.services import audit, birthdays, ledger
from loyalty.services.adjustments import book
from loyalty.services.customers import correct_birthday as record_correction, customer_in_shop, find_customer
from loyalty.services.customers import resolve_customer, set_birthday as record_birthday
from loyalty.services.errors import UnknownCustomer
from loyalty.services.notifications import set_accepts_emails as record_consent
from loyalty.services.shops import get_shop, shop_facts
from loyalty.services.unit_of_work import UnitOfWork


def adjust_points(request: AdjustPoints, uow: UnitOfWork):
    """Book the adjustment once per client_token (AdjustmentRefused says which field is wrong); returns
    (its ledger entry, the customer's balance after it)."""
    with uow:
        shop = get_shop(uow.conn, request.shop)
        entry, booked = book(uow.conn, shop, request.adjustment, uow.now)
        if booked:
            audit.record(uow.conn, shop.id, action="points_adjusted", at=uow.now, actor=entry.actor,
                         customer_id=entry.customer_id, subject=str(entry.id),
                         summary=f"{entry.available:+d} points: {entry.reason}{audit.by(entry.actor)}",
                         details={"points": entry.available, "reason": entry.reason})
        return entry, ledger.balance(uow.conn, request.adjustment.customer_id)


def _known_customer(uow: UnitOfWork, shop_domain: str, customer: str):
    """The shop and the customer named by email or Shopify id; UnknownShop or UnknownCustomer."""
    shop = get_shop(uow.conn, shop_domain)
    row = find_customer(uow.conn, shop.id, customer)
    if row is None:
        raise UnknownCustomer(customer, shop_domain)
    return shop, row


def set_birthday(request: SetBirthday, uow: UnitOfWork):
    """Record a known customer's birthday, once (BirthdayRefused when already given); returns the date kept."""
    with uow:
        shop, row = _known_customer(uow, request.shop, request.customer)
        return record_birthday(uow.conn, shop.id, row.id, request.birthday)


def correct_birthday(request: CorrectBirthday, uow: UnitOfWork) -> dict:
    """Staff correct a customer's birthday (BirthdayRefused naming the field; UnknownCustomer when the id is
    not the shop's), audited as `birthday_corrected` with before and after in the same transaction. Returns
    the birthday kept and whether this year's present was already given (then no second one this year)."""
    with uow:
        shop = get_shop(uow.conn, request.shop)
        row = customer_in_shop(uow.conn, shop.id, request.customer_id)
        if row is None:  # another shop's customer is unknown here, whatever the body says
            raise UnknownCustomer(str(request.customer_id), request.shop)
        request = request.checked()
        before = row.birthday
        after = record_correction(uow.conn, shop.id, row.id, request.birthday)
        text = {None: "none"}
        audit.record(uow.conn, shop.id, action="birthday_corrected", at=uow.now, actor=request.actor,
                     customer_id=row.id, subject=row.email or str(row.shopify_customer_id),
                     summary=f"birthday {text.get(before, before)} -> {text.get(after, after)}: {request.reason}",
                     details={"before": before.isoformat() if before else None,
                              "after": after.isoformat() if after else None, "reason": request.reason})
        year = shop_facts(uow.conn, shop.id).local_day(uow.now).year
        return {"birthday": after.isoformat() if after else None, "before": before.isoformat() if before else None,
                "present_given_this_year": birthdays.present_given(uow.conn, row.id, year), "year": year}


def give_own_birthday(request: GiveOwnBirthday, uow: UnitOfWork):
    """Record the logged-in customer's birthday, once; their record is made when the app has none yet."""
    with uow:
        shop = get_shop(uow.conn, request.shop)
        row = find_customer(uow.conn, shop.id, str(request.shopify_customer_id))
        record = row.id if row else resolve_customer(uow.conn, shop.id, request.shopify_customer_id, None, uow.now)
        return record_birthday(uow.conn, shop.id, record, request.birthday)


def set_accepts_emails(request: SetAcceptsEmails, uow: UnitOfWork) -> None:
    """Stop or resume loyalty emails to a known customer."""
    with uow:
        shop, row = _known_customer(uow, request.shop, request.customer)
        record_consent(uow.conn, shop.id, row.id, request.accepts)


def unsubscribe(request: Unsubscribe, uow: UnitOfWork) -> bool:
    """The customer's own unsubscribe link: no more loyalty emails (the same opt-out as `loyalty
    notifications opt-out`, `customers.accepts_loyalty_emails`); False when the shop has no such customer."""
    with uow:
        shop = get_shop(uow.conn, request.shop)
        return record_consent(uow.conn, shop.id, request.customer_id, False)
