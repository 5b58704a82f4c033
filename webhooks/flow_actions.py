"""POST /flow/actions/<handle>: Shopify Flow runs one of the app's actions (award points, change tier).

Flow signs the raw body as it signs webhooks (X-Shopify-Hmac-Sha256: base64 HMAC-SHA256 with the app's
secret); a request without a valid signature is answered 401 before its body is read as JSON. The body
names the shop (`shopify_domain`, `shop_id`): it must be a shop that installed the app. Answers, as Flow
reads them: 200 done (a run sent again, same `action_run_id`, finds what the first did and books nothing
more); 4xx refused, with the reason (Flow marks the step failed and does not retry); 5xx (the app failed)
Flow sends the run again later.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from integrations.shopify.webhook_signature import verify
from loyalty.domain.errors import FlowActionRefused
from loyalty.domain.flow import parse_action
from loyalty.services.errors import UnknownShop
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.flow import run_flow_action

bp = Blueprint("flow_actions", __name__)


@bp.post("/flow/actions/<handle>")
def run_action(handle: str):
    """Verify, parse, carry out; the answer says what was done or why not."""
    ctx = current_app.extensions["loyalty"]
    body = request.get_data(cache=False)
    if not verify(ctx.config.api_secrets, body, request.headers.get("X-Shopify-Hmac-Sha256")):
        return jsonify(error="the request is not signed by Shopify with this app's secret"), 401
    try:
        action = parse_action(handle, body)
        done = run_flow_action(action, UnitOfWork(ctx))
    except FlowActionRefused as exc:
        return jsonify(error=str(exc), field=exc.field), exc.status
    except UnknownShop as exc:
        return jsonify(error=f"{exc}: the app is not installed in this shop", field="shopify_domain"), 404
    return jsonify(done), 200
