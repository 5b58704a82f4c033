"""The one-click unsubscribe link of every loyalty email (RFC 8058), on the app's host.

`POST /emails/unsubscribe/SHOP/CUSTOMER/SIGNATURE` (what a mail app's unsubscribe button sends, with the
body `List-Unsubscribe=One-Click`, and what the page's button sends) opts the customer out of loyalty
emails at once. `GET` only shows a page with that button: mail scanners fetch every link of a message,
so a GET never unsubscribes anyone. A link whose signature is not this shop's customer's is refused (401).
No cookie and no session: the signed link is the authority, and the form carries nothing else.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import Blueprint, current_app, render_template

from integrations.unsubscribe_links import verify
from loyalty.domain.requests import Unsubscribe
from loyalty.domain.shops import valid_shop_domain
from loyalty.services.errors import UnknownShop
from loyalty.services.read.notifications import unsubscribe_page
from loyalty.services.unit_of_work import ReadOnlyUnitOfWork, UnitOfWork
from loyalty.services.use_cases.customers import unsubscribe

bp = Blueprint("unsubscribe", __name__, url_prefix="/emails/unsubscribe", template_folder="templates")
log = logging.getLogger(__name__)

TEXTS = {
    "fr": {"title": "Se désabonner des e-mails fidélité", "ask": "Ne plus recevoir les e-mails du programme de "
           "fidélité de {shop} ?", "button": "Me désabonner", "done": "C'est fait : tu ne recevras plus les "
           "e-mails du programme de fidélité de {shop}.", "back": "Retour à la boutique",
           "note": "Tes points et tes avantages restent sur ton compte."},
    "en": {"title": "Unsubscribe from loyalty emails", "ask": "Stop receiving the emails of the {shop} loyalty "
           "programme?", "button": "Unsubscribe", "done": "Done: you will no longer receive the emails of the "
           "{shop} loyalty programme.", "back": "Back to the shop",
           "note": "Your points and perks stay on your account."},
}
def now() -> datetime:
    """The wall clock: requests are the edge where time enters."""
    return datetime.now(timezone.utc)


HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'"}


def _page(shop: str, customer_id: int, signature: str):
    """The page's facts for a valid link; else a refusal (401 forged, 404 unknown shop or customer)."""
    ctx = current_app.extensions["loyalty"]
    if not valid_shop_domain(shop) or not verify(ctx.config.api_secrets, shop, customer_id, signature):
        log.warning("unsubscribe link refused for %s", shop)
        return ctx, None, ("This link is not valid.", 401)
    try:
        facts = unsubscribe_page(shop, customer_id, ReadOnlyUnitOfWork(ctx, clock=now))
    except UnknownShop:
        facts = None
    return ctx, facts, None if facts else ("This link is no longer valid.", 404)


def _render(facts: dict, done: bool):
    texts = {key: value.format(shop=facts["shop_name"]) for key, value in TEXTS[facts["language"]].items()}
    return render_template("unsubscribe.html", texts=texts, facts=facts, done=done), 200, HEADERS


@bp.get("/<shop>/<int:customer_id>/<signature>")
def confirm(shop: str, customer_id: int, signature: str):
    """A page with the unsubscribe button (and nothing done: link scanners GET every link)."""
    _, facts, refused = _page(shop, customer_id, signature)
    if refused:
        return refused[0], refused[1], {**HEADERS, "Content-Type": "text/plain; charset=utf-8"}
    return _render(facts, done=not facts["accepts"])


@bp.post("/<shop>/<int:customer_id>/<signature>")
def one_click(shop: str, customer_id: int, signature: str):
    """Unsubscribe now (RFC 8058's POST `List-Unsubscribe=One-Click`, or the page's button)."""
    ctx, facts, refused = _page(shop, customer_id, signature)
    if refused:
        return refused[0], refused[1], {**HEADERS, "Content-Type": "text/plain; charset=utf-8"}
    unsubscribe(Unsubscribe(shop, customer_id), UnitOfWork(ctx, clock=now))
    log.info("customer %s of %s unsubscribed from loyalty emails", customer_id, shop)
    return _render(facts, done=True)
