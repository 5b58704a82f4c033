"""The admin's HTML pages under /admin: static shells, the same for every shop, that fetch the JSON API
with the session token App Bridge gives them. Shopify's admin loads `/admin?shop=...&host=...` in its
iframe; the pages hold no shop data, so they need no authentication of their own."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request

import json

from admin.i18n import catalogue, language_of, translate
from admin.session import ctx, dev_tokens_enabled
from loyalty.domain.shops import valid_shop_domain

bp = Blueprint("admin_pages", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static", static_url_path="/static")

APP_BRIDGE_URL = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
"""Shopify requires embedded apps to load App Bridge from its CDN (it is not distributed otherwise)."""

PAGES = ("home", "customers", "settings", "vouchers", "report", "audit", "emails", "jobs")
"""The pages, in the order of the navigation; each one's title is `nav.<page>` in admin/i18n/common.json.
`home` is /admin itself (App Bridge's `rel="home"` link)."""


def _render(page: str, **extra):
    dev = dev_tokens_enabled()
    language = language_of(request.args.get("locale"))
    texts = catalogue(page, language)

    def t(key: str, **values) -> str:
        return translate(texts, key, **values)

    response = render_template(
        f"admin/{page}.html", page=page, title=t(f"nav.{page}"), pages=PAGES, language=language, t=t,
        texts_json=json.dumps(texts, ensure_ascii=False).replace("</", "<\\/"),
        api_key=ctx().config.api_key, app_bridge_url=None if dev else APP_BRIDGE_URL, dev_tokens=dev, **extra)
    shop = request.args.get("shop", "")
    # Only the shop's admin (and Shopify's unified admin) may frame the app: clickjacking protection.
    ancestors = f"https://{shop} https://admin.shopify.com" if valid_shop_domain(shop) else "https://admin.shopify.com"
    if dev:
        ancestors = "'self'"
    return response, 200, {"Content-Security-Policy": f"frame-ancestors {ancestors};"}


@bp.get("")
@bp.get("/")
def home():
    """Where Shopify's admin opens the app: the programme at a glance."""
    return _render("home")


@bp.get("/<page>")
def page(page: str):
    """One of the admin's pages."""
    if page not in PAGES or page == "home":
        abort(404)
    return _render(page)


@bp.get("/customers/<int:customer_id>")
def customer(customer_id: int):
    """One customer's record."""
    return _render("customer", customer_id=customer_id)
