"""Simulating a draft programme, and the liability valued by what a point buys, end to end: orders arrive as
signed webhooks and are processed by the worker's code; then `loyalty programme simulate` (a real
subprocess) and POST /admin/api/programme/simulate report on them, and the liability report values store
A's points at its cheapest reward with the breakage forecast (admin API and `loyalty programme liability`)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from jobs.scheduled import mature_points
from loyalty.domain.programme import template
from loyalty.services.shops import save_programme
from tests.e2e.test_cli import cli_env, run  # noqa: F401 - the `loyalty` subprocess fixtures
from tests.factories import order, refund

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
STORE_A = template("store-a")


@pytest.fixture
def store_a_orders(ctx, shop, send, process):
    """Store A's programme; ada buys 320 EUR and 90 EUR (30 refunded), bob 140 EUR, in spring 2025; matured."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, STORE_A, datetime(2024, 12, 1, tzinfo=timezone.utc))
    first = order(lines=((160, 2),), email="ada@example.com", customer_id=701, processed_at="2025-03-02T10:00:00+00:00")
    send("orders/paid", first)
    second = order(lines=((90, 1),), email="ada@example.com", customer_id=701, processed_at="2025-04-03T10:00:00+00:00")
    send("orders/paid", second)
    send("refunds/create", refund(second, lines={0: (1, 30)}, created_at="2025-04-05T10:00:00+00:00"))
    send("orders/paid", order(lines=((140, 1),), email="bob@example.com", customer_id=702,
                              processed_at="2025-04-20T10:00:00+00:00"))
    process()
    mature_points(datetime(2025, 6, 1, tzinfo=timezone.utc), ctx)
    return shop


def test_cli_simulates_a_draft_and_prints_months_and_who_changes_tier(run, store_a_orders, tmp_path):
    """ada holds 380 confirmed points (tier 300) and bob 140 (none); at twice the rate ada has 760 (500) and
    bob 280 (150). The draft file is `programme show --json` with one change."""
    shown = json.loads(run("programme", "show", store_a_orders.domain, "--json").stdout)
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps({**shown, "earn_rate": "2"}))
    report = json.loads(run("programme", "simulate", store_a_orders.domain, str(draft), "--since", "2025-01-01",
                            "--json").stdout)
    assert report["orders_replayed"] == 3
    assert (report["in_force"]["issued"], report["draft"]["issued"]) == (320 + 90 + 140, 2 * (320 + 90 + 140))
    assert report["in_force"]["outstanding"] == 320 + 60 + 140
    assert report["in_force"]["tiers"]["300"] == 1 and report["draft"]["tiers"]["500"] == 1
    changes = {c["customer"]: (c["in_force"], c["draft"]) for c in report["standing_changes"]["customers"]}
    assert changes == {"701": ("300", "500"), "702": ("none", "150")}
    april = next(m for m in report["months"] if m["month"] == "2025-04")
    assert (april["in_force"]["issued"], april["in_force"]["taken_back"]) == (230, 30)
    assert report["in_force"]["point_value"]["rule"] == "cheapest_reward"
    text = run("programme", "simulate", store_a_orders.domain, str(draft), "--since", "2025-01-01").stdout
    assert "2 customers would change tier" in text and "701: 300 -> 500" in text


def test_cli_refuses_an_invalid_draft_naming_the_setting(run, store_a_orders, tmp_path):
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps({**STORE_A.to_dict(), "pending_days": -1}))
    result = run("programme", "simulate", store_a_orders.domain, str(draft), "--since", "2025-01-01", ok=False)
    assert result.returncode != 0 and "pending_days" in result.stderr


def test_admin_api_simulates_the_same_and_saves_nothing(admin, store_a_orders):
    """The admin's simulation (checked against the OpenAPI document) gives the same figures; the programme
    in force keeps its version."""
    version = admin.get("/programme").get_json()["version"]
    draft = STORE_A.with_changes(earn_rate="2").to_dict()
    answer = admin.post("/programme/simulate", {"programme": draft, "since": "2025-01-01"})
    assert answer.status_code == 200
    report = answer.get_json()
    assert (report["in_force"]["issued"], report["draft"]["issued"]) == (550, 1100)
    assert report["standing_changes"]["count"] == 2
    assert admin.get("/programme").get_json()["version"] == version


def test_admin_api_refuses_a_bad_draft_or_start(admin, store_a_orders):
    bad = admin.post("/programme/simulate", {"programme": {**STORE_A.to_dict(), "earn_rate": "-1"},
                                             "since": "2025-01-01"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "programme.earn_rate"
    assert admin.post("/programme/simulate", {"programme": STORE_A.to_dict(), "since": "someday"}).status_code == 422
    assert admin.post("/programme/simulate", {"programme": STORE_A.to_dict(), "since": "2999-01-01"}).status_code == 422


def test_store_a_liability_is_valued_at_its_cheapest_reward_with_breakage(admin, run, store_a_orders):
    """520 points owed at 10 EUR per 300 points: 17.33 EUR, not 52.00 at voucher_value_per_point; the rule,
    the currency and the breakage method are stated."""
    report = admin.get("/reports/liability?from=2025-05-01&to=2025-05-31").get_json()
    assert report["days"][-1]["outstanding"] == 520 and report["days"][-1]["outstanding_value"] == "17.33"
    assert report["value_per_point"] == "0.033333" and report["currency"] == "EUR"
    assert report["valuation"]["rule"] == "cheapest_reward" and report["valuation"]["amount"] == "10"
    breakage = report["breakage"]
    assert (breakage["earned"], breakage["expired"], breakage["outstanding"]) == (520, 0, 520)
    assert breakage["dormant_points"] == 0 and breakage["forecast_liability"] == "17.33"
    assert "expired" in breakage["method"]
    printed = json.loads(run("programme", "liability", store_a_orders.domain, "--from", "2025-05-01", "--to",
                             "2025-05-31", "--json").stdout)
    assert printed["valuation"] == report["valuation"] and printed["breakage"] == breakage
    text = run("programme", "liability", store_a_orders.domain, "--from", "2026-06-01", "--to", "2026-06-30").stdout
    assert "cheapest reward per point" in text and "breakage" in text


def test_points_of_customers_inactive_for_a_year_are_forecast_as_never_used(admin, store_a_orders):
    """A year after the last order, all 520 points are dormant: the liability forecast after breakage is 0."""
    breakage = admin.get("/reports/liability?from=2026-05-01&to=2026-05-31").get_json()["breakage"]
    assert (breakage["dormant_points"], breakage["forecast_points"], breakage["forecast_liability"]) == (520, 0, "0.00")
    assert breakage["rate"] == "100.0%"
