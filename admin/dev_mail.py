"""GET /dev/mail: the demo shop's emails captured in demo mode (no SMTP_URL), for a person trying the app.

Registered only in demo mode (LOYALTY_DEMO=1, loyalty.demo) without SMTP_URL (see `enabled`): a production
app never has this page. It is unauthenticated, so it shows the demo shop's emails and no other shop's.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from loyalty.demo import DEMO_SHOP
from loyalty.services.read.notifications import mailbox as demo_mailbox, mailbox_message
from loyalty.services.unit_of_work import ReadOnlyUnitOfWork

bp = Blueprint("dev_mail", __name__, template_folder="templates")


def enabled(config) -> bool:
    """The mailbox is served only when mail is captured (no SMTP_URL) and the app runs in demo mode."""
    return config.smtp_url is None and config.demo


def _reads() -> ReadOnlyUnitOfWork:
    return ReadOnlyUnitOfWork(current_app.extensions["loyalty"])


@bp.get("/dev/mail")
def mailbox():
    """The demo shop's recorded emails, newest first: sent (captured), waiting, skipped with the reason."""
    return render_template("dev_mail.html", emails=demo_mailbox(DEMO_SHOP, _reads()))


@bp.get("/dev/mail/<int:notification_id>")
def message(notification_id: int):
    """One email of the demo shop: its text version, and the HTML version in a sandboxed frame."""
    row = mailbox_message(DEMO_SHOP, notification_id, _reads())
    if row is None:
        abort(404)
    return render_template("dev_mail_message.html", email=row)
