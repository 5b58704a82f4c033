"""The app proxy's path as shopify.app.toml declares it, split from tests/e2e/test_storefront_page.py, which
serves the page through the app."""
from __future__ import annotations

import tomllib
from pathlib import Path


def test_the_proxy_path_is_the_one_shopify_app_toml_declares():
    """[app_proxy] url is where Shopify forwards /apps/loyalty; the blueprint serves exactly that."""
    from integrations.shopify.app_proxy import PROXY_PATH

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "shopify.app.toml").read_text())
    assert config["app_proxy"]["url"].rstrip("/").endswith(PROXY_PATH)
    assert (config["app_proxy"]["prefix"], config["app_proxy"]["subpath"]) == ("apps", "loyalty")
