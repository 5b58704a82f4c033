"""The admin's JSON API under /admin/api (described by admin/openapi.json). Every route needs an App Bridge
session token and works on the token's shop only; views translate the request and call one service."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, Response, g, jsonify, request

from admin.openapi_doc import document_bytes
from admin.params import BadInput, int_arg, json_object, page_arg
from admin.session import error, now, reads, require_session, unit_of_work
from integrations.shopify.errors import ShopifyError
from loyalty.domain.errors import ActionRefused, AdjustmentRefused, ReportRangeError, StaleProgramme, VoucherRefused
from loyalty.domain.programme import TEMPLATES, Programme, ProgrammeError, template
from loyalty.domain.programme_warnings import programme_warnings
from loyalty.domain.requests import (
    Adjustment, AdjustPoints, AwardAction, CancelVoucher, ChangeProgramme, RetryFailedWebhooks, SaveProgramme,
)
from loyalty.domain.times import iso
from loyalty.domain.simulation import draft_from
from loyalty.services.read import customers, referrals, reports, simulation, support
from loyalty.services.read.failures import failed_jobs as failed_jobs_of
from loyalty.services.read.shops import facts_of, programme_in_force
from loyalty.services.use_cases import customers as customer_use_cases, vouchers as voucher_use_cases
from loyalty.services.errors import UnknownCustomer
from loyalty.services.use_cases.earning import award_action
from loyalty.services.use_cases.failures import retry_failed_webhooks
from loyalty.services.use_cases.programme import change_programme, save_programme

bp = Blueprint("admin_api", __name__, url_prefix="/admin/api")


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API (public: it holds no shop data)."""
    return Response(document_bytes(), mimetype="application/json")


@bp.errorhandler(BadInput)
def bad_input(exc: BadInput):
    """A parameter or body that cannot be used: 400 saying which (admin.params)."""
    return error(400, str(exc), field=exc.field)


def _field_of(exc: ProgrammeError) -> str:
    """ProgrammeError messages start with the field they are about: `rewards[2].amount: ...`."""
    return str(exc).split(":", 1)[0]


# -- programme settings ----------------------------------------------------------------------------

def _programme_view(version: int, prog: Programme) -> dict:
    return {"version": version, "programme": prog.to_dict(), "templates": sorted(TEMPLATES),
            "warnings": programme_warnings(prog)}


def _stale(exc: StaleProgramme):
    """409: another version was saved since the one edited; the current version and what changed since."""
    return jsonify({"error": str(exc), "field": "version", "version": exc.in_force, "diff": exc.diff}), 409


def _based_on(data: dict) -> int | None:
    """The `version` a change was edited from (None: not given), or BadInput."""
    based_on = data.get("version")
    if based_on is not None and (isinstance(based_on, bool) or not isinstance(based_on, int)):
        raise BadInput("version: expected the version the change was made from", field="version")
    return based_on


@bp.get("/programme")
@require_session
def get_programme():
    """The programme in force, its version, and the templates that can be applied."""
    return jsonify(_programme_view(*programme_in_force(g.shop, reads())))


def _save(new: Programme, based_on: int | None = None, template_name: str | None = None):
    request_ = SaveProgramme(g.shop.domain, new, based_on, actor=g.staff, template=template_name)
    try:
        saved = save_programme(request_, unit_of_work())
    except StaleProgramme as exc:
        return _stale(exc)
    return jsonify(_programme_view(*saved))


@bp.put("/programme")
@require_session
def put_programme():
    """Replace the programme with the one sent (all of it validated first: nothing is half-saved). With
    `version` (the version it was edited from, beside the settings), refused (409, with what changed) if
    another version was saved since; without it, it replaces whatever is in force (the CLI's way)."""
    data = json_object("the programme")
    based_on = _based_on(data)
    try:
        new = draft_from(data)
    except ProgrammeError as exc:
        return error(422, str(exc), field=_field_of(exc))
    return _save(new, based_on)


@bp.patch("/programme")
@require_session
def patch_programme():
    """Change some settings by dotted path (`{"changes": {"rewards.gift.points": 350}, "version": 4}`), the
    whole result validated; with `version`, refused (409) if another version was saved since."""
    data = json_object("{changes, version}")
    changes = data.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise BadInput("changes: expected an object of dotted paths to values", field="changes")
    request_ = ChangeProgramme(g.shop.domain, changes, _based_on(data), actor=g.staff)
    try:
        change_programme(request_, unit_of_work())
    except StaleProgramme as exc:
        return _stale(exc)
    except ProgrammeError as exc:
        field = _field_of(exc)
        return error(409 if field == "version" else 422, str(exc), field=field)
    return jsonify(_programme_view(*programme_in_force(g.shop.domain, reads())))


@bp.post("/programme/check")
@require_session
def check_programme():
    """Validate a draft `programme` without saving it: its warnings (values far from the norm), or 422
    naming the invalid setting (under `programme.`). The editor asks before a save, to confirm warnings."""
    try:
        draft = draft_from(json_object("{programme}").get("programme"))
    except ProgrammeError as exc:
        return error(422, str(exc), field=f"programme.{_field_of(exc)}")
    return jsonify(warnings=programme_warnings(draft))


