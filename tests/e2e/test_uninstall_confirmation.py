"""app/uninstalled is acted on only once Shopify confirms the app is uninstalled (loyalty.services.uninstalls).

Shopify signs the body only; app/uninstalled's body is the Shop resource shop/update carries too. A signed
shop/update body (or an app/uninstalled from before a reinstall) posted with the topic header
`app/uninstalled` and a fresh webhook id used to uninstall the shop. Now the worker asks the shop's token
`shop { id }` first: refused (401/403, or its refresh refused) or no token -> uninstalled; answered ->
not applied, asked again at each attempt, failed for good as forged or stale once they are spent; no
answer -> the event waits and is tried again.
Shopify is the emulator at the HTTP boundary (`shopify` fixture), or `responses` where it misbehaves.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses
from sqlalchemy import select, update

from db.tables import shops, webhook_inbox as inbox
from integrations.crypto import decrypt_token
from loyalty.defaults import INBOX_MAX_ATTEMPTS as MAX_ATTEMPTS
from loyalty.services.failures import list_failures
from tests.conftest import KEY, SHOP
from tests.fixtures import shopify_emulated_by

GRAPHQL = re.compile(r"https://store-a\.myshopify\.com/admin/api/.*/graphql\.json")

# The suite's secret is shorter than the 32 bytes PyJWT recommends (session tokens, for the admin API).
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def shop_row(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(shops).where(shops.c.domain == SHOP)).one()


def uninstall_row(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(inbox).where(inbox.c.topic == "app/uninstalled")).one()


def time_passes(ctx) -> None:
    """The backoff of the rows waiting for another attempt is over."""
    with ctx.engine.begin() as conn:
        conn.execute(update(inbox).where(inbox.c.failed_at.is_(None), inbox.c.processed_at.is_(None))
                     .values(lease_until=datetime.now(timezone.utc) - timedelta(seconds=1)))


def assert_uninstalled(ctx) -> None:
    row = shop_row(ctx)
    assert row.uninstalled_at is not None and row.access_token is None and row.refresh_token is None
    done = uninstall_row(ctx)
    assert done.processed_at is not None and done.failed_at is None


def assert_installed_with_its_token(ctx, token="shpat_store_a") -> None:
    row = shop_row(ctx)
    assert row.uninstalled_at is None and decrypt_token((KEY,), row.access_token) == token


def test_a_real_uninstall_is_applied_once_shopify_refuses_the_token(ctx, shop, send, process, shopify):
    """The merchant uninstalled the app: Shopify revoked the token (401) and sent app/uninstalled. The worker
    asks, hears 401, and uninstalls the shop (tokens dropped)."""
    body = shopify.uninstall_app(SHOP)
    assert send("app/uninstalled", body).headers["X-Loyalty-Webhook"] == "recorded"
    assert shop_row(ctx).uninstalled_at is None  # not in the request: the topic header is not signed
    assert process() == 1
    assert_uninstalled(ctx)


def test_a_403_from_shopify_also_confirms_the_uninstall(ctx, shop, send, process, emulator):
    """Shopify answering 403 (unauthorised) to the shop's token confirms the uninstall as a 401 does."""
    body = emulator.uninstall_app(SHOP)
    with responses.RequestsMock() as rsps:
        rsps.post(GRAPHQL, status=403, json={"errors": "[API] This action requires merchant approval"})
        send("app/uninstalled", body)
        assert process() == 1
    assert_uninstalled(ctx)


def test_a_shop_without_a_token_is_uninstalled_without_asking_shopify(ctx, shop, send, process, emulator):
    """The shop has no token any more: nothing can be asked, nothing is lost by stopping it (as before)."""
    with ctx.engine.begin() as conn:
        conn.execute(update(shops).where(shops.c.domain == SHOP).values(access_token=None))
    with responses.RequestsMock() as rsps:  # no route: a request would fail (and the event would wait)
        send("app/uninstalled", emulator.uninstall_app(SHOP))
        assert process() == 1
        assert len(rsps.calls) == 0
    assert_uninstalled(ctx)


def test_an_expiring_token_whose_refresh_shopify_refuses_confirms_the_uninstall(ctx, shop, send, process, shopify):
    """An OAuth shop (expiring token and refresh token): after the uninstall Shopify refuses the token (401)
    and then its refresh (invalid_grant): the uninstall is confirmed."""
    from integrations.shopify import oauth
    from loyalty.services.tokens import install_with_grant

    grant = oauth.exchange_code(SHOP, "code", ctx.config.api_key, ctx.config.api_secrets[0], expiring=True,
                                admin_url_template=ctx.config.admin_url_template)
    install_with_grant(ctx, SHOP, grant)
    assert shop_row(ctx).refresh_token is not None
    send("app/uninstalled", shopify.uninstall_app(SHOP))
    assert process() == 1
    assert_uninstalled(ctx)


def forged_shop_update(shopify) -> dict:
    """A signed shop/update body (the merchant renamed the shop), to be replayed as app/uninstalled."""
    return shopify.update_shop(SHOP, name="Boutique A")


