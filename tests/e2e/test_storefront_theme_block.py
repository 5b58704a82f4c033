"""The theme app extension (extensions/loyalty-balance) reads exactly the metafields the app writes: the
customer's (jobs/sync.py) and the shop's programme summary (jobs/theme.py). Here the block is rendered from
what the emulated Shopify holds after signed webhooks, the write-back and the summary job, for store A (a
ladder, French) and store B (a conversion, English). Rendering rules alone are tested in
tests/unit/test_theme_block_render.py."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from jobs.scheduled import mature_points
from jobs.sync import sync_balances
from jobs.theme import write_all_programme_summaries, write_programme_summary
from loyalty.domain.programme import template
from loyalty.domain.requests import ChangeProgramme, SaveProgramme
from loyalty.services.shops import save_programme, shopify_shop_id
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases.programme import change_programme, save_programme as save_programme_use_case
from tests.factories import order
from tests.unit.test_theme_block_render import BLOCK, render

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_the_block_reads_exactly_the_metafields_the_sync_writes(send, process, ctx, shop, emulator, factory):
    """Every `customer.metafields.loyalty.X` the block reads is one jobs/sync.py writes to Shopify, and the
    one shop metafield it reads is the one jobs/theme.py writes."""
    emulator.add_customer(shop.domain, 1, "c1@example.com")
    send("orders/paid", order(lines=((50, 1),), email="c1@example.com", customer_id=1))
    process()
    sync_balances(ctx, client_factory=factory)
    written = set(emulator.metafields(shop.domain, 1))
    read = {f"{ns}.{key}" for ns, key in re.findall(r"customer\.metafields\.(\w+)\.(\w+)", BLOCK)}
    assert read == {"loyalty.available", "loyalty.pending", "loyalty.lifetime", "loyalty.tier",
                    "loyalty.next_threshold"}
    assert read <= written, read - written
    assert write_programme_summary(shop.domain, ctx=ctx, client_factory=factory)
    shop_read = {f"{ns}.{key}" for ns, key in re.findall(r"shop\.metafields\.(\w+)\.(\w+)", BLOCK)}
    assert shop_read == {"loyalty.programme"} == set(emulator.shop_metafields(shop.domain))


def as_liquid(metafields: dict) -> dict:
    """Metafields as Liquid's `.value` gives them: integers as numbers, JSON parsed."""
    tree: dict = {}
    for name, field in metafields.items():
        namespace, key = name.split(".")
        value = field["value"]
        if field["type"] in ("number_integer", "json"):
            value = json.loads(value)
        tree.setdefault(namespace, {})[key] = {"value": value}
    return tree


def rendered_from_shopify(emulator, domain: str, customer_id: int | None, language: str, **settings) -> str:
    """The block as the storefront renders it from what Shopify holds (the emulator's metafields)."""
    programme = as_liquid(emulator.shop_metafields(domain)).get("loyalty", {}).get("programme", {}).get("value")
    customer = None if customer_id is None else {"metafields": as_liquid(emulator.metafields(domain, customer_id))}
    return render(customer, language, programme, **settings)


@pytest.fixture
def shopper(send, process, ctx, shop, emulator, factory):
    """`shopper(template, customer_id, spent)`: the shop runs the template; the customer's order of `spent`
    (paid on 2025-01-01) is applied from its signed webhook, its points matured by NOW, the balance written
    back and the programme summary written: what the storefront's Shopify then holds."""
    def make(name: str, customer_id: int, spent: int) -> None:
        with ctx.engine.begin() as conn:
            save_programme(conn, shop, template(name), NOW)
        emulator.add_customer(shop.domain, customer_id, f"c{customer_id}@example.com")
        send("orders/paid", order(lines=((spent, 1),), email=f"c{customer_id}@example.com", customer_id=customer_id,
                                  processed_at="2025-01-01T10:00:00Z"))
        process()
        mature_points(NOW, ctx=ctx)
        sync_balances(ctx, client_factory=factory)
        assert write_programme_summary(shop.domain, ctx=ctx, client_factory=factory)
    return make


