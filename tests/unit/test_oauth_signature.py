"""The OAuth query signature (integrations.shopify.oauth) against ShopifyAPI's, split from
tests/e2e/test_oauth.py, which installs shops through the app."""
from __future__ import annotations

from integrations.shopify import oauth
from tests.conftest import SECRET, SHOP


def test_query_signature_matches_the_shopify_api_package():
    """Our HMAC of a query equals ShopifyAPI's, escaping included (`&`, `%`, `=` in keys and values)."""
    import shopify

    class Signer(shopify.Session):
        secret = SECRET

    params = {"shop": SHOP, "code": "a&b=c%d", "timestamp": "1700000000", "host": "YWJj==", "we=ird": "x"}
    assert oauth.query_signature(params, SECRET) == Signer.calculate_hmac(params)
    assert oauth.verify_query_hmac({**params, "hmac": Signer.calculate_hmac(params)}, ("new", SECRET))
