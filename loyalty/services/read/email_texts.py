"""The admin's view of a shop's emails: each kind's text in each language (the shop's own or the built-in
one) with the variables it may use, and a preview with made-up facts."""
from __future__ import annotations

from loyalty.domain.email_texts import COMMON, KINDS, LANGUAGES, EmailText
from loyalty.domain.emails import Email, builtin_text
from loyalty.services import email_texts, notifications
from loyalty.services.shops import get_shop
from loyalty.services.unit_of_work import UnitOfWork


def email_texts_of(shop: str, uow: UnitOfWork) -> list[dict]:
    """Every kind in every language: subject, body, whether it is the shop's own, its variables."""
    with uow:
        own = email_texts.texts_of(uow.conn, get_shop(uow.conn, shop).id)
    return [text_view(kind, language, own.get((kind, language))) for kind in KINDS for language in LANGUAGES]


def text_view(kind: str, language: str, own: EmailText | None) -> dict:
    """One kind and language as the admin shows it."""
    text = own or builtin_text(kind, language)
    return {"kind": kind, "language": language, "custom": own is not None, "subject": text.subject,
            "body": text.body, "variables": [*COMMON, *KINDS[kind]]}


def preview_email(shop: str, kind: str, language: str, draft: EmailText | None, uow: UnitOfWork) -> Email:
    """The email as a customer would get it, with made-up facts (EmailTextError for a bad draft)."""
    with uow:
        ref = get_shop(uow.conn, shop)
        prog = notifications.current_programme(uow.conn, ref.id)
        return email_texts.sample(uow.conn, ref, prog, kind, language, draft, uow.ctx.config.app_url)
