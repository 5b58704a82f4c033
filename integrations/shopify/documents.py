"""Every GraphQL document the app sends to the Admin API, each a named operation.

Keeping them here, as constants, lets one test validate all of them against
Shopify's published schema (tests/test_graphql_documents.py). Add new documents
as UPPER_CASE string constants: ALL_DOCUMENTS picks them up by itself, so none
can be sent without having been validated.
"""

_TRANSACTION_FIELDS = """
fragment TransactionFields on OrderTransaction {
  gateway
  kind
  status
  amountSet {
    shopMoney {
      amount
      currencyCode
    }
  }
}
"""
"""What payments.Transaction is read from (a fragment: both transaction documents select the same)."""

ORDER_TRANSACTIONS = """
query OrderTransactions($id: ID!) {
  order(id: $id) {
    id
    transactions(first: 100) {
      ...TransactionFields
    }
  }
}
""" + _TRANSACTION_FIELDS

ORDERS_TRANSACTIONS = """
query OrdersTransactions($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Order {
      id
      transactions(first: 20) {
        ...TransactionFields
      }
    }
  }
}
""" + _TRANSACTION_FIELDS
"""The transactions of several orders in one request (payments.fetch_orders_transactions): `first: 20` keeps
a request of 16 orders under Shopify's single-query cost limit (1,000); an order that fills the 20 is read
again alone with ORDER_TRANSACTIONS."""

