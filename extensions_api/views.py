"""The UI extensions' endpoints. Every request carries `Authorization: Bearer <session token>` (the only
credential: extensions run in Shopify's web workers, with no cookie); answers are JSON, open to any origin.

    GET  /extensions/customer                 the loyalty page's data (customer-account token) + a form `token`
    POST /extensions/customer/redeem          {"reward": KEY | "points": N, "token": T}: a voucher, the page again
    POST /extensions/checkout/redeem          the same, as a short-lived code for this checkout (given back unused)
    GET  /extensions/orders/<order id>        the order's points (thank-you and order-status pages)
    GET  /extensions/pos/customers/<id>       a customer at the point of sale (POS token: the admin's kind)

Errors: {"error": key, "message": text in the programme's language}: 401 a bad token or nobody logged in,
404 a shop not installed or someone else's order or customer, 400 a bad body or form token, 409 try again,
422 refused.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Blueprint, Response, current_app, jsonify, request

from extensions_api.texts import message
from integrations.shopify.session_token import ADMIN, SHOPPER, InvalidSessionToken, verify_session_token
from loyalty.domain import form_tokens
from loyalty.domain.numbers import parse_int
from loyalty.services.errors import UnknownShop
from loyalty.services.form_redemption import in_request_client, redeem
from loyalty.services.read.extensions import order_points, pos_customer
from loyalty.services.read.loyalty_page import page_of, voucher_view
from loyalty.services.read.shops import installed_shop_programme
from loyalty.services.shops import ShopRef
from loyalty.services.unit_of_work import ReadOnlyUnitOfWork

log = logging.getLogger(__name__)
bp = Blueprint("extensions", __name__, url_prefix="/extensions")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS", "Access-Control-Max-Age": "600"}
NO_STORE = {"Cache-Control": "private, no-store"}


class Refusal(Exception):
    """An error answer: its status, its key, and the shop's language when the shop is known."""

    def __init__(self, status: int, key: str, language: str = "en", fallback: str = "", facts: dict | None = None):
        super().__init__(key)
        self.status, self.key, self.language, self.fallback, self.facts = status, key, language, fallback, facts


@bp.errorhandler(Refusal)
def _refused(exc: Refusal):
    return jsonify(error=exc.key, message=message(exc.language, exc.key, exc.fallback, exc.facts)), exc.status


@bp.after_request
def _cors(response: Response) -> Response:
    """Every answer, errors included, is readable from the extension's origin; none is cached."""
    response.headers.update(CORS)
    response.headers.update(NO_STORE)
    return response


@bp.route("/<path:_anything>", methods=["OPTIONS"], provide_automatic_options=False)
def preflight(_anything):
    """The CORS preflight: answered without a token (browsers send none)."""
    return Response(status=204)


def _now() -> datetime:
    return current_app.config.get("LOYALTY_CLOCK", lambda: datetime.now(timezone.utc))()


def _reads(ctx) -> ReadOnlyUnitOfWork:
    return ReadOnlyUnitOfWork(ctx, clock=_now)


def _verified(kind: str):
    """The context, the verified token and its installed shop with the programme's language: 401 for a bad
    token, 404 for a shop the app does not serve."""
    ctx = current_app.extensions["loyalty"]
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise InvalidSessionToken("no bearer token")
        token = verify_session_token(raw.strip(), ctx.config.api_key, ctx.config.api_secrets, now=_now(), kind=kind)
    except InvalidSessionToken as exc:
        log.info("extension request refused: %s", exc)
        raise Refusal(401, "unauthorized") from None
    try:
        shop, prog = installed_shop_programme(token.shop, _reads(ctx))
    except UnknownShop:
        raise Refusal(404, "not_found") from None
    return ctx, token, shop, prog.language


def _customer():
    """A customer-account or checkout request: its context, shop, language and logged-in customer (401 when
    nobody is logged in: the token has no `sub`)."""
    ctx, token, shop, language = _verified(SHOPPER)
    if token.customer_id is None:
        raise Refusal(401, "sign_in", language)
    return ctx, shop, language, token.customer_id


def _page(ctx, shop: ShopRef, customer_id: int) -> dict:
    """The loyalty page's data with a fresh one-use form token."""
    page, _ = page_of(shop, customer_id, _reads(ctx))
    return {**page, "token": form_tokens.issue(ctx.config.api_secrets[0], shop.domain, customer_id, _now())}


def _form() -> dict:
    """The JSON body as the redemption's form: a reward key or a number of points, and the form token."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("token"), str) or \
            not (isinstance(body.get("reward"), str) or isinstance(body.get("points"), int)):
        return {}
    return {key: body.get(key) for key in ("token", "reward", "points", "variant") if body.get(key) is not None}


def _redeem(at_checkout: bool):
    """Redeem the body's reward or points for the token's customer; the voucher, or a Refusal."""
    ctx, shop, language, customer_id = _customer()
    form = _form()
    if not form:
        raise Refusal(400, "bad_body", language)
    factory = current_app.config.get("LOYALTY_CLIENT_FACTORY", in_request_client)
    outcome = redeem(ctx, shop, customer_id, form, _now(), factory, at_checkout=at_checkout)
    if outcome.voucher is None:
        if outcome.retry:
            raise Refusal(409, outcome.error.removeprefix("error."), language)
        if outcome.error == "error.token":
            raise Refusal(400, "token", language)
        raise Refusal(422, outcome.reason or "refused", language, outcome.error or "", outcome.facts)
    return ctx, shop, customer_id, outcome.voucher


@bp.get("/customer", provide_automatic_options=False)
def customer():
    """The customer-account page's data: contract A's page for the token's customer, and a form token."""
    ctx, shop, _, customer_id = _customer()
    return jsonify(_page(ctx, shop, customer_id))


@bp.post("/customer/redeem", provide_automatic_options=False)
def customer_redeem():
    """Redeem a reward or convert points from the account page; the same token never spends twice."""
    ctx, shop, customer_id, voucher = _redeem(at_checkout=False)
    return jsonify({"result": {"voucher": voucher_view(voucher)}, **_page(ctx, shop, customer_id)})


@bp.post("/checkout/redeem", provide_automatic_options=False)
def checkout_redeem():
    """A code for the checkout in progress: it lasts a few hours and, unused, its points come back."""
    _, _, _, voucher = _redeem(at_checkout=True)
    view = voucher_view(voucher)
    return jsonify({"result": {"voucher": view, "checkout": True, "expires_at": view["ends_at"]}})


def _shopify_id(text: str, language: str) -> int:
    """A Shopify id from the path (ASCII digits, 64 bits; its gid's tail is taken too), else 404."""
    value = parse_int(text.rpartition("/")[2], 1, 2**63 - 1)
    if value is None:
        raise Refusal(404, "not_found", language)
    return value


@bp.get("/orders/<path:order_id>", provide_automatic_options=False)
def order(order_id: str):
    """An order's points for the thank-you and order-status pages: only the token's customer's orders."""
    ctx, shop, language, customer_id = _customer()
    found = order_points(shop, customer_id, _shopify_id(order_id, language), _reads(ctx))
    if found is None:
        raise Refusal(404, "not_found", language)
    return jsonify(found)


@bp.get("/pos/customers/<path:customer_id>", provide_automatic_options=False)
def pos_customer_view(customer_id: str):
    """A customer at the point of sale (POS UI extension, a staff member's token)."""
    ctx, _, shop, language = _verified(ADMIN)
    found = pos_customer(shop, _shopify_id(customer_id, language), _reads(ctx))
    if found is None:
        raise Refusal(404, "not_found", language)
    return jsonify(found)
