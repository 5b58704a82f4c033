"""The Shopify emulator, driven by the app's real AdminClient through an in-process WSGI transport."""
import json
import threading

import graphql
import pytest

from integrations.shopify.client import AdminClient
from integrations.shopify.collections import fetch_collection_products
from integrations.shopify.documents import COLLECTION_PRODUCTS, ORDER_TRANSACTIONS, ORDERS_TRANSACTIONS, SHOP_IDENTITY
from tools.shopify_emulator import Emulator
from tools.shopify_emulator.app import INVALID_TOKEN
from tools.shopify_emulator.bucket import LeakyBucket
from tools.shopify_emulator.cost import requested_cost
from tools.shopify_emulator.schema import FALLBACK_SDL, fallback_schema
from integrations.shopify.errors import ShopifyGraphQLError, ShopifyThrottled, ShopifyUnauthorized
from tests.factories import order
from tests.shopify_schema import load_admin_schema
from tools.wsgi_adapter import wsgi_session

SHOP = "demo.myshopify.com"
TOKEN = "demo-token"
BASE = "http://shopify.test"
GRAPHQL_URL = f"{BASE}/{SHOP}/admin/api/2025-10/graphql.json"
CUSTOMER = "gid://shopify/Customer/7"

DISCOUNT_CREATE = """
mutation DiscountCreate($input: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $input) {
    codeDiscountNode {
      id
      codeDiscount { ... on DiscountCodeBasic { title status endsAt codes(first: 1) { nodes { code } } } }
    }
    userErrors { field message code }
  }
}
"""
DISCOUNT_DEACTIVATE = """
mutation DiscountDeactivate($id: ID!) {
  discountCodeDeactivate(id: $id) {
    codeDiscountNode { id codeDiscount { ... on DiscountCodeBasic { status endsAt } } }
    userErrors { field message code }
  }
}
"""
DISCOUNT_BY_CODE = """
query DiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) { id codeDiscount { ... on DiscountCodeBasic { title status } } }
}
"""
METAFIELDS_SET = """
mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { namespace key value compareDigest }
    userErrors { field message code }
  }
}
"""
CUSTOMER_POINTS = """
query CustomerPoints($id: ID!) {
  customer(id: $id) { id email tags metafield(namespace: "loyalty", key: "points") { value } }
}
"""
TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { field message } } }
"""
TAGS_REMOVE = """
mutation TagsRemove($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { userErrors { field message } } }
"""
GIFT_CARD_CREATE = """
mutation GiftCardCreate($input: GiftCardCreateInput!) {
  giftCardCreate(input: $input) {
    giftCard { id maskedCode initialValue { amount currencyCode } }
    giftCardCode
    userErrors { field message code }
  }
}
"""
# Six orders' worth of 50 transactions: 6 x (1 + 50 + 50 + 50) = 906 points requested and spent.
_BURST_ALIAS = " o{i}: order(id: $id) {{ transactions(first: 50) {{ amountSet {{ shopMoney {{ amount }} }} }} }}"
BURST = "query Burst($id: ID!) {" + "".join(_BURST_ALIAS.format(i=i) for i in range(6)) + " }"


class FakeClock:
    """Epoch seconds that move only when told (the client's sleep advances it)."""

    def __init__(self, start=1_750_000_000.0):
        """Start at 2025-06-15T15:06:40Z."""
        self.now = start
        self.sleeps = []

    def __call__(self):
        """The current time."""
        return self.now

    def advance(self, seconds):
        """Let `seconds` pass; used as the client's sleep, so its waits are recorded."""
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    """A fake clock shared by the emulator and the client."""
    return FakeClock()


@pytest.fixture
def emulator(clock):
    """An emulator with the demo shop, customer 7 and order 1001 (a gift card and a card payment)."""
    emulator = Emulator(clock=clock)
    emulator.add_shop(SHOP, TOKEN)
    emulator.add_customer(SHOP, 7, "ada@example.com", tags=("vip",))
    emulator.add_order(SHOP, 1001, [
        {"gateway": "gift_card", "amount": "10.00"},
        {"gateway": "shopify_payments", "amount": "25.50", "kind": "sale", "status": "success"},
    ], customer_id=7)
    return emulator


@pytest.fixture
def session(emulator):
    """A requests session served by the emulator's WSGI app, no sockets."""
    return wsgi_session(emulator.app, BASE)


def admin_client(session, clock, token=TOKEN, **options):
    """The app's real client pointed at the emulator; its sleeps advance the fake clock."""
    return AdminClient(
        SHOP, token, admin_url_template=BASE + "/{shop}", session=session, sleep=clock.advance, **options
    )


@pytest.fixture
def client(session, clock):
    """An AdminClient for the demo shop."""
    return admin_client(session, clock)


def post(session, query, variables=None, token=TOKEN):
    """A raw GraphQL POST, for looking at the whole response body."""
    return session.post(GRAPHQL_URL, json={"query": query, "variables": variables or {}},
                        headers={"X-Shopify-Access-Token": token})


def discount_input(code="LOYAL-500", **overrides):
    """The input the app sends for a reward: a fixed amount, one customer, a minimum subtotal."""
    return {
        "title": "Loyalty reward: 500 points", "code": code,
        "startsAt": "2025-06-15T00:00:00Z", "endsAt": "2025-09-15T00:00:00Z",
        "customerGets": {"value": {"discountAmount": {"amount": "5.00", "appliesOnEachItem": False}},
                         "items": {"all": True}},
        "context": {"customers": {"add": [CUSTOMER]}},
        "minimumRequirement": {"subtotal": {"greaterThanOrEqualToSubtotal": "20.00"}},
        "usageLimit": 1, "appliesOncePerCustomer": True,
        "combinesWith": {"orderDiscounts": False, "productDiscounts": True, "shippingDiscounts": True},
        **overrides,
    }


def test_order_transactions_are_served_with_their_cost(client, session):
    """ORDER_TRANSACTIONS returns the seeded transactions; the response reports requested and actual cost."""
    data = client.execute(ORDER_TRANSACTIONS, {"id": "gid://shopify/Order/1001"})
    transactions = data["order"]["transactions"]
    assert [(t["gateway"], t["kind"], t["status"]) for t in transactions] == [
        ("gift_card", "SALE", "SUCCESS"), ("shopify_payments", "SALE", "SUCCESS")]
    assert transactions[1]["amountSet"]["shopMoney"] == {"amount": "25.5", "currencyCode": "USD"}
    cost = post(session, ORDER_TRANSACTIONS, {"id": "gid://shopify/Order/1001"}).json()["extensions"]["cost"]
    # order 1 + transactions(first: 100) x (itself, amountSet, shopMoney) = 301; 1 + 2 x 3 objects served
    assert cost["requestedQueryCost"] == 301 and cost["actualQueryCost"] == 7
    assert cost["throttleStatus"] == {"maximumAvailable": 2000.0, "currentlyAvailable": 1986, "restoreRate": 100.0}


def test_nodes_serve_several_orders_in_the_order_asked_and_cost_per_id(client, session):
    """ORDERS_TRANSACTIONS (nodes(ids:)): each id's order in the order asked, null for an unknown one; the
    requested cost counts every id (1 + 20 x 3 points each), as Shopify's does."""
    ids = ["gid://shopify/Order/999", "gid://shopify/Order/1001"]
    nodes = client.execute(ORDERS_TRANSACTIONS, {"ids": ids})["nodes"]
    assert nodes[0] is None and nodes[1]["id"] == "gid://shopify/Order/1001"
    assert [t["gateway"] for t in nodes[1]["transactions"]] == ["gift_card", "shopify_payments"]
    cost = post(session, ORDERS_TRANSACTIONS, {"ids": ids * 3}).json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 6 * 61


def test_a_collections_products_are_served_page_by_page(client, emulator):
    """COLLECTION_PRODUCTS: the collection's product ids, 250 a page with a cursor to the next; read whole by
    the app's fetch_collection_products; an unknown collection is null (fetched as None)."""
    emulator.add_collection(SHOP, 42, range(1, 302))
    first = client.execute(COLLECTION_PRODUCTS, {"id": "gid://shopify/Collection/42", "after": None})["collection"]
    assert len(first["products"]["nodes"]) == 250 and first["products"]["pageInfo"]["hasNextPage"] is True
    assert first["products"]["nodes"][0] == {"id": "gid://shopify/Product/1"}
    assert fetch_collection_products(client, 42) == list(range(1, 302))
    assert client.execute(COLLECTION_PRODUCTS, {"id": "gid://shopify/Collection/9", "after": None}) == {"collection": None}
    assert fetch_collection_products(client, 9) is None


def test_a_collection_page_larger_than_250_is_refused(session, emulator):
    """Shopify limits a page to 250: a larger `first` is an error, not a longer page."""
    emulator.add_collection(SHOP, 42, [1])
    body = post(session, "query Big { collection(id: \"gid://shopify/Collection/42\") { products(first: 251) "
                         "{ nodes { id } } } }").json()
    assert "250" in body["errors"][0]["message"]


def test_a_line_item_names_its_product(emulator, client):
    """LineItem.product: the product a REST order's line sold (null for a custom item)."""
    emulator.add_rest_order(SHOP, order(order_id=555, lines=((10, 1), (5, 1)), products=[77, None]))
    data = client.execute("query Lines { order(id: \"gid://shopify/Order/555\") { lineItems(first: 5) "
                          "{ nodes { product { id } } } } }")
    assert [n["product"] for n in data["order"]["lineItems"]["nodes"]] == [{"id": "gid://shopify/Product/77"}, None]


def test_unknown_order_is_null(client):
    """An order the shop does not have comes back null, not as an error."""
    assert client.execute(ORDER_TRANSACTIONS, {"id": "gid://shopify/Order/999"}) == {"order": None}


def test_discount_code_create_duplicate_and_deactivate(client, emulator):
    """A code is created ACTIVE, a second one with the same code (any case) is refused, deactivation expires it."""
    created = client.execute(DISCOUNT_CREATE, {"input": discount_input()})["discountCodeBasicCreate"]
    assert created["userErrors"] == []
    node = created["codeDiscountNode"]
    assert node["codeDiscount"]["codes"]["nodes"] == [{"code": "LOYAL-500"}]
    assert node["codeDiscount"]["status"] == "ACTIVE" and node["codeDiscount"]["endsAt"] == "2025-09-15T00:00:00Z"

    duplicate = client.execute(DISCOUNT_CREATE, {"input": discount_input("loyal-500")})["discountCodeBasicCreate"]
    assert duplicate["codeDiscountNode"] is None
    assert duplicate["userErrors"] == [{
        "field": ["basicCodeDiscount", "code"],
        "message": "Code must be unique. Please try a different code.",
        "code": "TAKEN",
    }]

    deactivated = client.execute(DISCOUNT_DEACTIVATE, {"id": node["id"]})["discountCodeDeactivate"]
    assert deactivated["userErrors"] == [] and deactivated["codeDiscountNode"]["codeDiscount"]["status"] == "EXPIRED"
    found = client.execute(DISCOUNT_BY_CODE, {"code": "Loyal-500"})["codeDiscountNodeByCode"]
    assert found == {"id": node["id"], "codeDiscount": {"title": "Loyalty reward: 500 points", "status": "EXPIRED"}}

    [stored] = emulator.discount_codes(SHOP)
    assert stored["amount"] == "5.0" and stored["minimum_subtotal"] == "20.0" and stored["usage_limit"] == 1
    assert stored["customer_ids"] == [7] and stored["combines_with"]["shippingDiscounts"] is True
    assert stored["status"] == "EXPIRED" and stored["deactivated"] is True


def test_deactivating_an_unknown_discount_is_a_user_error(client):
    """An id the shop does not have gets a userError on `id`."""
    payload = client.execute(DISCOUNT_DEACTIVATE, {"id": "gid://shopify/DiscountCodeNode/42"})["discountCodeDeactivate"]
    assert payload["userErrors"][0]["field"] == ["id"] and payload["codeDiscountNode"] is None


def test_racing_creates_of_one_code_let_exactly_one_win(session, clock):
    """Two threads creating the same code at once: one discount, one TAKEN userError."""
    barrier, results = threading.Barrier(2), []

    def create():
        """Create LOYAL-RACE once both threads are ready."""
        barrier.wait()
        data = admin_client(session, clock).execute(DISCOUNT_CREATE, {"input": discount_input("LOYAL-RACE")})
        results.append(data["discountCodeBasicCreate"]["userErrors"])

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(errors) for errors in results) == [0, 1]


