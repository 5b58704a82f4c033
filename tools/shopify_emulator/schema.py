"""The schema the emulator executes against: Shopify's own when available, else a small subset.

Shopify's published Admin schema (3 MB of SDL, ~2 s to build) lives beside the
checkout as reference data. With it, documents are validated exactly as Shopify
would; without it (a bare checkout), FALLBACK_SDL covers the operations the app
sends, and documents run unvalidated so that fields it lacks are not refused.
"""
import os
import threading
from pathlib import Path
from typing import NamedTuple

import graphql

SCHEMA_ENV = "SHOPIFY_ADMIN_SCHEMA"
"""Environment variable naming another Admin schema SDL file."""

DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parents[2].parent / "shared/shopify/admin_schema.graphql"
"""Where CI and dev machines keep the reference schema (`../shared` beside the checkout)."""

FALLBACK_SDL = (Path(__file__).with_name("fallback_schema.graphql")).read_text(encoding="utf-8")
"""The types, fields and arguments the app's documents and the emulator use, copied from the Admin schema
by `python -m tools.shopify_emulator.make_fallback` (tests check that it agrees with Shopify's
schema and that every document of the app validates against it)."""


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
