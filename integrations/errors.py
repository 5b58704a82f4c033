"""Errors of the adapters other than Shopify's (integrations/shopify/errors.py): token encryption, mail."""
from __future__ import annotations


class MissingEncryptionKey(RuntimeError):
    """LOYALTY_ENCRYPTION_KEYS is not set, so tokens can be neither stored nor read."""


class PermanentFailure(Exception):
    """The server refused the message for good (5xx: unknown mailbox, rejected content): no retry."""