def test_metafields_set_and_read_back(client, emulator):
    """metafieldsSet stores values that customer(id).metafield reads; a stale compareDigest is refused."""
    entry = {"ownerId": CUSTOMER, "namespace": "loyalty", "key": "points", "type": "number_integer", "value": "120"}
    payload = client.execute(METAFIELDS_SET, {"metafields": [entry]})["metafieldsSet"]
    assert payload["userErrors"] == [] and payload["metafields"][0]["value"] == "120"
    digest = payload["metafields"][0]["compareDigest"]
    customer = client.execute(CUSTOMER_POINTS, {"id": CUSTOMER})["customer"]
    assert customer == {"id": CUSTOMER, "email": "ada@example.com", "tags": ["vip"], "metafield": {"value": "120"}}

    client.execute(METAFIELDS_SET, {"metafields": [{**entry, "value": "150", "compareDigest": digest}]})
    stale = client.execute(METAFIELDS_SET, {"metafields": [{**entry, "value": "999", "compareDigest": digest}]})
    assert stale["metafieldsSet"]["userErrors"][0]["code"] == "STALE_OBJECT"
    assert emulator.metafields(SHOP, 7) == {"loyalty.points": {"type": "number_integer", "value": "150"}}


def test_metafields_set_refuses_more_than_25_and_sets_none(client, emulator):
    """26 metafields in one call: a userError, and nothing is written (the mutation is atomic)."""
    entries = [{"ownerId": CUSTOMER, "namespace": "loyalty", "key": f"k{i}", "type": "number_integer", "value": "1"}
               for i in range(26)]
    payload = client.execute(METAFIELDS_SET, {"metafields": entries})["metafieldsSet"]
    assert payload["metafields"] is None
    assert payload["userErrors"][0]["field"] == ["metafields"] and "25" in payload["userErrors"][0]["message"]
    bad_value = [entries[0], {**entries[1], "value": "ten"}]
    refused = client.execute(METAFIELDS_SET, {"metafields": bad_value})["metafieldsSet"]
    assert refused["userErrors"][0]["code"] == "INVALID_VALUE" and refused["userErrors"][0]["field"][1] == "1"
    assert emulator.metafields(SHOP, 7) == {}


