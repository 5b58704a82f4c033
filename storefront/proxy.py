"""The app proxy endpoints. Shopify forwards `/apps/loyalty/...` of the shop to `/proxy/...` here
(shopify.app.toml, [app_proxy]); nothing in the request is trusted before its signature is checked.

    GET  /proxy            the loyalty page: inside the theme (application/liquid), `?format=html` a
                           standalone page, `?format=json` (or Accept: application/json) the data
    POST /proxy/redeem     redeem a reward (`reward`) or convert points (`points`), with the page's `token`
    POST /proxy/birthday   give one's birthday (`day`, `month`), once

A form posted from the HTML page is answered by a 303 back to the page with a signed `notice` (post/
redirect/get, storefront.notices): the page shows the outcome, and a refresh re-posts nothing. The same form
asking for JSON (`?format=json`) is answered at once with the page's data and its `result`, as before.
    GET  /proxy/referral   a referred friend's page (`ref`: the referrer's code): the form for their email
    POST /proxy/referral   the friend's email (`email`, `ref`): their first-order code, emailed once
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request

from loyalty.domain.shops import valid_shop_domain
from loyalty.services.errors import UnknownShop
from loyalty.services.events import shopify_client
from loyalty.services.read.loyalty_page import customer_voucher, page_of, voucher_view
from loyalty.services.read.selections import selection_choices
from loyalty.services.read.shops import installed_shop, programme_in_force
from loyalty.services.unit_of_work import ReadOnlyUnitOfWork
from loyalty.domain import form_tokens as forms
from storefront import actions, notices, texts
from storefront.render import render, render_referral
from integrations.shopify.app_proxy import PROXY_PATH, ProxyRefused, verify
from loyalty.defaults import (STOREFRONT_SHOPIFY_ATTEMPTS as SHOPIFY_ATTEMPTS,
                              STOREFRONT_SHOPIFY_TIMEOUT as SHOPIFY_TIMEOUT)

log = logging.getLogger(__name__)
bp = Blueprint("storefront", __name__, url_prefix=PROXY_PATH)
NO_STORE = {"Cache-Control": "private, no-store"}
"""On every answer, HTML or JSON: it shows a customer's balance, never to be cached."""


def storefront_client(ctx, shop, conn):
    """The Shopify client for a redemption made while the shopper waits: short timeout, few retries."""
    return shopify_client(ctx, shop, conn, timeout=SHOPIFY_TIMEOUT, max_attempts=SHOPIFY_ATTEMPTS)


def _now() -> datetime:
    return current_app.config.get("LOYALTY_CLOCK", lambda: datetime.now(timezone.utc))()


def _reads(ctx) -> ReadOnlyUnitOfWork:
    return ReadOnlyUnitOfWork(ctx, clock=_now)


def _verified():
    """The verified proxy request and its installed shop; 401 for a bad signature, 404 for a shop we
    do not serve. The shop comes from the signed query only."""
    ctx = current_app.extensions["loyalty"]
    try:
        proxy = verify(ctx.config.api_secrets, request.args.items(multi=True), _now())
    except ProxyRefused as exc:
        log.warning("app proxy request refused: %s", exc)
        abort(401)
    if not valid_shop_domain(proxy.shop):
        abort(404)
    try:
        shop = installed_shop(proxy.shop, _reads(ctx))
    except UnknownShop:
        abort(404)
    return ctx, proxy, shop


def _wants_json() -> bool:
    if request.args.get("format") == "json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/liquid", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def _answer(ctx, proxy, shop, notice: dict | None = None, status: int = 200):
    """The page (HTML, Liquid or JSON) for this request, with the outcome of a form when there is one."""
    page, prog = page_of(shop, proxy.customer_id, _reads(ctx))
    if page["customer"] and any(r["customer_picks"] and r["state"] == "redeemable"
                                for r in page["customer"]["rewards"]):
        factory = current_app.config.get("LOYALTY_CLIENT_FACTORY", storefront_client)
        page["choices"] = selection_choices(shop, _reads(ctx), factory)
    faq = texts.faq(prog, page["currency"])
    if _wants_json():
        body = {**page, **({"result": notice} if notice else {})}
        if notice and notice.get("error"):
            body["result"] = {**notice, "message": texts.message(page["programme"]["language"], notice["error"],
                                                                 notice.get("facts"))}
        return jsonify(body), status, NO_STORE
    token = (forms.issue(ctx.config.api_secrets[0], shop.domain, proxy.customer_id, _now())
             if proxy.customer_id is not None else None)
    standalone = request.args.get("format") == "html"
    html = render(page, standalone=standalone, path_prefix=proxy.path_prefix, token=token, notice=notice,
                  faq=faq, branding=prog.branding)
    mimetype = "text/html" if standalone else "application/liquid"
    # HTML answers 200 even for a refused form: Shopify puts it in the theme, and the page says why.
    return Response(html, status=200, mimetype=mimetype, headers=NO_STORE)


@bp.get("", strict_slashes=False)
def page():
    """The loyalty page: the programme for everyone; balances, history and rewards when logged in; the
    outcome of the form just posted when the URL carries its `notice`."""
    ctx, proxy, shop = _verified()
    return _answer(ctx, proxy, shop, _notice(ctx, proxy, shop))


