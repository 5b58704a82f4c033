"""Shopify Admin GraphQL adapter: client, shared rate budget, documents and typed reads."""