def test_store_a_block_shows_the_ladder_in_french(shopper, shop, emulator):
    """Store A (a ladder): a customer with 180 confirmed points sees 120 to the next level (300) in French; a
    visitor sees the pitch (1 point per euro, rewards from 150 points) and a sign-in link; no money amount."""
    shopper("store-a", 11, 180)
    html = rendered_from_shopify(emulator, shop.domain, 11, "fr")
    assert "180 points disponibles" in html
    assert "Encore 120 points pour atteindre le prochain palier (300 points)" in html
    assert "Voir mon programme de fidélité" in html
    assert "loyalty-balance__worth" not in html
    visitor = rendered_from_shopify(emulator, shop.domain, None, "fr")
    assert "Gagne 1 point pour chaque 1 € dépensé." in visitor
    assert "Débloque des avantages dès 150 points." in visitor and 'href="/account/login"' in visitor


def test_store_b_block_shows_the_worth_in_english(shopper, shop, emulator):
    """Store B (a conversion at 0.10 EUR a point): a customer's available points shown with their worth,
    the money filter's format, and the link to convert them in the account; a visitor sees the rate."""
    shopper("store-b", 401, 300)
    html = rendered_from_shopify(emulator, shop.domain, 401, "en", link="account")
    assert "300 points available" in html
    assert "Your points are worth €30.00: convert them into a voucher in your account." in html
    assert re.search(r'href="/account">Convert your points into a voucher', html)
    assert "next level" not in html
    visitor = rendered_from_shopify(emulator, shop.domain, None, "en")
    assert "Convert your points into vouchers: 100 points = €10.00." in visitor


def test_the_summary_job_learns_the_shop_id_when_unknown(ctx, shop, emulator, factory, calls):
    """A shop whose Shopify id the install missed: the job reads it (`shop { id }`), stores it, and writes
    the metafield on that shop; the next write needs one call only."""
    with ctx.engine.connect() as conn:
        assert shopify_shop_id(conn, shop.domain) is None
    assert write_programme_summary(shop.domain, ctx=ctx, client_factory=factory)
    with ctx.engine.connect() as conn:
        assert shopify_shop_id(conn, shop.domain) == emulator.shop(shop.domain).id
    assert len(calls) == 2 and "metafieldsSet" in calls[1].decode()
    assert write_programme_summary(shop.domain, ctx=ctx, client_factory=factory) and len(calls) == 3


def test_the_daily_run_writes_every_installed_shop_and_skips_an_unknown_one(ctx, shop, emulator, factory):
    """write_all_programme_summaries writes each installed shop's summary (the daily mend of a lost write);
    a shop that is not installed is skipped, not an error."""
    assert write_all_programme_summaries(ctx, client_factory=factory) == {shop.domain: True}
    assert json.loads(emulator.shop_metafields(shop.domain)["loyalty.programme"]["value"])["version"] == 1
    assert write_programme_summary("gone.myshopify.com", ctx=ctx, client_factory=factory) is False


@pytest.mark.parametrize("changes, queued", [
    ({"voucher_value_per_point": "0.2"}, True),      # the worth shown changes
    ({"rewards.gift": '{"kind": "perk", "points": 200, "title": "Gift"}'}, True),  # a ladder now
    ({"pending_days": 7}, False),                     # nothing the block says
])
def test_a_programme_change_queues_the_summary_only_when_the_block_would_say_something_else(
        ctx, shop, changes, queued):
    """After a programme change is committed, jobs.theme.write_programme_summary is queued for the shop,
    unless the summary is the same (no call to Shopify for a change the block does not show)."""
    change_programme(ChangeProgramme(shop.domain, changes), UnitOfWork(ctx, clock=lambda: NOW))
    jobs = [(job.func_name, job.args) for job in ctx.queue.jobs]
    assert (("jobs.theme.write_programme_summary", (shop.domain,)) in jobs) is queued


def test_saving_a_template_queues_the_summary(ctx, shop):
    """Saving store A's template over the default programme changes the block's wording: queued once."""
    save_programme_use_case(SaveProgramme(shop.domain, template("store-a")), UnitOfWork(ctx, clock=lambda: NOW))
    assert [(job.func_name, job.args) for job in ctx.queue.jobs] == [
        ("jobs.theme.write_programme_summary", (shop.domain,))]