def test_metafields_set_with_a_missing_owner_writes_nothing_and_names_its_entry(client, emulator):
    """As Shopify: one owner that does not exist fails the whole call (atomic), and the userError's field
    points at that entry (`metafields.1.ownerId`), which is what lets the write-back set only it aside."""
    good = {"ownerId": CUSTOMER, "namespace": "loyalty", "key": "available", "type": "number_integer", "value": "5"}
    ghost = {**good, "ownerId": "gid://shopify/Customer/404"}
    payload = client.execute(METAFIELDS_SET, {"metafields": [good, ghost]})["metafieldsSet"]
    assert payload["metafields"] is None
    assert [(e["field"], e["message"]) for e in payload["userErrors"]] == [
        (["metafields", "1", "ownerId"], "Owner does not exist.")]
    assert emulator.metafields(SHOP, 7) == {}


def test_metafields_set_on_the_shop_itself_and_atomic_with_customers(client, emulator):
    """A JSON metafield owned by the shop (`gid://shopify/Shop/<its id>`, the theme block's
    `loyalty.programme`) is stored on the shop, with ownerType SHOP; another shop's id is an owner that does
    not exist, named by its entry, and the whole call (the customer's entry too) writes nothing; a value that
    is not JSON is refused."""
    from integrations.shopify.metafields import set_metafields, shop_json_metafield

    shop_id = emulator.shop(SHOP).id
    summary = {"version": 1, "ladder": None, "conversion": {"cents": 10, "per_points": 1}}
    customer = {"ownerId": CUSTOMER, "namespace": "loyalty", "key": "available", "type": "number_integer",
                "value": "5"}
    elsewhere = shop_json_metafield(shop_id + 1, "loyalty", "programme", summary)
    refused = client.execute(METAFIELDS_SET, {"metafields": [customer, elsewhere]})["metafieldsSet"]
    assert refused["metafields"] is None
    assert [(e["field"], e["message"]) for e in refused["userErrors"]] == [
        (["metafields", "1", "ownerId"], "Owner does not exist.")]
    not_json = {**shop_json_metafield(shop_id, "loyalty", "programme", summary), "value": "{not json"}
    bad = client.execute(METAFIELDS_SET, {"metafields": [not_json]})["metafieldsSet"]
    assert bad["userErrors"][0]["code"] == "INVALID_VALUE"
    assert emulator.shop_metafields(SHOP) == {} and emulator.metafields(SHOP, 7) == {}

    assert set_metafields(client, [customer, shop_json_metafield(shop_id, "loyalty", "programme", summary)]) == 1
    stored = emulator.shop_metafields(SHOP)["loyalty.programme"]
    assert stored["type"] == "json" and json.loads(stored["value"]) == summary
    assert emulator.metafields(SHOP, 7) == {"loyalty.available": {"type": "number_integer", "value": "5"}}
    if not emulator.schema.validates:
        return  # the fallback schema has only the fields the app asks for, and the app never asks ownerType
    owner = client.execute(METAFIELDS_SET.replace("compareDigest }", "compareDigest ownerType }"),
                           {"metafields": [shop_json_metafield(shop_id, "loyalty", "programme", summary)]})
    assert owner["metafieldsSet"]["metafields"][0]["ownerType"] == "SHOP"


