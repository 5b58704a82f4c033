"""The admin JSON API of products and collections to pick (admin/openapi/resources.json): the programme
editor's fallback picker outside Shopify's admin, and the titles of the ids a programme names."""
from __future__ import annotations

from flask import current_app, g, jsonify, request

from admin.params import BadInput
from admin.session import api_blueprint, error, reads, require_session
from integrations.shopify.errors import ShopifyError
from loyalty.services.errors import ShopGone
from loyalty.services.form_redemption import in_request_client
from loyalty.services.read.resources import IDS_LIMIT, RESOURCE_KINDS, find_resources, resource_titles

bp = api_blueprint("admin_resources", __name__)
TEXT_LIMIT = 100
"""The most characters a search may type."""


def _ids(raw: str) -> list[int]:
    """`ids=1001,1002`: whole numbers above 0, at most IDS_LIMIT, or BadInput."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if len(parts) > IDS_LIMIT or not all(p.isdigit() and 0 < int(p) < 2 ** 63 for p in parts):
        raise BadInput(f"ids: expected up to {IDS_LIMIT} comma-separated ids", field="ids")
    return [int(p) for p in parts]


@bp.get("/resources")
@require_session
def list_resources():
    """`type` collection|product; `q`: resources whose title matches (by title, at most 20), or `ids`: the
    titles of those ids (null for one not in the shop). A merchant waits: Shopify is asked with the short
    timeout and few tries of an in-request call; its errors answer 502 saying why."""
    kind = request.args.get("type", "")
    if kind not in RESOURCE_KINDS:
        raise BadInput(f"type: must be one of {', '.join(RESOURCE_KINDS)}", field="type")
    text = request.args.get("q", "")
    if len(text) > TEXT_LIMIT:
        raise BadInput(f"q: at most {TEXT_LIMIT} characters", field="q")
    factory = current_app.config.get("LOYALTY_CLIENT_FACTORY", in_request_client)
    try:
        if "ids" in request.args:
            found = resource_titles(g.shop, kind, _ids(request.args["ids"]), reads(), factory)
        else:
            found = find_resources(g.shop, kind, text.strip(), reads(), factory)
    except ShopifyError as exc:
        return error(502, f"Shopify did not answer the {kind} list: {exc.detail}")
    except (ShopGone, OSError) as exc:
        return error(502, f"Shopify could not be asked for the {kind} list: {exc.__cause__ or exc}")
    return jsonify(type=kind, resources=found)
