"""The audit log is written by the use cases, in their own transaction: every change a person makes through
the admin or the CLI records exactly one event with the right actor (the staff member's session `sub`, or
None and "(CLI)" for the command line); a refused change records none, and a rolled-back one none. Every
path that saves a programme version is here. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli.main import main
from db.inbox import insert_webhooks
from db.tables import audit_events, programme_settings
from loyalty.domain.errors import AdjustmentRefused, ProgrammeError
from loyalty.domain.programme import template
from loyalty.domain.programme_diff import programme_diff
from loyalty.domain.requests import (
    Adjustment, AdjustPoints, AwardAction, ChangeProgramme, RetryFailedWebhooks, SaveEmailText, SaveProgramme,
)
from loyalty.services.customers import resolve_customer
from loyalty.services.shops import get_shop, programme, save_programme as store_version
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.use_cases import customers as customer_use_cases
from loyalty.services.use_cases.earning import award_action
from loyalty.services.use_cases.emails import reset_email_text, save_email_text
from loyalty.services.use_cases.failures import retry_failed_webhooks
from loyalty.services.use_cases.programme import change_programme, save_programme

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
STAFF = "staff-77"


def uow(ctx) -> UnitOfWork:
    return UnitOfWork(ctx, clock=lambda: NOW)


def events(ctx, action: str | None = None) -> list:
    with ctx.engine.connect() as conn:
        query = select(audit_events).order_by(audit_events.c.id)
        if action:
            query = query.where(audit_events.c.action == action)
        return conn.execute(query).all()


def version_row(ctx, shop, version: int):
    with ctx.engine.connect() as conn:
        return conn.execute(select(programme_settings).where(programme_settings.c.shop_id == shop.id,
                                                             programme_settings.c.version == version)).one()


def in_force(ctx, shop) -> int:
    with ctx.engine.connect() as conn:
        return get_shop(conn, shop.domain).settings_version


@pytest.fixture
def cli(ctx, monkeypatch):
    """`cli("programme", "set", ...)`: the `loyalty` command in this process, on the test database."""
    for module in ("cli.programme", "cli.customers", "cli.main", "cli.vouchers"):
        monkeypatch.setattr(f"{module}.context", lambda: ctx)

    def run(*args, stdin: str | None = None):
        result = CliRunner().invoke(main, list(args), input=stdin)
        assert result.exit_code == 0, result.output
        return result.output
    return run


# -- programme versions: every path ------------------------------------------------------------------

def test_a_staff_save_records_the_version_its_actor_and_its_diff(ctx, shop):
    """The admin's PUT (SaveProgramme with the staff member): the version keeps its actor, and one
    programme_saved event holds the diff from the version before, summarised."""
    with ctx.engine.connect() as conn:
        first = programme(conn, shop.id, 1)
    before, new = first.to_dict(), first.with_changes(pending_days=7)
    version, _ = save_programme(SaveProgramme(shop.domain, new, actor=STAFF), uow(ctx))
    assert version_row(ctx, shop, version).actor == STAFF
    [event] = events(ctx)
    assert (event.action, event.actor, event.subject, event.customer_id) == ("programme_saved", STAFF, "2", None)
    assert json.loads(event.details) == programme_diff(before, new.to_dict()) == [
        {"path": "pending_days", "before": 14, "after": 7}]
    assert event.summary == "programme version 2: pending_days: 14 -> 7"


def test_a_template_applied_says_so(ctx, shop):
    save_programme(SaveProgramme(shop.domain, template("store-a"), actor=STAFF, template="store-a"), uow(ctx))
    [event] = events(ctx)
    assert event.summary.startswith("programme version 2: template store-a applied: ")
    assert event.actor == STAFF and len(json.loads(event.details)) > 3


def test_a_change_by_path_records_one_event(ctx, shop):
    """The admin's PATCH (ChangeProgramme)."""
    change_programme(ChangeProgramme(shop.domain, {"earn_rate": "2"}, based_on=1, actor=STAFF), uow(ctx))
    [event] = events(ctx)
    assert json.loads(event.details) == [{"path": "earn_rate", "before": "1", "after": "2"}]
    assert (event.actor, version_row(ctx, shop, 2).actor) == (STAFF, STAFF)


