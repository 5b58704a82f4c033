"""A merchant's email texts: save one (checked: unknown variables refused), go back to the built-in text,
send a test email to the merchant's own address."""
from __future__ import annotations

from types import SimpleNamespace

from integrations.mail import build_message, transport_for
from loyalty.domain.email_texts import EmailText, check, check_address
from loyalty.domain.requests import SaveEmailText, SendTestEmail
from loyalty.services import email_texts, notifications
from loyalty.services.shops import get_shop
from loyalty.services.unit_of_work import UnitOfWork


def save_email_text(request: SaveEmailText, uow: UnitOfWork) -> EmailText:
    """Check and keep the shop's own text (EmailTextError naming the field and variable); returns it."""
    text = check(request.kind, EmailText(request.subject, request.body))
    with uow:
        email_texts.store(uow.conn, get_shop(uow.conn, request.shop).id, request.kind, request.language, text,
                          uow.now)
    return text


def reset_email_text(shop: str, kind: str, language: str, uow: UnitOfWork) -> bool:
    """Back to the built-in text; True when the shop had its own."""
    with uow:
        return email_texts.forget(uow.conn, get_shop(uow.conn, shop).id, kind, language)


def send_test_email(request: SendTestEmail, uow: UnitOfWork, transport=None) -> str:
    """Send the sample email (the draft, or the text in force) to the merchant's address now, over the
    app's mail transport; returns the transport's name. Nothing is recorded in the customers' outbox."""
    address = check_address(request.to)
    draft = None
    if request.subject is not None or request.body is not None:
        draft = EmailText(request.subject or "", request.body or "")
    with uow:
        shop = get_shop(uow.conn, request.shop)
        prog = notifications.current_programme(uow.conn, shop.id)
        email = email_texts.sample(uow.conn, shop, prog, request.kind, request.language, draft, uow.config.app_url)
    row = SimpleNamespace(to_address=address, subject=f"[TEST] {email.subject}", body_text=email.text,
                          body_html=email.html, language=request.language, created_at=uow.now,
                          dedup_key=f"test:{shop.id}:{request.kind}:{uow.now.isoformat()}")
    transport = transport or transport_for(uow.config)
    with transport:
        message = build_message(row, uow.config.smtp_from)
        if transport.name == "capture":
            transport.send(message, shop=shop.domain, name=f"test-{request.kind}-{request.language}")
        else:
            transport.send(message)
    return transport.name
