"""Pure rules behind the rebuilt loyalty page: the branding part of the programme, the terms a redemption
commits to (from the seeds' wording), and the signed notice a form redirects with."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from loyalty.defaults import STOREFRONT_NOTICE_TTL_SECONDS
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.offers import terms
from loyalty.domain.programme import Programme, template
from loyalty.domain.settings.branding import Branding
from storefront import notices

NOW = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)


def test_branding_defaults_to_todays_look_and_the_seeds_keep_it():
    """A programme that never sets `branding` (store A, store B) shows the page as before."""
    for name in ("store-a", "store-b"):
        assert template(name).branding == Branding()
    assert Branding().view() == {"primary_color": "#1F1F1F", "accent_color": "#1E7A46", "logo_url": None,
                                 "programme_name": None}


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#GGGGGG", "1E7A46", "#1e7a46;x"])
def test_branding_colours_must_be_rrggbb(colour):
    with pytest.raises(ProgrammeError, match="branding.primary_color"):
        template("store-a").with_paths({"branding.primary_color": colour})


@pytest.mark.parametrize("url", ["http://cdn.example.com/logo.png", "javascript:alert(1)", "//cdn.example.com/l.png",
                                 "https://", 'https://cdn.example.com/"onerror="x'])
def test_branding_logo_must_be_an_https_url(url):
    with pytest.raises(ProgrammeError, match="branding.logo_url"):
        template("store-a").with_paths({"branding.logo_url": url})


def test_branding_is_set_by_dotted_path_and_round_trips():
    prog = template("store-b").with_paths({"branding.primary_color": "#0b3d91", "branding.programme_name": "Le Club",
                                           "branding.logo_url": "https://cdn.example.com/club.png"})
    assert Programme.from_dict(prog.to_dict()) == prog
    assert prog.branding.view()["primary_color"] == "#0B3D91" and prog.branding.texts == {}


def test_branding_wording_overrides_are_small():
    assert Branding(intro=" Bienvenue au club ! ").texts == {"intro": "Bienvenue au club !"}
    with pytest.raises(ProgrammeError, match="branding.intro"):
        template("store-a").with_paths({"branding.intro": "x" * 301})


def test_store_b_conversion_terms_quote_the_seed():
    """store-b-loyalty-en.txt: a voucher valid one month (30 days), from €100.00, excluding discounted
    products, one coupon per order; an unused voucher's points are lost (no re-credit on expiry)."""
    assert terms(template("store-b")) == {"validity_days": 30, "minimum_subtotal": "100.00", "full_price_only": True,
                                          "one_per_order": True, "points_lost_if_unused": True,
                                          "combines_with_discounts": False}


def test_a_gift_card_or_a_donation_has_no_end_date():
    """Store A's 300-point gift card never ends; the donation is given at once: no validity, nothing lost."""
    prog = template("store-a")
    for key in ("carte-cadeau-10", "don-association"):
        found = terms(prog, prog.reward(key))
        assert found["validity_days"] is None and not found["points_lost_if_unused"] and not found["one_per_order"]


def test_a_free_item_is_not_limited_to_full_price_items_but_a_voucher_reward_is():
    prog = template("store-b").with_paths({"rewards.bon-5": {"kind": "voucher", "points": 50, "title": "5 €",
                                                             "amount": "5"},
                                           "rewards.cadeau": {"kind": "free_item", "points": 80, "title": "Gift",
                                                              "amount": "10", "collection_id": 7}})
    assert terms(prog, prog.reward("bon-5"))["full_price_only"] is True
    assert terms(prog, prog.reward("cadeau"))["full_price_only"] is False
    assert terms(prog, prog.reward("cadeau"))["minimum_subtotal"] is None


def test_points_come_back_when_the_programme_recredits_an_expired_voucher():
    prog = template("store-b").with_changes(voucher_expiry_returns_points=True)
    assert terms(prog)["points_lost_if_unused"] is False


def test_a_store_credit_conversion_lasts_the_credits_days():
    prog = template("store-b").with_paths({"store_credit.conversion_target": "store_credit"})
    assert terms(prog)["validity_days"] == 365 and terms(prog)["minimum_subtotal"] is None


def test_a_notice_opens_for_its_shop_and_customer_only():
    sealed = notices.seal("s3cret", "a.myshopify.com", 7, {"voucher": 12}, NOW)
    assert notices.opened(("s3cret",), sealed, "a.myshopify.com", 7, NOW) == {"voucher": 12}
    assert notices.opened(("s3cret",), sealed, "a.myshopify.com", 8, NOW) is None
    assert notices.opened(("s3cret",), sealed, "b.myshopify.com", 7, NOW) is None
    assert notices.opened(("other",), sealed, "a.myshopify.com", 7, NOW) is None
    assert notices.opened(("other", "s3cret"), sealed, "a.myshopify.com", 7, NOW) == {"voucher": 12}  # rotation


def test_a_notice_is_short_lived_and_unforgeable():
    sealed = notices.seal("s3cret", "a.myshopify.com", None, {"error": "error.sign_in"}, NOW)
    later = NOW + timedelta(seconds=STOREFRONT_NOTICE_TTL_SECONDS + 1)
    assert notices.opened(("s3cret",), sealed, "a.myshopify.com", None, later) is None
    body, _, mac = sealed.partition(".")
    forged = notices.seal("guess", "a.myshopify.com", None, {"voucher": 1}, NOW).partition(".")[0] + "." + mac
    assert notices.opened(("s3cret",), forged, "a.myshopify.com", None, NOW) is None
    for bad in ("", "x", "x.y", "." * 3000, None):
        assert notices.opened(("s3cret",), bad, "a.myshopify.com", None, NOW) is None
