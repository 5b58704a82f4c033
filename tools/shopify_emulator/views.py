"""Records shaped as GraphQL objects: dicts the default field resolver reads.

A field with arguments, or one that leads back to another record, is a callable
`(info, **args)`: graphql-core's default resolver calls it, which keeps
arguments working and cycles (customer -> metafield -> owner) lazy.
`__typename` tells the executor which object type an interface or union holds.
"""
from tools.shopify_emulator.store import Customer, decimal_string, gid, iso


def money(amount, currency):
    """A MoneyV2."""
    return {"__typename": "MoneyV2", "amount": decimal_string(amount), "currencyCode": currency}


def money_bag(amount, currency):
    """A MoneyBag; the emulator has one currency per shop, so both sides agree."""
    return {"__typename": "MoneyBag", "shopMoney": money(amount, currency), "presentmentMoney": money(amount, currency)}


def _page(items, first=None, last=None, **_ignored):
    """Apply `first`/`last` to a list, as a plain (non-connection) list field does."""
    if first is not None:
        items = items[:first]
    if last is not None:
        items = items[-last:] if last else []
    return items


def order_view(shop, order):
    """An Order."""
    def transactions(info, **args):
        """Order.transactions(first:, ...)."""
        return _page([transaction_view(order, t, shop.currency) for t in order.transactions], **args)

    def customer(info):
        """Order.customer, when the order has a known one."""
        found = shop.customers.get(order.customer_id)
        return customer_view(shop, found) if found else None

    def line_items(info, **args):
        """Order.lineItems(first:, after:): a connection (every line in a bulk operation)."""
        return connection(info, [line_item_view(order, line, currency) for line in order.line_items], **args)

    def shipping_lines(info, **args):
        """Order.shippingLines(first:, after:): a connection."""
        lines = [{"__typename": "ShippingLine", "id": gid("ShippingLine", number),
                  "discountedPriceSet": money_bag(price, currency)} for number, price in order.shipping_lines]
        return connection(info, lines, **args)

    def refunds(info, **args):
        """Order.refunds(first:): a plain list."""
        return _page([refund_view(order, refund, currency) for refund in order.refunds], **args)

    currency = order.currency or shop.currency
    return {
        "__typename": "Order",
        "id": gid("Order", order.id),
        "legacyResourceId": str(order.id),
        "name": order.name or f"#{order.id}",
        "email": order.email,
        "createdAt": iso(order.created_at),
        "processedAt": iso(order.processed_at or order.created_at),
        "updatedAt": iso(order.updated_at or order.created_at),
        "cancelledAt": iso(order.cancelled_at),
        "sourceName": order.source_name,
        "currencyCode": currency,
        "taxesIncluded": order.taxes_included,
        "shippingLines": shipping_lines,
        "displayFinancialStatus": order.financial_status,
        "paymentGatewayNames": list(order.gateways),
        "discountCodes": list(order.discount_codes),
        "purchasingEntity": (lambda info: {"__typename": "PurchasingCompany"}) if order.b2b else customer,
        "tags": [],
        "test": order.test,
        "transactions": transactions,
        "customer": customer,
        "lineItems": line_items,
        "refunds": refunds,
        "metafield": lambda info, key, namespace=None: None,
    }


def line_item_view(order, line, currency):
    """A LineItem."""
    return {
        "__typename": "LineItem",
        "id": gid("LineItem", line.id),
        "quantity": line.quantity,
        "product": product_view(line.product_id) if line.product_id is not None else None,
        "originalUnitPriceSet": money_bag(line.price, currency),
        "discountAllocations": [{"__typename": "DiscountAllocation", "allocatedAmountSet": money_bag(d, currency)}
                                for d in line.discounts],
        "taxLines": lambda info, first=None: _page([{"__typename": "TaxLine", "priceSet": money_bag(t, currency)}
                                                    for t in line.taxes], first),
    }


def product_view(product_id):
    """A Product, reduced to its id (the app asks for nothing else)."""
    return {"__typename": "Product", "id": gid("Product", product_id), "legacyResourceId": str(product_id)}


def refund_view(order, refund, currency):
    """A Refund; its line items are a connection."""
    def refund_line_items(info, **args):
        """Refund.refundLineItems(first:, after:)."""
        items = [{"__typename": "RefundLineItem", "id": gid("RefundLineItem", refund.id * 1000 + i),
                  "subtotalSet": money_bag(subtotal, currency)} for i, subtotal in enumerate(refund.subtotals)]
        return connection(info, items, **args)

    return {
        "__typename": "Refund",
        "id": gid("Refund", refund.id),
        "createdAt": iso(refund.created_at),
        "order": lambda info: order_view(info.context.shop, order),
        "refundLineItems": refund_line_items,
    }


