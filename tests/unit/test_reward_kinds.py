"""The new reward kinds and the full-price collection, as rules (no database, no Shopify)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from loyalty.domain.errors import ProgrammeError, VoucherRefused
from loyalty.domain.offers import (PickedItem, conversion_offer, reward_offer, uses_voucher_collection,
                                   voucher_collection)
from loyalty.domain.programme import Programme, Reward, template

STORE_B = template("store-b")
PICK = Reward(key="pick", kind="free_item", points=200, title="A free item", collection_id=5001,
              customer_picks=True, amount=Decimal("40"))
PROG = Programme(rewards=(
    Reward(key="ship", kind="free_shipping", points=100, title="Free shipping"),
    Reward(key="pct", kind="percentage", points=150, title="15 %", percentage=Decimal("15")),
    PICK,
), voucher_minimum_subtotal=Decimal("100"), voucher_collection_id=2001)


def item(price="35.00", in_selection=True):
    return PickedItem(variant_id=6012, title="Briefs - M", price=Decimal(price), in_selection=in_selection)


def test_free_shipping_reward_makes_a_free_shipping_code_worth_nothing():
    offer = reward_offer(PROG, "ship")
    assert (offer.kind, offer.amount, offer.points, offer.minimum_subtotal) == ("free_shipping", 0, 100, None)


def test_percentage_reward_keeps_the_voucher_terms_and_its_percentage():
    offer = reward_offer(PROG, "pct")
    assert offer.percentage == Decimal("15") and offer.minimum_subtotal == Decimal("100")
    assert offer.collection_id == 2001 and offer.kind == "discount"


def test_picked_free_item_is_a_code_for_that_variant_worth_its_price():
    offer = reward_offer(PROG, "pick", picked=item())
    assert (offer.variant_id, offer.amount, offer.collection_id, offer.minimum_subtotal) == (6012, 35, None, None)
    assert offer.title == "A free item: Briefs - M"


def test_picked_free_item_must_come_from_the_selection():
    with pytest.raises(VoucherRefused, match="not part of the selection"):
        reward_offer(PROG, "pick", picked=item(in_selection=False))


def test_picked_free_item_above_the_rewards_cap_is_refused():
    with pytest.raises(VoucherRefused, match="costs more"):
        reward_offer(PROG, "pick", picked=item("40.01"))
    assert reward_offer(PROG, "pick", picked=item("40.00")).amount == 40


def test_picked_free_item_without_a_pick_is_refused():
    with pytest.raises(VoucherRefused) as refused:
        reward_offer(PROG, "pick")
    assert refused.value.reason == "pick_required"


def test_picked_free_item_with_no_cap_takes_any_price():
    uncapped = Programme(rewards=(Reward(key="pick", kind="free_item", points=200, title="Any item",
                                         collection_id=5001, customer_picks=True),))
    assert reward_offer(uncapped, "pick", picked=item("500")).amount == 500


def test_full_price_collection_replaces_the_voucher_collection_only_when_asked():
    assert voucher_collection(STORE_B, 9001) == 2001  # store B as today: the placeholder
    automatic = STORE_B.with_paths({"full_price.automatic": "true"})
    assert voucher_collection(automatic, 9001) == 9001
    assert conversion_offer(automatic, 200, 9001).collection_id == 9001
    assert conversion_offer(STORE_B, 200, 9001).collection_id == 2001


def test_full_price_collection_is_needed_only_by_codes_on_the_voucher_collection():
    assert uses_voucher_collection(STORE_B, None)  # a conversion
    assert uses_voucher_collection(PROG, "pct") and not uses_voucher_collection(PROG, "ship")
    assert not uses_voucher_collection(PROG, "pick")


def test_store_b_template_leaves_the_full_price_collection_off():
    assert STORE_B.full_price.automatic is False and template("store-a").full_price.automatic is False


@pytest.mark.parametrize("fields, message", [
    ({"kind": "percentage", "percentage": "0"}, "percentage"),
    ({"kind": "percentage", "percentage": "101"}, "percentage"),
    ({"kind": "percentage", "percentage": "10", "amount": "5"}, "amount"),
    ({"kind": "free_shipping", "amount": "5"}, "amount"),
    ({"kind": "voucher", "amount": "5", "percentage": "10"}, "percentage"),
    ({"kind": "voucher", "amount": "5", "customer_picks": True}, "customer_picks"),
    ({"kind": "free_item", "collection_id": 1, "customer_picks": True, "amount": "-1"}, "amount"),
])
def test_reward_kinds_refuse_inconsistent_settings(fields, message):
    with pytest.raises(ProgrammeError, match=message):
        Programme.from_dict({"rewards": [{"key": "r", "points": 10, "title": "R", **fields}]})


def test_full_price_setting_is_a_dotted_path_and_round_trips():
    prog = STORE_B.with_paths({"full_price.automatic": "true", "full_price.title": "Plein tarif"})
    assert Programme.from_dict(prog.to_dict()) == prog and prog.full_price.title == "Plein tarif"
    with pytest.raises(ProgrammeError, match="full_price.title"):
        STORE_B.with_paths({"full_price.title": " "})