def test_tags_add_and_remove(client, emulator):
    """tagsAdd accepts lists and comma-separated strings; tagsRemove takes tags away."""
    client.execute(TAGS_ADD, {"id": CUSTOMER, "tags": ["loyalty-gold", "beta, early"]})
    assert emulator.tags(SHOP, 7) == ["beta", "early", "loyalty-gold", "vip"]
    client.execute(TAGS_REMOVE, {"id": CUSTOMER, "tags": ["vip", "beta"]})
    assert emulator.tags(SHOP, 7) == ["early", "loyalty-gold"]
    missing = client.execute(TAGS_ADD, {"id": "gid://shopify/Customer/404", "tags": ["x"]})
    assert missing["tagsAdd"]["userErrors"][0]["field"] == ["id"]


def test_gift_card_create(client, emulator):
    """giftCardCreate returns the code once, masked in the card; the card is stored for the customer."""
    payload = client.execute(GIFT_CARD_CREATE, {"input": {"initialValue": "15.00", "customerId": CUSTOMER,
                                                          "note": "loyalty reward"}})["giftCardCreate"]
    assert payload["userErrors"] == []
    code, card = payload["giftCardCode"], payload["giftCard"]
    assert len(code) == 16 and card["maskedCode"].endswith(code[-4:]) and code not in card["maskedCode"]
    assert card["initialValue"] == {"amount": "15.0", "currencyCode": "USD"}
    assert emulator.gift_cards(SHOP) == [{"id": card["id"], "code": code, "initial_value": "15.0", "currency": "USD",
                                          "customer_id": 7, "note": "loyalty reward", "expires_on": None}]
    refused = client.execute(GIFT_CARD_CREATE, {"input": {"initialValue": "0", "code": "short"}})["giftCardCreate"]
    assert {e["code"] for e in refused["userErrors"]} == {"GREATER_THAN", "TOO_SHORT"}


