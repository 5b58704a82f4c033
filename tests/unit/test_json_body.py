"""integrations.shopify.json_body: a recorded webhook body parsed with orjson gives exactly what
`json.loads` gives, value and type alike, and fails exactly where `json.loads` fails, with its error."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from integrations.shopify import json_body

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=25)
NUMBERS = st.from_regex(r"\A-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][-+]?[0-9]{1,3})?\Z")
"""JSON number literals as Shopify or anyone may write them: long mantissas, big and tiny exponents."""


def outcome(parse, body: bytes):
    """What a parser makes of `body`: its value as repr (so 1 and 1.0, NaN and NaN compare), or its error."""
    try:
        return "value", repr(parse(body))
    except (ValueError, RecursionError) as exc:
        return "error", type(exc), str(exc)


@settings(max_examples=400)
@given(VALUES)
def test_any_json_value_reads_as_json_reads_it(value):
    body = json.dumps(value).encode()
    assert outcome(json_body.loads, body) == outcome(json.loads, body)


@settings(max_examples=400)
@given(NUMBERS)
def test_any_number_reads_as_json_reads_it(number):
    body = b'{"price": ' + number.encode() + b', "ids": [' + number.encode() + b"]}"
    assert outcome(json_body.loads, body) == outcome(json.loads, body)


@pytest.mark.parametrize("body", [
    b'{"id": NaN}', b'{"id": -Infinity}', b'{"price": 1e999}',                  # json reads them; orjson refuses
    b'{"id": 18446744073709551616}', b'{"id": -9223372036854775809}',          # beyond 64 bits: orjson's floats
    b'{"id": ' + b"9" * 5000 + b"}",                                           # json refuses (int digits limit)
    b'{"name": "\\ud800"}', '{"name": "\ud800"}'.encode("utf-8", "surrogatepass"),  # lone surrogates
    b'\xef\xbb\xbf{"id": 1}', '{"id": 1}'.encode("utf-16"), b"\xff\xfe{}",    # BOM, UTF-16, nonsense
    b"[" * 2000 + b"]" * 2000, b"[" * 200_000 + b"]" * 200_000,                # deep nesting
    b"", b"{", b"\x00" * 64, b'{"a": 1, "a": 2}', b' {"id": 9223372036854775807} ',
])
def test_bodies_orjson_reads_otherwise_read_as_json_reads_them(body):
    assert outcome(json_body.loads, body) == outcome(json.loads, body)
