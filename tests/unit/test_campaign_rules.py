"""Campaigns (loyalty.domain.campaigns, settings in loyalty.domain.settings.campaigns): when one applies to an
order, what it adds, how several stack, and how they are written in the programme document."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from loyalty.domain import earning, points
from loyalty.domain.campaigns import Award, read_record
from loyalty.domain.commands import OrderFacts, OrderLine
from loyalty.domain.errors import ProgrammeError
from loyalty.domain.programme import Programme, template

STORE_A = template("store-a")
SATURDAY = datetime(2026, 6, 6, 10, 0, tzinfo=timezone.utc)
WEEKEND = {"starts_at": "2026-06-06T00:00:00Z", "ends_at": "2026-06-08T00:00:00Z"}
LINEN = 4242


def facts(merchandise="100", lines=None, at=SATURDAY, **changes) -> OrderFacts:
    values = dict(order_id=1, name="#1001", customer_id=7, email="claire@example.com", customer_tags=(),
                  is_b2b=False, source_name="web", test=False, processed_at=at, currency="EUR",
                  merchandise=Decimal(merchandise), gateways=("shopify_payments",),
                  lines=tuple(OrderLine(p, Decimal(a)) for p, a in (lines or [])))
    return OrderFacts(**{**values, **changes})


def campaign(key, kind="multiplier", **fields) -> dict:
    return {"key": key, "title": key.title(), "kind": kind, **WEEKEND, **fields}


def programme(*campaigns, **changes) -> Programme:
    return STORE_A.with_changes(campaigns=list(campaigns), **changes)


def award(prog, order=None, members=frozenset(), non_earning="0", multiplier=1) -> Award:
    return earning.award(order or facts(), Decimal(non_earning), prog, members, multiplier)


def test_without_campaigns_the_award_is_todays():
    order = facts(merchandise="160.90")
    assert award(STORE_A, order) == Award(160)
    assert earning.order_award(order, Decimal("30"), STORE_A) == points.award(Decimal("160.90"), Decimal("30"),
                                                                             Decimal("1"))


def test_a_multiplier_multiplies_an_order_paid_in_its_window():
    assert award(programme(campaign("double", factor="2"))) == Award(200, (("double", 100),))


def test_a_campaign_applies_from_starts_at_included():
    prog = programme(campaign("double", factor="2"))
    start = datetime(2026, 6, 6, tzinfo=timezone.utc)
    assert award(prog, facts(at=start)).points == 200
    assert award(prog, facts(at=start - timedelta(microseconds=1))).points == 100


def test_a_campaign_ends_at_ends_at_excluded():
    prog = programme(campaign("double", factor="2"))
    end = datetime(2026, 6, 8, tzinfo=timezone.utc)
    assert award(prog, facts(at=end - timedelta(microseconds=1))).points == 200
    assert award(prog, facts(at=end)).points == 100


def test_campaign_times_are_read_with_their_offset():
    paris = programme(campaign("double", factor="2", starts_at="2026-06-06T00:00:00+02:00",
                               ends_at="2026-06-08T00:00:00+02:00"))
    assert award(paris, facts(at=datetime(2026, 6, 5, 22, 0, tzinfo=timezone.utc))).points == 200  # Sat 00:00 Paris
    assert award(paris, facts(at=datetime(2026, 6, 7, 22, 0, tzinfo=timezone.utc))).points == 100  # Mon 00:00 Paris


def test_a_campaign_time_without_offset_is_refused():
    with pytest.raises(ProgrammeError, match=r"campaigns\[0\].starts_at: .*offset"):
        programme(campaign("double", factor="2", starts_at="2026-06-06T00:00:00"))


def test_a_bonus_needs_the_minimum_amount_reached():
    prog = programme(campaign("over-100", kind="bonus", bonus=50, minimum_amount="100"))
    assert award(prog, facts(merchandise="100")) == Award(150, (("over-100", 50),))
    assert award(prog, facts(merchandise="99.99")) == Award(99)


def test_a_multiplier_needs_the_minimum_amount_reached():
    prog = programme(campaign("double", factor="2", minimum_amount="150"))
    assert award(prog, facts(merchandise="149.99")).points == 149
    assert award(prog, facts(merchandise="150")).points == 300


def test_a_collection_multiplier_multiplies_only_the_lines_in_its_collection():
    prog = programme(campaign("linen-x3", factor="3", collection_id=LINEN))
    order = facts(merchandise="100", lines=[(1, "40"), (2, "60")])
    assert award(prog, order, members=frozenset({(LINEN, 1)})) == Award(180, (("linen-x3", 80),))


def test_a_collection_campaign_without_a_line_in_its_collection_does_not_apply():
    prog = programme(campaign("linen-x3", factor="3", collection_id=LINEN),
                     campaign("linen-bonus", kind="bonus", bonus=20, collection_id=LINEN))
    order = facts(merchandise="100", lines=[(1, "40"), (None, "60")])
    assert award(prog, order, members=frozenset({(LINEN, 9)})) == Award(100)
    assert award(prog, facts(merchandise="100")) == Award(100)  # no lines known: nothing is in the collection


def test_a_collection_campaigns_minimum_counts_only_its_lines():
    prog = programme(campaign("linen-bonus", kind="bonus", bonus=20, collection_id=LINEN, minimum_amount="50"))
    order = facts(merchandise="100", lines=[(1, "40"), (2, "60")])
    assert award(prog, order, members=frozenset({(LINEN, 1)})).points == 100
    assert award(prog, order, members=frozenset({(LINEN, 1), (LINEN, 2)})).points == 120


def test_on_a_line_the_highest_non_stacking_multiplier_applies():
    prog = programme(campaign("double", factor="2"), campaign("linen-x3", factor="3", collection_id=LINEN))
    order = facts(merchandise="100", lines=[(1, "40"), (2, "60")])
    # line 1: x3 beats x2 (+80, linen's); line 2: x2 (+60, the weekend's)
    assert award(prog, order, members=frozenset({(LINEN, 1)})) == Award(240, (("double", 60), ("linen-x3", 80)))


def test_equal_factors_credit_the_first_listed():
    prog = programme(campaign("first", factor="2"), campaign("second", factor="2"))
    assert award(prog) == Award(200, (("first", 100),))


def test_a_stacking_multiplier_multiplies_on_top_of_the_others():
    prog = programme(campaign("double", factor="2"),
                     campaign("linen-x3", factor="3", collection_id=LINEN, stacks=True))
    order = facts(merchandise="100", lines=[(1, "40"), (2, "60")])
    # line 1: 40 x2 = 80, then x3 = 240 (+160); line 2: 60 x2 = 120
    assert award(prog, order, members=frozenset({(LINEN, 1)})) == Award(360, (("double", 100), ("linen-x3", 160)))


def test_bonuses_add_and_are_never_multiplied():
    prog = programme(campaign("double", factor="2"), campaign("over-100", kind="bonus", bonus=50, minimum_amount="100"),
                     campaign("welcome", kind="bonus", bonus=10))
    assert award(prog) == Award(260, (("double", 100), ("over-100", 50), ("welcome", 10)))


def test_the_customers_multiplier_multiplies_before_campaigns_and_not_bonuses():
    prog = programme(campaign("double", factor="2"), campaign("welcome", kind="bonus", bonus=10))
    assert award(prog, multiplier=Decimal("1.5")) == Award(310, (("double", 150), ("welcome", 10)))
    assert award(STORE_A, multiplier=Decimal("1.5")) == Award(150)


def test_an_excluded_order_gets_no_campaign():
    prog = programme(campaign("welcome", kind="bonus", bonus=10))
    reason, got = earning.order_earning(facts(test=True), Decimal(0), prog, 7)
    assert reason == "test order" and got == Award(0)


def test_an_order_paid_wholly_by_gift_card_gets_no_bonus():
    prog = programme(campaign("welcome", kind="bonus", bonus=10), campaign("double", factor="2"))
    assert award(prog, non_earning="100") == Award(0)


def test_points_are_rounded_once_and_the_parts_add_up_to_the_award():
    prog = programme(campaign("one-and-half", factor="1.5"), campaign("linen", factor="1.25", collection_id=LINEN,
                                                                    stacks=True), rounding="nearest")
    order = facts(merchandise="33.33", lines=[(1, "11.11"), (2, "22.22")])
    got = award(prog, order, members=frozenset({(LINEN, 1)}))
    exact = Decimal("33.33") * Decimal("1.5") + Decimal("11.11") * Decimal("1.5") * Decimal("0.25")
    assert got.points == int((exact + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR"))
    assert 33 + sum(added for _, added in got.campaigns) == got.points


def test_the_record_names_each_campaign_and_what_it_added():
    got = award(programme(campaign("double", factor="2"), campaign("welcome", kind="bonus", bonus=10)))
    assert read_record(got.record) == (("double", 100), ("welcome", 10))
    assert Award(100).record is None and read_record(None) == ()


def test_campaigns_are_set_by_dotted_path_and_read_back():
    prog = STORE_A.with_paths({"campaigns.double": '{"title": "Double", "kind": "multiplier", "factor": "2", '
                                                   '"starts_at": "2026-06-06T00:00:00Z", "ends_at": "2026-06-08T00:00:00Z"}'})
    assert prog.campaigns[0].key == "double" and prog.campaigns[0].factor == Decimal("2")
    assert Programme.from_dict(prog.to_dict()) == prog
    assert prog.with_paths({"campaigns.double.factor": "3"}).campaigns[0].factor == Decimal("3")
    assert prog.with_paths({"campaigns.double": None}).campaigns == ()


@pytest.mark.parametrize("fields, message", [
    (dict(kind="multiplier", factor="1"), "factor: a multiplier needs a factor above 1"),
    (dict(kind="multiplier", factor="2", bonus=5), "bonus: a multiplier adds no bonus"),
    (dict(kind="bonus", bonus=0), "bonus: a bonus needs between 1"),
    (dict(kind="bonus", bonus=5, factor="2"), "factor: a bonus multiplies nothing"),
    (dict(kind="discount"), "kind: must be one of multiplier, bonus"),
    (dict(kind="bonus", bonus=5, ends_at="2026-06-06T00:00:00Z"), "ends_at: must be after starts_at"),
    (dict(kind="bonus", bonus=5, minimum_amount="-1"), "minimum_amount: must be 0 or more"),
])
def test_an_inconsistent_campaign_is_refused_naming_its_field(fields, message):
    with pytest.raises(ProgrammeError, match=message):
        programme({**campaign("c1"), **fields})


def test_two_campaigns_with_one_key_are_refused():
    with pytest.raises(ProgrammeError, match=r"campaigns\[1\].key: 'double' is used twice"):
        programme(campaign("double", factor="2"), campaign("double", factor="3"))


def test_the_templates_have_no_campaign():
    assert template("store-a").campaigns == () and template("store-b").campaigns == ()


def test_order_lines_carry_their_product_from_a_webhook_and_from_graphql():
    """Both translators give each line its product (None for a custom item) and its amount less discounts,
    so collection campaigns see the same lines whichever way an order arrives."""
    from integrations.shopify.translate import order_facts
    from integrations.shopify.translate_graphql import import_order
    from tests.factories import order

    body = order(order_id=9, lines=((30, 2), (10, 1)), products=[77, None], discounts={0: 5})
    assert order_facts(body).lines == (OrderLine(77, Decimal("55.00")), OrderLine(None, Decimal("10.00")))
    money = lambda amount: {"shopMoney": {"amount": amount}}  # noqa: E731
    node = {"id": "gid://shopify/Order/9", "processedAt": "2025-03-01T10:00:00Z", "lineItems": {"nodes": [
        {"quantity": 2, "product": {"id": "gid://shopify/Product/77"}, "originalUnitPriceSet": money("30"),
         "discountAllocations": [{"allocatedAmountSet": money("5")}]},
        {"quantity": 1, "product": None, "originalUnitPriceSet": money("10")}]}}
    assert import_order(node).facts.lines == (OrderLine(77, Decimal("55")), OrderLine(None, Decimal("10")))
