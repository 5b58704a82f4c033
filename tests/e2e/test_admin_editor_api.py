"""The programme editor's API: a save carries the version it edits and a stale one is refused with what
changed; answers carry warnings on values far from the norm (saved all the same). Every answer is checked
against admin/openapi.json by the `admin` fixture."""
from __future__ import annotations

import pytest

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