DISCOUNT_CODE_BASIC_CREATE = """
mutation DiscountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode {
      id
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""

CODE_DISCOUNT_BY_CODE = """
query CodeDiscountByCode($code: String!) {
  codeDiscountNodeByCode(code: $code) {
    id
  }
}
"""

DISCOUNT_CODE_DEACTIVATE = """
mutation DiscountCodeDeactivate($id: ID!) {
  discountCodeDeactivate(id: $id) {
    codeDiscountNode {
      id
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""

DISCOUNT_CODE_FREE_SHIPPING_CREATE = """
mutation DiscountCodeFreeShippingCreate($freeShippingCodeDiscount: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $freeShippingCodeDiscount) {
    codeDiscountNode {
      id
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""
"""A free shipping code (the `free_shipping` reward, a birthday gift; discounts.create_free_shipping_code)."""

COLLECTION_CREATE = """
mutation CollectionCreate($input: CollectionInput!) {
  collectionCreate(input: $input) {
    collection {
      id
    }
    userErrors {
      field
      message
    }
  }
}
"""
"""The app's own smart collection (collections.create_full_price_collection: products at full price)."""

COLLECTION_BY_ID = """
query CollectionById($id: ID!) {
  collection(id: $id) {
    id
    title
  }
}
"""
"""Whether a collection still exists (null once the merchant deleted it)."""

VARIANT_IN_SELECTION = """
query VariantInSelection($id: ID!, $collection: ID!) {
  productVariant(id: $id) {
    id
    displayName
    price
    product {
      id
      inCollection(id: $collection)
    }
  }
}
"""
"""A variant a customer picked for a free item: its price, and whether its product is in the selection."""

SELECTION_PRODUCTS = """
query SelectionProducts($id: ID!) {
  collection(id: $id) {
    id
    products(first: 25) {
      nodes {
        id
        title
        variants(first: 10) {
          nodes {
            id
            title
            displayName
            price
            availableForSale
          }
        }
      }
    }
  }
}
"""
"""The products of a free item's selection the customer picks from (the first 25, 10 variants each: well
under the single-query cost limit)."""

METAFIELDS_SET = """
mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields {
      id
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""

TAGS_ADD = """
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node {
      id
    }
    userErrors {
      field
      message
    }
  }
}
"""

TAGS_REMOVE = """
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) {
    node {
      id
    }
    userErrors {
      field
      message
    }
  }
}
"""

GIFT_CARD_CREATE = """
mutation GiftCardCreate($input: GiftCardCreateInput!) {
  giftCardCreate(input: $input) {
    giftCard {
      id
      expiresOn
    }
    giftCardCode
    userErrors {
      field
      message
      code
    }
  }
}
"""

STORE_CREDIT_ACCOUNT_CREDIT = """
mutation StoreCreditAccountCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction {
      id
      createdAt
      expiresAt
      amount {
        amount
        currencyCode
      }
      account {
        id
      }
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""
"""Credit a customer's store credit account (`id`: the customer's gid; Shopify makes the account if
needed). Not idempotent: sent once per attempt (loyalty.domain.store_credit)."""

STORE_CREDIT_ACCOUNTS = """
query StoreCreditAccounts($customerId: ID!) {
  customer(id: $customerId) {
    storeCreditAccounts(first: 20) {
      nodes {
        id
        balance {
          amount
          currencyCode
        }
      }
    }
  }
}
"""
"""A customer's store credit accounts (one per currency)."""

STORE_CREDIT_CREDITS = """
query StoreCreditCredits($id: ID!, $after: String, $reverse: Boolean!) {
  storeCreditAccount(id: $id) {
    transactions(first: 100, after: $after, reverse: $reverse, query: "type:credit") {
      nodes {
        createdAt
        ... on StoreCreditAccountCreditTransaction {
          id
          expiresAt
          amount {
            amount
            currencyCode
          }
          remainingAmount {
            amount
            currencyCode
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""
"""One account's credits, oldest first (reverse: newest first), 100 a page, with what is left of each
(Shopify lowers it as debits spend the credit, online or at the point of sale)."""

SHOP_CURRENCY = """
query ShopCurrency {
  shop {
    currencyCode
  }
}
"""
"""The shop's currency: store credit is issued in it."""

_ORDER_FIELDS = """
    id
    name
    email
    createdAt
    processedAt
    updatedAt
    cancelledAt
    test
    sourceName
    currencyCode
    taxesIncluded
    displayFinancialStatus
    paymentGatewayNames
    discountCodes
    customer {
      id
      email
      firstName
      lastName
      tags
    }
    purchasingEntity {
      __typename
    }
    transactions(first: TRANSACTIONS) {
      gateway
      kind
      status
      amountSet {
        shopMoney {
          amount
        }
      }
    }
    refunds(first: REFUNDS) {
      id
      createdAt
    }
"""
"""What the points rules need of an order (the same facts an order webhook carries)."""

_LINE_ITEM_FIELDS = """
          __typename
          id
          quantity
          product {
            id
          }
          originalUnitPriceSet {
            shopMoney {
              amount
            }
          }
          discountAllocations {
            allocatedAmountSet {
              shopMoney {
                amount
              }
            }
          }
          taxLines {
            priceSet {
              shopMoney {
                amount
              }
            }
          }
"""

_SHIPPING_LINE_FIELDS = """
          __typename
          id
          discountedPriceSet {
            shopMoney {
              amount
            }
          }
"""

HISTORY_ORDERS_BULK_QUERY = """
query HistoryOrders {
  orders(sortKey: CREATED_AT, query: "FILTER") {
    edges {
      node {%s
        lineItems {
          edges {
            node {%s
            }
          }
        }
        shippingLines {
          edges {
            node {%s
            }
          }
        }
      }
    }
  }
}
""" % (_ORDER_FIELDS.replace("TRANSACTIONS", "50").replace("REFUNDS", "50"), _LINE_ITEM_FIELDS, _SHIPPING_LINE_FIELDS)
"""The query a bulk operation runs for the history import: line items come as their own JSONL lines
(`__parentId`), refunds inline with their ids only, because a bulk query may not nest a connection
(their line items) inside a list. FILTER is replaced by a search such as `created_at:<=2026-01-01`."""

BULK_OPERATION_RUN_QUERY = """
mutation BulkOperationRunQuery($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation {
      id
      status
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""

BULK_OPERATION_STATUS = """
query BulkOperationStatus($id: ID!) {
  node(id: $id) {
    ... on BulkOperation {
      id
      status
      errorCode
      objectCount
      rootObjectCount
      url
      partialDataUrl
    }
  }
}
"""

STAGED_UPLOADS_CREATE = """
mutation StagedUploadsCreate($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) {
    stagedTargets {
      url
      resourceUrl
      parameters {
        name
        value
      }
    }
    userErrors {
      field
      message
    }
  }
}
"""
"""A place to upload a bulk mutation's variables (resource BULK_MUTATION_VARIABLES, method POST): a URL and
the form fields to send with the file; the field `key` is the `stagedUploadPath` of the bulk mutation."""

BULK_OPERATION_RUN_MUTATION = """
mutation BulkOperationRunMutation($mutation: String!, $stagedUploadPath: String!) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $stagedUploadPath) {
    bulkOperation {
      id
      status
      createdAt
    }
    userErrors {
      field
      message
      code
    }
  }
}
"""
"""Run `mutation` once per line of the staged JSONL (each line its variables); one at a time per shop."""

CURRENT_BULK_MUTATION = """
query CurrentBulkMutation {
  currentBulkOperation(type: MUTATION) {
    id
    status
    errorCode
    createdAt
    objectCount
    query
    url
    partialDataUrl
  }
}
"""
"""The app's latest bulk mutation in the shop: after a crash, tells whether a start reached Shopify."""

