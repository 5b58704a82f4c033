"""The emulator's HTTP face: Shopify's Admin GraphQL and OAuth endpoints, plus a small control API for demos."""
import io

from flask import Flask, jsonify, request, send_file

from tools.shopify_emulator import store_credit
from tools.shopify_emulator.oauth import GrantRefused

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
"""Shopify's 401 body text."""


def create_app(emulator):
    """A Flask app serving `emulator` (an Emulator); routes are thin, the emulator does the work."""
    app = Flask("shopify_emulator")

    @app.post("/<shop>/admin/api/<version>/graphql.json")
    def graphql_endpoint(shop, version):
        """Admin GraphQL: authenticate the shop's token, then answer like Shopify (HTTP 200 even when throttled)."""
        if not emulator.authenticate(shop, request.headers.get("X-Shopify-Access-Token", "")):
            return jsonify(errors=INVALID_TOKEN), 401
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return jsonify(errors={"query": "Required parameter missing or invalid"}), 400
        if body.get("variables") is not None and not isinstance(body["variables"], dict):
            return jsonify(errors={"variables": "Required parameter missing or invalid"}), 400
        return jsonify(emulator.execute(shop, body, request.host_url))

    @app.post("/<shop>/admin/oauth/access_token")
    def access_token(shop):
        """OAuth token endpoint: code, token-exchange and refresh grants (codes are not verified)."""
        body = request.get_json(silent=True)
        params = {**request.args, **request.form, **(body if isinstance(body, dict) else {})}
        try:
            return jsonify(emulator.grant_token(shop, params))
        except GrantRefused as refused:
            return jsonify(error=refused.error, error_description=refused.description), refused.status

    @app.post("/_emulator/<shop>/orders")
    def seed_order(shop):
        """Demo control: create an order, and its customer when given as an object; with `order` (its
        REST/webhook JSON), the order as Shopify holds it (lines, dates, refunds are added separately)."""
        body = request.get_json(silent=True) or {}
        try:
            if isinstance(body.get("order"), dict):
                number = emulator.add_rest_order(shop, body["order"], body.get("transactions", ()))
                return jsonify(id=number, admin_graphql_api_id=f"gid://shopify/Order/{number}"), 201
            customer = body.get("customer")
            customer_id = body.get("customer_id")
            if isinstance(customer, dict):
                customer_id = emulator.add_customer(
                    shop, customer["id"], customer.get("email"), customer.get("tags", ()),
                    customer.get("first_name"), customer.get("last_name"),
                )
            number = emulator.add_order(
                shop, body["id"], body.get("transactions", ()), customer_id=customer_id, name=body.get("name", "")
            )
        except (KeyError, TypeError, ValueError) as error:
            return _bad_request(emulator, shop, error)
        return jsonify(id=number, admin_graphql_api_id=f"gid://shopify/Order/{number}"), 201

    @app.post("/_emulator/<shop>/refunds")
    def seed_refund(shop):
        """Demo control: add a refund (its REST/webhook JSON) to its order."""
        body = request.get_json(silent=True) or {}
        try:
            emulator.add_rest_refund(shop, body)
        except (KeyError, TypeError, ValueError) as error:
            return _bad_request(emulator, shop, error)
        return jsonify(id=body["id"]), 201

    @app.post("/_emulator/<shop>/customers")
    def seed_customer(shop):
        """Demo control: create or update a customer."""
        body = request.get_json(silent=True) or {}
        try:
            number = emulator.add_customer(shop, body["id"], body.get("email"), body.get("tags", ()),
                                           body.get("first_name"), body.get("last_name"))
        except (KeyError, TypeError, ValueError) as error:
            return _bad_request(emulator, shop, error)
        return jsonify(id=number, admin_graphql_api_id=f"gid://shopify/Customer/{number}"), 201

    @app.post("/_emulator/<shop>/store-credit/debit")
    def debit_store_credit(shop):
        """Emulator only: a purchase paid with `amount` of the customer's store credit (online or at the point
        of sale), spending the soonest-expiring credit first; 422 with Shopify's error code when refused."""
        body = request.get_json(silent=True) or {}
        try:
            debit_id = emulator.debit_store_credit(shop, body["customer_id"], body["amount"])
        except store_credit.Refused as refused:
            return jsonify(error=str(refused), code=refused.code), 422
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            return _bad_request(emulator, shop, error)
        return jsonify(id=debit_id), 201

    @app.post("/_emulator/<shop>/uninstall")
    def uninstall(shop):
        """Demo control: the merchant uninstalls the app (its tokens revoked); answers app/uninstalled's body."""
        if emulator.find_shop(shop) is None:
            return jsonify(error=f"unknown shop {shop}"), 404
        return jsonify(emulator.uninstall_app(shop))

    @app.get("/_emulator/<shop>/bulk/<int:operation_id>.jsonl")
    def bulk_result(shop, operation_id):
        """A finished bulk operation's JSONL (range requests honoured, as a storage bucket does)."""
        data = emulator.bulk_data(shop, operation_id) if emulator.find_shop(shop) else None
        if data is None:
            return jsonify(error="not found"), 404
        return send_file(io.BytesIO(data), mimetype="application/jsonl", conditional=True,
                         download_name=f"{operation_id}.jsonl")

    @app.post("/_emulator/<shop>/staged-uploads")
    def staged_upload(shop):
        """A staged upload target (as Shopify's storage): the multipart POST of a bulk mutation's variables."""
        upload = request.files.get("file")
        status, body = emulator.receive_upload(shop, request.form, upload.read() if upload else None)
        return body, status, {"Content-Type": "application/xml"}

    @app.get("/_emulator/<shop>/state")
    def shop_state(shop):
        """Demo control: everything the shop holds, plus its traffic figures."""
        if emulator.find_shop(shop) is None:
            return jsonify(error=f"unknown shop {shop}"), 404
        return jsonify({**emulator.state(shop), "stats": emulator.stats(shop)})

    return app


def _bad_request(emulator, shop, error):
    """404 for a shop never added, 400 for malformed seed data."""
    if emulator.find_shop(shop) is None:
        return jsonify(error=f"unknown shop {shop}"), 404
    return jsonify(error=f"invalid body: {error!r}"), 400
