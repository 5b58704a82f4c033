"""The admin's email texts under /admin/api/emails (described by admin/openapi.json with the rest of the
API): every kind's subject and body in each language, the merchant's own text saved (checked: an unknown
variable is refused, 422, naming it) or reset to the built-in one, a preview with made-up facts, and a test
send to the merchant's own address. Session token required; the token's shop only."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from admin.params import BadInput, json_object
from admin.session import error, reads, require_session, unit_of_work
from integrations.errors import PermanentFailure
from loyalty.domain.email_texts import KINDS, LANGUAGES, EmailText, EmailTextError
from loyalty.domain.requests import SaveEmailText, SendTestEmail
from loyalty.services.read.email_texts import email_texts_of, preview_email, text_view
from loyalty.services.use_cases.emails import reset_email_text, save_email_text, send_test_email

bp = Blueprint("admin_emails", __name__, url_prefix="/admin/api/emails")


@bp.errorhandler(BadInput)
def bad_input(exc: BadInput):
    """A parameter or body that cannot be used: 400 saying which (admin.params)."""
    return error(400, str(exc), field=exc.field)


@bp.errorhandler(EmailTextError)
def refused_text(exc: EmailTextError):
    """A text or address that cannot be used: 422 naming the field (and the unknown variable)."""
    return error(422, str(exc), field=exc.field)


def _known(kind: str, language: str):
    """404 for a kind or language the emails do not have."""
    if kind not in KINDS or language not in LANGUAGES:
        return error(404, f"no email {kind!r} in {language!r}: kinds {', '.join(KINDS)}; languages "
                          f"{', '.join(LANGUAGES)}")
    return None


def _strings(body: dict, *names: str, optional: bool = False) -> list[str | None]:
    """The named body fields, each a string (400 otherwise); None for a missing optional one."""
    values = []
    for name in names:
        value = body.get(name)
        if value is None and optional:
            values.append(None)
            continue
        if not isinstance(value, str):
            raise BadInput(f"{name}: expected a string", field=name)
        values.append(value)
    return values


def _draft(body: dict) -> EmailText | None:
    subject, text = _strings(body, "subject", "body", optional=True)
    return None if subject is None and text is None else EmailText(subject or "", text or "")


@bp.get("")
@require_session
def list_texts():
    """Every kind in every language: its subject and body (the shop's own, or the built-in), its variables."""
    return jsonify(emails=email_texts_of(g.shop.domain, reads()), languages=list(LANGUAGES))


@bp.put("/<kind>/<language>")
@require_session
def save_text(kind: str, language: str):
    """Use the merchant's subject and body for this kind and language from now on."""
    if refused := _known(kind, language):
        return refused
    subject, body = _strings(json_object("{subject, body}"), "subject", "body")
    text = save_email_text(SaveEmailText(g.shop.domain, kind, language, subject, body, actor=g.staff),
                           unit_of_work())
    return jsonify(email=text_view(kind, language, text))


@bp.delete("/<kind>/<language>")
@require_session
def reset_text(kind: str, language: str):
    """Back to the built-in text for this kind and language."""
    if refused := _known(kind, language):
        return refused
    reset_email_text(g.shop.domain, kind, language, unit_of_work(), actor=g.staff)
    return jsonify(email=text_view(kind, language, None))


@bp.post("/<kind>/<language>/preview")
@require_session
def preview(kind: str, language: str):
    """The email with made-up facts: the draft sent (`subject`, `body`), else the text in force."""
    if refused := _known(kind, language):
        return refused
    email = preview_email(g.shop.domain, kind, language, _draft(json_object("{subject, body}", optional=True)),
                          reads())
    return jsonify(subject=email.subject, text=email.text, html=email.html)


@bp.post("/<kind>/<language>/test")
@require_session
def test_send(kind: str, language: str):
    """Send the previewed email to `to` (the merchant's address) now, subject marked [TEST]."""
    if refused := _known(kind, language):
        return refused
    body = json_object("{to, subject, body}")
    [to] = _strings(body, "to")
    draft = _draft(body)
    request_ = SendTestEmail(g.shop.domain, kind, language, to, draft and draft.subject, draft and draft.body)
    try:
        transport = send_test_email(request_, unit_of_work())
    except (PermanentFailure, OSError) as exc:  # smtplib's errors are OSErrors: unreachable, refused
        return error(502, f"the mail server did not take the test email: {type(exc).__name__}: {exc}")
    return jsonify(sent_to=to.strip(), transport=transport)
