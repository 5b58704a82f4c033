"""The admin API's OpenAPI 3.1 document: `admin/openapi.json` (the info, the security scheme, the shared
schemas and the first routes) with each area's fragment in `admin/openapi/*.json` (its `paths` and
`components`) merged in, so each area describes its own routes in its own file. A path or schema
named twice is an error, not an override."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

BASE = Path(__file__).with_name("openapi.json")
FRAGMENTS = Path(__file__).with_name("openapi")


@lru_cache(maxsize=1)
def document() -> dict:
    """The whole document (read once per process)."""
    doc = json.loads(BASE.read_text())
    for fragment in sorted(FRAGMENTS.glob("*.json")):
        part = json.loads(fragment.read_text())
        for name, item in part.get("paths", {}).items():
            if name in doc["paths"]:
                raise ValueError(f"{fragment.name}: path {name} is already described")
            doc["paths"][name] = item
        for section, named in part.get("components", {}).items():
            into = doc["components"].setdefault(section, {})
            for name, item in named.items():
                if name in into:
                    raise ValueError(f"{fragment.name}: components.{section}.{name} is already described")
                into[name] = item
    return doc


@lru_cache(maxsize=1)
def document_bytes() -> bytes:
    """The document as served."""
    return json.dumps(document(), indent=1).encode()
