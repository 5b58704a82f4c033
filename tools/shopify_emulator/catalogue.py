"""Products, variants and collections: collectionCreate (custom or smart, validated like Shopify),
collection(id:) with its products, productVariant(id:) with its product's inCollection(id:), and the
collections(query:) and products(query:) searches by title (`title:word*` prefixes, `title:word` words,
bare words anywhere in the title), sorted by title or id.

A smart collection's rules are evaluated when it is read, as Shopify keeps it up to date as products change.
Rules on a variant attribute match a product when at least one of its variants matches (Shopify's wording
for IS_PRICE_REDUCED: `is_not_set` matches products with at least one variant whose compare-at price is not
set)."""
from decimal import Decimal

from graphql import GraphQLError

from tools.shopify_emulator.discounts import user_error
from tools.shopify_emulator.store import Collection, gid, parse_id
from tools.shopify_emulator.views import connection

PRESENCE = ("IS_SET", "IS_NOT_SET")
"""Relations that test whether an attribute is set; they take no condition."""

PRESENCE_COLUMNS = ("IS_PRICE_REDUCED", "VARIANT_COMPARE_AT_PRICE")
"""Columns the emulator evaluates with IS_SET / IS_NOT_SET."""

TEXT_COLUMNS = {"TITLE": lambda product: [product.title], "TAG": lambda product: sorted(product.tags)}
"""Columns the emulator evaluates with EQUALS / NOT_EQUALS / CONTAINS / STARTS_WITH."""


def collection_create(info, input):
    """collectionCreate: a custom collection (`products`) or a smart one (`ruleSet`), not both."""
    shop = info.context.shop
    errors = []
    title = (input.get("title") or "").strip()
    if not title:
        errors.append(user_error(["title"], "Title can't be blank"))
    rule_set = input.get("ruleSet")
    rules = _rules(rule_set, errors) if rule_set is not None else None
    if rule_set is not None and input.get("products"):
        errors.append(user_error(["products"], "Can't add products to a smart collection"))
    product_ids = [parse_id(value, "Product") for value in input.get("products") or []]
    if any(number not in shop.products for number in product_ids):
        errors.append(user_error(["products"], "Product does not exist"))
    if errors:
        return {"collection": None, "userErrors": [{k: e[k] for k in ("field", "message")} for e in errors]}
    found = Collection(shop.next_id(), title, product_ids, rules,
                       bool(rule_set and rule_set.get("appliedDisjunctively")))
    shop.collections[found.id] = found
    return {"collection": collection_view(shop, found), "userErrors": []}


def _rules(rule_set, errors):
    """The rule set as ((column, relation, condition), ...), appending userErrors for rules Shopify refuses;
    a column the emulator cannot evaluate fails the request plainly."""
    rules = rule_set.get("rules") or []
    if not rules:
        errors.append(user_error(["ruleSet", "rules"], "Rules can't be blank"))
    parsed = []
    for index, rule in enumerate(rules):
        column, relation, condition = rule["column"], rule["relation"], rule.get("condition") or ""
        where = ["ruleSet", "rules", str(index)]
        if column in PRESENCE_COLUMNS:
            if relation not in PRESENCE:
                errors.append(user_error(where + ["relation"], f"Relation is not valid for {column.lower()}"))
        elif column in TEXT_COLUMNS:
            if relation in PRESENCE or relation in ("GREATER_THAN", "LESS_THAN"):
                errors.append(user_error(where + ["relation"], f"Relation is not valid for {column.lower()}"))
            elif not condition.strip():
                errors.append(user_error(where + ["condition"], "Condition can't be blank"))
        else:
            raise GraphQLError(f"The Shopify emulator does not evaluate collection rules on {column}.")
        parsed.append((column, relation, condition))
    return tuple(parsed)


def members(shop, found):
    """The product ids of a collection, in id order for a smart one (evaluated now)."""
    if found.rules is None:
        return [number for number in found.product_ids if number in shop.products]
    combine = any if found.disjunctive else all
    return [number for number, product in sorted(shop.products.items())
            if combine(_matches(shop, product, rule) for rule in found.rules)]


def _matches(shop, product, rule):
    column, relation, condition = rule
    if column in PRESENCE_COLUMNS:
        variants = [shop.variants[v] for v in product.variant_ids]
        wanted = relation == "IS_SET"
        return any((v.compare_at_price is not None) == wanted for v in variants)
    values = [value.casefold() for value in TEXT_COLUMNS[column](product)]
    condition = condition.casefold()
    tests = {"EQUALS": lambda v: v == condition, "NOT_EQUALS": lambda v: v != condition,
             "CONTAINS": lambda v: condition in v, "NOT_CONTAINS": lambda v: condition not in v,
             "STARTS_WITH": lambda v: v.startswith(condition), "ENDS_WITH": lambda v: v.endswith(condition)}
    test = tests[relation]
    return all(test(v) for v in values) if relation.startswith("NOT") else any(test(v) for v in values)


