"""The programme editor's API: a save carries the version it edits and a stale one is refused with what
changed; answers carry warnings on values far from the norm (saved all the same). Every answer is checked
against admin/openapi.json by the `admin` fixture."""
from __future__ import annotations

import pytest

from tests.conftest import SHOP

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the suite's short secret


def test_stale_put_is_refused_with_the_current_version_and_what_changed(admin):
    """Two staff open version 1; the first saves (version 2), the second's save from version 1 is refused:
    409 naming `version`, the version in force and the diff from 1 to 2; nothing saved."""
    opened = admin.get("/programme").get_json()
    first = admin.put("/programme", {**opened["programme"], "pending_days": 7, "version": opened["version"]})
    assert first.status_code == 200 and first.get_json()["version"] == 2
    second = admin.put("/programme", {**opened["programme"], "earn_rate": "2", "version": opened["version"]})
    assert second.status_code == 409
    body = second.get_json()
    assert (body["field"], body["version"]) == ("version", 2)
    assert body["diff"] == [{"path": "pending_days", "before": 14, "after": 7}]
    after = admin.get("/programme").get_json()
    assert after["version"] == 2 and after["programme"]["earn_rate"] == "1"


def test_put_from_the_version_in_force_saves_and_without_version_replaces_as_before(admin):
    opened = admin.get("/programme").get_json()
    saved = admin.put("/programme", {**opened["programme"], "pending_days": 5, "version": 1})
    assert saved.status_code == 200 and saved.get_json()["version"] == 2
    blind = admin.put("/programme", {**opened["programme"], "pending_days": 6})
    assert blind.status_code == 200 and blind.get_json()["version"] == 3


def test_put_with_a_version_that_is_not_a_number_is_bad_input(admin):
    programme = admin.get("/programme").get_json()["programme"]
    answer = admin.put("/programme", {**programme, "version": "one"})
    assert (answer.status_code, answer.get_json()["field"]) == (400, "version")
    assert admin.get("/programme").get_json()["version"] == 1


def test_stale_patch_answers_the_diff_too(admin):
    admin.post("/programme/template", {"template": "store-a"})
    stale = admin.patch("/programme", {"changes": {"pending_days": 3}, "version": 1})
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["version"] == 2
    paths = {d["path"] for d in body["diff"]}
    assert {"excluded_source_names", "conversion_enabled", "rewards[carte-cadeau-10].amount"} <= paths
    assert admin.get("/programme").get_json()["programme"]["pending_days"] == 14


def test_answers_carry_warnings_and_a_warned_save_is_saved(admin):
    """A point worth 1000 at 1 point per unit: saved, with the warning; GET and PATCH answers carry it."""
    assert admin.get("/programme").get_json()["warnings"] == []
    programme = admin.get("/programme").get_json()["programme"]
    saved = admin.put("/programme", {**programme, "voucher_value_per_point": "1000", "version": 1}).get_json()
    assert saved["version"] == 2
    assert [(w["code"], w["path"]) for w in saved["warnings"]] == [
        ("conversion_gives_too_much", "voucher_value_per_point")]
    assert admin.get("/programme").get_json()["warnings"] == saved["warnings"]
    patched = admin.patch("/programme", {"changes": {"pending_days": 120}, "version": 2}).get_json()
    assert {w["code"] for w in patched["warnings"]} == {"conversion_gives_too_much", "pending_days_long"}


# -- products and collections to pick ----------------------------------------------------------------

@pytest.fixture
def catalogue(app, emulator, factory):
    """Store A's collections in the emulator, the admin's Shopify client pointed at it."""
    emulator.add_product(SHOP, 11, "Linen shirt", [{"id": 111, "price": "40.00"}])
    emulator.add_collection(SHOP, 1001, [11], title="Upcycled accessories")
    emulator.add_collection(SHOP, 1002, [11], title="Briefs selection")
    app.config["LOYALTY_CLIENT_FACTORY"] = factory
    return emulator


def test_collections_are_searched_and_named_by_id(admin, catalogue):
    found = admin.get("/resources?type=collection&q=brief").get_json()
    assert found == {"type": "collection", "resources": [{"id": 1002, "title": "Briefs selection"}]}
    every = admin.get("/resources?type=collection").get_json()["resources"]
    assert [r["title"] for r in every] == ["Briefs selection", "Upcycled accessories"]
    named = admin.get("/resources?type=collection&ids=1001,4242").get_json()["resources"]
    assert named == [{"id": 1001, "title": "Upcycled accessories"}, {"id": 4242, "title": None}]
    assert admin.get("/resources?type=product&q=linen").get_json()["resources"] == [{"id": 11, "title": "Linen shirt"}]


def test_resources_refuse_a_bad_type_or_ids(admin, catalogue):
    assert admin.get("/resources?type=order&q=a").get_json()["field"] == "type"
    assert admin.get("/resources?type=collection&ids=1,x").get_json()["field"] == "ids"
    assert admin.get("/resources?type=collection&ids=" + ",".join(["1"] * 51)).status_code == 400
    assert admin.get("/resources?type=collection&q=" + "a" * 101).get_json()["field"] == "q"


def test_shopify_unreachable_answers_502_saying_why(admin, app):
    """Shopify out of reach: a 502 with the reason, never a 500."""
    import requests

    from integrations.shopify.client import AdminClient

    class Down(requests.Session):
        def send(self, request, **kw):
            raise requests.ConnectionError("shopify unreachable")

    app.config["LOYALTY_CLIENT_FACTORY"] = lambda ctx, shop, conn: AdminClient(
        shop.domain, "shpat_store_a", session=Down(), admin_url_template="http://shopify.test/{shop}",
        sleep=lambda s: None, max_attempts=2)
    answer = admin.get("/resources?type=collection&q=a")
    assert answer.status_code == 502 and "network error" in answer.get_json()["error"]


def test_shopify_refusing_the_token_answers_502_saying_why(admin, app, emulator):
    from integrations.shopify.client import AdminClient
    from tools.wsgi_adapter import wsgi_session

    app.config["LOYALTY_CLIENT_FACTORY"] = lambda ctx, shop, conn: AdminClient(
        shop.domain, "revoked", session=wsgi_session(emulator.app), admin_url_template="http://shopify.test/{shop}",
        sleep=lambda s: None)
    answer = admin.get("/resources?type=collection&ids=1001")
    assert answer.status_code == 502 and "401" in answer.get_json()["error"]


def test_a_draft_is_checked_without_saving(admin):
    """POST /programme/check: the draft's warnings, or 422 naming the setting; the version does not move."""
    programme = admin.get("/programme").get_json()["programme"]
    checked = admin.post("/programme/check", {"programme": {**programme, "earn_rate": "50", "version": 1}})
    assert [w["code"] for w in checked.get_json()["warnings"]] == ["earn_rate_high", "conversion_gives_too_much"]
    bad = admin.post("/programme/check", {"programme": {**programme, "pending_days": -1}})
    assert (bad.status_code, bad.get_json()["field"]) == (422, "programme.pending_days")
    assert admin.get("/programme").get_json()["version"] == 1
