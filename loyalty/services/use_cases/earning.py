"""Points beyond a purchase, asked by the merchant or a Flow action: the programme's actions awarded by key
(loyalty.services.bonuses gives them once, within their caps)."""
from __future__ import annotations

from loyalty.domain.requests import AwardAction
from loyalty.services import audit, bonuses, ledger
from loyalty.services.customers import find_customer, is_customer_of, reference as customer_reference, resolve_customer
from loyalty.services.errors import UnknownCustomer
from loyalty.services.shops import get_shop, programme
from loyalty.services.unit_of_work import UnitOfWork


def award_action(request: AwardAction, uow: UnitOfWork):
    """Award the action's points once per (action, reference); returns (the award row - the first one on a
    replay -, the customer's balance). A customer named by Shopify id or email the app does not know yet
    gets a record (a Flow action may come before any order). ActionRefused: no such action, or the reference
    was used for another customer; UnknownCustomer: no such record id."""
    with uow:
        conn = uow.conn
        shop = get_shop(conn, request.shop)
        if request.customer_id is not None and not is_customer_of(conn, shop.id, request.customer_id):
            # another shop's record (or none) is unknown whatever the request says: nothing of it is judged
            raise UnknownCustomer(str(request.customer_id), shop.domain)
        request = request.checked()
        prog = programme(conn, shop.id, shop.settings_version)
        bonuses.action_of(prog, request.action)  # refused before a record is made for an unknown customer
        customer_id = _customer(uow, shop, request)
        row, made = bonuses.award_action(conn, shop, prog, customer_id, request.action, request.reference,
                                         request.actor, request.reason, uow.now)
        if made:
            _audit(uow, shop.id, row, request)
        return row, ledger.balance(conn, customer_id)


CLI_ACTOR = "cli"
"""What `loyalty points award` puts in the award's actor: in the audit log, no staff member (None)."""


def _audit(uow: UnitOfWork, shop_id: int, row, request: AwardAction) -> None:
    """The award in the audit log, by the staff member who asked (None: the CLI)."""
    actor = None if request.actor == CLI_ACTOR else request.actor
    audit.record(uow.conn, shop_id, action="action_awarded", at=uow.now, actor=actor, customer_id=row.customer_id,
                 subject=f"{request.action}:{request.reference}",
                 summary=f"{request.action} ({request.reference}): {row.points} of {row.asked} points"
                         f"{' - ' + request.reason if request.reason else ''}{audit.by(actor)}",
                 details={"action": request.action, "reference": request.reference, "asked": row.asked,
                          "points": row.points, "reason": request.reason})


def _customer(uow: UnitOfWork, shop, request: AwardAction) -> int:
    conn = uow.conn
    if request.customer_id is not None:  # known to be the shop's (award_action checked it first)
        return request.customer_id
    row = find_customer(conn, shop.id, request.customer)
    if row is not None:
        return row.id
    shopify_id, email = customer_reference(request.customer)
    if shopify_id is None and "@" not in email:
        raise UnknownCustomer(request.customer, shop.domain)
    return resolve_customer(conn, shop.id, shopify_id, email or None, uow.now)
