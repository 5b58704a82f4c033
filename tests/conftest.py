"""What every tier shares, and nothing that starts a service: the test shop, its secrets and key, `make_config`,
`demo_config` and the signed-webhook `Sender`. The fixtures that start Redis, PostgreSQL, the app or the
emulator are in tests/fixtures.py, loaded by the conftest of each tier that needs them (integration, e2e,
soak), never by tests/unit."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from cryptography.fernet import Fernet
from hypothesis import HealthCheck, settings as hypothesis_settings

from integrations.shopify.webhook_signature import sign
from loyalty.config import Config

# Property tests judge answers, never speed (speed lives in `make bench`): Hypothesis' default 200 ms
# deadline per example, and its "too slow" data-generation health check, are timings: on a loaded 2-core
# machine they failed test_json_body now and then (its answers were right: 20,000 examples each agree).
hypothesis_settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("suite")

SECRET = "test-webhook-secret"
SHOP = "store-a.myshopify.com"
KEY = Fernet.generate_key().decode()


def make_config(database_url: str, redis_url: str | None, tmp_path: Path, **overrides) -> Config:
    """A Config for tests (no environment involved)."""
    values = dict(database_url=database_url, redis_url=redis_url, var_dir=tmp_path, api_key="test-key",
                  api_secrets=(SECRET,), encryption_keys=(KEY,), admin_url_template="https://{shop}")
    values.update(overrides)
    return Config(**values)


DEMO_ADMIN_URL = "http://127.0.0.1:9/{shop}"
"""The demo's Admin API in tests: on the loopback, as `make run`'s emulator, but a closed port."""


def demo_config(database_url: str, redis_url: str | None, var_dir: Path, **overrides) -> Config:
    """What `make run` gives its web process on a fresh clone: the key, secret and encryption key `make`
    generates in var/local.env, LOYALTY_DEMO=1, and the Admin API on the loopback (loyalty.demo)."""
    from dotenv import dotenv_values

    from tools.local_env import write_local_env

    local = dotenv_values(write_local_env(var_dir))
    values = dict(api_key=local["SHOPIFY_API_KEY"], api_secrets=(local["SHOPIFY_API_SECRET"],),
                  local_secret=local["SHOPIFY_API_SECRET"], encryption_keys=(local["LOYALTY_ENCRYPTION_KEYS"],),
                  admin_url_template=DEMO_ADMIN_URL, demo=True)
    return make_config(database_url, redis_url, var_dir, **{**values, **overrides})


class Sender:
    """Posts webhooks signed like Shopify signs them."""

    def __init__(self, client, shop_domain: str = SHOP, secret: str = SECRET):
        self.client, self.shop, self.secret = client, shop_domain, secret

    def __call__(self, topic: str, payload, *, webhook_id: str | None = None, shop: str | None = None,
                 secret: str | None = None, headers: dict | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        all_headers = {
            "X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": shop or self.shop,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Hmac-Sha256": sign(secret or self.secret, body), "Content-Type": "application/json",
        }
        all_headers.update(headers or {})
        return self.client.post("/webhooks", data=body, headers=all_headers)