def test_wrong_token_is_401(session, clock):
    """A token other than the shop's is refused with HTTP 401, which the client raises at once."""
    with pytest.raises(ShopifyUnauthorized) as caught:
        admin_client(session, clock, token="stolen").execute(ORDER_TRANSACTIONS, {"id": "gid://shopify/Order/1001"})
    assert caught.value.status == 401 and clock.sleeps == []
    assert post(session, ORDER_TRANSACTIONS, token="").status_code == 401


def test_invalid_document_is_refused_like_shopify(emulator, client, session):
    """A document that does not validate against Shopify's schema: GRAPHQL_VALIDATION_FAILED, nothing charged."""
    if not emulator.schema.validates:
        pytest.skip("Shopify's Admin schema is not available: the emulator runs unvalidated")
    broken = "query Broken($id: ID!) { order(id: $id) { transactionz { kind } } }"
    with pytest.raises(ShopifyGraphQLError) as caught:
        client.execute(broken, {"id": "gid://shopify/Order/1001"})
    [error] = caught.value.errors
    assert "transactionz" in error["message"] and error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert post(session, broken).json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000


def test_unsupported_root_field_says_the_emulator_lacks_it(emulator, client):
    """A valid operation the emulator does not implement fails with a message naming the field."""
    if not emulator.schema.validates:
        pytest.skip("the fallback schema lacks `locations`, and unvalidated execution skips unknown fields")
    with pytest.raises(ShopifyGraphQLError, match="emulator does not implement QueryRoot.locations"):
        client.execute("query Locations { locations(first: 1) { nodes { id } } }")


def test_the_shop_query_answers_the_shops_numeric_id(emulator, client):
    """`shop { id }` answers the shop's global id; each shop has its own number, stable for its domain
    (a real shop keeps its id), or the one it was added with."""
    from integrations.shopify.shop import fetch_shop_id

    shop_id = emulator.shop(SHOP).id
    assert client.execute("query ShopIdentity { shop { id } }") == {"shop": {"id": f"gid://shopify/Shop/{shop_id}"}}
    assert fetch_shop_id(client) == shop_id
    again, other = Emulator(), Emulator()
    again.add_shop(SHOP)
    other.add_shop("other.myshopify.com")
    other.add_shop("chosen.myshopify.com", shop_id=548380009)
    assert again.shop(SHOP).id == shop_id != other.shop("other.myshopify.com").id
    assert other.shop("chosen.myshopify.com").id == 548380009


def test_burst_beyond_the_bucket_is_throttled_and_recovers_at_the_restore_rate(emulator, session, clock):
    """906-point queries: two fit in 2000 points, the third is THROTTLED (HTTP 200) until 7.18 s have restored 718."""
    emulator.add_order(SHOP, 1002, [{"gateway": "manual", "amount": "1.00"}] * 50)
    variables = {"id": "gid://shopify/Order/1002"}
    costs = [post(session, BURST, variables).json()["extensions"]["cost"] for _ in range(2)]
    assert [(c["requestedQueryCost"], c["actualQueryCost"]) for c in costs] == [(906, 906), (906, 906)]
    throttled = post(session, BURST, variables)
    assert throttled.status_code == 200
    body = throttled.json()
    assert body["errors"] == [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}]
    assert "data" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 906
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 188
    clock.now += 7.0
    assert post(session, BURST, variables).json()["errors"][0]["extensions"]["code"] == "THROTTLED"  # 888 < 906
    clock.now += 0.2
    assert "errors" not in post(session, BURST, variables).json()
    stats = emulator.stats(SHOP)
    assert (stats["served"], stats["throttled"], stats["actual_cost"]) == (3, 2, 3 * 906)
    assert stats["utilisation"] == pytest.approx(3 * 906 / (2000 + 100 * 7.2))


def test_the_client_waits_out_a_throttle_for_exactly_the_refill_time(emulator, client, clock):
    """The real client, told THROTTLED, sleeps (requested - available) / restoreRate and then succeeds."""
    emulator.add_order(SHOP, 1002, [{"gateway": "manual", "amount": "1.00"}] * 50)
    for _ in range(3):
        client.execute(BURST, {"id": "gid://shopify/Order/1002"})
    assert clock.sleeps == [pytest.approx(7.18)]
    assert emulator.stats(SHOP)["throttled"] == 1


