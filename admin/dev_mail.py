"""GET /dev/mail: the emails captured in demo mode (no SMTP_URL), for a person trying the app.

Registered only in demo mode without SMTP_URL (see `enabled`): a production app never has this page.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from db.engine import reading
from loyalty.notifications import find, listing

bp = Blueprint("dev_mail", __name__, template_folder="templates")


def enabled(config) -> bool:
    """The mailbox is served only when mail is captured (no SMTP_URL) and the app runs in demo mode."""
    from runtime.launcher import demo_mode

    return config.smtp_url is None and demo_mode(config)


@bp.get("/dev/mail")
def mailbox():
    """Every recorded email, newest first: sent (captured), waiting, skipped with the reason."""
    with reading(current_app.extensions["loyalty"].engine) as conn:
        return render_template("dev_mail.html", emails=listing(conn, limit=200))


@bp.get("/dev/mail/<int:notification_id>")
def message(notification_id: int):
    """One email: its text version, and the HTML version in a sandboxed frame."""
    with reading(current_app.extensions["loyalty"].engine) as conn:
        row = find(conn, notification_id)
    if row is None:
        abort(404)
    return render_template("dev_mail_message.html", email=row)
