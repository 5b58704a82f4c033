"""Reading a bulk operation's JSONL into records (integrations.shopify.bulk.records), split from
tests/integration/test_history_import.py, which imports the records into the ledger."""
from __future__ import annotations

import pytest

from integrations.shopify import bulk


def test_records_regroup_child_lines_under_their_parent():
    """Child lines follow their parent (`__parentId`), grandchildren name a child; positions are kept."""
    lines = [b'{"id":"gid://shopify/Order/1","name":"#1"}\n',
             b'{"id":"gid://shopify/LineItem/5","__parentId":"gid://shopify/Order/1"}\n',
             b'{"id":"gid://shopify/Thing/9","__parentId":"gid://shopify/LineItem/5"}\n',
             b'\n',
             b'{"id":"gid://shopify/Order/2"}\n']
    found = list(bulk.records(lines))
    assert [r.node["id"] for r in found] == ["gid://shopify/Order/1", "gid://shopify/Order/2"]
    assert [c["id"] for c in found[0].children] == ["gid://shopify/LineItem/5", "gid://shopify/Thing/9"]
    assert (found[0].end_line, found[0].end_byte) == (3, sum(map(len, lines[:3])))
    assert (found[1].end_line, found[1].end_byte) == (5, sum(map(len, lines)))
    with pytest.raises(bulk.BadJsonl, match="line 3"):
        list(bulk.records([lines[0], lines[4], lines[1]]))
