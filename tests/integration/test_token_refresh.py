"""Keeping the Admin API token usable: refresh before it expires, refresh after a 401, never two refreshes
at once for a shop (the refresh token rotates, so the second would spend a dead one)."""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import responses
from sqlalchemy import select

from db.tables import shops
from integrations.shopify.oauth import TokenGrant
from loyalty.services.tokens import (
    TokenUnavailable, access_token_for, force_refresh_after_401, stored_token, store_grant,
)
from integrations.crypto import decrypt_token
from tests.conftest import SHOP

TOKEN_URL = f"https://{SHOP}/admin/oauth/access_token"
ISSUED = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
"""When the stored expiring token was granted; it lives one hour."""


class TokenEndpoint:
    """Shopify's refresh endpoint: each refresh token works once, then answers 400 invalid_grant."""

    def __init__(self, delay: float = 0.0, redis_client=None):
        """`delay` keeps a refresh in flight long enough for a racing worker to arrive."""
        self.live = {"shprt_1": 1}
        self.calls = 0
        self.lock_seen = []
        self.delay, self.redis = delay, redis_client

    def __call__(self, request):
        """Rotate: answer generation n+1 for the live refresh token of generation n."""
        self.calls += 1
        if self.redis is not None:
            self.lock_seen.append(self.redis.exists(f"loyalty:token-refresh:{SHOP}") == 1)
        time.sleep(self.delay)
        body = json.loads(request.body)
        assert body["grant_type"] == "refresh_token" and body["client_id"] == "test-key"
        generation = self.live.pop(body["refresh_token"], None)
        if generation is None:
            return 400, {}, json.dumps({"error": "invalid_grant", "error_description": "refresh token reused"})
        self.live[f"shprt_{generation + 1}"] = generation + 1
        return 200, {}, json.dumps({
            "access_token": f"shpat_{generation + 1}", "expires_in": 3600, "scope": "read_orders",
            "refresh_token": f"shprt_{generation + 1}", "refresh_token_expires_in": 7776000})


@pytest.fixture
def expiring(ctx, shop):
    """Store A holds an expiring token (shpat_1, one hour from ISSUED) and its refresh token shprt_1."""
    grant = TokenGrant("shpat_1", "read_orders", 3600, "shprt_1", 7776000)
    with ctx.engine.begin() as conn:
        store_grant(conn, SHOP, grant, ctx.config.encryption_keys, ISSUED)
    return shop


def stored(ctx):
    """The tokens as they are in the database now."""
    with ctx.engine.connect() as conn:
        return stored_token(conn, SHOP, ctx.config.encryption_keys)


def test_token_far_from_expiry_is_used_as_is(ctx, expiring):
    """With more than five minutes left, the stored token is returned and Shopify is not asked."""
    with responses.RequestsMock() as rsps:
        assert access_token_for(ctx, SHOP, now=ISSUED + timedelta(minutes=54)) == "shpat_1"
        assert len(rsps.calls) == 0


def test_token_expiring_within_five_minutes_is_refreshed_first(ctx, expiring):
    """Inside the five-minute margin the token is refreshed, and the new pair is stored (encrypted) with
    new expiries, so the next caller uses it without refreshing."""
    now = ISSUED + timedelta(minutes=56)
    endpoint = TokenEndpoint()
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
        assert access_token_for(ctx, SHOP, now=now) == "shpat_2"
        assert access_token_for(ctx, SHOP, now=now) == "shpat_2"
    assert endpoint.calls == 1
    token = stored(ctx)
    assert (token.access_token, token.refresh_token) == ("shpat_2", "shprt_2")
    assert token.access_token_expires_at.replace(tzinfo=timezone.utc) == now + timedelta(hours=1)
    with ctx.engine.connect() as conn:
        raw = conn.execute(select(shops.c.refresh_token).where(shops.c.domain == SHOP)).scalar()
    assert b"shprt_2" not in bytes(raw) and decrypt_token(ctx.config.encryption_keys, raw) == "shprt_2"


