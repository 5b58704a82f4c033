"""REST/webhook order JSON -> the emulator's records, so a test or the demo can hold in the emulated shop
exactly the orders it sends as webhooks."""
from datetime import datetime, timezone
from decimal import Decimal

from tools.shopify_emulator.store import LineItem, Refund


def order_details(body, now):
    """store.Order fields (beyond id, transactions, customer, name) of a REST order."""
    created = _time(body.get("created_at")) or now
    return {
        "email": body.get("email") or (body.get("customer") or {}).get("email"),
        "created_at": created,
        "processed_at": _time(body.get("processed_at")) or created,
        "updated_at": _time(body.get("updated_at")) or now,
        "cancelled_at": _time(body.get("cancelled_at")),
        "test": bool(body.get("test")),
        "source_name": body.get("source_name"),
        "currency": body.get("currency"),
        "gateways": tuple(body.get("payment_gateway_names") or ()),
        "discount_codes": tuple(d["code"] for d in body.get("discount_codes") or () if d.get("code")),
        "b2b": bool(body.get("company")),
        "line_items": [LineItem(int(item["id"]), int(item["quantity"]), _amount(item, "price_set", "price"),
                                tuple(_amount(d, "amount_set", "amount") for d in item.get("discount_allocations") or ()),
                                tuple(_amount(t, "price_set", "price") for t in item.get("tax_lines") or ()),
                                int(item["product_id"]) if item.get("product_id") is not None else None)
                       for item in body.get("line_items") or ()],
        "shipping_lines": [(int(line.get("id") or n + 1), str(Decimal(_amount(line, "price_set", "price")) - sum(
                               (Decimal(_amount(d, "amount_set", "amount")) for d in line.get("discount_allocations") or ()),
                               Decimal(0)))) for n, line in enumerate(body.get("shipping_lines") or ())],
        "taxes_included": body.get("taxes_included") is not False,
    }


def refund_record(body):
    """A store.Refund from a REST refund."""
    return Refund(int(body["id"]), _time(body.get("created_at")),
                  tuple(_amount(item, "subtotal_set", "subtotal") for item in body.get("refund_line_items") or ()))


def _amount(obj, set_key, plain_key):
    shop_money = (obj.get(set_key) or {}).get("shop_money") or {}
    return str(Decimal(str(shop_money.get("amount", obj.get(plain_key)))))


def _time(raw):
    if not raw:
        return None
    moment = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
