"""The plain text of every email kind, in French and English, reads as written: each `- ` item on a line of
its own (the perk email once ran them together: "...Dans ta boîte mail- Accès en avant-première..."),
paragraphs apart, links whole on their lines, and a footer linking the shop, its loyalty page and the
unsubscribe link. The HTML has the same items as a list and the addresses as links."""
from __future__ import annotations

import re

import pytest

from loyalty.domain import email_texts
from loyalty.domain.emails import UNSUBSCRIBE_MARK, render, with_unsubscribe

COMMON = {"shop_name": "Maison Lune", "to_address": "alice@example.com", "currency": "EUR",
          "shop_url": "https://maison-lune.myshopify.com"}
KINDS = sorted(email_texts.KINDS)


def _email(kind: str, language: str):
    return render(kind, language, {**COMMON, **email_texts.SAMPLES[kind]})


def test_every_kind_has_a_template_and_a_sample_in_both_languages():
    """Each kind the outbox may record (voucher_cancelled, the referral and tier kinds...) renders."""
    assert {"voucher_cancelled", "points_awarded", "birthday_gift", "tier_changed", "referral_friend",
            "referral_reward", "store_credit_issued"} <= set(KINDS)
    assert set(email_texts.SAMPLES) == set(KINDS)


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_plain_text_puts_each_bullet_on_its_own_line(kind, language):
    """No `- ` item glued to the text before it, no run of blank lines, no template syntax left over, no
    trailing spaces; every list starts a paragraph (after a blank line or a line ending in a colon)."""
    email = _email(kind, language)
    body, footer = email.text.split("\n-- \n")
    lines = body.splitlines()
    assert not re.search(r"\S- [A-ZÀ-Ý]", email.text), email.text
    assert "\n\n\n" not in email.text and "{{" not in email.text and "{%" not in email.text
    assert all(line == line.rstrip() for line in lines)
    for number, line in enumerate(lines):
        if line.startswith("- ") and not lines[number - 1].startswith("- "):
            assert lines[number - 1] == "" or lines[number - 1].endswith(":"), f"{kind}/{language}:\n{body}"
    assert email.subject and "\n" not in email.subject and "  " not in email.subject


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_perk_email_lists_each_perk_on_its_own_line(language):
    """Store A's 150-point perks: two items, two lines, and the HTML list has two entries."""
    email = _email("threshold_reached", language)
    separator = " : " if language == "fr" else ": "
    assert f"\n- Une surprise pour ton anniversaire{separator}Dans ta boîte mail\n" in email.text
    assert f"\n- Accès en avant-première{separator}Aux collections et retours en stock\n" in email.text
    assert email.html.count("<li>") == 2


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_email_links_the_shop_the_loyalty_page_and_unsubscribe(kind, language):
    """The footer: the shop's address, its loyalty page (/apps/loyalty), each on a line of its own and a link
    in the HTML, and the place of the customer's signed unsubscribe link."""
    email = _email(kind, language)
    footer = email.text.split("\n-- \n")[1].splitlines()
    assert footer[0].endswith(" https://maison-lune.myshopify.com")
    assert footer[1].endswith(" https://maison-lune.myshopify.com/apps/loyalty")
    assert footer[-1].endswith(f" {UNSUBSCRIBE_MARK}")
    assert "alice@example.com" in email.text
    for url in ("https://maison-lune.myshopify.com", "https://maison-lune.myshopify.com/apps/loyalty"):
        assert f'<a href="{url}"' in email.html
    signed = with_unsubscribe(email.html, "https://app.example/emails/unsubscribe/x")
    assert '<a href="https://app.example/emails/unsubscribe/x"' in signed and UNSUBSCRIBE_MARK not in signed


@pytest.mark.parametrize("language", ["fr", "en"])
def test_voucher_cancelled_says_the_points_came_back(language):
    """Customer service cancelled a 500-point code: the code, that it no longer works, the points back and
    the balance; a gift (0 points) says the balance does not change."""
    email = _email("voucher_cancelled", language)
    assert "LOY-1A2B3C" in email.subject
    expected = {"fr": ["ne peut plus être utilisé", "Les 500 points", "820 points disponibles"],
                "en": ["can no longer be used", "The 500 points", "820 points available"]}[language]
    for fragment in expected:
        assert fragment in email.text
    gift = render("voucher_cancelled", language, {**COMMON, **email_texts.SAMPLES["voucher_cancelled"],
                                                  "points": 0, "title": None})
    assert ("ton solde de points ne change pas" if language == "fr" else "balance does not change") in gift.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_tier_and_referral_emails_read_well(language):
    """The programme issue's kinds: a tier upgrade lists its advantages one per line; the referral emails
    give the friend's code and the referrer's points."""
    tier = _email("tier_changed", language)
    assert tier.subject == ("Bienvenue au niveau Or" if language == "fr" else "Welcome to Or")
    assert tier.text.count("\n- ") == 4 and tier.html.count("<li>") == 4
    friend = _email("referral_friend", language)
    assert "\n** FRIEND-9X8Y **\n" in friend.text and ">FRIEND-9X8Y</p>" in friend.html
    assert "200 points" in _email("referral_reward", language).text
