"""Persistence: the schema (tables and its invariants), engines, migrations."""
