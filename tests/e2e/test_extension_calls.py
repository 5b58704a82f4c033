"""The UI extensions' own client (extensions/shared/api.ts, through its command extensions/shared/cli.ts,
bundled for Node with the project's esbuild) calling the running app over HTTP with session tokens made as
Shopify makes them: store B's customer converts points on the account page (the same form token twice
spends once) and takes a code at checkout; store A's sees perks and the next threshold, and the POS reads
them with a staff token; an expired token is a 401 through the client. SQLite only: the API's own tests
(test_extensions_api.py) cover PostgreSQL.

Without Node.js or node_modules the tests skip saying why; with LOYALTY_REQUIRE_BROWSER=1 (CI) they fail."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime

import pytest
from sqlalchemy import select

from db.tables import ledger_entries
from loyalty.defaults import CHECKOUT_CODE_LIFETIME
from tests.browser import unavailable
from tests.extensions_support import app_url, ben, shopper_token, staff_token  # noqa: F401 - fixtures
from tests.faults import ROOT
from tests.storefront_support import BEN, NOW, VERA, apply_template, earn, proxy  # noqa: F401

pytestmark = [pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """extensions/shared/cli.ts bundled as one Node ES module (cli.mjs), as the extensions' code runs."""
    node, esbuild = shutil.which("node"), ROOT / "node_modules" / ".bin" / "esbuild"
    if not node:
        unavailable("node is not on the PATH", need="Node.js", hint="apt-get install nodejs npm")
    if not esbuild.exists():
        unavailable("node_modules/.bin/esbuild is missing", need="the npm toolchain", hint="make install")
    out = tmp_path_factory.mktemp("cli") / "cli.mjs"
    subprocess.run([str(esbuild), str(ROOT / "extensions" / "shared" / "cli.ts"), "--bundle", "--platform=node",
                    "--format=esm", f"--outfile={out}", "--log-level=warning"], check=True, timeout=120)
    return [node, str(out)]


@pytest.fixture
def extension(cli, app_url):  # noqa: F811
    """`extension(token, "customer")`: runs the client's command against the served app with `token` as
    the session token; returns its JSON line ({"ok": true, "body"} or {"ok": false, "status", "key"...})."""
    def call(token: str, *args) -> dict:
        done = subprocess.run([*cli, *map(str, args)], env={**os.environ, "APP_URL": app_url, "TOKEN": token},
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return call


def test_store_b_converts_on_the_account_page_once_per_form_token_then_takes_a_code_at_checkout(
        extension, shop, ben, emulator, ctx):  # noqa: F811
    token = shopper_token(shop.domain, BEN)
    page = extension(token, "customer")
    assert page["ok"] and page["body"]["customer"]["available"] == 250
    form = page["body"]["token"]
    first, again = (extension(token, "redeem-points", 150, form) for _ in range(2))
    code = first["body"]["result"]["voucher"]["code"]
    assert again["ok"] and again["body"]["result"]["voucher"]["code"] == code
    assert again["body"]["customer"]["available"] == 100
    with ctx.engine.connect() as conn:
        spent = conn.execute(select(ledger_entries.c.available)
                             .where(ledger_entries.c.kind == "redeem")).scalars().all()
    assert spent == [-150]
    assert [c["code"] for c in emulator.discount_codes(shop.domain)] == [code]

    at_checkout = extension(token, "checkout-points", 100, again["body"]["token"])
    assert at_checkout["ok"], at_checkout
    result = at_checkout["body"]["result"]
    assert result["checkout"] is True and result["voucher"]["code"] not in (None, code)
    assert datetime.fromisoformat(result["expires_at"]) == NOW + CHECKOUT_CODE_LIFETIME
    assert sorted(c["code"] for c in emulator.discount_codes(shop.domain)) == sorted([code, result["voucher"]["code"]])


def test_store_a_customer_sees_perks_and_the_next_threshold_and_the_pos_shows_them(
        extension, shop, send, process, ctx):
    apply_template(ctx, shop, "store-a")
    earn(send, process, ctx, VERA, "vera@example.com", 120, "2025-04-01T10:00:00+00:00")
    page = extension(shopper_token(shop.domain, VERA), "customer")
    customer = page["body"]["customer"]
    assert customer["perks"] and customer["available"] == 120
    assert customer["standing"]["next_threshold"] > customer["ladder_points"]
    assert customer["standing"]["points_to_next"] == customer["standing"]["next_threshold"] - customer["ladder_points"]

    pos = extension(staff_token(shop.domain), "pos", VERA)
    assert pos["ok"], pos
    seen = pos["body"]["customer"]
    assert (seen["available"], seen["lifetime"]) == (customer["available"], customer["lifetime"])
    assert [p["key"] for p in seen["perks"]] == [p["key"] for p in customer["perks"]]


def test_an_expired_session_token_is_a_401_through_the_client(extension, shop, ben):  # noqa: F811
    expired = shopper_token(shop.domain, BEN, exp=int(NOW.timestamp()) - 60, nbf=int(NOW.timestamp()) - 400)
    answer = extension(expired, "customer")
    assert answer["ok"] is False and answer["status"] == 401
    assert answer["key"] == "unauthorized" and answer["message"]
