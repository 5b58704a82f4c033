"""A local stand-in for Shopify's Admin GraphQL API, for demo mode and end-to-end tests.

    emulator = Emulator()
    emulator.add_shop("demo.myshopify.com", "demo-token")
    # serve emulator.app (WSGI), point SHOPIFY_ADMIN_URL at http://127.0.0.1:9000/{shop}

Run it alone with `python -m tools.shopify_emulator --port 9000`.
"""
from tools.shopify_emulator.core import Emulator, UnknownShop

__all__ = ["Emulator", "UnknownShop"]
