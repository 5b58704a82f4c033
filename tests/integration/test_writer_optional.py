"""The inbox writer is optional and off the ordinary web path: a web process built without
LOYALTY_INBOX_SOCKET loads none of webhooks.writer, even while it records webhooks; with one, it loads the
client (and the wire format) but never the server. Each case runs `import wsgi` in a fresh interpreter, as
gunicorn does, so no other test's imports count."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import SECRET, SHOP

REPO = Path(__file__).resolve().parents[2]

WEB_PROCESS = """
import json, sys
import wsgi
from integrations.shopify.webhook_signature import sign

body = json.dumps({"id": 1, "line_items": []}).encode()
response = wsgi.app.test_client().post("/webhooks", data=body, headers={
    "X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": sys.argv[1], "X-Shopify-Webhook-Id": "w1",
    "X-Shopify-Hmac-Sha256": sign(sys.argv[2], body)})
print(json.dumps({"status": response.status_code, "outcome": response.headers.get("X-Loyalty-Webhook"),
                  "loaded": sorted(name for name in sys.modules if name.startswith("webhooks.writer"))}))
"""


def web_process(ctx, redis_url: str, **extra: str) -> dict:
    """Build the app as `gunicorn wsgi:app` does, on the test's database, post one signed webhook, and
    report its answer and which webhooks.writer modules were loaded."""
    inherited = {k: v for k, v in os.environ.items() if k != "LOYALTY_INBOX_SOCKET"}
    env = {**inherited, "DATABASE_URL": ctx.config.database_url, "REDIS_URL": redis_url,
           "SHOPIFY_API_KEY": "k", "SHOPIFY_API_SECRET": SECRET, "LOYALTY_VAR_DIR": str(ctx.config.var_dir),
           "LOYALTY_ENCRYPTION_KEYS": ctx.config.encryption_keys[0], **extra}
    done = subprocess.run([sys.executable, "-c", WEB_PROCESS, SHOP, SECRET], cwd=REPO, env=env,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


def test_without_a_socket_the_web_loads_nothing_of_the_writer(ctx, shop, redis_url):
    """No LOYALTY_INBOX_SOCKET: the webhook is recorded by the web itself, and no module of
    webhooks.writer was imported on the way (app creation or request)."""
    seen = web_process(ctx, redis_url)
    assert (seen["status"], seen["outcome"]) == (200, "recorded")
    assert seen["loaded"] == []


def test_with_a_socket_the_web_loads_the_client_never_the_server(ctx, shop, redis_url, tmp_path):
    """LOYALTY_INBOX_SOCKET set (nobody serving it, so the web still records the webhook itself): the
    client and the wire format are loaded, the writer process's module is not."""
    seen = web_process(ctx, redis_url, LOYALTY_INBOX_SOCKET=str(tmp_path / "nobody.sock"))
    assert (seen["status"], seen["outcome"]) == (200, "recorded")
    assert seen["loaded"] == ["webhooks.writer", "webhooks.writer.client", "webhooks.writer.protocol"]