def _notice(ctx, proxy, shop) -> dict | None:
    """The outcome a signed `notice` carries, the voucher looked up for this customer (None: no notice)."""
    outcome = _opened(ctx, proxy, shop)
    if outcome is None or "voucher" not in outcome:
        return outcome
    if proxy.customer_id is None or not isinstance(outcome["voucher"], int):
        return None
    return customer_voucher(shop, proxy.customer_id, outcome["voucher"], _reads(ctx))


def _after_form(ctx, proxy, shop, outcome: dict, status: int, json_answer, page: str = "", query=()):
    """Answer a posted form: JSON at once (`json_answer()`), HTML by a 303 to the page (`page` under the
    prefix, with `query`) with the outcome sealed in `notice` (a refresh of that page re-posts nothing)."""
    if _wants_json():
        return json_answer()
    notice = notices.seal(ctx.config.api_secrets[0], shop.domain, proxy.customer_id, outcome, _now())
    query = [*query, ("notice", notice)] + ([("format", "html")] if request.args.get("format") == "html" else [])
    return redirect(f"{proxy.path_prefix}{page}?{urlencode(query)}", code=303)


def _opened(ctx, proxy, shop) -> dict | None:
    """The outcome sealed in the request's `notice`, if it is this customer's and recent."""
    return notices.opened(ctx.config.api_secrets, request.args.get("notice"), shop.domain, proxy.customer_id,
                          _now())


@bp.post("/redeem")
def redeem():
    """Redeem a reward or convert points; the code is shown at once. The same token never spends twice."""
    ctx, proxy, shop = _verified()
    if proxy.customer_id is None:
        return _after_form(ctx, proxy, shop, {"error": "error.sign_in"}, 401,
                           lambda: _answer(ctx, proxy, shop, {"error": "error.sign_in"}, 401))
    factory = current_app.config.get("LOYALTY_CLIENT_FACTORY", storefront_client)
    outcome = actions.redeem(ctx, shop, proxy.customer_id, request.form.to_dict(), _now(), factory)
    if outcome.voucher is None:
        status = 409 if outcome.retry else 400 if outcome.error == "error.token" else 422
        notice = {"error": outcome.error, "retry": outcome.retry,
                  **({"facts": outcome.facts} if outcome.facts else {})}
        return _after_form(ctx, proxy, shop, notice, status, lambda: _answer(ctx, proxy, shop, notice, status))

    def made():
        voucher = voucher_view(outcome.voucher)
        reward = programme_in_force(shop, _reads(ctx))[1].reward(outcome.voucher.reward_key or "")
        item = reward.title if reward else ""
        return _answer(ctx, proxy, shop, {"voucher": voucher, "cause": reward.cause if reward else None,
                                          "item": item})
    return _after_form(ctx, proxy, shop, {"voucher": outcome.voucher.id}, 200, made)


@bp.post("/birthday")
def birthday():
    """Record the logged-in customer's birthday (once)."""
    ctx, proxy, shop = _verified()
    if proxy.customer_id is None:
        notice, status = {"error": "error.sign_in"}, 401
    else:
        outcome = actions.birthday(ctx, shop, proxy.customer_id, request.form.to_dict(), _now())
        notice, status = (({"error": outcome.error}, 400 if outcome.error == "error.token" else 422)
                          if outcome.error else ({"saved": "birthday_saved"}, 200))
    return _after_form(ctx, proxy, shop, notice, status, lambda: _answer(ctx, proxy, shop, notice, status))


def _referral_answer(ctx, proxy, shop, code: str, notice: dict | None = None, status: int = 200):
    """The friend's page (HTML, Liquid or JSON) with the outcome of their form when there is one."""
    prog = programme_in_force(shop, _reads(ctx))[1]
    if _wants_json():
        return jsonify({"shop": shop.domain, "ref": code, "enabled": prog.referrals.enabled,
                        **({"result": notice} if notice else {})}), status, NO_STORE
    standalone = request.args.get("format") == "html"
    html = render_referral(prog.language, shop.domain, code, standalone=standalone, path_prefix=proxy.path_prefix,
                           notice=notice)
    return Response(html, status=200, mimetype="text/html" if standalone else "application/liquid",
                    headers=NO_STORE)


@bp.get("/referral")
def referral_page():
    """A referred friend's landing page: the form for their email."""
    ctx, proxy, shop = _verified()
    return _referral_answer(ctx, proxy, shop, request.args.get("ref", "")[:40], _opened(ctx, proxy, shop))


@bp.post("/referral")
def referral_claim():
    """A referred friend's email: their first-order code, made once per email and sent by email."""
    ctx, proxy, shop = _verified()
    factory = current_app.config.get("LOYALTY_CLIENT_FACTORY", storefront_client)
    form = request.form.to_dict()
    outcome = actions.invite(ctx, shop, form, _now(), factory)
    status = 422 if outcome.get("error", "creating") != "creating" else 409 if outcome.get("error") else 200
    code = str(form.get("ref") or "")[:40]
    return _after_form(ctx, proxy, shop, outcome, status,
                       lambda: _referral_answer(ctx, proxy, shop, code, outcome, status),
                       page="/referral", query=[("ref", code)])