@bp.post("/programme/template")
@require_session
def apply_template():
    """Replace the programme with a ready one (`store-a`, `store-b`); the merchant edits from there."""
    name = str(json_object("{template}", optional=True).get("template", ""))
    try:
        new = template(name)
    except ProgrammeError as exc:
        return error(422, str(exc), field="template")
    return _save(new, template_name=name)


@bp.post("/programme/simulate")
@require_session
def simulate_programme():
    """Replay the shop's recorded orders since `since` (ISO date) under the draft `programme`, beside the
    programme in force, month by month. Nothing is saved or written."""
    body = json_object("{programme, since}")
    try:
        since = datetime.combine(date.fromisoformat(str(body.get("since", ""))), time.min, tzinfo=timezone.utc)
    except ValueError:
        return error(422, "since: expected an ISO date (YYYY-MM-DD)", field="since")
    try:
        draft = draft_from(body.get("programme"))
    except ProgrammeError as exc:
        return error(422, str(exc), field=f"programme.{_field_of(exc)}")
    try:
        return jsonify(simulation.simulate_programme(g.shop, draft, since, reads()))
    except ReportRangeError as exc:
        return error(422, f"since: {exc}", field="since")


# -- customers and adjustments ---------------------------------------------------------------------

@bp.get("/customers")
@require_session
def search_customers():
    """Customers by name, email, Shopify id or order number (`q`: loyalty.domain.customer_search), with
    names, tags and balances, a page at a time."""
    page = page_arg()
    found, more = customers.customers_page(g.shop, request.args.get("q", ""), page, reads())
    return jsonify(customers=found, page=page, has_more=more)


@bp.get("/customers/<int:customer_id>")
@require_session
def customer_detail(customer_id: int):
    """The support desk's page of one customer: who they are, balances, expiry, tier and perks, the newest
    orders with what each earned or why not, pending lots, emails, vouchers with their terms, referrals and
    the newest history entries; each list bounded with `*_has_more` (further pages: admin/support_api.py)."""
    record = customers.customer_record(g.shop, customer_id, reads())
    if record is None:
        return error(404, f"no customer {customer_id} in {g.shop.domain}")
    return jsonify(record)


@bp.post("/customers/<int:customer_id>/adjustments")
@require_session
def adjust_points(customer_id: int):
    """Add or take points with a required reason; the staff member is recorded. Idempotent per client_token."""
    data = json_object("{points, reason, client_token}")
    adjustment = Adjustment(customer_id=customer_id, points=data.get("points"), reason=data.get("reason"),
                            actor=g.staff, client_token=data.get("client_token"))
    try:
        entry, balance = customer_use_cases.adjust_points(AdjustPoints(g.shop.domain, adjustment), unit_of_work())
    except AdjustmentRefused as exc:
        status = 404 if exc.field == "customer_id" else 422
        return error(status, str(exc), field=exc.field)
    return jsonify(adjustment=_adjustment_dict(entry, entry.available), available=balance.available,
                   pending=balance.pending)


@bp.post("/customers/<int:customer_id>/actions")
@require_session
def award_customer_action(customer_id: int):
    """Award a programme action's points (earning.actions) once per (action, reference); the staff member is
    recorded. The answer says what the caps took (`asked` - `points`, and why in `reason`)."""
    data = json_object("{action, reference, reason}")
    try:
        row, balance = award_action(AwardAction(g.shop.domain, None, data.get("action"), data.get("reference"),
                                                data.get("reason") or "", actor=g.staff, customer_id=customer_id),
                                    unit_of_work())
    except UnknownCustomer as exc:
        return error(404, str(exc), field="customer_id")
    except ActionRefused as exc:
        return error(409 if exc.field == "reference" and "another" in str(exc) else 422, str(exc), field=exc.field)
    return jsonify(award={"id": row.id, "customer_id": row.customer_id, "rule": row.rule, "reference": row.reference,
                          "asked": row.asked, "points": row.points, "reason": row.reason, "actor": row.actor,
                          "awarded_at": iso(row.awarded_at)},
                   available=balance.available, pending=balance.pending)


def _adjustment_dict(row, points: int) -> dict:
    return {"id": row.id, "customer_id": row.customer_id, "points": points, "reason": row.reason,
            "actor": row.actor, "created_at": iso(row.created_at)}


@bp.get("/adjustments")
@require_session
def list_adjustments():
    """The audit trail of manual adjustments: who, when, how much, why; newest first."""
    page, size = page_arg(), support.PAGE_SIZE
    rows = customers.adjustments_page(g.shop, page, reads(), size)
    return jsonify(adjustments=[{**_adjustment_dict(r, r.points), "email": r.email} for r in rows[:size]],
                   page=page, has_more=len(rows) > size)


# -- vouchers --------------------------------------------------------------------------------------

