"""The audit log's API: what staff did through the admin, newest first, filtered by action, staff member,
customer and the shop's calendar days, paged by keyset, as CSV; the programme's versions with their diffs.
Every answer is checked against the OpenAPI document by the `admin` fixture; another shop never sees them."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from loyalty.services.audit import record
from loyalty.services.shops import set_shop_facts
from tests import redemptions as voucher_jobs
from tests.admin_client import AdminApi
from tests.conftest import SECRET
from tests.e2e.test_admin_api import customer_id, failed_row, shoppers, shopify_http  # noqa: F401 - fixtures

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def test_each_admin_change_is_listed_newest_first_with_who_and_what(admin, shoppers, ctx, shop):  # noqa: F811
    """A template, a PATCH, an adjustment by staff 42 and an action award by staff 43: four events, newest
    first, each with its actor; the adjustment's names its customer's email."""
    admin.post("/programme/template", {"template": "store-a"})
    admin.patch("/programme", {"changes": {"pending_days": 7}, "version": 2})
    ada = customer_id(admin, "ada")
    admin.post(f"/customers/{ada}/adjustments", {"points": 25, "reason": "sorry", "client_token": "tok-12345"})
    other_staff = AdminApi(admin.client, shop.domain, SECRET, sub="43")
    admin.patch("/programme", {"changes": {"earning.actions.review": {"points": 40, "title": "Review"}}})
    other_staff.post(f"/customers/{ada}/actions", {"action": "review", "reference": "r-1"})
    listed = admin.get("/audit").get_json()
    assert [(e["action"], e["actor"]) for e in listed["events"]] == [
        ("action_awarded", "43"), ("programme_saved", "42"), ("points_adjusted", "42"),
        ("programme_saved", "42"), ("programme_saved", "42")]
    adjusted = listed["events"][2]
    assert (adjusted["customer_id"], adjusted["customer_email"]) == (ada, "ada@example.com")
    assert adjusted["details"] == {"points": 25, "reason": "sorry"}
    patched = listed["events"][3]
    assert patched["details"] == [{"path": "pending_days", "before": 14, "after": 7}]
    assert "template store-a applied" in listed["events"][4]["summary"]
    assert listed["has_more"] is False and listed["next_before"] is None


def test_filters_by_action_actor_and_customer(admin, shoppers, shop):  # noqa: F811
    ada, bob = customer_id(admin, "ada"), customer_id(admin, "bob")
    admin.post(f"/customers/{ada}/adjustments", {"points": 5, "reason": "a", "client_token": "tok-aaaaa"})
    AdminApi(admin.client, shop.domain, SECRET, sub="43").post(
        f"/customers/{bob}/adjustments", {"points": 6, "reason": "b", "client_token": "tok-bbbbb"})
    admin.put("/programme", {**admin.get("/programme").get_json()["programme"], "pending_days": 3})
    assert [e["action"] for e in admin.get("/audit?action=points_adjusted").get_json()["events"]] == [
        "points_adjusted", "points_adjusted"]
    assert [e["customer_id"] for e in admin.get("/audit?actor=43").get_json()["events"]] == [bob]
    assert [e["actor"] for e in admin.get(f"/audit?customer_id={ada}").get_json()["events"]] == ["42"]
    assert admin.get("/audit?action=nonsense").status_code == 400
    assert admin.get("/audit?from=2025-02-01&to=2025-01-01").status_code == 400
    assert admin.get("/audit?from=yesterday").status_code == 400


def test_days_are_the_shops_calendar_days(admin, ctx, shop):
    """23:30 UTC on 1 March is 2 March in Paris: a shop in Paris finds it on the 2nd, not the 1st."""
    with ctx.engine.begin() as conn:
        set_shop_facts(conn, shop.domain, datetime(2025, 3, 1, tzinfo=timezone.utc), timezone="Europe/Paris")
        record(conn, shop.id, action="programme_saved", at=datetime(2025, 3, 1, 23, 30, tzinfo=timezone.utc),
               actor="42", summary="late")
    assert [e["summary"] for e in admin.get("/audit?from=2025-03-02&to=2025-03-02").get_json()["events"]] == ["late"]
    assert admin.get("/audit?from=2025-03-01&to=2025-03-01").get_json()["events"] == []


def test_pages_follow_by_keyset_with_nothing_twice(admin, ctx, shop):
    """120 events (some at the same instant): pages of 50, 50, 20, each starting after the last shown."""
    with ctx.engine.begin() as conn:
        for n in range(120):
            record(conn, shop.id, action="points_adjusted", at=datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=n // 3),
                   actor="42", summary=f"event {n}")
    seen, before, sizes = [], None, []
    while True:
        page = admin.get("/audit" + (f"?before={before}" if before else "")).get_json()
        seen += [e["summary"] for e in page["events"]]
        sizes.append(len(page["events"]))
        if not page["has_more"]:
            break
        before = page["next_before"]
    assert sizes == [50, 50, 20]
    assert seen == [f"event {n}" for n in reversed(range(120))]


def test_csv_has_the_same_events_filtered(admin, shoppers, shop):  # noqa: F811
    ada = customer_id(admin, "ada")
    admin.post(f"/customers/{ada}/adjustments", {"points": 5, "reason": "a, with comma", "client_token": "tok-ccccc"})
    admin.post("/programme/template", {"template": "store-b"})
    answer = admin.get("/audit.csv?action=points_adjusted")
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [(r["action"], r["actor"], r["customer_email"]) for r in rows] == [
        ("points_adjusted", "42", "ada@example.com")]
    assert rows[0]["summary"] == "+5 points: a, with comma"
    assert len(list(csv.DictReader(io.StringIO(admin.get("/audit.csv").get_data(as_text=True))))) == 2


def test_a_voucher_cancel_records_the_staff_member_as_its_actor(admin, shoppers, ctx, shop, shopify_http,  # noqa: F811
                                                               factory):
    voucher = voucher_jobs.redeem(ctx, shop.domain, "bob@example.com", 50, "req-1", client_factory=factory)
    admin.post(f"/vouchers/{voucher.code}/cancel", {"reason": "customer asked"})
    admin.post(f"/vouchers/{voucher.code}/cancel")  # already cancelled: nothing more to record
    [event] = admin.get("/audit?action=voucher_cancelled").get_json()["events"]
    assert (event["actor"], event["subject"], event["customer_email"]) == ("42", voucher.code, "bob@example.com")
    assert event["details"]["reason"] == "customer asked (staff 42)"  # the voucher's reason text, as before
    assert event["details"]["points"] == 50


def test_retries_and_email_texts_are_listed(admin, ctx, shop):
    first = failed_row(ctx, shop.domain, "w-1")
    admin.post(f"/failed-jobs/{first}/retry")
    admin.call("PUT", "/emails/points_awarded/en", json_body={"subject": "Thanks", "body": "You got {{ points }}"})
    admin.call("DELETE", "/emails/points_awarded/en")
    assert [(e["action"], e["subject"]) for e in admin.get("/audit").get_json()["events"]] == [
        ("email_text_saved", "points_awarded/en"), ("email_text_saved", "points_awarded/en"),
        ("failed_work_retried", str(first))]


def test_programme_versions_with_actor_and_diff(admin, ctx, shop):
    admin.post("/programme/template", {"template": "store-a"})
    admin.patch("/programme", {"changes": {"pending_days": 7}, "version": 2})
    listed = admin.get("/programme/versions").get_json()
    assert [(v["version"], v["actor"]) for v in listed["versions"]] == [(3, "42"), (2, "42"), (1, None)]
    assert listed["versions"][0]["summary"] == "pending_days: 14 -> 7" and listed["versions"][0]["changes"] == 1
    three = admin.get("/programme/versions/3").get_json()
    assert three["diff"] == [{"path": "pending_days", "before": 14, "after": 7}]
    assert three["previous"] == 2 and three["programme"]["pending_days"] == 7
    assert admin.get("/programme/versions/1").get_json()["previous"] is None
    assert admin.get("/programme/versions/4").status_code == 404
    assert admin.get("/programme/versions?before=3").get_json()["versions"][0]["version"] == 2


def test_versions_page_by_keyset(admin, ctx, shop):
    for days in range(1, 53):
        admin.patch("/programme", {"changes": {"pending_days": days}})
    first = admin.get("/programme/versions").get_json()
    assert len(first["versions"]) == 50 and first["has_more"] and first["next_before"] == 4
    rest = admin.get(f"/programme/versions?before={first['next_before']}").get_json()
    assert [v["version"] for v in rest["versions"]] == [3, 2, 1] and rest["has_more"] is False


@pytest.fixture
def other_shop(ctx):
    from integrations.crypto import encrypt_token
    from loyalty.services.shops import install_shop

    with ctx.engine.begin() as conn:
        return install_shop(conn, "other-shop.myshopify.com", encrypt_token(ctx.config.encryption_keys, "shpat_o"),
                            datetime(2024, 1, 1, tzinfo=timezone.utc))


def test_another_shop_never_sees_the_events_or_versions(admin, ctx, shop, other_shop):
    admin.post("/programme/template", {"template": "store-a"})
    theirs = AdminApi(admin.client, other_shop.domain, SECRET)
    assert theirs.get("/audit").get_json()["events"] == []
    assert theirs.get("/audit.csv").get_data(as_text=True).count("\n") == 1  # the header only
    assert [v["version"] for v in theirs.get("/programme/versions").get_json()["versions"]] == [1]
    assert theirs.get("/programme/versions/2").status_code == 404
    mine = admin.get("/audit").get_json()["events"][0]["id"]
    assert theirs.get(f"/audit?before={mine}").get_json()["events"] == []  # my event is no keyset of theirs
