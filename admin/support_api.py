"""The admin JSON API of the customer page's support desk (admin/openapi/support.json): further pages of a
customer's orders and history (the first pages come with GET /admin/api/customers/{id}), and staff's
birthday correction, audited."""
from __future__ import annotations

from flask import g, jsonify

from admin.params import json_object, page_arg
from admin.session import api_blueprint, error, reads, require_session, unit_of_work
from loyalty.domain.errors import BirthdayRefused
from loyalty.domain.requests import CorrectBirthday
from loyalty.services.errors import UnknownCustomer
from loyalty.services.read import customers
from loyalty.services.use_cases.customers import correct_birthday

bp = api_blueprint("admin_support", __name__)


def _not_found(customer_id: int):
    return error(404, f"no customer {customer_id} in {g.shop.domain}")


def _paged(customer_id: int, key: str, query):
    """One page of a customer's list (`query(shop, customer_id, page, uow)`), or 404 when not the shop's."""
    page = page_arg()
    found = query(g.shop, customer_id, page, reads())
    if found is None:
        return _not_found(customer_id)
    return jsonify({key: found[0], "page": page, "has_more": found[1]})


@bp.get("/customers/<int:customer_id>/orders")
@require_session
def customer_orders(customer_id: int):
    """A page of the customer's orders, newest first, each with its points or why it earned none."""
    return _paged(customer_id, "orders", customers.customer_orders)


@bp.get("/customers/<int:customer_id>/entries")
@require_session
def customer_entries(customer_id: int):
    """A page of the customer's history (ledger entries), newest first."""
    return _paged(customer_id, "entries", customers.customer_entries)


@bp.put("/customers/<int:customer_id>/birthday")
@require_session
def put_birthday(customer_id: int):
    """Correct (or clear) the customer's birthday with a required reason; recorded in the audit log."""
    data = json_object("{birthday, reason}")
    request_ = CorrectBirthday(g.shop.domain, customer_id, data.get("birthday", ""), data.get("reason"), g.staff)
    try:
        return jsonify(correct_birthday(request_, unit_of_work()))
    except UnknownCustomer:
        return _not_found(customer_id)
    except BirthdayRefused as exc:
        return error(422, str(exc), field=exc.field)