def connection(info, items, first=None, after=None, last=None, **_ignored):
    """A connection over `items` (each with an `id`): `first` after the `after` cursor; all of them in a
    bulk operation, which pages by itself."""
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    chosen = items[start:] if getattr(info.context, "bulk", False) or first is None else items[start:start + first]
    if last is not None:
        chosen = chosen[-last:] if last else []
    edges = [{"cursor": item["id"], "node": item} for item in chosen]
    return {
        "edges": edges,
        "nodes": chosen,
        "pageInfo": {"hasNextPage": start + len(chosen) < len(items), "hasPreviousPage": start > 0,
                     "startCursor": chosen[0]["id"] if chosen else None,
                     "endCursor": chosen[-1]["id"] if chosen else None},
    }


def transaction_view(order, transaction, currency):
    """An OrderTransaction."""
    return {
        "__typename": "OrderTransaction",
        "id": gid("OrderTransaction", transaction.id),
        "gateway": transaction.gateway,
        "formattedGateway": transaction.gateway.replace("_", " ").title(),
        "kind": transaction.kind,
        "status": transaction.status,
        "test": False,
        "amountSet": money_bag(transaction.amount, transaction.currency or currency),
    }


def customer_view(shop, customer):
    """A Customer."""
    def metafield(info, key, namespace=None):
        """Customer.metafield(namespace:, key:); the app namespace when none is given."""
        found = customer.metafields.get((namespace or APP_NAMESPACE, key))
        return metafield_view(shop, found) if found else None

    return {
        "__typename": "Customer",
        "id": gid("Customer", customer.id),
        "legacyResourceId": str(customer.id),
        "email": customer.email,
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "displayName": (" ".join(n for n in (customer.first_name, customer.last_name) if n)
                        or customer.email or f"Customer {customer.id}"),
        "tags": sorted(customer.tags),
        "metafield": metafield,
    }


APP_NAMESPACE = "$app"
"""The namespace Shopify uses when an app omits one (really `app--{app id}`)."""


def shop_view(shop):
    """The Shop object."""
    return {"__typename": "Shop", "id": gid("Shop", shop.id), "myshopifyDomain": shop.domain,
            "name": shop.name, "currencyCode": shop.currency, "ianaTimezone": shop.timezone}


def shop_locales_view(shop):
    """shopLocales: the shop's one locale, primary and published (the emulator knows no others)."""
    return [{"__typename": "ShopLocale", "locale": shop.locale, "primary": True, "published": True,
             "name": shop.locale}]


def shop_update_body(shop, now):
    """The body of shop/update (the REST Shop resource): the fields the app reads and a few beside them."""
    return {"id": shop.id, "name": shop.name, "myshopify_domain": shop.domain, "domain": shop.domain,
            "iana_timezone": shop.timezone, "currency": shop.currency, "primary_locale": shop.locale,
            "email": f"owner@{shop.domain}", "created_at": iso(now), "updated_at": iso(shop.updated_at or now)}


def metafield_view(shop, metafield):
    """A Metafield on a customer or on the shop."""
    on_shop = metafield.owner_type == "SHOP"
    return {
        "__typename": "Metafield",
        "id": gid("Metafield", metafield.id),
        "namespace": metafield.namespace,
        "key": metafield.key,
        "type": metafield.type,
        "value": metafield.value,
        "compareDigest": metafield.digest,
        "ownerType": metafield.owner_type,
        "owner": lambda info: (shop_view(shop) if on_shop else customer_view(shop, shop.customers[metafield.owner_id])),
        "createdAt": iso(metafield.created_at),
        "updatedAt": iso(metafield.updated_at),
    }


def discount_node_view(shop, discount, now):
    """A DiscountCodeNode holding a DiscountCodeBasic."""
    return {
        "__typename": "DiscountCodeNode",
        "id": gid("DiscountCodeNode", discount.id),
        "codeDiscount": _discount_basic_view(shop, discount, now),
        "metafield": lambda info, key, namespace=None: None,
    }


