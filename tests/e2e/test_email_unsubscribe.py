"""One-click unsubscribe (RFC 8058): every loyalty email sent carries `List-Unsubscribe` with the customer's
signed link on the app's host and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`; a POST to it opts
the customer out (customers.accepts_loyalty_emails), a GET only shows a page with the button (mail scanners
prefetch links), forged links and other shops' links are refused, and the customer gets no further email."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import select

from db.tables import customers, notifications
from integrations.crypto import encrypt_token
from integrations.unsubscribe_links import signature
from jobs import notify as sender
from loyalty.domain.programme import template
from loyalty.services import notifications as outbox
from loyalty.services.customers import resolve_customer
from loyalty.services.shops import install_shop
from tests.conftest import SECRET, SHOP

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
ONE_CLICK = {"data": "List-Unsubscribe=One-Click", "content_type": "application/x-www-form-urlencoded"}


def smtp(ctx, url):
    return replace(ctx, config=replace(ctx.config, smtp_url=url, app_url="https://loyalty.example.com"))


def perk_email(ctx, shop, shopify_id: int, address: str) -> int:
    """A store A perk email recorded for a customer; returns the customer's row id."""
    prog = template("store-a")
    with ctx.engine.begin() as conn:
        customer_id = resolve_customer(conn, shop.id, shopify_id, address, T0)
        outbox.notify_perks_granted(conn, shop, prog, customer_id, prog.perks[:1], T0)
    return customer_id


def accepts(ctx, customer_id: int) -> bool:
    with ctx.engine.connect() as conn:
        return conn.execute(select(customers.c.accepts_loyalty_emails).where(customers.c.id == customer_id)).scalar()


def test_sent_email_has_one_click_list_unsubscribe_and_post_opts_out(ctx, shop, client, mail_server):
    """The header and the footer link agree; GET changes nothing; the one-click POST opts out."""
    customer_id = perk_email(ctx, shop, 501, "alice@example.com")
    assert sender.send_notifications(smtp(ctx, mail_server.url), now=T0) == 1
    [message] = mail_server.received
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert url == (f"https://loyalty.example.com/emails/unsubscribe/{SHOP}/{customer_id}/"
                   f"{signature(SECRET, SHOP, customer_id)}")
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content()
    assert f"Pour ne plus recevoir ces e-mails : {url}\n" in text and f'<a href="{url}"' in html
    assert "%%unsubscribe_url%%" not in text + html
    path = urlsplit(url).path

    page = client.get(path)
    assert page.status_code == 200 and accepts(ctx, customer_id)  # a prefetching scanner unsubscribes no one
    body = page.get_data(as_text=True)
    assert '<form method="post">' in body and "Me désabonner" in body
    assert page.headers["Cache-Control"] == "no-store"

    done = client.post(path, **ONE_CLICK)
    assert done.status_code == 200 and "C&#39;est fait" in done.get_data(as_text=True)
    assert accepts(ctx, customer_id) is False
    assert client.post(path, **ONE_CLICK).status_code == 200  # twice is harmless


def test_an_opted_out_customer_gets_no_further_loyalty_email(ctx, shop, client, mail_server):
    """An email recorded before the click is not sent; one recorded after is skipped with the reason."""
    customer_id = perk_email(ctx, shop, 502, "bob@example.com")
    path = f"/emails/unsubscribe/{SHOP}/{customer_id}/{signature(SECRET, SHOP, customer_id)}"
    assert client.post(path, **ONE_CLICK).status_code == 200
    prog = template("store-a")
    with ctx.engine.begin() as conn:
        assert outbox.notify_perks_granted(conn, shop, prog, customer_id, prog.perks[1:2], T0) == "skipped"
    assert sender.send_notifications(smtp(ctx, mail_server.url), now=T0) == 0
    assert mail_server.received == []
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(notifications.c.status, notifications.c.last_error)
                            .where(notifications.c.customer_id == customer_id)).all()
    assert rows == [("skipped", "the customer opted out of loyalty emails")] * 2


def test_forged_and_other_shop_links_are_refused(ctx, shop, client):
    """A wrong signature, another customer's number under a link, or a link signed for another shop: 401,
    nobody unsubscribed. A link validly signed for a shop naming another shop's customer: 404."""
    mine = perk_email(ctx, shop, 503, "carol@example.com")
    with ctx.engine.begin() as conn:
        other = install_shop(conn, "store-b.myshopify.com", encrypt_token(ctx.config.encryption_keys, "x"), T0)
        theirs = resolve_customer(conn, other.id, 9001, "dave@example.com", T0)
    good = signature(SECRET, SHOP, mine)
    refused = [f"/emails/unsubscribe/{SHOP}/{mine}/{'0' * 32}",
               f"/emails/unsubscribe/{SHOP}/{theirs}/{good}",
               f"/emails/unsubscribe/{SHOP}/{mine}/{signature('another-secret', SHOP, mine)}",
               f"/emails/unsubscribe/store-b.myshopify.com/{mine}/{good}"]
    for path in refused:
        assert client.post(path, **ONE_CLICK).status_code == 401, path
        assert client.get(path).status_code == 401, path
    cross = f"/emails/unsubscribe/{SHOP}/{theirs}/{signature(SECRET, SHOP, theirs)}"
    assert client.post(cross, **ONE_CLICK).status_code == 404
    assert accepts(ctx, mine) and accepts(ctx, theirs)