def test_cli_programme_set_save_and_apply_are_recorded_with_no_actor(ctx, shop, cli):
    """`loyalty programme set|save|apply`: one event each, actor None, the summary saying CLI."""
    cli("programme", "set", shop.domain, "pending_days=3")
    shown = json.loads(cli("programme", "show", shop.domain, "--json"))
    cli("programme", "save", shop.domain, "-", stdin=json.dumps({**shown, "earn_rate": "3"}))
    cli("programme", "apply", shop.domain, "store-b")
    listed = events(ctx)
    assert [(e.action, e.actor, e.subject) for e in listed] == [
        ("programme_saved", None, "2"), ("programme_saved", None, "3"), ("programme_saved", None, "4")]
    assert all(e.summary.endswith("(CLI)") for e in listed)
    assert json.loads(listed[0].details) == [{"path": "pending_days", "before": 14, "after": 3}]
    assert json.loads(listed[1].details) == [{"path": "earn_rate", "before": "1", "after": "3"}]
    assert "template store-b applied" in listed[2].summary
    assert [version_row(ctx, shop, v).actor for v in (2, 3, 4)] == [None, None, None]


def test_a_refused_programme_change_records_nothing(ctx, shop):
    """A bad value, an unknown path, a stale version: refused, no version, no event."""
    for request in (ChangeProgramme(shop.domain, {"pending_days": "two weeks"}, actor=STAFF),
                    ChangeProgramme(shop.domain, {"rewards.nope.points": 1}, actor=STAFF),
                    ChangeProgramme(shop.domain, {"earn_rate": "2"}, based_on=7, actor=STAFF)):
        with pytest.raises(ProgrammeError):
            change_programme(request, uow(ctx))
    with pytest.raises(ProgrammeError):
        save_programme(SaveProgramme(shop.domain, template("store-a"), based_on=9, actor=STAFF), uow(ctx))
    assert events(ctx) == [] and in_force(ctx, shop) == 1


def test_a_rolled_back_programme_save_records_nothing(ctx, shop, monkeypatch):
    """A failure after the event was written (here: while deciding what to set off) rolls the event back
    with the version."""
    def fails(_programme):
        raise RuntimeError("failed after the audit event")
    monkeypatch.setattr("loyalty.services.use_cases.programme.programme_summary", fails)
    with pytest.raises(RuntimeError):
        save_programme(SaveProgramme(shop.domain, template("store-a"), actor=STAFF), uow(ctx))
    assert events(ctx) == [] and in_force(ctx, shop) == 1


def test_a_version_stored_below_the_use_cases_is_not_an_audited_change(ctx, shop):
    """Only the use cases record (the services' store is what fixtures and the install use): so each event
    is a person's change, and the versions list (read model) still shows every version."""
    with ctx.engine.begin() as conn:
        store_version(conn, get_shop(conn, shop.domain), template("store-a"), NOW)
    assert events(ctx) == [] and version_row(ctx, shop, 2).actor is None


# -- customers: adjustments and action awards --------------------------------------------------------

@pytest.fixture
def ada(ctx, shop) -> int:
    with ctx.engine.begin() as conn:
        return resolve_customer(conn, shop.id, 701, "ada@example.com", NOW)


def test_an_adjustment_records_one_event_once_per_submission(ctx, shop, ada):
    request = AdjustPoints(shop.domain, Adjustment(ada, -30, " goodwill ", STAFF, "token-0001"))
    customer_use_cases.adjust_points(request, uow(ctx))
    customer_use_cases.adjust_points(request, uow(ctx))  # the same form again: booked once, audited once
    [event] = events(ctx)
    assert (event.action, event.actor, event.customer_id) == ("points_adjusted", STAFF, ada)
    assert json.loads(event.details) == {"points": -30, "reason": "goodwill"}
    assert event.summary == "-30 points: goodwill"


def test_a_refused_adjustment_records_nothing(ctx, shop, ada):
    with pytest.raises(AdjustmentRefused):
        customer_use_cases.adjust_points(AdjustPoints(shop.domain, Adjustment(ada, 10, "", STAFF, "token-0002")),
                                         uow(ctx))
    assert events(ctx) == []


@pytest.fixture
def with_review(ctx, shop):
    with ctx.engine.begin() as conn:
        ref = get_shop(conn, shop.domain)
        store_version(conn, ref, programme(conn, ref.id, 1).with_paths(
            {"earning.actions.review": '{"points": 40, "title": "Product review"}'}), NOW)


