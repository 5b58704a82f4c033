"""The admin's email texts (/admin/api/emails): a merchant changes the subject and body of an email kind in
a language, an unknown variable is refused (422, named), the preview and the test send show the draft, and
customers then receive the merchant's words; each shop sees and changes only its own texts."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import select

from db.tables import notifications
from integrations.crypto import encrypt_token
from loyalty.domain.programme import template
from loyalty.services import notifications as outbox
from loyalty.services.customers import resolve_customer
from loyalty.services.shops import install_shop, save_programme
from runtime.web import create_app
from tests.admin_client import AdminApi
from tests.conftest import SECRET

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
MINE = {"subject": "{{ points|points }} pour toi chez {{ shop_name }}",
        "body": "Coucou,\n\n{{ title }} : +{{ points|points }}.\n\n- Solde : {{ available|points }}\n"
                "- Ta page : {{ loyalty_url }}\n\nÀ bientôt !"}


def award_email(ctx, shop, shopify_id: int = 77):
    """A `points_awarded` email recorded for a store A customer (French programme); returns its row."""
    with ctx.engine.begin() as conn:
        save_programme(conn, shop, template("store-a"), T0)
        customer_id = resolve_customer(conn, shop.id, shopify_id, f"c{shopify_id}@example.com", T0)
        outbox.enqueue(conn, shop_id=shop.id, prog=template("store-a"), customer_id=customer_id,
                       kind="points_awarded", key=f"test:{shopify_id}", now=T0,
                       facts={"title": "Bienvenue", "points": 50, "available": 50})
        return conn.execute(select(notifications).where(notifications.c.customer_id == customer_id)).first()


def test_lists_every_kind_in_both_languages_with_its_variables(admin):
    """Each kind (voucher_cancelled too) in fr and en: the built-in text and the variables it may use."""
    answer = admin.get("/emails").get_json()
    assert answer["languages"] == ["fr", "en"]
    kinds = {(e["kind"], e["language"]) for e in answer["emails"]}
    assert ("voucher_cancelled", "fr") in kinds and ("tier_changed", "en") in kinds and len(kinds) == 24
    awarded = next(e for e in answer["emails"] if (e["kind"], e["language"]) == ("points_awarded", "fr"))
    assert awarded["custom"] is False and "{{ points|points }}" in awarded["subject"]
    assert {"points", "available", "title", "shop_name", "loyalty_url"} <= set(awarded["variables"])


def test_unknown_variable_is_refused_with_422_naming_it(admin):
    """`{{ pionts }}`: 422, field body, the variable named; nothing saved."""
    refused = admin.put("/emails/points_awarded/fr", {"subject": "Hi", "body": "Tu as {{ pionts }}"})
    assert refused.status_code == 422
    assert refused.get_json()["field"] == "body" and "{{ pionts }}" in refused.get_json()["error"]
    assert admin.put("/emails/points_awarded/fr", {"subject": "{{ x|nope }}", "body": "b"}).status_code == 422
    assert admin.put("/emails/points_awarded/fr", {"subject": 3, "body": "b"}).status_code == 400
    assert admin.put("/emails/nothing/fr", MINE).status_code == 404
    assert admin.put("/emails/points_awarded/de", MINE).status_code == 404
    assert not any(e["custom"] for e in admin.get("/emails").get_json()["emails"])


def test_saved_text_is_what_customers_receive_until_reset(admin, ctx, shop):
    """Saved: the next email uses the merchant's words with the event's facts (and the usual footer); the
    English text is untouched; reset: the built-in text again."""
    saved = admin.put("/emails/points_awarded/fr", MINE)
    assert saved.status_code == 200 and saved.get_json()["email"]["custom"] is True
    row = award_email(ctx, shop)
    assert row.subject == "50 points pour toi chez store-a"
    assert row.body_text.startswith("Coucou,\n\nBienvenue : +50 points.\n\n- Solde : 50 points\n"
                                    "- Ta page : https://store-a.myshopify.com/apps/loyalty\n\nÀ bientôt !\n\n-- \n")
    assert "<li>Solde : 50 points</li>" in row.body_html
    english = next(e for e in admin.get("/emails").get_json()["emails"]
                   if (e["kind"], e["language"]) == ("points_awarded", "en"))
    assert english["custom"] is False
    assert admin.call("DELETE", "/emails/points_awarded/fr").get_json()["email"]["custom"] is False
    assert award_email(ctx, shop, 78).subject == "50 points ajoutés à ton compte store-a"


def test_preview_shows_the_draft_with_made_up_facts(admin):
    """The draft rendered (text and HTML), nothing saved; a draft failing on the facts is a 422."""
    shown = admin.post("/emails/points_awarded/fr/preview", MINE).get_json()
    assert shown["subject"] == "50 points pour toi chez store-a"
    assert "- Solde : 50 points" in shown["text"] and "<li>Solde : 50 points</li>" in shown["html"]
    assert "https://store-a.myshopify.com/apps/loyalty" in shown["text"]
    assert "%%unsubscribe_url%%" not in shown["text"] + shown["html"]
    in_force = admin.post("/emails/voucher_cancelled/en/preview").get_json()
    assert in_force["subject"] == "Your code LOY-1A2B3C has been cancelled"
    failing = admin.post("/emails/threshold_reached/fr/preview", {"subject": "{{ perks[9].title }}", "body": "x"})
    assert failing.status_code == 422 and failing.get_json()["field"] == "subject"
    assert not any(e["custom"] for e in admin.get("/emails").get_json()["emails"])


def test_test_send_reaches_the_merchant_over_smtp(ctx, shop, mail_server):
    """The draft, subject marked [TEST], to the address given, over the configured SMTP server; a bad
    address is 422; an unreachable server 502."""
    smtp_ctx = replace(ctx, config=replace(ctx.config, smtp_url=mail_server.url))
    admin = AdminApi(create_app(smtp_ctx).test_client(), shop.domain, SECRET)
    sent = admin.post("/emails/points_awarded/fr/test", {"to": "owner@maison.example", **MINE})
    assert sent.status_code == 200 and sent.get_json() == {"sent_to": "owner@maison.example", "transport": "smtp"}
    [message] = mail_server.received
    assert message["To"] == "owner@maison.example" and message["Subject"] == "[TEST] 50 points pour toi chez store-a"
    assert "- Solde : 50 points" in message.get_body(("plain",)).get_content()
    assert admin.post("/emails/points_awarded/fr/test", {"to": "a@b.fr\r\nBcc: x@y.fr"}).status_code == 422
    down = replace(ctx, config=replace(ctx.config, smtp_url="smtp://127.0.0.1:9"))
    closed = AdminApi(create_app(down).test_client(), shop.domain, SECRET)
    assert closed.post("/emails/points_awarded/fr/test", {"to": "owner@maison.example"}).status_code == 502


def test_a_shop_sees_and_changes_only_its_own_texts(admin, client, ctx, shop):
    """Store B's staff saving a text changes nothing for store A."""
    with ctx.engine.begin() as conn:
        install_shop(conn, "store-b.myshopify.com", encrypt_token(ctx.config.encryption_keys, "x"), T0)
    other = AdminApi(client, "store-b.myshopify.com", SECRET)
    assert other.put("/emails/points_awarded/fr", MINE).status_code == 200
    assert not any(e["custom"] for e in admin.get("/emails").get_json()["emails"])
    assert award_email(ctx, shop).subject == "50 points ajoutés à ton compte store-a"
