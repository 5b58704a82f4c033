"""The referral rules (loyalty.domain.referrals, settings in loyalty.domain.settings.referrals), one test
per rule, without a database."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from loyalty.domain import referrals as rules
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import Programme, template
from loyalty.domain.settings.referrals import ReferralSettings

HOME = {"address1": "12 rue des Lilas", "address2": "", "zip": "75011", "country_code": "FR"}
REFERRER = rules.contact(7, "vera@example.com")
KNOWN = [rules.contact(7, "vera@example.com", (rules.address_key(HOME),), (rules.phone_key("+33 6 12 34 56 78"),))]


def friend(**changes) -> rules.Contact:
    values = dict(customer_id=9, email="fran@example.com", addresses=(rules.address_key(
        {"address1": "3 avenue Foch", "zip": "69006", "country_code": "FR"}),), phones=(rules.phone_key("0799887766"),))
    values.update(changes)
    return rules.contact(values["customer_id"], values["email"], values["addresses"], values["phones"])


def test_referrals_are_off_by_default_and_in_both_seed_templates():
    assert Programme().referrals.enabled is False
    assert not template("store-a").referrals.enabled and not template("store-b").referrals.enabled


def test_referral_settings_are_set_by_dotted_path_and_validated_whole():
    prog = Programme().with_paths({"referrals.enabled": "true", "referrals.referrer_points": "250"})
    assert prog.referrals.enabled and prog.referrals.referrer_points == 250
    assert Programme.from_dict(prog.to_dict()) == prog
    with pytest.raises(ProgrammeError, match="referrals.friend_value: a percentage is at most 100"):
        Programme().with_paths({"referrals.friend_discount": "percentage", "referrals.friend_value": "150"})
    with pytest.raises(ProgrammeError, match="referrals.cap_period"):
        Programme().with_paths({"referrals.cap_period": "week"})


def test_gmail_dots_and_plus_tags_are_normalised():
    assert rules.normalise_email(" Fran.Cois+promo@GoogleMail.com ") == "francois@gmail.com"
    assert rules.normalise_email("fran.cois+x@example.com") == "fran.cois@example.com"
    assert rules.normalise_email("no-at-sign") is None


def test_referral_refused_for_the_referrers_own_email_on_the_page():
    refusal = rules.claim_refusal(REFERRER, KNOWN, " Vera@Example.com", False)
    assert refusal.rule == rules.SELF_EMAIL


def test_referral_refused_for_the_referrers_gmail_with_dots_and_a_plus_tag():
    referrer = rules.contact(7, "vera.martin@gmail.com")
    assert rules.claim_refusal(referrer, [], "Vera.Mar.tin+friend@gmail.com", False).rule == rules.SELF_EMAIL


def test_referral_refused_on_the_page_for_a_friend_who_has_ordered():
    assert rules.claim_refusal(REFERRER, KNOWN, "fran@example.com", True).rule == rules.NOT_NEW
    assert rules.claim_refusal(REFERRER, KNOWN, "fran@example.com", False) is None


def test_referral_refused_for_the_same_customer():
    assert rules.order_refusal(REFERRER, KNOWN, friend(customer_id=7), False).rule == rules.SELF_CUSTOMER


def test_referral_refused_for_the_same_normalised_email():
    assert rules.order_refusal(REFERRER, KNOWN, friend(email="VERA+2@example.com"), False).rule == rules.SELF_EMAIL


def test_referral_refused_for_same_shipping_address():
    spaced = {"address1": "12, Rue des lilas", "zip": "75 011", "country_code": "fr"}
    assert rules.order_refusal(REFERRER, KNOWN, friend(addresses=(rules.address_key(spaced),)), False).rule \
        == rules.SAME_ADDRESS


def test_referral_refused_for_same_phone():
    assert rules.order_refusal(REFERRER, KNOWN, friend(phones=(rules.phone_key("06 12 34 56 78"),)), False).rule \
        == rules.SAME_PHONE


def test_referral_refused_when_the_friend_is_not_a_new_customer():
    assert rules.order_refusal(REFERRER, KNOWN, friend(), True).rule == rules.NOT_NEW


def test_a_genuine_friend_is_accepted():
    assert rules.order_refusal(REFERRER, KNOWN, friend(), False) is None


def test_referral_refused_past_the_cap_per_period():
    settings = ReferralSettings(enabled=True, cap_per_period=2, cap_period="month")
    assert rules.cap_refusal(settings, 1, 5) is None
    assert rules.cap_refusal(settings, 2, 5).rule == rules.CAP_PERIOD


def test_referral_refused_past_the_total_cap():
    settings = ReferralSettings(enabled=True, cap_total=3)
    assert rules.cap_refusal(settings, 0, 2) is None
    assert rules.cap_refusal(settings, 0, 3).rule == rules.CAP_TOTAL


def test_cap_periods_are_calendar_months_or_years():
    moment = datetime(2025, 12, 20, 8, tzinfo=timezone.utc)
    assert rules.cap_period_of(ReferralSettings(cap_period="month"), moment) == (
        datetime(2025, 12, 1, tzinfo=timezone.utc), datetime(2026, 1, 1, tzinfo=timezone.utc))
    new_year = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert rules.cap_period_of(ReferralSettings(cap_period="year"), moment)[1] == new_year


def test_referrer_reward_is_less_refunds_and_nothing_if_cancelled_or_fully_refunded():
    assert rules.referrer_reward(100, Decimal("90"), Decimal("0"), False) == 100
    assert rules.referrer_reward(100, Decimal("90"), Decimal("30"), False) == 66
    assert rules.referrer_reward(100, Decimal("90"), Decimal("90"), False) == 0
    assert rules.referrer_reward(100, Decimal("90"), Decimal("0"), True) == 0


def test_a_referral_code_names_its_customer_in_its_shop_only():
    code = rules.code_for(3, 1234)
    assert rules.customer_of(3, code) == 1234 and rules.customer_of(3, code.lower()) == 1234
    assert rules.customer_of(4, code) is None
    assert rules.customer_of(3, code[:-1] + ("0" if code[-1] != "0" else "1")) is None


def test_only_digests_of_addresses_and_phones_are_kept():
    contact = KNOWN[0]
    assert all(len(d) == 32 and "Lilas" not in d for d in contact.addresses | contact.phones)
