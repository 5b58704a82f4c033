"""A merchant's email texts: save one (checked: unknown variables refused), go back to the built-in text,
send a test email to the merchant's own address."""
from __future__ import annotations

from types import SimpleNamespace

from integrations.mail import build_message, transport_for
from loyalty.domain.email_texts import EmailText, check, check_address
from loyalty.domain.requests import SaveEmailText, SendTestEmail
from loyalty.services import audit, email_texts, notifications
from loyalty.services.shops import get_shop
from loyalty.services.unit_of_work import UnitOfWork


def save_email_text(request: SaveEmailText, uow: UnitOfWork) -> EmailText:
    """Check and keep the shop's own text (EmailTextError naming the field and variable); returns it."""
    text = check(request.kind, EmailText(request.subject, request.body))
    with uow:
        shop_id = get_shop(uow.conn, request.shop).id
        before = email_texts.texts_of(uow.conn, shop_id).get((request.kind, request.language))
        email_texts.store(uow.conn, shop_id, request.kind, request.language, text, uow.now)
        _audit(uow, shop_id, request.kind, request.language, before, text, request.actor)
    return text


def reset_email_text(shop: str, kind: str, language: str, uow: UnitOfWork, actor: str | None = None) -> bool:
    """Back to the built-in text; True when the shop had its own (then recorded in the audit log, by
    `actor`: the staff member, None for the CLI)."""
    with uow:
        shop_id = get_shop(uow.conn, shop).id
        before = email_texts.texts_of(uow.conn, shop_id).get((kind, language))
        had_own = email_texts.forget(uow.conn, shop_id, kind, language)
        if had_own:
            _audit(uow, shop_id, kind, language, before, None, actor)
        return had_own


def _audit(uow: UnitOfWork, shop_id: int, kind: str, language: str, before: EmailText | None,
           after: EmailText | None, actor: str | None) -> None:
    """The shop's own text saved (after) or dropped for the built-in one (after None), before and after."""
    what = "reset to the built-in text" if after is None else "saved"
    as_dict = (lambda text: None if text is None else {"subject": text.subject, "body": text.body})
    audit.record(uow.conn, shop_id, action="email_text_saved", at=uow.now, actor=actor, subject=f"{kind}/{language}",
                 summary=f"email {kind} ({language}) {what}{audit.by(actor)}",
                 details={"kind": kind, "language": language, "before": as_dict(before), "after": as_dict(after)})


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
