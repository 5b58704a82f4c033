"""The admin JSON API of the home page: the programme at a glance over a period of the shop's days
(loyalty.services.read.overview), as JSON and as CSV."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Response, g, jsonify, request

from admin.api import shop_today
from admin.session import api_blueprint, error, reads, require_session
from loyalty.domain.errors import ReportRangeError
from loyalty.services.read.overview import home_overview, overview_csv

bp = api_blueprint("admin_home", __name__)


def _overview():
    """The overview for `from`, `to` (ISO shop days, inclusive; by default the 30 days up to the shop's
    today) and `group` (day, week or month; day by default); or a 422 naming the field."""
    try:
        last = date.fromisoformat(request.args["to"]) if request.args.get("to") else shop_today()
        first = date.fromisoformat(request.args["from"]) if request.args.get("from") else last - timedelta(days=29)
    except ValueError as exc:
        return None, error(422, f"from/to: {exc}", field="from")
    group = request.args.get("group") or "day"
    if group not in ("day", "week", "month"):
        return None, error(422, "group: day, week or month", field="group")
    try:
        return home_overview(g.shop, first, last, group, reads()), None
    except ReportRangeError as exc:
        return None, error(422, f"from/to: {exc}", field="from")


@bp.get("/home")
@require_session
def home():
    """Members, active members, points earned/redeemed/expired/outstanding per bucket, redemption rate,
    members' and non-members' orders, rewards by popularity, and the liability in money."""
    overview, failure = _overview()
    return failure or jsonify(overview)


@bp.get("/home.csv")
@require_session
def home_csv():
    """The same figures as a CSV file."""
    overview, failure = _overview()
    if failure:
        return failure
    name = f"loyalty-overview-{g.shop.domain.split('.')[0]}-{overview['from']}-{overview['to']}.csv"
    return Response(overview_csv(overview), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