def test_a_query_dearer_than_the_single_query_limit_is_refused(client):
    """Requested cost above 1000 is MAX_COST_EXCEEDED, whatever the bucket holds; retrying cannot help."""
    dear = "query Dear($id: ID!) { order(id: $id) { transactions(first: 400) { amountSet { shopMoney { amount } } } } }"
    with pytest.raises(ShopifyGraphQLError) as caught:
        client.execute(dear, {"id": "gid://shopify/Order/1001"})
    assert caught.value.errors[0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_persistent_throttling_raises_after_max_attempts(clock):
    """With a bucket too small to ever refill in time the client gives up with ShopifyThrottled."""
    tiny = Emulator(clock=clock, maximum_available=100, restore_rate=0)
    tiny.add_shop(SHOP, TOKEN)
    client = admin_client(wsgi_session(tiny.app, BASE), clock, max_attempts=2)
    with pytest.raises(ShopifyThrottled):
        client.execute(ORDER_TRANSACTIONS, {"id": "gid://shopify/Order/1"})


def test_leaky_bucket_refills_up_to_its_maximum_and_refunds_unused_cost(clock):
    """Spending is refused whole when short; settle() refunds requested minus actual; refill caps at maximum."""
    bucket = LeakyBucket(clock, maximum=100, restore_rate=10)
    assert bucket.try_spend(80) and not bucket.try_spend(30)
    bucket.settle(80, 30)
    assert bucket.status()["currentlyAvailable"] == 70
    clock.now += 60
    assert bucket.status()["currentlyAvailable"] == 100


def test_requested_cost_follows_page_sizes_fragments_and_a_flat_mutation_cost():
    """first/last multiply what lies beneath (variables and their defaults too); fragments count; mutations cost 10."""
    schema = fallback_schema().schema
    query = graphql.parse(
        "query Q($n: Int = 3) { order(id: 1) { ...T } }"
        " fragment T on Order { transactions(first: $n) { amountSet { shopMoney { amount } } } }"
    )
    assert requested_cost(schema, query, query.definitions[0], {}) == 1 + 3 * 3
    assert requested_cost(schema, query, query.definitions[0], {"n": 10}) == 1 + 10 * 3
    mutation = graphql.parse(
        "mutation M { a: tagsAdd(id: 1, tags: []) { node { id } } b: tagsRemove(id: 1, tags: []) { node { id } } }"
    )
    assert requested_cost(schema, mutation, mutation.definitions[0], {}) == 20


def test_oauth_grants_refreshes_and_expires_tokens(session, clock):
    """A code grant returns the shop's token; an expiring grant lasts an hour and its refresh token works once."""
    url = f"{BASE}/{SHOP}/admin/oauth/access_token"
    credentials = {"client_id": "key", "client_secret": "secret"}
    assert session.post(url, json={**credentials, "code": "abc"}).json()["access_token"] == TOKEN
    assert session.post(url, json={"code": "abc"}).json()["error"] == "invalid_request"
    grant = session.post(url, json={**credentials, "code": "abc", "expiring": "1"}).json()
    assert grant["expires_in"] == 3600
    assert post(session, ORDER_TRANSACTIONS, token=grant["access_token"]).status_code == 200
    clock.now += 3600
    assert post(session, ORDER_TRANSACTIONS, token=grant["access_token"]).status_code == 401
    refresh = {**credentials, "grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
    renewed = session.post(url, json=refresh).json()
    assert post(session, ORDER_TRANSACTIONS, token=renewed["access_token"]).status_code == 200
    assert session.post(url, json=refresh).json()["error"] == "invalid_grant"


def test_uninstalling_the_app_revokes_every_token_of_the_shop(session, clock, emulator):
    """uninstall_app: the shop's own token and every granted one answer 401 with Shopify's text, its refresh
    tokens are refused; the answer is app/uninstalled's body (the Shop resource); a reinstall's grant is a
    new token that works."""
    url = f"{BASE}/{SHOP}/admin/oauth/access_token"
    credentials = {"client_id": "key", "client_secret": "secret"}
    expiring = session.post(url, json={**credentials, "code": "abc", "expiring": "1"}).json()
    assert post(session, SHOP_IDENTITY, token=TOKEN).status_code == 200
    body = emulator.uninstall_app(SHOP)
    assert (body["id"], body["myshopify_domain"]) == (emulator.shop(SHOP).id, SHOP)
    for token in (TOKEN, expiring["access_token"]):
        refused = post(session, SHOP_IDENTITY, token=token)
        assert (refused.status_code, refused.json()["errors"]) == (401, INVALID_TOKEN)
    refresh = {**credentials, "grant_type": "refresh_token", "refresh_token": expiring["refresh_token"]}
    assert session.post(url, json=refresh).json()["error"] == "invalid_grant"
    with pytest.raises(ShopifyUnauthorized):
        admin_client(session, clock).execute(SHOP_IDENTITY)
    reinstalled = session.post(url, json={**credentials, "code": "again"}).json()["access_token"]
    assert reinstalled != TOKEN
    assert admin_client(session, clock, token=reinstalled).execute(SHOP_IDENTITY)["shop"]["id"] == \
        f"gid://shopify/Shop/{emulator.shop(SHOP).id}"


def test_the_uninstall_control_endpoint_revokes_the_tokens(session, emulator):
    """POST /_emulator/{shop}/uninstall (the demo's uninstall): the Shop body, then 401; 404 for an unknown shop."""
    answer = session.post(f"{BASE}/_emulator/{SHOP}/uninstall")
    assert answer.status_code == 200 and answer.json()["myshopify_domain"] == SHOP
    assert post(session, SHOP_IDENTITY, token=TOKEN).status_code == 401
    assert session.post(f"{BASE}/_emulator/other.myshopify.com/uninstall").status_code == 404


def test_control_endpoints_seed_orders_and_show_state(session, emulator):
    """POST /_emulator/{shop}/orders creates an order (and its customer); GET .../state shows everything."""
    order = {"id": 2001, "customer": {"id": 8, "email": "bo@example.com"},
             "transactions": [{"gateway": "gift_card", "amount": "12.00"}]}
    created = session.post(f"{BASE}/_emulator/{SHOP}/orders", json=order)
    assert created.status_code == 201 and created.json()["admin_graphql_api_id"] == "gid://shopify/Order/2001"
    assert session.post(f"{BASE}/_emulator/{SHOP}/orders", json={"transactions": []}).status_code == 400
    bogus = {"id": 2002, "transactions": [{"gateway": "manual", "amount": "1", "kind": "GIFT"}]}
    assert session.post(f"{BASE}/_emulator/{SHOP}/orders", json=bogus).status_code == 400
    assert session.post(f"{BASE}/_emulator/other.myshopify.com/orders", json=order).status_code == 404
    state = session.get(f"{BASE}/_emulator/{SHOP}/state").json()
    assert {o["id"] for o in state["orders"]} == {1001, 2001}
    assert {c["email"] for c in state["customers"]} == {"ada@example.com", "bo@example.com"}
    assert state["stats"]["served"] == 0 and state["stats"]["throttle_status"]["currentlyAvailable"] == 2000


def test_the_fallback_schema_serves_the_same_operations(clock):
    """Without Shopify's schema file, the built-in subset answers the app's operations (unvalidated)."""
    emulator = Emulator(clock=clock, schema=fallback_schema())
    emulator.add_shop(SHOP, TOKEN)
    emulator.add_customer(SHOP, 7)
    emulator.add_order(SHOP, 1001, [{"gateway": "gift_card", "amount": "3"}])
    client = admin_client(wsgi_session(emulator.app, BASE), clock)
    order = client.execute(ORDER_TRANSACTIONS, {"id": "gid://shopify/Order/1001"})["order"]
    assert order["transactions"][0]["amountSet"]["shopMoney"]["amount"] == "3.0"
    created = client.execute(DISCOUNT_CREATE, {"input": discount_input()})["discountCodeBasicCreate"]
    assert created["userErrors"] == []
    assert created["codeDiscountNode"]["id"].startswith("gid://shopify/DiscountCodeNode/")


def test_every_document_of_the_app_validates_against_the_fallback_schema():
    """A bare checkout (no ../shared) runs the emulator on the fallback: it must know every field and
    input the app sends (regenerate with `python -m tools.shopify_emulator.make_fallback`)."""
    import graphql

    from integrations.shopify.documents import ALL_DOCUMENTS

    subset = graphql.build_schema(FALLBACK_SDL)
    refused = {name: graphql.validate(subset, graphql.parse(doc)) for name, doc in ALL_DOCUMENTS.items()}
    assert {name: errors for name, errors in refused.items() if errors} == {}


def test_the_fallback_schema_agrees_with_shopifys():
    """Every type, field and argument of the built-in subset exists in Shopify's schema with the same type."""
    shopify = load_admin_schema()
    if shopify is None:
        pytest.skip("Shopify's Admin schema is not available")
    subset = fallback_schema().schema
    for name, subset_type in subset.type_map.items():
        if name.startswith("__"):
            continue
        full_type = shopify.get_type(name)
        assert type(full_type) is type(subset_type), name
        for field_name, field in getattr(subset_type, "fields", {}).items():
            assert str(full_type.fields[field_name].type) == str(field.type), f"{name}.{field_name}"
            full_args = getattr(full_type.fields[field_name], "args", {})
            for arg_name, arg in getattr(field, "args", {}).items():
                assert str(full_args[arg_name].type) == str(arg.type), f"{name}.{field_name}({arg_name})"
        assert set(getattr(subset_type, "values", {})) <= set(getattr(full_type, "values", {})), name
    assert "QueryRoot" in FALLBACK_SDL


def test_free_shipping_code_is_created_and_its_code_stays_taken(client, emulator):
    """discountCodeFreeShippingCreate through the app's own function: a free shipping code bound to the
    customer; the same code again is refused (TAKEN) and nothing more is stored; a blank title is refused."""
    from datetime import datetime, timezone
    from decimal import Decimal

    from integrations.shopify.discounts import CodeTerms, create_free_shipping_code
    from integrations.shopify.errors import ShopifyUserErrors

    terms = CodeTerms(code="LOY-BDAY1", title="Birthday gift", amount=Decimal("0"), customer_id=7,
                      starts_at=datetime(2025, 6, 1, tzinfo=timezone.utc), ends_at=datetime(2025, 7, 1, tzinfo=timezone.utc))
    made = create_free_shipping_code(client, terms)
    assert made.startswith("gid://shopify/DiscountCodeNode/")
    with pytest.raises(ShopifyUserErrors) as taken:
        create_free_shipping_code(client, terms)
    assert [e.code for e in taken.value.user_errors] == ["TAKEN"]
    with pytest.raises(ShopifyUserErrors):
        create_free_shipping_code(client, CodeTerms(**{**terms.__dict__, "code": "LOY-BDAY2", "title": " "}))
    [stored] = emulator.discount_codes(SHOP)
    assert stored["code"] == "LOY-BDAY1" and stored["customer_ids"] == [7] and stored["amount"] is None
def test_flow_trigger_receive_records_the_trigger_of_the_shop(client, emulator):
    """flowTriggerReceive with one of the app's trigger handles (its extensions) starts the shop's workflows:
    the emulator records the handle and payload, in this shop only."""
    from integrations.shopify.flow import send_trigger

    emulator.add_shop("other.myshopify.com", "other-token")
    send_trigger(client, "loyalty-points-earned", {"customer_id": 7, "points": 25, "status": "pending",
                                                   "reason": "order #1001"})
    [received] = emulator.flow_triggers(SHOP)
    assert received["handle"] == "loyalty-points-earned"
    assert received["payload"] == {"customer_id": 7, "points": 25, "status": "pending", "reason": "order #1001"}
    assert emulator.flow_triggers("other.myshopify.com") == []


def test_flow_trigger_receive_refuses_an_unknown_handle(client, emulator):
    """A handle that is not one of the app's flow_trigger extensions: userErrors, nothing started."""
    from integrations.shopify.errors import ShopifyUserErrors
    from integrations.shopify.flow import send_trigger

    with pytest.raises(ShopifyUserErrors) as refused:
        send_trigger(client, "loyalty-no-such-trigger", {"customer_id": 7})
    assert refused.value.user_errors[0].field == ("handle",)
    assert emulator.flow_triggers(SHOP) == []


def test_flow_trigger_receive_refuses_a_payload_over_50_kb(client, emulator):
    """Flow's payload limit: 50,000 bytes of JSON; one byte more is refused, nothing started."""
    from integrations.shopify.errors import ShopifyUserErrors
    from integrations.shopify.flow import send_trigger

    with pytest.raises(ShopifyUserErrors) as refused:
        send_trigger(client, "loyalty-points-earned", {"customer_id": 7, "reason": "x" * 50_000})
    assert "exceeds" in refused.value.user_errors[0].message
    assert emulator.flow_triggers(SHOP) == []


def test_the_emulator_knows_every_trigger_the_app_sends():
    """The emulator's handles are the app's flow_trigger extensions, and they are the handles the app
    sends (loyalty.domain.flow.TRIGGERS): a trigger without its extension would be refused by Shopify."""
    from loyalty.domain.flow import TRIGGERS
    from tools.shopify_emulator.flow import TRIGGER_HANDLES

    assert TRIGGER_HANDLES == frozenset(TRIGGERS)


def test_an_orders_customer_has_the_names_the_shop_holds(client, emulator):
    """ORDERS_UPDATED_SINCE (reconciliation) answers the customer's firstName and lastName with the tags;
    a customer without names answers null (as Shopify does)."""
    from integrations.shopify.documents import ORDERS_UPDATED_SINCE

    emulator.add_customer(SHOP, 8, "zoe@example.com", tags=("b2b",), first_name="Zoé", last_name="Roux")
    emulator.add_order(SHOP, 1002, [{"gateway": "shopify_payments", "amount": "5.00"}], customer_id=8)
    nodes = client.execute(ORDERS_UPDATED_SINCE, {"query": "updated_at:>='2000-01-01T00:00:00Z'"})["orders"]["nodes"]
    customers = {n["id"]: n["customer"] for n in nodes}
    assert customers["gid://shopify/Order/1002"] == {"id": "gid://shopify/Customer/8", "email": "zoe@example.com",
                                                     "firstName": "Zoé", "lastName": "Roux", "tags": ["b2b"]}
    assert customers["gid://shopify/Order/1001"]["firstName"] is None
