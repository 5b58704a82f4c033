"""The schema the emulator executes against: Shopify's own when available, else a small subset.

Shopify's published Admin schema (3 MB of SDL, ~2 s to build) lives beside the
checkout as reference data. With it, documents are validated exactly as Shopify
would; without it (a bare checkout), FALLBACK_SDL covers just the operations the
app sends, and documents run unvalidated so that fields it lacks are not refused.
"""
import os
import threading
from pathlib import Path
from typing import NamedTuple

import graphql

SCHEMA_ENV = "SHOPIFY_ADMIN_SCHEMA"
"""Environment variable naming another Admin schema SDL file."""

DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parents[3].parent / "shared/shopify/admin_schema.graphql"
"""Where CI and dev machines keep the reference schema (`../shared` beside the checkout)."""

# Field and argument types copied from the Admin schema (a test checks they still match).
FALLBACK_SDL = """
schema { query: QueryRoot mutation: Mutation }
scalar DateTime
scalar Date
scalar Decimal
interface Node { id: ID! }
interface HasMetafields { metafield(key: String!, namespace: String): Metafield }
type QueryRoot {
  order(id: ID!): Order
  customer(id: ID!): Customer
  codeDiscountNodeByCode(code: String!): DiscountCodeNode
}
type Mutation {
  discountCodeBasicCreate(basicCodeDiscount: DiscountCodeBasicInput!): DiscountCodeBasicCreatePayload
  discountCodeDeactivate(id: ID!): DiscountCodeDeactivatePayload
  metafieldsSet(metafields: [MetafieldsSetInput!]!): MetafieldsSetPayload
  tagsAdd(id: ID!, tags: [String!]!): TagsAddPayload
  tagsRemove(id: ID!, tags: [String!]!): TagsRemovePayload
  giftCardCreate(input: GiftCardCreateInput!): GiftCardCreatePayload
}
type MoneyV2 { amount: Decimal! currencyCode: CurrencyCode! }
type MoneyBag { presentmentMoney: MoneyV2! shopMoney: MoneyV2! }
enum CurrencyCode { USD EUR GBP CAD AUD }
enum OrderTransactionKind { AUTHORIZATION CAPTURE CHANGE EMV_AUTHORIZATION REFUND SALE SUGGESTED_REFUND VOID }
enum OrderTransactionStatus { AWAITING_RESPONSE ERROR FAILURE PENDING SUCCESS UNKNOWN }
type Order implements Node & HasMetafields {
  id: ID! name: String! tags: [String!]! customer: Customer
  metafield(key: String!, namespace: String): Metafield
  transactions(capturable: Boolean, first: Int, manuallyResolvable: Boolean): [OrderTransaction!]!
}
type OrderTransaction implements Node {
  id: ID! gateway: String kind: OrderTransactionKind! status: OrderTransactionStatus!
  amountSet: MoneyBag! test: Boolean!
}
type Customer implements Node & HasMetafields {
  id: ID! email: String displayName: String! tags: [String!]!
  metafield(key: String!, namespace: String): Metafield
}
type Metafield implements Node {
  id: ID! namespace: String! key: String! type: String! value: String! compareDigest: String!
  owner: HasMetafields! createdAt: DateTime! updatedAt: DateTime!
}
union DiscountCode = DiscountCodeBasic
enum DiscountStatus { ACTIVE EXPIRED SCHEDULED }
type DiscountCodeNode implements Node & HasMetafields {
  id: ID! codeDiscount: DiscountCode!
  metafield(key: String!, namespace: String): Metafield
}
type DiscountCodeBasic {
  title: String! status: DiscountStatus! startsAt: DateTime! endsAt: DateTime usageLimit: Int
  appliesOncePerCustomer: Boolean! combinesWith: DiscountCombinesWith! createdAt: DateTime!
  codes(after: String, before: String, first: Int, last: Int, query: String, reverse: Boolean = false):
    DiscountRedeemCodeConnection!
}
type DiscountCombinesWith { orderDiscounts: Boolean! productDiscounts: Boolean! shippingDiscounts: Boolean! }
type DiscountRedeemCodeConnection { nodes: [DiscountRedeemCode!]! }
type DiscountRedeemCode { id: ID! code: String! asyncUsageCount: Int! }
type GiftCard implements Node {
  id: ID! maskedCode: String! lastCharacters: String! initialValue: MoneyV2! balance: MoneyV2!
  enabled: Boolean! expiresOn: Date note: String customer: Customer
}
input DiscountCodeBasicInput {
  appliesOncePerCustomer: Boolean code: String combinesWith: DiscountCombinesWithInput
  context: DiscountContextInput customerGets: DiscountCustomerGetsInput
  customerSelection: DiscountCustomerSelectionInput endsAt: DateTime
  minimumRequirement: DiscountMinimumRequirementInput startsAt: DateTime title: String usageLimit: Int
}
input DiscountCombinesWithInput { orderDiscounts: Boolean productDiscounts: Boolean shippingDiscounts: Boolean }
enum DiscountBuyerSelection { ALL }
input DiscountContextInput { all: DiscountBuyerSelection customers: DiscountCustomersInput }
input DiscountCustomerSelectionInput { all: Boolean customers: DiscountCustomersInput }
input DiscountCustomersInput { add: [ID!] remove: [ID!] }
input DiscountCustomerGetsInput { items: DiscountItemsInput value: DiscountCustomerGetsValueInput }
input DiscountItemsInput { all: Boolean }
input DiscountCustomerGetsValueInput { discountAmount: DiscountAmountInput percentage: Float }
input DiscountAmountInput { amount: Decimal appliesOnEachItem: Boolean }
input DiscountMinimumRequirementInput { subtotal: DiscountMinimumSubtotalInput }
input DiscountMinimumSubtotalInput { greaterThanOrEqualToSubtotal: Decimal }
input MetafieldsSetInput {
  compareDigest: String key: String! namespace: String ownerId: ID! type: String value: String!
}
input GiftCardCreateInput {
  code: String customerId: ID expiresOn: Date initialValue: Decimal! note: String notify: Boolean = true
}
type UserError { field: [String!] message: String! }
type DiscountUserError { code: DiscountErrorCode extraInfo: String field: [String!] message: String! }
enum DiscountErrorCode { BLANK END_DATE_BEFORE_START_DATE INVALID TAKEN }
type MetafieldsSetUserError { code: MetafieldsSetUserErrorCode elementIndex: Int field: [String!] message: String! }
enum MetafieldsSetUserErrorCode { BLANK INVALID INVALID_TYPE INVALID_VALUE LESS_THAN_OR_EQUAL_TO STALE_OBJECT }
type GiftCardUserError { code: GiftCardErrorCode field: [String!] message: String! }
enum GiftCardErrorCode { CUSTOMER_NOT_FOUND GREATER_THAN INVALID TAKEN TOO_LONG TOO_SHORT }
type DiscountCodeBasicCreatePayload { codeDiscountNode: DiscountCodeNode userErrors: [DiscountUserError!]! }
type DiscountCodeDeactivatePayload { codeDiscountNode: DiscountCodeNode userErrors: [DiscountUserError!]! }
type MetafieldsSetPayload { metafields: [Metafield!] userErrors: [MetafieldsSetUserError!]! }
type TagsAddPayload { node: Node userErrors: [UserError!]! }
type TagsRemovePayload { node: Node userErrors: [UserError!]! }
type GiftCardCreatePayload { giftCard: GiftCard giftCardCode: String userErrors: [GiftCardUserError!]! }
"""

