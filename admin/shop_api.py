"""/admin/api/shop: what the admin pages format with, the shop's name, time zone, currency and locale as
Shopify gives them (loyalty.domain.shops.ShopFacts), and the staff member calling."""
from __future__ import annotations

from flask import g, jsonify

from admin.session import api_blueprint, reads, require_session
from loyalty.services.read.shops import facts_of

bp = api_blueprint("admin_shop", __name__)


@bp.get("/shop")
@require_session
def shop():
    """The shop's facts (name, IANA time zone, currency, primary locale, admin language) and the staff id."""
    return jsonify(shop=facts_of(g.shop, reads()).to_dict(), staff=g.staff)