def test_already_expired_token_is_refreshed(ctx, expiring):
    """A job that wakes up after the token expired still gets a working one."""
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=TokenEndpoint())
        assert access_token_for(ctx, SHOP, now=ISSUED + timedelta(hours=5)) == "shpat_2"


def test_token_that_does_not_expire_is_returned_as_is(ctx, shop):
    """A custom app's pasted token has no expiry: returned unchanged, never refreshed."""
    with responses.RequestsMock() as rsps:
        assert access_token_for(ctx, SHOP, now=ISSUED + timedelta(days=3650)) == "shpat_store_a"
        assert len(rsps.calls) == 0


def test_a_401_refreshes_the_token_that_failed(ctx, expiring):
    """Shopify refused a token that looked valid (revoked early): it is refreshed at once."""
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=TokenEndpoint())
        assert force_refresh_after_401(ctx, SHOP, "shpat_1", now=ISSUED + timedelta(minutes=1)) == "shpat_2"
    assert stored(ctx).refresh_token == "shprt_2"


def test_a_401_for_a_token_already_replaced_does_not_refresh_again(ctx, expiring):
    """Two jobs got 401 with the same token; the second finds the first's replacement and uses it."""
    endpoint = TokenEndpoint()
    now = ISSUED + timedelta(minutes=1)
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
        first = force_refresh_after_401(ctx, SHOP, "shpat_1", now=now)
        second = force_refresh_after_401(ctx, SHOP, "shpat_1", now=now)
    assert first == second == "shpat_2"
    assert endpoint.calls == 1


def test_a_401_on_a_token_that_cannot_be_refreshed_needs_the_merchant(ctx, shop):
    """A non-expiring token refused by Shopify (app uninstalled or token revoked) cannot be repaired here:
    it is a custom app's token, so a new one must be registered (not "the merchant must open the app")."""
    with responses.RequestsMock() as rsps:
        with pytest.raises(TokenUnavailable, match="register it with `loyalty shops add store-a.myshopify.com"):
            force_refresh_after_401(ctx, SHOP, "shpat_store_a")
        assert len(rsps.calls) == 0


def test_refused_refresh_needs_the_merchant(ctx, expiring):
    """Shopify refusing the refresh token (revoked or reused) raises TokenUnavailable and keeps the row."""
    with responses.RequestsMock() as rsps:
        rsps.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
        with pytest.raises(TokenUnavailable):
            access_token_for(ctx, SHOP, now=ISSUED + timedelta(minutes=58))
    assert stored(ctx).refresh_token == "shprt_1"


def test_expired_refresh_token_is_not_sent(ctx, expiring):
    """After the refresh token's own 90 days nothing can be refreshed: no request, TokenUnavailable."""
    with responses.RequestsMock() as rsps:
        with pytest.raises(TokenUnavailable):
            access_token_for(ctx, SHOP, now=ISSUED + timedelta(days=91))
        assert len(rsps.calls) == 0


def test_two_workers_racing_refresh_once_and_both_get_the_new_token(ctx, expiring, redis_client):
    """Two workers find the token about to expire at the same moment. One refreshes (holding the shop's
    lock in Redis, so workers in other processes wait too); the other waits, re-reads the row and uses
    the new token instead of spending the rotated refresh token, which Shopify would refuse."""
    now = ISSUED + timedelta(minutes=58)
    endpoint = TokenEndpoint(delay=0.3, redis_client=redis_client)
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        start.wait()
        try:
            results.append(access_token_for(ctx, SHOP, now=now))
        except Exception as exc:  # noqa: BLE001 - reported by the assertions below
            errors.append(exc)

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, TOKEN_URL, callback=endpoint)
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert results == ["shpat_2", "shpat_2"]
    assert endpoint.calls == 1
    assert endpoint.lock_seen == [True]
    assert stored(ctx).refresh_token == "shprt_2"