@bp.get("/vouchers")
@require_session
def list_vouchers():
    """The shop's vouchers, newest first; `status` and `customer_id` filter."""
    customer, page = int_arg("customer_id"), page_arg()
    found, more = customers.vouchers_page(g.shop, request.args.get("status") or None, customer, page, reads())
    return jsonify(vouchers=found, page=page, has_more=more)


@bp.post("/vouchers/<code>/cancel")
@require_session
def cancel_voucher(code: str):
    """Deactivate the code in Shopify and credit its points back (once); the staff member is recorded."""
    given = str(json_object("{reason}", optional=True).get("reason") or "").strip()[:200] or "cancelled in the admin"
    try:
        voucher = voucher_use_cases.cancel_voucher(CancelVoucher(g.shop.domain, code, f"{given} (staff {g.staff})",
                                                                   actor=g.staff), unit_of_work())
    except VoucherRefused as exc:
        return error(404 if str(exc).startswith("no voucher") else 409, str(exc))
    except ShopifyError as exc:
        return error(502, f"Shopify did not deactivate the code; nothing was credited: {exc}")
    return jsonify(voucher=support.voucher_dict(voucher))


# -- referrals -------------------------------------------------------------------------------------

@bp.get("/referrals")
@require_session
def list_referrals():
    """The shop's referrals, newest first, refusals with their rule and reason; `status` filters."""
    status, page = request.args.get("status") or None, page_arg()
    if status is not None and status not in referrals.STATUSES:
        raise BadInput(f"status: must be one of {', '.join(referrals.STATUSES)}")
    found, more = referrals.referrals_page(g.shop.domain, reads(), status, page)
    return jsonify(referrals=found, page=page, has_more=more)


# -- failed jobs -----------------------------------------------------------------------------------

@bp.get("/failed-jobs")
@require_session
def failed_jobs():
    """Webhooks of this shop that failed for good, with their reason (retryable here), and every background
    failure of the shop with its reason (loyalty.services.failures: the same list `loyalty failures` prints)."""
    rows, counts, listed = failed_jobs_of(g.shop.domain, reads())
    return jsonify(failed_jobs=[{"id": r.id, "webhook_id": r.webhook_id, "topic": r.topic,
                                 "attempts": r.attempts, "last_error": r.last_error,
                                 "received_at": iso(r.received_at), "failed_at": iso(r.failed_at)} for r in rows],
                   failures=[f.as_dict() for f in listed], counts=counts)


def _retry(job_id: int | None):
    count = retry_failed_webhooks(RetryFailedWebhooks(job_id, g.shop.domain, actor=g.staff), unit_of_work())
    if job_id is not None and not count:
        return error(404, f"no failed job {job_id} in {g.shop.domain}")
    return jsonify(retried=count)


@bp.post("/failed-jobs/<int:job_id>/retry")
@require_session
def retry_job(job_id: int):
    """Give one failed webhook a fresh round of attempts."""
    return _retry(job_id)


@bp.post("/failed-jobs/retry")
@require_session
def retry_all_jobs():
    """Give every failed webhook of the shop a fresh round of attempts."""
    return _retry(None)


# -- points-liability report -----------------------------------------------------------------------

def shop_today() -> date:
    """Today in the shop's time zone (report days are the shop's calendar days)."""
    return facts_of(g.shop, reads()).local_day(now())


def _report_range() -> tuple[date, date]:
    """`from` and `to` (ISO dates, inclusive); by default the last 30 days up to the shop's today."""
    last = date.fromisoformat(request.args["to"]) if request.args.get("to") else shop_today()
    first = date.fromisoformat(request.args["from"]) if request.args.get("from") else last - timedelta(days=29)
    reports.check_range(first, last)
    return first, last


def _report():
    try:
        first, last = _report_range()
    except ValueError as exc:  # a malformed date, or reports.ReportRangeError
        return None, error(422, f"from/to: {exc}", field="from")
    return (first, last, reports.liability_report(g.shop, first, last, reads())), None


@bp.get("/reports/liability")
@require_session
def liability():
    """Per day: points earned, matured, clawed back, redeemed, expired, re-credited, adjusted, and the
    points outstanding at the end of the day with their value; what a point is worth and by which rule, and
    the breakage measured from the shop's ledger with the liability forecast after it."""
    result, failure = _report()
    if failure:
        return failure
    first, last, report = result
    days = report.days
    totals = {k: sum(getattr(d, k) for d in days) for k in
              ("earned", "matured", "clawed_back", "redeemed", "expired", "recredited", "adjusted")}
    return jsonify({"from": first.isoformat(), "to": last.isoformat(),
                    "value_per_point": report.value.per_point_text(), **report.summary(),
                    "days": [d.to_dict() for d in days], "totals": totals})


@bp.get("/reports/liability.csv")
@require_session
def liability_csv():
    """The same report as a CSV file."""
    result, failure = _report()
    if failure:
        return failure
    first, last, report = result
    days = report.days
    name = f"points-liability-{g.shop.domain.split('.')[0]}-{first}-{last}.csv"
    return Response(reports.to_csv(days), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