def collection(info, id):
    """collection(id:): null when unknown (or deleted)."""
    shop = info.context.shop
    found = shop.collections.get(parse_id(id, "Collection"))
    return collection_view(shop, found) if found else None


def collections(info, query=None, sortKey=None, reverse=False, **args):
    """collections(first:, query:, sortKey:): the collections whose title matches `query`."""
    shop = info.context.shop
    found = _searched(shop.collections.values(), query, sortKey, reverse)
    return connection(info, [collection_view(shop, c) for c in found], **_page(info, args))


def products(info, query=None, sortKey=None, reverse=False, **args):
    """products(first:, query:, sortKey:): the products whose title matches `query`."""
    shop = info.context.shop
    found = _searched(shop.products.values(), query, sortKey, reverse)
    return connection(info, [product_view(shop, p) for p in found], **_page(info, args))


def _searched(items, query, sort_key, reverse):
    """The items whose title matches every term of Shopify's search syntax the emulator reads: `title:lin*`
    (a word of the title starts with it), `title:linen` (a word of the title is it), `linen` (in the title);
    case-insensitive. Other fields fail plainly. Sorted by TITLE, else by id."""
    terms = (query or "").split()
    for term in terms:
        field, _, value = term.rpartition(":")
        if field not in ("", "title"):
            raise GraphQLError(f"The Shopify emulator does not search by {field}.")
    def matches(title):
        words = title.casefold().split()
        for term in terms:
            field, _, value = term.casefold().rpartition(":")
            if not field:
                ok = value in title.casefold()
            elif value.endswith("*"):
                ok = any(word.startswith(value[:-1]) for word in words)
            else:
                ok = value in words
            if not ok:
                return False
        return True
    chosen = [item for item in items if matches(item.title)]
    key = (lambda item: (item.title.casefold(), item.id)) if sort_key == "TITLE" else (lambda item: item.id)
    return sorted(chosen, key=key, reverse=bool(reverse))


def product(info, id):
    """product(id:) (as a node): null when unknown."""
    shop = info.context.shop
    found = shop.products.get(parse_id(id, "Product"))
    return product_view(shop, found) if found else None


def product_variant(info, id):
    """productVariant(id:): null when unknown."""
    shop = info.context.shop
    found = shop.variants.get(parse_id(id, "ProductVariant"))
    return variant_view(shop, found) if found else None


def collection_view(shop, found):
    """A Collection; its products are read when asked (a smart collection evaluated then)."""
    rule_set = None
    if found.rules is not None:
        rule_set = {"appliedDisjunctively": found.disjunctive, "rules": [
            {"column": c, "relation": r, "condition": cond, "conditionObject": None} for c, r, cond in found.rules]}
    return {
        "__typename": "Collection",
        "id": gid("Collection", found.id),
        "legacyResourceId": str(found.id),
        "title": found.title,
        "handle": found.title.lower().replace(" ", "-"),
        "ruleSet": rule_set,
        "products": lambda info, **args: connection(
            info, [product_view(shop, shop.products[n]) for n in members(shop, found)], **_page(info, args)),
    }


def _page(info, args):
    """A connection's paging arguments, refused as Shopify refuses them: one of first/last (but in a bulk
    query), at most 250."""
    if args.get("first") is None and args.get("last") is None and not getattr(info.context, "bulk", False):
        raise GraphQLError("you must provide one of first or last")
    if (args.get("first") or 0) > 250 or (args.get("last") or 0) > 250:
        raise GraphQLError("The page size is limited to 250.")
    return args


def product_view(shop, product):
    """A Product with its variants and inCollection(id:)."""
    def in_collection(info, id):
        found = shop.collections.get(parse_id(id, "Collection"))
        return found is not None and product.id in members(shop, found)
    return {
        "__typename": "Product",
        "id": gid("Product", product.id),
        "legacyResourceId": str(product.id),
        "title": product.title,
        "tags": sorted(product.tags),
        "inCollection": in_collection,
        "variants": lambda info, **args: connection(
            info, [variant_view(shop, shop.variants[v]) for v in product.variant_ids], **args),
    }


def variant_view(shop, variant):
    """A ProductVariant: price and compareAtPrice are Money scalars (decimal strings)."""
    product = shop.products[variant.product_id]
    default = variant.title == "Default Title"
    return {
        "__typename": "ProductVariant",
        "id": gid("ProductVariant", variant.id),
        "legacyResourceId": str(variant.id),
        "title": variant.title,
        "displayName": product.title if default else f"{product.title} - {variant.title}",
        "price": format(Decimal(variant.price).quantize(Decimal("0.01")), "f"),
        "compareAtPrice": (format(Decimal(variant.compare_at_price).quantize(Decimal("0.01")), "f")
                           if variant.compare_at_price is not None else None),
        "availableForSale": variant.available,
        "product": lambda info: product_view(shop, product),
    }
