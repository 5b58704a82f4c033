"""Real Shopify payloads from ../shared/shopify/samples (never copied into the repo)."""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "shopify" / "samples"


@lru_cache(maxsize=None)
def _load(name: str):
    path = SAMPLES / name
    if not path.exists():
        return None
    return json.loads(path.read_text())


def sample(name: str) -> dict:
    """A fresh copy of a sample, unwrapped from its {"order": {...}} envelope; skips when ../shared is absent."""
    data = _load(name)
    if data is None:
        pytest.skip(f"../shared/shopify/samples/{name} is not available")
    data = copy.deepcopy(data)
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), dict):
        data = next(iter(data.values()))
    return data
