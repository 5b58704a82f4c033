"""A shop's own email texts (table `email_texts`): one subject and body per kind and language, checked by
loyalty.domain.email_texts before they are stored. The outbox reads them with its recipient
(loyalty.services.notifications.enqueue); no row means the built-in text."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from db.tables import email_texts
from loyalty.domain.email_texts import SAMPLES, EmailText, check
from loyalty.domain.emails import Email, render, with_unsubscribe
from loyalty.services import notifications


def texts_of(conn: Connection, shop_id: int) -> dict[tuple[str, str], EmailText]:
    """The shop's own texts by (kind, language)."""
    rows = conn.execute(select(email_texts).where(email_texts.c.shop_id == shop_id)).all()
    return {(r.kind, r.language): EmailText(r.subject, r.body) for r in rows}


def store(conn: Connection, shop_id: int, kind: str, language: str, text: EmailText, now: datetime) -> None:
    """Keep the shop's text for the kind and language (replacing the one it had)."""
    where = (email_texts.c.shop_id == shop_id, email_texts.c.kind == kind, email_texts.c.language == language)
    values = {"subject": text.subject, "body": text.body, "updated_at": now}
    if not conn.execute(update(email_texts).where(*where).values(**values)).rowcount:
        conn.execute(email_texts.insert().values(shop_id=shop_id, kind=kind, language=language, **values))


def forget(conn: Connection, shop_id: int, kind: str, language: str) -> bool:
    """Back to the built-in text; True when the shop had its own."""
    return bool(conn.execute(delete(email_texts).where(
        email_texts.c.shop_id == shop_id, email_texts.c.kind == kind, email_texts.c.language == language)).rowcount)


EXAMPLE_ADDRESS = "customer@example.com"


def sample(conn: Connection, shop, prog, kind: str, language: str, draft: EmailText | None, app_url: str) -> Email:
    """The email of `kind` in `language` with made-up facts (loyalty.domain.email_texts.SAMPLES) and the
    shop's name, address and currency: `draft` checked and used (EmailTextError when it is refused or fails
    to render), else the shop's own text in force, else the built-in one. The unsubscribe link points at
    the app's page, signed for no one."""
    text = check(kind, draft) if draft is not None else texts_of(conn, shop.id).get((kind, language))
    email = render(kind, language, {
        **SAMPLES[kind], "shop_name": notifications.shop_name(prog, shop.domain),
        "shop_url": notifications.shop_url(shop.domain), "to_address": EXAMPLE_ADDRESS,
        "currency": notifications.shop_currency(conn, shop.id)}, text, strict=draft is not None)
    link = f"{app_url.rstrip('/')}/emails/unsubscribe/{shop.domain}/example"
    return replace(email, text=with_unsubscribe(email.text, link), html=with_unsubscribe(email.html, link))
