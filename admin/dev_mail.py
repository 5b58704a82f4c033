"""GET /dev/mail: the demo shop's emails captured in demo mode (no SMTP_URL), for a person trying the app.

Registered only in demo mode (LOYALTY_DEMO=1, loyalty.demo) without SMTP_URL (see `enabled`): a production
app never has this page. It is unauthenticated, so it shows the demo shop's emails and no other shop's.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from db.engine import reading
from loyalty.services.notifications import find, listing
from loyalty.services.shops import UnknownShop, get_shop
from loyalty.demo import DEMO_SHOP

bp = Blueprint("dev_mail", __name__, template_folder="templates")


def enabled(config) -> bool:
    """The mailbox is served only when mail is captured (no SMTP_URL) and the app runs in demo mode."""
    return config.smtp_url is None and config.demo


def _demo_shop_id(conn) -> int | None:
    """The demo shop's id, or None when it is not installed (then there is nothing to show)."""
    try:
        return get_shop(conn, DEMO_SHOP, installed_only=False).id
    except UnknownShop:
        return None


@bp.get("/dev/mail")
def mailbox():
    """The demo shop's recorded emails, newest first: sent (captured), waiting, skipped with the reason."""
    with reading(current_app.extensions["loyalty"].engine) as conn:
        shop_id = _demo_shop_id(conn)
        emails = [] if shop_id is None else listing(conn, shop_id, limit=200)
    return render_template("dev_mail.html", emails=emails)


@bp.get("/dev/mail/<int:notification_id>")
def message(notification_id: int):
    """One email of the demo shop: its text version, and the HTML version in a sandboxed frame."""
    with reading(current_app.extensions["loyalty"].engine) as conn:
        shop_id = _demo_shop_id(conn)
        row = None if shop_id is None else find(conn, notification_id, shop_id)
    if row is None:
        abort(404)
    return render_template("dev_mail_message.html", email=row)
