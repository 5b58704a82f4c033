"""Shopify's Admin GraphQL schema, loaded once for tests that validate documents.

The schema is reference data kept beside the checkout (`../shared/shopify`), not
in the repository; tests must skip cleanly when it is absent.
"""
import functools
from pathlib import Path

import graphql

ADMIN_SCHEMA_PATH = Path(__file__).resolve().parents[1].parent / "shared/shopify/admin_schema.graphql"


@functools.lru_cache(maxsize=1)
def load_admin_schema():
    """Build the Admin schema (about 2 s, hence the cache); None when the file is absent."""
    if not ADMIN_SCHEMA_PATH.is_file():
        return None
    schema = graphql.build_schema(ADMIN_SCHEMA_PATH.read_text(encoding="utf-8"))
    # graphql-core 3.3 rejects this schema over deprecation rules on some interfaces,
    # which says nothing about our documents; marking it checked lets validate() run.
    schema._validation_errors = []
    return schema


def validation_errors(document):
    """Messages of every error `document` has against the Admin schema."""
    schema = load_admin_schema()
    return [error.message for error in graphql.validate(schema, graphql.parse(document))]