def stale_uninstall(shopify) -> dict:
    """An app/uninstalled body from before a reinstall (the shop's token works again)."""
    body = shopify.uninstall_app(SHOP)
    shopify.add_shop(SHOP, "shpat_store_a")  # reinstalled: the token the app holds is accepted again
    return body


@pytest.mark.parametrize("captured", [forged_shop_update, stale_uninstall])
def test_a_shop_body_replayed_as_app_uninstalled_is_never_applied_while_the_token_works(
        ctx, shop, send, process, shopify, admin, caplog, captured):
    """A genuine, signed Shop body of store A posted as app/uninstalled with a fresh webhook id while the app
    is installed (Shopify answers `shop { id }`): the shop keeps its token and goes on. The event waits with
    its reason, logged at WARNING and listed as retrying (Shopify may revoke a real uninstall's token a
    moment late), is asked again after each backoff, and fails for good, listed in `loyalty failures` and the
    admin's failed jobs, once its attempts are spent with the token still working."""
    body = captured(shopify)
    if captured is forged_shop_update:
        assert send("shop/update", body, webhook_id="genuine").headers["X-Loyalty-Webhook"] == "recorded"
    with caplog.at_level(logging.WARNING):
        assert send("app/uninstalled", body, webhook_id="forged").headers["X-Loyalty-Webhook"] == "recorded"
        process()
    assert_installed_with_its_token(ctx)
    waiting = uninstall_row(ctx)
    assert waiting.processed_at is None and waiting.failed_at is None and waiting.attempts == 1
    assert waiting.last_error.startswith(
        f"refused: UninstallNotConfirmed: Shopify still accepts the app's token for {SHOP}")
    assert "forged or stale" in waiting.last_error
    assert any(r.levelname == "WARNING" and "app/uninstalled not confirmed" in r.getMessage()
               and SHOP in r.getMessage() for r in caplog.records)
    with ctx.engine.connect() as conn:
        [listed] = [f for f in list_failures(conn, SHOP) if f.kind == "webhook_retrying"]
    assert listed.reason == waiting.last_error
    for _ in range(MAX_ATTEMPTS - 1):  # every later attempt asks Shopify again, and the token still works
        time_passes(ctx)
        process()
    assert_installed_with_its_token(ctx)
    refused = uninstall_row(ctx)
    assert refused.processed_at is None and refused.failed_at is not None and refused.attempts == MAX_ATTEMPTS
    with ctx.engine.connect() as conn:
        [listed] = [f for f in list_failures(conn, SHOP) if f.kind == "webhook_failed"]
    assert listed.reason == refused.last_error
    jobs = admin.get("/failed-jobs").get_json()
    assert [job["webhook_id"] for job in jobs["failed_jobs"]] == ["forged"]
    if captured is forged_shop_update:  # the genuine shop/update was applied
        assert shop_row(ctx).name == "Boutique A"


def test_a_real_uninstall_sent_before_shopify_revoked_the_token_is_applied_at_a_later_attempt(
        ctx, shop, send, process, shopify):
    """Shopify's app/uninstalled arriving while the token still answers (revoked a moment later): not
    applied at first, then applied at the attempt after the revocation."""
    body = shopify.uninstall_app(SHOP)
    shopify.add_shop(SHOP, "shpat_store_a")  # the token still answers when the event is first applied
    send("app/uninstalled", body)
    process()
    assert_installed_with_its_token(ctx)
    shopify.uninstall_app(SHOP)  # ...and is revoked before the next attempt
    time_passes(ctx)
    process()
    assert_uninstalled(ctx)


OUTAGES = {
    "5xx": dict(status=503, body="Service Unavailable"),
    "throttled": dict(status=429, headers={"Retry-After": "0"}, json={"errors": "Exceeded 2 calls per second"}),
    "unreachable": dict(body=requests.exceptions.ConnectionError("connection refused")),
}


@pytest.mark.parametrize("outage", OUTAGES)
def test_the_uninstall_waits_while_shopify_cannot_say_and_is_applied_once_it_answers_401(
        ctx, shop, send, process, emulator, outage):
    """Shopify unreachable, failing or throttled: the event is neither applied nor dropped; it waits with its
    reason (listed as retrying) and is tried again after its backoff; once Shopify answers 401 it is applied."""
    body = emulator.uninstall_app(SHOP)
    with responses.RequestsMock() as rsps:
        rsps.post(GRAPHQL, **OUTAGES[outage])
        send("app/uninstalled", body)
        assert process() == 0
        waiting = uninstall_row(ctx)
        assert waiting.processed_at is None and waiting.failed_at is None and waiting.attempts == 1
        assert waiting.last_error.startswith("confirming app/uninstalled with Shopify: Shopify")
        assert waiting.lease_until is not None  # not before its backoff
        assert process() == 0
        with ctx.engine.connect() as conn:
            [listed] = [f for f in list_failures(conn, SHOP) if f.kind == "webhook_retrying"]
        assert listed.reason == waiting.last_error
        assert_installed_with_its_token(ctx)
        rsps.reset()
        shopify_emulated_by(rsps, emulator)  # Shopify answers again: the token is revoked
        time_passes(ctx)
        assert process() == 1
    assert_uninstalled(ctx)
    assert uninstall_row(ctx).attempts == 1
