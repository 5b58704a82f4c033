"""Every customer email, in French and English, states the facts of its event: points, perks and how to
use them, the voucher's code, amount, minimum basket and end date, the expiry date; HTML is escaped."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from loyalty.domain.emails import format_day, format_money, format_points, render

COMMON = {"shop_name": "Maison Lune", "to_address": "alice@example.com", "currency": "EUR"}

CASES = {
    "points_available": (
        {"points": 120, "orders": ["#1001"], "available": 320, "conversion": None,
         "redeemable": [{"title": "10 € en carte cadeau", "points": 300}]},
        {"fr": ["120 points disponibles", "ta commande #1001", "320 points disponibles au total",
                "10 € en carte cadeau (dès 300 points)", "espace client, onglet fidélité"],
         "en": ["120 points now available", "your order #1001", "320 points available in total",
                "10 € en carte cadeau (from 300 points)"]}),
    "threshold_reached": (
        {"lifetime": 150, "perks": [
            {"title": "Une surprise pour ton anniversaire", "description": "Dans ta boîte mail", "birthday": True},
            {"title": "Accès en avant-première", "description": "Aux collections et retours en stock",
             "birthday": False}]},
        {"fr": ["2 nouveaux avantages fidélité", "tu as atteint 150 points", "Accès en avant-première",
                "renseigner ta date d'anniversaire", "Connecte-toi sur la boutique"],
         "en": ["2 new loyalty perks", "you have reached 150 points", "Accès en avant-première",
                "enter your birthday", "Log in to the shop"]}),
    "voucher_created": (
        {"kind": "discount", "code": "LOY-1A2B3C", "points": 1000, "amount": Decimal("100"), "title": None,
         "minimum_subtotal": Decimal("100"), "ends_on": date(2026, 12, 24)},
        {"fr": ["Ton bon d'achat de 100,00\u00a0€", "1\u202f000 points", "LOY-1A2B3C",
                "dès 100,00\u00a0€ d'achat", "jusqu'au 24 décembre 2026"],
         "en": ["Your €100.00 voucher", "1,000 points", "LOY-1A2B3C", "basket of €100.00 or more",
                "until 24 December 2026"]}),
    "store_credit_issued": (
        {"points": 150, "amount": Decimal("15"), "title": None, "ends_on": date(2027, 3, 1)},
        {"fr": ["15,00\u00a0€ d'avoir", "150 points", "aucun code à saisir", "en ligne ou en boutique",
                "jusqu'au 1er mars 2027"],
         "en": ["€15.00 of store credit", "150 points", "no code to enter", "online or in our shop",
                "until 1 March 2027"]}),
    "points_expiring": (
        {"available": 450, "days_left": 30, "expires_on": date(2026, 1, 9), "months": 12,
         "last_purchase_on": date(2025, 1, 10), "conversion": {"value": Decimal("45.00"), "minimum_points": 100}},
        {"fr": ["expirent dans 30 jours", "450 points", "jusqu'au 9 janvier 2026", "10 janvier 2025",
                "bon d'achat de 45,00\u00a0€"],
         "en": ["expire in 30 days", "450 points", "until 9 January 2026", "10 January 2025",
                "€45.00 voucher"]}),
    "birthday": (
        {"perk": {"title": "Une surprise pour ton anniversaire", "description": "Dans ta boîte mail"}},
        {"fr": ["Joyeux anniversaire", "Une surprise pour ton anniversaire"],
         "en": ["Happy birthday", "Une surprise pour ton anniversaire"]}),
}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_email_states_its_facts_in_both_languages(kind, language):
    """Subject, text and HTML carry the event's facts, the shop's name and why the customer receives it."""
    facts, expected = CASES[kind]
    email = render(kind, language, {**COMMON, **facts})
    whole = f"{email.subject}\n{email.text}"
    for fragment in expected[language]:
        assert fragment in whole, f"{fragment!r} missing from {kind}/{language}:\n{whole}"
    assert "Maison Lune" in email.text and "alice@example.com" in email.text
    assert ("programme de fidélité" if language == "fr" else "loyalty programme") in email.text
    assert f'<html lang="{language}">' in email.html and "Maison Lune" in email.html
    assert "\n\n\n" not in email.text and "{{" not in email.text


def test_the_voucher_code_is_highlighted_in_html_and_text_is_escaped():
    """The code to copy stands alone; a title with markup is shown as text, not interpreted."""
    facts, _ = CASES["voucher_created"]
    email = render("voucher_created", "en", {**COMMON, **facts, "title": "<b>Big</b> & bold"})
    assert ">LOY-1A2B3C</p>" in email.html
    assert "&lt;b&gt;Big&lt;/b&gt; &amp; bold" in email.html and "<b>Big</b>" not in email.html
    assert '"<b>Big</b> & bold"' in email.text


def test_a_missing_fact_is_an_error_not_a_blank():
    """A template never renders with a hole where a fact should be."""
    with pytest.raises(Exception, match="code"):
        render("voucher_created", "fr", {**COMMON, "kind": "discount", "points": 10, "amount": Decimal("1"),
                                         "title": None, "minimum_subtotal": None, "ends_on": date(2026, 1, 1)})


def test_numbers_money_and_dates_follow_the_language():
    """French: 1 250 points, 1 234,50 €, 1er mars; English: 1,250 points, €1,234.50, 1 March."""
    assert format_points(1250, "fr") == "1\u202f250 points" and format_points(1, "en") == "1 point"
    assert format_money(Decimal("1234.5"), "EUR", "fr") == "1\u202f234,50\u00a0€"
    assert format_money(Decimal("1234.5"), "EUR", "en") == "€1,234.50"
    assert format_money(Decimal("7"), "SEK", "en") == "7.00 SEK"
    assert format_day(date(2026, 3, 1), "fr") == "1er mars 2026" and format_day(date(2026, 3, 1), "en") == "1 March 2026"


def test_a_gift_card_email_gives_its_code_without_basket_rules():
    """A 300-point gift card (store A): the code, the amount, where to enter it; no end date, minimum basket
    or one-order rule (those are a discount code's terms)."""
    email = render("voucher_created", "fr", {
        **COMMON, "kind": "gift_card", "code": "LOY-GIFT1", "points": 300, "amount": Decimal("10"),
        "title": "10 € en carte cadeau", "minimum_subtotal": None, "ends_on": date(2027, 3, 1)})
    assert email.subject == "Ta carte cadeau de 10,00\u00a0€"
    assert "Tu as échangé 300 points contre une carte cadeau de 10,00\u00a0€" in email.text
    assert "** LOY-GIFT1 **" in email.text and "champ carte cadeau" in email.text
    assert "code promo" not in email.text and "jusqu'au" not in email.text and "une seule commande" not in email.text
