"""Read a refund's line items (a bulk query cannot nest them inside an order's list of refunds)."""
from integrations.shopify.documents import REFUND_LINE_ITEMS


def refund_gid(refund_id):
    """The Admin GraphQL global id of a REST/webhook refund id."""
    return f"gid://shopify/Refund/{int(refund_id)}"


def fetch_refund_line_items(client, refund_id) -> list:
    """Every refund line item node of the refund (all pages); [] for a refund Shopify cannot find."""
    items, after = [], None
    while True:
        refund = client.execute(REFUND_LINE_ITEMS, {"id": refund_gid(refund_id), "after": after}).get("refund")
        if refund is None:
            return items
        page = refund["refundLineItems"]
        items += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return items
        after = page["pageInfo"]["endCursor"]
