"""Every GraphQL document the app sends to the Admin API, each a named operation.

Keeping them here, as constants, lets one test validate all of them against
Shopify's published schema (tests/test_graphql_documents.py). Add new documents
as UPPER_CASE string constants: ALL_DOCUMENTS picks them up by itself, so none
can be sent without having been validated.
"""

ORDER_TRANSACTIONS = """
query OrderTransactions($id: ID!) {
  order(id: $id) {
    id
    transactions(first: 100) {
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
  }
}
"""

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


def _collect_documents(namespace):
    """Every UPPER_CASE string constant of this module, by constant name."""
    return {
        name: value
        for name, value in namespace.items()
        if name.isupper() and not name.startswith("_") and isinstance(value, str)
    }


ALL_DOCUMENTS = _collect_documents(globals())
"""Constant name -> document, for validation in tests."""
