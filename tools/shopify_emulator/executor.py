"""One GraphQL request against one shop: parse, validate, price, throttle, execute, report cost."""


import graphql
from graphql import GraphQLError, get_operation_ast

from tools.shopify_emulator.cost import actual_cost, requested_cost
from tools.shopify_emulator.resolution import field_resolver, type_resolver
from tools.shopify_emulator.resolvers import MUTATION_ROOT, QUERY_ROOT, Context

ROOT_VALUE = {**QUERY_ROOT, **MUTATION_ROOT}
"""Query and mutation root fields share no names, so one mapping serves both."""

RATE_LIMITS_URL = "https://shopify.dev/api/usage/rate-limits"
"""Shopify links this page from every THROTTLED error."""



def run(loaded, shop, body, now, max_query_cost, base_url=""):
    """The JSON body Shopify would answer to `body` ({"query", "variables", "operationName"})."""
    bucket = shop.bucket
    try:
        document = graphql.parse(body["query"])
    except GraphQLError as error:
        return _refused([_formatted(error, "GRAPHQL_PARSE_FAILED")], bucket)
    if loaded.validates:
        problems = graphql.validate(loaded.schema, document)
        if problems:
            return _refused([_formatted(e, "GRAPHQL_VALIDATION_FAILED") for e in problems], bucket)
    operation = get_operation_ast(document, body.get("operationName"))
    if operation is None:
        name = body.get("operationName")
        message = f"No operation named {name!r}." if name else "An operationName is required for several operations."
        return _refused([{"message": message, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}], bucket)
    variables = body.get("variables") or {}
    requested = requested_cost(loaded.schema, document, operation, variables)
    if requested > max_query_cost:
        message = f"Query cost is {requested}, which exceeds the single query max cost limit ({max_query_cost})."
        extensions = {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": max_query_cost}
        error = {"message": message, "extensions": extensions}
        return _refused([error], bucket, requested)
    if not bucket.try_spend(requested):
        extensions = {"code": "THROTTLED", "documentation": RATE_LIMITS_URL}
        error = {"message": "Throttled", "extensions": extensions}
        return _refused([error], bucket, requested)
    with shop.lock:  # the whole operation is atomic, as two racing mutations are on one Shopify row
        result = graphql.execute(
            loaded.schema,
            document,
            root_value=ROOT_VALUE,
            context_value=Context(shop, now, base_url),
            variable_values=variables,
            operation_name=body.get("operationName"),
            field_resolver=field_resolver,
            type_resolver=type_resolver,
        )
    actual = actual_cost(operation, result.data)
    bucket.settle(requested, actual)
    answer = {}
    if result.errors:
        answer["errors"] = [error.formatted for error in result.errors]
    if result.data is not None:
        answer["data"] = result.data
    answer["extensions"] = {"cost": _cost(requested, actual, bucket)}
    return answer


def _refused(errors, bucket, requested=0):
    """A response that ran nothing, so cost nothing, still reporting the bucket as Shopify does."""
    return {"errors": errors, "extensions": {"cost": _cost(requested, None, bucket)}}


def _cost(requested, actual, bucket):
    """The `extensions.cost` object."""
    return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": bucket.status()}


def _formatted(error, code):
    """A graphql-core error as Shopify shapes it, tagged with `code`."""
    formatted = error.formatted
    formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
    return formatted