_lock = threading.Lock()
_cache = {}


class LoadedSchema(NamedTuple):
    """An executable schema, and whether documents should be validated against it."""

    schema: graphql.GraphQLSchema
    validates: bool


def admin_schema_path():
    """The Admin schema file to use: $SHOPIFY_ADMIN_SCHEMA, else the shared reference copy."""
    return Path(os.environ.get(SCHEMA_ENV) or DEFAULT_SCHEMA_PATH)


def load_schema(path=None):
    """Shopify's schema from `path` (default: admin_schema_path()) when the file exists, else the fallback."""
    path = Path(path) if path is not None else admin_schema_path()
    if not path.is_file():
        return fallback_schema()
    return _cached(str(path.resolve()), lambda: LoadedSchema(_build(path.read_text(encoding="utf-8")), True))


def fallback_schema():
    """The small built-in schema, executed without validation."""
    return _cached(None, lambda: LoadedSchema(_build(FALLBACK_SDL), False))


def _cached(key, build):
    """Build once per key, process-wide."""
    # One lock for all: two threads racing here would each spend ~2 s building the same thing.
    with _lock:
        if key not in _cache:
            _cache[key] = build()
        return _cache[key]


def _build(sdl):
    """Build an executable schema from SDL."""
    schema = graphql.build_schema(sdl)
    # graphql-core 3.3 rejects Shopify's schema over deprecation rules on some interfaces,
    # which says nothing about the documents we check; marking it checked lets validate() run.
    schema._validation_errors = []
    return schema
