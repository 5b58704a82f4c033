"""The theme app extension (extensions/loyalty-balance) reads exactly the customer metafields jobs/sync.py
writes. Rendering the block is tested in tests/unit/test_theme_block_render.py."""
from __future__ import annotations

import re

from jobs.sync import sync_balances
from tests.factories import order
from tests.unit.test_theme_block_render import BLOCK


def test_the_block_reads_exactly_the_metafields_the_sync_writes(send, process, ctx, shop, emulator, factory):
    """Every `customer.metafields.loyalty.X` the block reads is one jobs/sync.py writes to Shopify."""
    emulator.add_customer(shop.domain, 1, "c1@example.com")
    send("orders/paid", order(lines=((50, 1),), email="c1@example.com", customer_id=1))
    process()
    sync_balances(ctx, client_factory=factory)
    written = set(emulator.metafields(shop.domain, 1))
    read = {f"{ns}.{key}" for ns, key in re.findall(r"customer\.metafields\.(\w+)\.(\w+)", BLOCK)}
    assert read == {"loyalty.available", "loyalty.pending", "loyalty.lifetime", "loyalty.tier",
                    "loyalty.next_threshold"}
    assert read <= written, read - written
