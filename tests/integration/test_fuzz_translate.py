"""integrations/shopify/translate.py under fuzzing: whatever JSON a webhook carries, the parser returns a command whose
fields the database can store, or raises BadPayload naming the field; never another exception."""
from __future__ import annotations

import copy
import json
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings, strategies as st

from integrations.shopify.translate import BadPayload, to_command
from loyalty.domain.commands import LinkCustomer, RecordOrderCancelled, RecordOrderPaid, RecordRefund
from tests.conftest import SHOP
from tests.factories import customer, order, refund

TOPICS = ("orders/paid", "orders/cancelled", "refunds/create", "customers/create", "customers/update",
          "customers/redact", "customers/data_request", "shop/redact", "app/uninstalled")
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=80),
    st.sampled_from(["", "NaN", "-Infinity", "1e999", "-5.00", "12,50", "0x10", "٣", "EURO", "€", "../../etc",
                     "9" * 40, "2025-13-45T99:00:00", "\x00", "' OR 1=1 --"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
JSON = st.recursive(JUNK, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                     max_size=4), max_leaves=20)


def paths(value, prefix=()):
    """Every path (tuple of keys/indexes) inside a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths(v, prefix + (i,))


def valid_bodies():
    """A body of each topic with the fields Shopify's have (compliance bodies naming the suite's shop)."""
    shop = {"shop_id": 1, "shop_domain": SHOP}
    body = order(lines=((19.99, 2), (5, 1)), customer_id=42, discounts={0: 3})
    body["discount_codes"] = [{"code": "LOY-1", "amount": "1.00"}]
    return {"orders/paid": body, "orders/cancelled": {**body, "cancelled_at": "2025-03-02T10:00:00Z"},
            "refunds/create": refund(body, lines={0: (1, 19.99)}), "customers/create": customer(42, "a@b.co"),
            "customers/update": {**customer(42, "a@b.co"), "email_marketing_consent": {"state": "subscribed"},
                                 "metafields": [{"namespace": "loyalty", "key": "birthday", "value": "1990-05-04"}]},
            "customers/redact": {**shop, "customer": {"id": 42, "email": "a@b.co"}, "orders_to_redact": [7]},
            "customers/data_request": {**shop, "customer": {"id": 42, "email": "a@b.co"}, "orders_requested": [7],
                                       "data_request": {"id": 9}},
            "shop/redact": shop, "app/uninstalled": {"id": 1, "myshopify_domain": SHOP, "domain": "shop.example"}}


@st.composite
def mutated(draw):
    """A realistic body of a topic with one field somewhere replaced by junk, or removed."""
    topic = draw(st.sampled_from(TOPICS))
    body = copy.deepcopy(valid_bodies()[topic])
    for _ in range(draw(st.integers(1, 3))):
        inside = [p for p in paths(body) if p]
        if not inside:
            break
        path = draw(st.sampled_from(inside))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return topic, json.loads(json.dumps(body))  # what the worker reads back: JSON, NaN included


def assert_storable(cmd) -> None:
    """The command's fields fit the columns they go to (types and sizes), so storing cannot fail."""
    facts = getattr(cmd, "facts", None)
    if facts is not None:
        assert isinstance(facts.order_id, int) and -(2**63) < facts.order_id < 2**63
        for value, size in ((facts.name, 64), (facts.source_name, 100), (facts.currency, 3), (facts.email, 320)):
            assert value is None or (isinstance(value, str) and len(value) <= size), (value, size)
        assert isinstance(facts.merchandise, Decimal) and facts.merchandise.is_finite()
        assert abs(facts.merchandise) < Decimal("1e13"), "fits Numeric(18, 4)"
        assert facts.customer_id is None or isinstance(facts.customer_id, int)
    if isinstance(cmd, RecordRefund):
        assert cmd.merchandise.is_finite() and abs(cmd.merchandise) < Decimal("1e13")
    if isinstance(cmd, LinkCustomer):
        assert cmd.email is None or (isinstance(cmd.email, str) and len(cmd.email) <= 320)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
@example(("orders/paid", {"id": 1, "line_items": [1]}))
@example(("orders/paid", {"id": 1, "line_items": [], "payment_gateway_names": 5}))
@example(("orders/paid", {"id": 1, "line_items": [], "discount_codes": 7}))
@example(("orders/paid", {"id": 1, "processed_at": "2025-01-01", "line_items": [], "email": {"a": 1}}))
@example(("orders/paid", {"id": 1, "processed_at": "2025-01-01", "line_items": [], "currency": "BITCOIN"}))
@example(("orders/paid", {"id": 1, "processed_at": "2025-01-01", "name": "#" * 65, "line_items": []}))
@example(("orders/paid", {"id": 1, "processed_at": "2025-01-01",
                          "line_items": [{"price": "999999999999", "quantity": 10**15}]}))
@example(("customers/update", {"id": 1, "email": ["x"]}))
@example(("customers/update", {"id": 1, "metafields": 5}))
@example(("customers/update", {"id": 1, "email_marketing_consent": {"state": ["subscribed"]}}))
def test_a_mutated_body_gives_a_storable_command_or_bad_payload(case):
    """One field replaced by junk (wrong type, huge number, NaN, bad date, nesting) or removed: BadPayload
    with the field's name, or a command that fits the schema."""
    topic, body = case
    try:
        cmd = to_command(topic, body)
    except BadPayload as exc:
        assert str(exc), "the reason names the field"
        return
    assert_storable(cmd)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TOPICS), JSON)
def test_any_json_value_gives_a_command_or_bad_payload(topic, body):
    """Not even an object, or an object of anything: never an exception other than BadPayload."""
    try:
        assert_storable(to_command(topic, json.loads(json.dumps(body))))
    except BadPayload:
        pass


def test_valid_bodies_still_translate():
    """The fuzzing's starting points are accepted as they are, at the door too (their topic's shape)."""
    from integrations.shopify.webhook_bodies import shape_problem

    bodies = valid_bodies()
    assert {topic: shape_problem(topic, body) for topic, body in bodies.items()} == dict.fromkeys(TOPICS)
    assert isinstance(to_command("orders/paid", bodies["orders/paid"]), RecordOrderPaid)
    assert isinstance(to_command("orders/cancelled", bodies["orders/cancelled"]), RecordOrderCancelled)
    assert to_command("refunds/create", bodies["refunds/create"]).merchandise == Decimal("19.99")
    assert to_command("orders/paid", bodies["orders/paid"]).facts.merchandise == Decimal("19.99") * 2 - 3 + 5
