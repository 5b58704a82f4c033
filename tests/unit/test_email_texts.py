"""A merchant's own subject and body per kind and language: checked when saved (unknown variables and
filters refused, naming them), rendered in a sandbox, and never leaving a customer without an email."""
from __future__ import annotations

import pytest

from loyalty.domain import email_texts
from loyalty.domain.email_texts import EmailText, EmailTextError, check
from loyalty.domain.emails import builtin_text, render

COMMON = {"shop_name": "Maison Lune", "to_address": "alice@example.com", "currency": "EUR",
          "shop_url": "https://maison-lune.myshopify.com"}


def test_merchant_text_with_unknown_variable_is_refused_naming_it():
    """`{{ pionts }}` is a typo: refused with the field and the variable named."""
    with pytest.raises(EmailTextError) as refused:
        check("points_awarded", EmailText("Bravo {{ shop_name }}", "Tu as {{ pionts|points }}."))
    assert refused.value.field == "body" and "{{ pionts }}" in str(refused.value)
    with pytest.raises(EmailTextError, match=r"subject: unknown variable \{\{ code \}\}"):
        check("points_awarded", EmailText("{{ code }}", "Tu as {{ points|points }}."))


def test_merchant_text_with_unknown_filter_or_bad_syntax_is_refused():
    """A filter the emails do not define, or a block left open, is refused before it is saved."""
    with pytest.raises(EmailTextError, match="body: .*upper_case"):
        check("points_awarded", EmailText("Hi", "{{ title|upper_case }}"))
    with pytest.raises(EmailTextError, match="body: line 1"):
        check("points_awarded", EmailText("Hi", "{% if points %}no end"))
    with pytest.raises(EmailTextError, match="subject: must not be empty"):
        check("points_awarded", EmailText("  ", "x"))
    with pytest.raises(EmailTextError, match="kind"):
        check("no_such_kind", EmailText("a", "b"))


def test_merchant_text_replaces_subject_and_body_and_keeps_the_footer():
    """The merchant's words with the event's facts, the usual footer (links, why, unsubscribe) below."""
    text = check("points_awarded", EmailText("  Merci   {{ shop_name }} ", "Coucou !\n\n{{ title }} : +{{ points|points }}\n"
                                             "- Solde : {{ available|points }}\n- Page : {{ loyalty_url }}"))
    assert text.subject == "Merci {{ shop_name }}"
    email = render("points_awarded", "fr", {**COMMON, **email_texts.SAMPLES["points_awarded"]}, text)
    assert email.subject == "Merci Maison Lune"
    assert email.text.startswith("Coucou !\n\nBienvenue : +50 points\n- Solde : 50 points\n")
    assert "https://maison-lune.myshopify.com/apps/loyalty" in email.text and "\n-- \n" in email.text


def test_merchant_text_that_fails_at_render_falls_back_to_the_built_in_email():
    """A text that passes the check but fails on the event's facts (an index out of range) must not fail
    the event: the built-in email goes out."""
    text = check("threshold_reached", EmailText("{{ perks[5].title }}", "x"))
    email = render("threshold_reached", "fr", {**COMMON, **email_texts.SAMPLES["threshold_reached"]}, text)
    assert email.subject == "2 nouveaux avantages fidélité"


def test_merchant_text_runs_in_a_sandbox():
    """No reaching Python internals from a merchant's text: the sandbox refuses, the built-in email goes out."""
    text = check("points_awarded", EmailText("{{ title.__class__.__mro__ }}", "{{ ''.__class__.__subclasses__() }}"))
    email = render("points_awarded", "en", {**COMMON, **email_texts.SAMPLES["points_awarded"]}, text)
    assert "class" not in email.subject and "subclasses" not in email.text
    assert email.subject == "50 points added to your Maison Lune account"


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", sorted(email_texts.KINDS))
def test_every_built_in_text_passes_the_merchant_check(kind, language):
    """The variable list of each kind is complete: the built-in text, the merchant's starting point, is
    accepted as it is, and rendered as the merchant's text it says what the built-in email says."""
    text = check(kind, builtin_text(kind, language))
    facts = {**COMMON, **email_texts.SAMPLES[kind]}
    assert render(kind, language, facts, text) == render(kind, language, facts)


def test_test_email_goes_to_one_plain_address():
    """The admin's test send names one recipient: no list, no line break smuggled into the headers."""
    from loyalty.domain.email_texts import check_address

    assert check_address("  owner@maison-lune.fr ") == "owner@maison-lune.fr"
    for bad in ("", "owner", "a@b", "a@b.fr, c@d.fr", "a@b.fr\r\nBcc: x@y.fr", "<a@b.fr>"):
        with pytest.raises(EmailTextError, match="to: "):
            check_address(bad)
