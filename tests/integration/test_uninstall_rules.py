"""The uninstall rules at the service layer: an app/uninstalled command acts only once confirmed by Shopify
(loyalty.services.uninstalls marks it), and the confirmation is asked only for bodies naming their shop.
Through signed webhooks and the worker: tests/e2e/test_uninstall_confirmation.py."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import responses
from sqlalchemy import select

from db.tables import shops
from loyalty.domain.commands import ShopClaim, UninstallShop
from loyalty.domain.errors import ShopMismatch, UninstallNotConfirmed
from loyalty.services import events
from loyalty.services.uninstalls import confirm_uninstalls
from tests.conftest import SHOP

NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)


def uninstalled_at(ctx):
    with ctx.engine.connect() as conn:
        return conn.execute(select(shops.c.uninstalled_at).where(shops.c.domain == SHOP)).scalar()


def test_an_uninstall_not_confirmed_by_shopify_is_refused(ctx, shop):
    """handle_row refuses an UninstallShop that was not confirmed (a caller that skipped the question):
    nothing done; the confirmed one uninstalls."""
    with ctx.engine.begin() as conn:
        with pytest.raises(UninstallNotConfirmed):
            events.handle_row(conn, events.ShopCache(conn), SHOP, UninstallShop(ShopClaim(SHOP)), NOW)
    assert uninstalled_at(ctx) is None
    with ctx.engine.begin() as conn:
        events.handle_row(conn, events.ShopCache(conn), SHOP, UninstallShop(ShopClaim(SHOP), confirmed=True), NOW)
    assert uninstalled_at(ctx) is not None


def test_an_uninstall_whose_body_names_another_shop_is_not_asked_of_shopify(ctx, shop):
    """A body naming another shop is left unconfirmed without a request to Shopify: the write refuses it
    with ShopMismatch, as before."""
    row = SimpleNamespace(id=1, shop_domain=SHOP)
    cmd = UninstallShop(ShopClaim("store-b.myshopify.com"))
    with responses.RequestsMock() as rsps:
        commands, failures = confirm_uninstalls(ctx, [row], {1: cmd})
        assert len(rsps.calls) == 0
    assert (commands, failures) == ({1: cmd}, {})
    with ctx.engine.begin() as conn, pytest.raises(ShopMismatch):
        events.handle_row(conn, events.ShopCache(conn), SHOP, cmd, NOW)


def test_shopify_is_asked_once_per_shop_and_batch(ctx, shop):
    """Two app/uninstalled rows of the same shop in a batch (a redelivery under another id): one question
    (a custom app's token, refused with 401 and no refresh token to try), both confirmed."""
    rows = [SimpleNamespace(id=1, shop_domain=SHOP), SimpleNamespace(id=2, shop_domain=SHOP)]
    with responses.RequestsMock() as rsps:
        rsps.post(re.compile(r"https://store-a\.myshopify\.com/admin/api/.*"), status=401,
                  json={"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
        commands, failures = confirm_uninstalls(ctx, rows, {1: UninstallShop(ShopClaim(SHOP)),
                                                            2: UninstallShop(ShopClaim(SHOP))})
        assert len(rsps.calls) == 1
    assert failures == {} and all(cmd.confirmed for cmd in commands.values())