def _discount_basic_view(shop, discount, now):
    """The DiscountCodeBasic (or DiscountCodeFreeShipping) behind a node."""
    redeem_code = {
        "__typename": "DiscountRedeemCode",
        "id": gid("DiscountRedeemCode", discount.redeem_code_id),
        "code": discount.code,
        "asyncUsageCount": 0,
    }

    def codes(info, first=None, last=None, **_ignored):
        """DiscountCodeBasic.codes(first:): a connection over the single code."""
        nodes = _page([redeem_code], first, last)
        edges = [{"cursor": node["id"], "node": node} for node in nodes]
        return {"nodes": nodes, "edges": edges, "pageInfo": {"hasNextPage": False, "hasPreviousPage": False}}

    if discount.amount is not None:
        amount = money(discount.amount, shop.currency)
        value = {"__typename": "DiscountAmount", "amount": amount, "appliesOnEachItem": False}
    else:
        value = {"__typename": "DiscountPercentage", "percentage": discount.percentage or 0.0}
    minimum = None
    if discount.minimum_subtotal is not None:
        minimum = {
            "__typename": "DiscountMinimumSubtotal",
            "greaterThanOrEqualToSubtotal": money(discount.minimum_subtotal, shop.currency),
        }
    shared = {
        "title": discount.title,
        "status": discount.status(now),
        "startsAt": iso(discount.starts_at),
        "endsAt": iso(discount.ends_at),
        "createdAt": iso(discount.created_at),
        "updatedAt": iso(discount.deactivated_at or discount.created_at),
        "usageLimit": discount.usage_limit,
        "asyncUsageCount": 0,
        "appliesOncePerCustomer": discount.applies_once_per_customer,
        "combinesWith": {key: bool(discount.combines_with.get(key)) for key in _COMBINES},
        "codes": codes,
        "codesCount": {"count": 1, "precision": "EXACT"},
        "summary": discount.title,
        "shortSummary": discount.title,
        "minimumRequirement": minimum,
        "context": lambda info: _context_view(shop, discount),
    }
    if discount.kind == "free_shipping":
        return {**shared, "__typename": "DiscountCodeFreeShipping", "maximumShippingPrice": None,
                "destinationSelection": {"__typename": "DiscountCountryAll", "allCountries": True},
                "appliesOnOneTimePurchase": True, "appliesOnSubscription": False}
    return {**shared, "__typename": "DiscountCodeBasic", "customerGets": {
        "value": value,
        "items": {"__typename": "AllDiscountItems", "allItems": True},
        "appliesOnOneTimePurchase": True,
        "appliesOnSubscription": False,
    }}


_COMBINES = ("orderDiscounts", "productDiscounts", "shippingDiscounts")


def _context_view(shop, discount):
    """DiscountCodeBasic.context: everyone, or the listed customers."""
    if not discount.customer_ids:
        return {"__typename": "DiscountBuyerSelectionAll", "all": "ALL"}
    # A customer the emulator was never told about still has an id worth showing.
    customers = [customer_view(shop, shop.customers.get(i) or Customer(i)) for i in discount.customer_ids]
    return {"__typename": "DiscountCustomers", "customers": customers}


def gift_card_view(shop, card):
    """A GiftCard (the code itself is masked, as Shopify never shows it again)."""
    amount = money(card.initial_value, card.currency)
    found = shop.customers.get(card.customer_id)
    return {
        "__typename": "GiftCard",
        "id": gid("GiftCard", card.id),
        "maskedCode": card.masked_code,
        "lastCharacters": card.code[-4:],
        "initialValue": amount,
        "balance": amount,
        "enabled": True,
        "expiresOn": card.expires_on,
        "note": card.note,
        "notify": False,
        "createdAt": iso(card.created_at),
        "updatedAt": iso(card.created_at),
        "customer": (lambda info: customer_view(shop, found)) if found else None,
    }


def bulk_view(info, operation):
    """A BulkOperation; its url points at this emulator."""
    url = f"{info.context.base_url.rstrip('/')}/_emulator/{info.context.shop.domain}/bulk/{operation.id}.jsonl"
    return {
        "__typename": "BulkOperation",
        "id": gid("BulkOperation", operation.id),
        "status": operation.status,
        "errorCode": None,
        "createdAt": iso(operation.created_at),
        "completedAt": iso(operation.completed_at or operation.created_at) if operation.status == "COMPLETED" else None,
        "objectCount": str(operation.object_count),
        "rootObjectCount": str(operation.root_object_count),
        "fileSize": str(len(operation.data)) if operation.data else None,
        "query": operation.query,
        "type": operation.type,
        "url": url if operation.data else None,
        "partialDataUrl": None,
    }