REFUND_LINE_ITEMS = """
query RefundLineItems($id: ID!, $after: String) {
  refund(id: $id) {
    id
    createdAt
    refundLineItems(first: 100, after: $after) {
      nodes {
        subtotalSet {
          shopMoney {
            amount
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""

ORDERS_UPDATED_SINCE = """
query OrdersUpdatedSince($query: String!, $after: String) {
  orders(first: 3, after: $after, sortKey: UPDATED_AT, query: $query) {
    nodes {%s
      lineItems(first: 20) {
        nodes {%s
        }
        pageInfo {
          hasNextPage
        }
      }
      shippingLines(first: 3) {
        nodes {%s
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
""" % (_ORDER_FIELDS.replace("TRANSACTIONS", "10").replace("REFUNDS", "10"), _LINE_ITEM_FIELDS,
       _SHIPPING_LINE_FIELDS)
"""Reconciliation: orders changed since the watermark, oldest change first, three per page (what fits under
Shopify's 1,000-point cost ceiling with their lines, payments and refunds)."""

SHOP_IDENTITY = """
query ShopIdentity {
  shop {
    id
    name
    ianaTimezone
    currencyCode
  }
}
"""
"""The shop's global id (`gid://shopify/Shop/548380009`): the number webhook bodies name the shop by; and
the facts the admin and the schedules follow: its name, IANA time zone (its calendar) and currency."""

SHOP_LOCALES = """
query ShopLocales {
  shopLocales {
    locale
    primary
  }
}
"""
"""The shop's locales, the primary one marked (the admin's language when the staff member's is unknown).
Asked apart from SHOP_IDENTITY: Shopify answers it only to a token with the `read_locales` scope, and a
refusal must not cost the id; shop/update's `primary_locale` carries it without that scope."""

COLLECTION_PRODUCTS = """
query CollectionProducts($id: ID!, $after: String) {
  collection(id: $id) {
    id
    products(first: 250, after: $after) {
      nodes {
        id
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
}
"""
"""The products of a collection campaigns are limited to, 250 a page (null: no such collection)."""

COLLECTIONS_SEARCH = """
query CollectionsSearch($query: String, $first: Int!) {
  collections(first: $first, query: $query, sortKey: TITLE) {
    nodes {
      id
      title
    }
  }
}
"""
"""Collections whose title matches what the merchant typed (the admin's fallback picker, outside Shopify)."""

PRODUCTS_SEARCH = """
query ProductsSearch($query: String, $first: Int!) {
  products(first: $first, query: $query, sortKey: TITLE) {
    nodes {
      id
      title
    }
  }
}
"""
"""Products whose title matches what the merchant typed (the admin's fallback picker)."""

RESOURCES_BY_ID = """
query ResourcesById($ids: [ID!]!) {
  nodes(ids: $ids) {
    id
    ... on Collection {
      title
    }
    ... on Product {
      title
    }
  }
}
"""
"""The titles of the collections and products a programme names (null for one deleted since)."""

FLOW_TRIGGER_RECEIVE = """
mutation FlowTriggerReceive($handle: String!, $payload: JSON!) {
  flowTriggerReceive(handle: $handle, payload: $payload) {
    userErrors {
      field
      message
    }
  }
}
"""
"""Start the merchant's workflows that begin with one of the app's Flow triggers (flow.send_trigger)."""


def _collect_documents(namespace):
    """Every UPPER_CASE string constant of this module, by constant name."""
    return {
        name: value
        for name, value in namespace.items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str)
    }


ALL_DOCUMENTS = _collect_documents(globals())
"""Constant name -> document, for validation in tests."""
