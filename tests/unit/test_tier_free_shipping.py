"""A VIP tier's free shipping perk (loyalty.domain.tiers.free_shipping_due, settings
`tiers.levels[].free_shipping`), its emails, one test per rule."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from loyalty.domain import keys
from loyalty.domain.emails import render
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import Programme, template
from loyalty.domain.settings.tiers import FreeShipping, Tier, Tiers
from loyalty.domain.tiers import Membership, free_shipping_due, gift_period_start

UTC = timezone.utc
NOW = datetime(2026, 5, 14, 10, 30, tzinfo=UTC)
ENTERED = datetime(2026, 5, 2, 8, 0, tzinfo=UTC)


def ladder(every: str, enabled: bool = True) -> Tiers:
    return Tiers(enabled=enabled, basis="spent", levels=(
        Tier(key="silver", name="Silver", threshold=Decimal("300")),
        Tier(key="gold", name="Gold", threshold=Decimal("750"), free_shipping=FreeShipping(every=every)),
    ))


def test_free_shipping_is_off_by_default_and_in_both_seed_templates():
    assert Tier(key="t", name="T", threshold=Decimal(1)).free_shipping == FreeShipping(every="", validity_days=30)
    for name in ("store-a", "store-b"):
        assert all(not t.free_shipping.every for t in template(name).tiers.levels)
    assert free_shipping_due(ladder(""), Membership("gold", ENTERED), NOW) is None


def test_a_tier_without_the_perk_or_tiers_off_or_no_tier_give_no_free_shipping():
    assert free_shipping_due(ladder("entry"), Membership("silver", ENTERED), NOW) is None
    assert free_shipping_due(ladder("entry", enabled=False), Membership("gold", ENTERED), NOW) is None
    assert free_shipping_due(ladder("entry"), Membership(), NOW) is None


def test_entry_free_shipping_is_one_code_per_entry_into_the_tier():
    tiers = ladder("entry")
    first = free_shipping_due(tiers, Membership("gold", ENTERED), NOW)
    assert first.since == ENTERED
    assert free_shipping_due(tiers, Membership("gold", ENTERED), NOW + timedelta(days=90)) == first  # no renewal gift
    again = free_shipping_due(tiers, Membership("gold", ENTERED + timedelta(days=200)), NOW + timedelta(days=200))
    assert again.label != first.label  # left and came back: a new entry, a new code


def test_entry_label_reads_a_naive_moment_as_utc():
    """SQLite gives memberships back without a time zone: the same entry gives the same code."""
    tiers = ladder("entry")
    naive = free_shipping_due(tiers, Membership("gold", ENTERED.replace(tzinfo=None)), NOW)
    assert naive == free_shipping_due(tiers, Membership("gold", ENTERED), NOW)


def test_monthly_free_shipping_is_one_code_per_calendar_month_the_first_on_entering():
    tiers = ladder("month")
    may = free_shipping_due(tiers, Membership("gold", ENTERED), NOW)
    assert may.since == datetime(2026, 5, 1, tzinfo=UTC)
    assert free_shipping_due(tiers, Membership("gold", ENTERED), datetime(2026, 5, 31, 23, 59, tzinfo=UTC)) == may
    june = free_shipping_due(tiers, Membership("gold", ENTERED), datetime(2026, 6, 1, tzinfo=UTC))
    assert june.label != may.label and june.since == datetime(2026, 6, 1, tzinfo=UTC)


def test_yearly_free_shipping_is_one_code_per_calendar_year():
    tiers = ladder("year")
    this_year = free_shipping_due(tiers, Membership("gold", ENTERED), NOW)
    assert this_year.since == datetime(2026, 1, 1, tzinfo=UTC)
    assert free_shipping_due(tiers, Membership("gold", ENTERED), datetime(2026, 12, 31, tzinfo=UTC)) == this_year
    assert free_shipping_due(tiers, Membership("gold", ENTERED), datetime(2027, 1, 1, tzinfo=UTC)) != this_year


def test_free_shipping_periods_are_utc_calendar_periods():
    late = datetime(2026, 6, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))  # 31 May, 23:00 UTC
    assert gift_period_start("month", late) == datetime(2026, 5, 1, tzinfo=UTC)
    assert gift_period_start("year", late) == datetime(2026, 1, 1, tzinfo=UTC)


def test_each_free_shipping_code_has_its_own_request_key_per_customer_and_label():
    gift = free_shipping_due(ladder("month"), Membership("gold", ENTERED), NOW)
    assert keys.tier_gift_request(7, gift.label) != keys.tier_gift_request(8, gift.label)
    assert keys.tier_gift_request(7, gift.label) == keys.tier_gift_request(7, gift.label)


@pytest.mark.parametrize("change, error", [
    ({"tiers.levels.gold.free_shipping.every": "week"}, "tiers.levels[2].free_shipping.every"),
    ({"tiers.levels.gold.free_shipping.validity_days": "0"}, "tiers.levels[2].free_shipping.validity_days"),
    ({"tiers.levels.gold.free_shipping.colour": "red"}, "tiers.levels[2].free_shipping.colour: unknown setting"),
])
def test_free_shipping_settings_refused_naming_the_field(change, error):
    with pytest.raises(ProgrammeError, match=error.replace("[", r"\[").replace("]", r"\]")):
        template("vip-tiers").with_paths(change)


def test_free_shipping_set_by_dotted_path_and_pasted_back():
    prog = template("vip-tiers").with_paths({"tiers.levels.silver.free_shipping.every": "entry",
                                             "tiers.levels.silver.free_shipping.validity_days": "14"})
    assert prog.tiers.tier("silver").free_shipping == FreeShipping(every="entry", validity_days=14)
    assert Programme.from_dict(prog.to_dict()) == prog


def test_vip_tiers_template_gives_gold_a_free_shipping_code_every_month():
    tiers = template("vip-tiers").tiers
    assert tiers.tier("gold").free_shipping == FreeShipping(every="month", validity_days=30)
    assert not tiers.tier("silver").free_shipping.every and not tiers.tier("bronze").free_shipping.every


@pytest.mark.parametrize("language, every, expected", [
    ("en", "month", "You receive a free shipping code by email every month while in this tier."),
    ("en", "entry", "You receive a free shipping code by email while in this tier."),
    ("fr", "year", "Tu reçois un code livraison offerte par e-mail chaque année tant que tu es à ce niveau."),
])
def test_tier_changed_email_announces_the_free_shipping_code(language, every, expected):
    email = render("tier_changed", language, {
        "shop_name": "Maison Lune", "to_address": "a@example.com", "tier": "Gold", "previous": "Silver", "up": True,
        "multiplier": Decimal("1.5"), "reason": "spent 800.00", "exclusive": [], "free_shipping": every})
    assert expected in email.text and "\n\n\n" not in email.text
    without = render("tier_changed", language, {
        "shop_name": "M", "to_address": "a@example.com", "tier": "Gold", "previous": None, "up": True,
        "multiplier": Decimal(1), "reason": "", "exclusive": [], "free_shipping": ""})
    assert "free shipping" not in without.text and "livraison" not in without.text


@pytest.mark.parametrize("language, expected, absent", [
    ("en", ["Your free shipping code", "As a Gold member, you receive a free shipping code, on us", "** LOY-SHIP1 **"],
     ["You converted", "re-credit your points"]),
    ("fr", ["Ton code livraison offerte", "En tant que membre Gold, tu reçois un code livraison offerte",
            "** LOY-SHIP1 **"], ["Tu as échangé", "rendrons tes points"]),
])
def test_a_tier_free_shipping_code_email_says_it_is_a_gift_not_a_redemption(language, expected, absent):
    email = render("voucher_created", language, {
        "shop_name": "Maison Lune", "to_address": "a@example.com", "kind": "free_shipping", "code": "LOY-SHIP1",
        "points": 0, "amount": Decimal(0), "minimum_subtotal": None, "title": None, "percentage": None,
        "tier_gift": "Gold", "ends_on": date(2026, 6, 13)})
    whole = f"{email.subject}\n{email.text}"
    assert all(fragment in whole for fragment in expected), whole
    assert not any(fragment in whole for fragment in absent), whole
    assert "\n\n\n" not in email.text
