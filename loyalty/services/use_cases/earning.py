"""Points beyond a purchase, asked by the merchant or a Flow action: the programme's actions awarded by key
(loyalty.services.bonuses gives them once, within their caps)."""
from __future__ import annotations

from loyalty.domain import keys
from loyalty.domain.errors import ActionRefused
from loyalty.domain.requests import AwardAction
from loyalty.services import bonuses, ledger
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
        action = prog.earning.action(request.action)
        if action is None:
            known = ", ".join(a.key for a in prog.earning.actions) or "none"
            raise ActionRefused(f"no action {request.action!r} in this programme (actions: {known})", "action")
        customer_id = _customer(uow, shop, request)
        row = bonuses.award(conn, shop, prog, customer_id, bonuses.Bonus(
            rule=f"action:{action.key}", reference=request.reference,
            key=keys.action(shop.id, action.key, request.reference), points=action.points, title=action.title,
            cap=action.cap, actor=request.actor, note=request.reason), uow.now, uow.now)
        if row.customer_id != customer_id:
            raise ActionRefused(f"reference {request.reference!r} of {action.key} was awarded to another "
                                "customer", "reference")
        return row, ledger.balance(conn, customer_id)


def _customer(uow: UnitOfWork, shop, request: AwardAction) -> int:
    conn = uow.conn
    if request.customer_id is not None:
        if not is_customer_of(conn, shop.id, request.customer_id):
            raise UnknownCustomer(str(request.customer_id), shop.domain)
        return request.customer_id
    row = find_customer(conn, shop.id, request.customer)
    if row is not None:
        return row.id
    shopify_id, email = customer_reference(request.customer)
    if shopify_id is None and "@" not in email:
        raise UnknownCustomer(request.customer, shop.domain)
    return resolve_customer(conn, shop.id, shopify_id, email or None, uow.now)
