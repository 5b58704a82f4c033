"""Shared by the UI extensions' end-to-end tests: the app served on a loopback port, session tokens made
as Shopify makes them (HS256 with the app secret) for a customer-account / checkout extension and for a
POS extension, and store B's customer with points to spend."""
from __future__ import annotations

import threading

import jwt
import pytest

from tests.conftest import SECRET
from tests.storefront_support import BEN, NOW, apply_template, earn

AT = int(NOW.timestamp())


def shopper_token(shop: str, customer: int | None, secret: str = SECRET, **overrides) -> str:
    """A customer-account / checkout extension's session token (`sub` = the customer's GID when logged in)."""
    claims = {"dest": shop, "aud": "test-key", "exp": AT + 300, "nbf": AT - 1, "iat": AT - 1, "jti": "j1",
              **({"sub": f"gid://shopify/Customer/{customer}"} if customer else {}), **overrides}
    return jwt.encode(claims, secret, algorithm="HS256")


def staff_token(shop: str) -> str:
    """A POS UI extension's session token: the admin's kind of token, for a staff member."""
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}", "aud": "test-key", "sub": "77",
              "exp": AT + 60, "nbf": AT - 1}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def shopper(shop: str, customer: int | None, secret: str = SECRET, **overrides) -> dict:
    """The headers of a customer-account / checkout extension's request: its session token."""
    return {"Authorization": "Bearer " + shopper_token(shop, customer, secret, **overrides)}


def staff(shop: str) -> dict:
    """The headers of a POS UI extension's request."""
    return {"Authorization": "Bearer " + staff_token(shop)}


@pytest.fixture
def app_url(app, proxy):
    """The app on http://127.0.0.1:<port> (proxy pins the clock and the emulator's clients); yields its URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def ben(send, process, ctx, shop):
    """Store B's programme (conversion, 100 points minimum): Ben has 250 points available."""
    apply_template(ctx, shop, "store-b")
    earn(send, process, ctx, BEN, "ben@example.com", 250, "2025-05-01T10:00:00+00:00")
    return BEN
