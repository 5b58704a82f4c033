"""Orders in bulk and by search: `orders(query:, sortKey:, first:, after:)`, `refund(id:)`, and bulk
operations (`bulkOperationRunQuery`, `node(id:)`, `currentBulkOperation`; bulk mutations in bulk_mutation.py)
whose JSONL the emulator serves itself, children on their own lines after their parent with a `__parentId`, as Shopify writes them."""
import json
import re
from datetime import datetime

import graphql

from tools.shopify_emulator import bulk_mutation
from tools.shopify_emulator.resolution import field_resolver, type_resolver
from tools.shopify_emulator.store import BulkOperation, parse_id
from tools.shopify_emulator.views import bulk_view, connection, order_view, refund_view

_TERM = re.compile(r"(\w+):(<=|>=|<|>)?'?([^'\s]+)'?")
_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, None: lambda a, b: a == b}
_SORT = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "PROCESSED_AT": "processed_at"}


def orders(info, query=None, sortKey=None, reverse=False, first=None, after=None, last=None, **_ignored):
    """QueryRoot.orders: `created_at`/`updated_at`/`processed_at` comparisons in `query`, sorted, paged."""
    shop = info.context.shop
    if first is None and last is None and not info.context.bulk:
        raise graphql.GraphQLError("you must provide one of first or last")
    found = [o for o in shop.orders.values() if _matches(o, query or "")]
    attribute = _SORT.get(sortKey)
    found.sort(key=lambda o: ((getattr(o, attribute) or o.created_at or datetime.min) if attribute else 0, o.id),
               reverse=bool(reverse))
    return connection(info, [order_view(shop, o) for o in found], first=first, after=after, last=last)


def refund(info, id):
    """QueryRoot.refund(id:): null when unknown."""
    number, shop = parse_id(id, "Refund"), info.context.shop
    for order in shop.orders.values():
        for found in order.refunds:
            if found.id == number:
                return refund_view(order, found, order.currency or shop.currency)
    return None


def node(info, id):
    """QueryRoot.node(id:), for bulk operations (a bulk mutation brought up to date first)."""
    found = info.context.shop.bulk_operations.get(parse_id(id, "BulkOperation"))
    return bulk_view(info, bulk_mutation.advance(info, found)) if found else None


def current_bulk_operation(info, type="QUERY"):
    """QueryRoot.currentBulkOperation(type:): the latest bulk query, or bulk mutation."""
    found = bulk_mutation.current(info, type)
    return bulk_view(info, found) if found else None


def bulk_operation_run_query(info, query, groupObjects=True):
    """Mutation.bulkOperationRunQuery: run the query over every object (no paging) and keep its JSONL."""
    shop, now = info.context.shop, info.context.now
    document = graphql.parse(query)
    problems = graphql.validate(info.schema, document)
    if problems:
        error = {"field": ["query"], "message": problems[0].message, "code": "INVALID"}
        return {"bulkOperation": None, "userErrors": [error]}
    result = graphql.execute(info.schema, document, root_value=info.root_value,
                             context_value=info.context._replace(bulk=True), field_resolver=field_resolver,
                             type_resolver=type_resolver)
    if result.errors:
        error = {"field": ["query"], "message": result.errors[0].message, "code": "INVALID"}
        return {"bulkOperation": None, "userErrors": [error]}
    lines, roots = [], 0
    for value in result.data.values():
        for edge in (value or {}).get("edges", ()):
            roots += 1
            _flatten(edge["node"], None, lines)
    operation = BulkOperation(shop.next_id(), query, now, data="".join(lines).encode(), object_count=len(lines),
                              root_object_count=roots)
    shop.bulk_operations[operation.id] = operation
    return {"bulkOperation": bulk_view(info, operation), "userErrors": []}


def _flatten(node, parent_id, lines):
    """One JSONL line for `node` (its connections taken out), then a line per connection child."""
    own, children = {}, []
    for key, value in node.items():
        if isinstance(value, dict) and "edges" in value:
            children += [edge["node"] for edge in value["edges"]]
        else:
            own[key] = value
    if parent_id is not None:
        own["__parentId"] = parent_id
    lines.append(json.dumps(own, separators=(",", ":")) + "\n")
    for child in children:
        _flatten(child, own.get("id"), lines)


def _matches(order, query):
    """Whether the order satisfies every `field:<op>'value'` term of a search."""
    for field, op, raw in _TERM.findall(query):
        attribute = {"created_at": "created_at", "updated_at": "updated_at", "processed_at": "processed_at"}.get(field)
        if attribute is None:
            continue
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        value = getattr(order, attribute) or order.created_at
        if value is None or not _COMPARE[op or None](value, moment):
            return False
    return True
