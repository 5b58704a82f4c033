"""The admin JSON API of the audit log: who changed what and when (programme versions, adjustments, action
awards, voucher cancels, retries, email texts, birthday corrections), newest first, filtered and paged, as
CSV too; and the programme's versions, each with its diff from the one before."""
from __future__ import annotations

from datetime import date

from flask import Response, g, jsonify, request, stream_with_context

from admin.params import BadInput, int_arg
from admin.session import api_blueprint, error, reads, require_session
from loyalty.services.audit import AUDIT_ACTIONS
from loyalty.services.read import audit

bp = api_blueprint("admin_audit", __name__)

MAX_ACTOR = 255


def _day(name: str) -> date | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(f"{name}: expected a day as YYYY-MM-DD", name) from None


def _filters() -> audit.AuditFilter:
    """The filters of the query string (BadInput naming a wrong one)."""
    action = request.args.get("action") or None
    if action is not None and action not in AUDIT_ACTIONS:
        raise BadInput(f"action: must be one of {', '.join(AUDIT_ACTIONS)}", "action")
    actor = request.args.get("actor") or None
    if actor is not None and (len(actor) > MAX_ACTOR or "\x00" in actor):
        raise BadInput(f"actor: at most {MAX_ACTOR} characters", "actor")
    first, last = _day("from"), _day("to")
    if first is not None and last is not None and first > last:
        raise BadInput("from: must not be after to", "from")
    return audit.AuditFilter(action=action, actor=actor, customer_id=int_arg("customer_id"), first=first, last=last)


@bp.get("/audit")
@require_session
def audit_log():
    """The shop's audit events, newest first; `action`, `actor`, `customer_id`, `from`/`to` (the shop's
    calendar days) filter; `before` (the last event's id of the page before) pages."""
    filters = _filters()
    events, more = audit.audit_page(g.shop, filters, reads(), before=int_arg("before"))
    return jsonify(events=events, has_more=more, next_before=events[-1]["id"] if more else None)


@bp.get("/audit.csv")
@require_session
def audit_log_csv():
    """The same events as a CSV file (at most AUDIT_CSV_MAX_ROWS, newest first), streamed."""
    filters = _filters()
    name = f"audit-{g.shop.domain.split('.')[0]}.csv"
    return Response(stream_with_context(audit.audit_csv(g.shop, filters, reads())), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/programme/versions")
@require_session
def programme_versions():
    """The programme's versions, newest first: who saved each, when, and what it changed; `before` pages."""
    versions, more = audit.programme_versions(g.shop, reads(), before=int_arg("before"))
    return jsonify(versions=versions, has_more=more, next_before=versions[-1]["version"] if more else None)


@bp.get("/programme/versions/<int:version>")
@require_session
def programme_version(version: int):
    """One version: the whole document, and its diff from the version before it."""
    found = audit.programme_version(g.shop, version, reads())
    if found is None:
        return error(404, f"no programme version {version} in {g.shop.domain}")
    return jsonify(found)
