"""Store credit end to end: redeemed from the loyalty page (app proxy) as a reward or by store B's
conversion set to store credit, spent in the shop (the emulator's purchase endpoint) and read back; and
through the `loyalty` CLI against the emulator over real HTTP."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.tables import vouchers
from jobs.store_credit import check_store_credit
from tests import simulation as sim
from tests.e2e.test_cli import cli_env, run  # noqa: F401 - the CLI fixtures
from tests.e2e.test_storefront_redeem import available, token_of
from tests.factories import order
from tests.storefront_support import BEN, NOW, VERA, apply_template, earn, proxy  # noqa: F401
from jobs.scheduled import mature_points


@pytest.fixture
def emulator(shop):
    """The emulator on the storefront tests' pinned clock, selling in euros."""
    from tools.shopify_emulator import Emulator

    em = Emulator(clock=NOW.timestamp)
    em.add_shop(shop.domain, "shpat_store_a", currency="EUR")
    return em


@pytest.fixture
def ben(send, process, ctx, shop):
    """Store B with its conversion set to store credit: 250 points available."""
    apply_template(ctx, shop, "store-b")
    from loyalty.services.shops import get_shop, programme, save_programme
    with ctx.engine.begin() as conn:
        current = get_shop(conn, shop.domain)
        save_programme(conn, current, programme(conn, current.id, current.settings_version).with_paths(
            {"store_credit.conversion_target": "store_credit"}), NOW)
    earn(send, process, ctx, BEN, "ben@example.com", 250, "2025-05-01T10:00:00+00:00")
    return BEN


def test_converting_points_into_store_credit_from_the_loyalty_page(proxy, ben, emulator, ctx, factory):
    """150 points -> €15.00 on Ben's store credit account, said on the page (no code); a replay spends once;
    a purchase paid with €6 of it is read back by the scheduled job, leaving €9 outstanding."""
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    for _ in range(2):
        html = proxy.post("/redeem", {"token": token, "points": "150"}, BEN).get_data(as_text=True)
    assert "€15.00 of store credit added to your account" in html and "no code needed" in html
    assert emulator.discount_codes(proxy.shop) == []
    [account] = emulator.store_credit(proxy.shop, BEN)
    assert Decimal(account["balance"]) == Decimal("15")
    assert available(proxy, BEN) == 100
    emulator.debit_store_credit(proxy.shop, BEN, "6")
    assert check_store_credit(ctx, now=NOW, client_factory=factory)["changed"] == 1
    with ctx.engine.connect() as conn:
        row = conn.execute(select(vouchers)).one()
    assert (row.status, row.remaining_amount) == ("active", Decimal("9"))


def test_store_credit_reward_from_the_loyalty_page(proxy, emulator, send, process, ctx, shop):
    """Store A with a 300-point store credit reward: Vera redeems it from the page; €10 on her account."""
    apply_template(ctx, shop, "store-a")
    from loyalty.services.shops import get_shop, programme, save_programme
    with ctx.engine.begin() as conn:
        current = get_shop(conn, shop.domain)
        save_programme(conn, current, programme(conn, current.id, current.settings_version).with_paths(
            {"rewards.avoir-10": {"kind": "store_credit", "points": 300, "title": "10 € d'avoir", "amount": "10"}}),
            NOW)
    earn(send, process, ctx, VERA, "vera@example.com", 320, "2025-05-01T10:00:00+00:00")
    token = token_of(proxy.get(VERA).get_data(as_text=True))
    html = proxy.post("/redeem", {"token": token, "reward": "avoir-10"}, VERA).get_data(as_text=True)
    assert "10,00\u00a0€ d&#39;avoir ajoutés à ton compte" in html and "sans code" in html
    assert Decimal(emulator.store_credit(proxy.shop, VERA)[0]["balance"]) == Decimal("10")
    assert available(proxy, VERA) == 20


def test_cli_redeems_into_store_credit_and_reads_spending_back(run, cli_env, send, process, ctx, shop):
    """`loyalty vouchers create --reward` credits the customer over real HTTP; `loyalty vouchers
    check-store-credit` reads back a purchase paid with it."""
    run("programme", "set", shop.domain,
        'rewards.credit-5={"kind": "store_credit", "points": 50, "title": "5 of credit", "amount": "5"}')
    send("orders/paid", order(lines=((200, 1),), email="cli@example.com", customer_id=501,
                              processed_at="2025-05-01T00:00:00+00:00"))
    process()
    mature_points(NOW, ctx)
    with sim.emulator_server() as (emulator, admin_url):
        emulator.add_shop(shop.domain, "shpat_store_a", currency="EUR")
        emulator.add_customer(shop.domain, 501, "cli@example.com")
        cli_env["SHOPIFY_ADMIN_URL"] = admin_url
        made = json.loads(run("vouchers", "create", shop.domain, "cli@example.com", "--reward", "credit-5",
                              "--key", "k1", "--json").stdout)
        assert (made["kind"], made["status"], made["amount"]) == ("store_credit", "active", "5.00")
        emulator.debit_store_credit(shop.domain, 501, "5")
        counts = json.loads(run("vouchers", "check-store-credit", "--json").stdout)
        assert counts["changed"] == 1
        again = json.loads(run("vouchers", "create", shop.domain, "cli@example.com", "--reward", "credit-5",
                               "--key", "k1", "--json").stdout)
    assert again["status"] == "used"
    assert len(emulator.store_credit(shop.domain, 501)[0]["transactions"]) == 2  # one credit, one debit


def test_liability_report_counts_outstanding_store_credit_as_money_owed(proxy, ben, emulator, ctx, factory, admin):
    """Ben converts 150 points into €15.00 of store credit and spends €6 of it: the liability report (admin
    API, checked against the OpenAPI document) states the €9 still owed on a line of its own, in money,
    apart from the points (which no longer count the 150 spent)."""
    before = admin.get("/reports/liability?from=2025-05-01&to=2025-06-01").get_json()
    assert before["store_credit"] == {"outstanding": "0.00", "credits": 0}
    token = token_of(proxy.get(BEN).get_data(as_text=True))
    proxy.post("/redeem", {"token": token, "points": "150"}, BEN)
    report = admin.get("/reports/liability?from=2025-05-01&to=2025-06-01").get_json()
    assert report["store_credit"] == {"outstanding": "15.00", "credits": 1}  # created, not yet read back
    assert report["days"][-1]["outstanding"] == before["days"][-1]["outstanding"] - 150
    emulator.debit_store_credit(proxy.shop, BEN, "6")
    check_store_credit(ctx, now=NOW, client_factory=factory)
    report = admin.get("/reports/liability?from=2025-05-01&to=2025-06-01").get_json()
    assert report["store_credit"] == {"outstanding": "9.00", "credits": 1}
    emulator.debit_store_credit(proxy.shop, BEN, "9")
    check_store_credit(ctx, now=NOW, client_factory=factory)
    assert admin.get("/reports/liability?from=2025-05-01&to=2025-06-01").get_json()["store_credit"] == {
        "outstanding": "0.00", "credits": 0}