def test_an_action_award_records_one_event_with_the_staff_member(ctx, shop, ada, with_review):
    request = AwardAction(shop.domain, None, "review", "r-1", "5 stars", actor=STAFF, customer_id=ada)
    award_action(request, uow(ctx))
    award_action(request, uow(ctx))  # a replay finds the first award: no second event
    [event] = events(ctx)
    assert (event.action, event.actor, event.customer_id, event.subject) == ("action_awarded", STAFF, ada, "review:r-1")
    assert json.loads(event.details) == {"action": "review", "reference": "r-1", "asked": 40, "points": 40,
                                         "reason": "5 stars"}


def test_a_cli_award_is_recorded_with_no_actor(ctx, shop, ada, with_review, cli):
    cli("points", "award", shop.domain, "ada@example.com", "review", "--reference", "r-2")
    [event] = events(ctx)
    assert (event.action, event.actor, event.customer_id) == ("action_awarded", None, ada)
    assert event.summary.endswith("(CLI)")


# -- retries of failed work ---------------------------------------------------------------------------

def failed(ctx, domain: str, webhook_id: str) -> int:
    with ctx.engine.begin() as conn:
        return insert_webhooks(conn, [dict(webhook_id=webhook_id, shop_domain=domain, topic="orders/paid", body=b"{}",
                                           received_at=NOW, failed_at=NOW, attempts=8, last_error="503")])[0]


def test_retries_record_one_event_each_saying_what_and_how_many(ctx, shop):
    first, _ = failed(ctx, shop.domain, "w-1"), failed(ctx, shop.domain, "w-2")
    failed(ctx, shop.domain, "w-3")
    retry_failed_webhooks(RetryFailedWebhooks(first, shop.domain, wake_worker=False, actor=STAFF), uow(ctx))
    retry_failed_webhooks(RetryFailedWebhooks(first, shop.domain, wake_worker=False, actor=STAFF), uow(ctx))  # none
    retry_failed_webhooks(RetryFailedWebhooks(None, shop.domain, wake_worker=False, actor=STAFF), uow(ctx))
    one, every = events(ctx)
    assert (one.action, one.actor, one.subject, json.loads(one.details)) == (
        "failed_work_retried", STAFF, str(first), {"inbox_id": first, "scope": "one", "count": 1})
    assert (every.subject, json.loads(every.details)) == ("all", {"inbox_id": None, "scope": "all", "count": 2})


def test_a_cli_retry_of_every_shop_records_in_each_shops_log(ctx, shop, cli):
    """`loyalty inbox retry --all` with no shop: each shop's log gets its own count; webhooks of a shop
    the app never had are retried, and logged nowhere."""
    failed(ctx, shop.domain, "w-1")
    failed(ctx, shop.domain, "w-2")
    failed(ctx, "stranger.myshopify.com", "w-3")
    assert cli("inbox", "retry", "--all").startswith("3 queued")
    [event] = events(ctx)
    assert (event.shop_id, event.actor, json.loads(event.details)["count"]) == (shop.id, None, 2)
    assert event.summary.endswith("(CLI)")


# -- email texts -------------------------------------------------------------------------------------

def test_email_text_saved_and_reset_are_recorded_with_before_and_after(ctx, shop):
    save_email_text(SaveEmailText(shop.domain, "points_awarded", "fr", "Merci", "Bravo {{ points }}",
                                  actor=STAFF), uow(ctx))
    assert reset_email_text(shop.domain, "points_awarded", "fr", uow(ctx), actor=STAFF)
    assert not reset_email_text(shop.domain, "points_awarded", "fr", uow(ctx), actor=STAFF)  # nothing to reset
    saved, reset = events(ctx)
    assert (saved.action, saved.actor, saved.subject) == ("email_text_saved", STAFF, "points_awarded/fr")
    assert json.loads(saved.details)["before"] is None
    assert json.loads(saved.details)["after"] == {"subject": "Merci", "body": "Bravo {{ points }}"}
    assert json.loads(reset.details)["after"] is None and "reset to the built-in text" in reset.summary


def test_every_event_is_the_shops_own(ctx, shop):
    """Each event names the shop whose use case wrote it (the read model filters by it)."""
    save_programme(SaveProgramme(shop.domain, template("store-a"), actor=STAFF), uow(ctx))
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(audit_events.c.shop_id != shop.id)).scalar() == 0
