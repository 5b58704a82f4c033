"""Demo mode only when asked for (issue 11). Found: a production host with a leftover `var/local.env` and
SHOPIFY_API_KEY unset was in demo mode, inferred from the generated key that file fills in, and so served
`/dev/mail` (every shop's emails and voucher codes, unauthenticated) and `/admin/dev/session-token` (tokens
signed with the real secret). Now demo mode needs LOYALTY_DEMO=1 in the process's own environment, refuses
to start beside a real configuration, and shows the demo shop only."""
from __future__ import annotations

import os
import runpy
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from db.tables import notifications
from loyalty.services import notifications as outbox
from loyalty.services.customers import resolve_customer
from loyalty.domain.programme import template
from loyalty.services.shops import install_shop
from loyalty.config import load_config
from tools.local_env import write_local_env
from loyalty.services.context import build_context, get_context
from loyalty.demo import DEMO_SHOP, DemoRefused, launcher_wants_demo
from tests.conftest import SHOP, demo_config
from tools.local_services import kill_tree

ROOT = Path(__file__).resolve().parents[2]
REAL_SECRET = "shpss_0123456789abcdef0123456789abcdef"
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
APP_VARIABLES = ("SHOPIFY_", "LOYALTY_", "SMTP_", "DATABASE_URL", "REDIS_URL")


@pytest.fixture
def host(database_url, redis_url, tmp_path):
    """A host's environment, restored afterwards: the app's variables cleared, the test database and Redis
    set, a leftover `var/local.env` (as `make` wrote it) under LOYALTY_VAR_DIR, SHOPIFY_API_KEY unset.
    `host.app()` builds the app exactly as wsgi.py does (gunicorn's `wsgi:app`)."""
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith(APP_VARIABLES):
            del os.environ[name]
    os.environ.update(LOYALTY_VAR_DIR=str(tmp_path), DATABASE_URL=database_url, REDIS_URL=redis_url)
    write_local_env(tmp_path)
    get_context.cache_clear()

    class Host:
        @staticmethod
        def app():
            return runpy.run_path(str(ROOT / "wsgi.py"))["app"]

    yield Host()
    if get_context.cache_info().currsize:
        get_context("web").engine.dispose()
    get_context.cache_clear()
    os.environ.clear()
    os.environ.update(saved)


def test_a_leftover_local_env_serves_no_demo_endpoint(host):
    """The finding: leftover var/local.env, SHOPIFY_API_KEY unset, the real secret in the environment, the
    Procfile's app: no mailbox, no token minting, and the pages load App Bridge from Shopify."""
    os.environ["SHOPIFY_API_SECRET"] = REAL_SECRET
    client = host.app().test_client()
    assert client.get("/dev/mail").status_code == 404
    assert client.get("/dev/mail/1").status_code == 404
    assert client.get("/admin/dev/session-token").status_code == 404
    page = client.get(f"/admin?shop={DEMO_SHOP}").get_data(as_text=True)
    assert "https://cdn.shopify.com/shopifycloud/app-bridge.js" in page and "loyalty-dev-tokens" not in page


def test_the_switch_is_never_read_from_var_files(host):
    """LOYALTY_DEMO=1 written into var/local.env (or demo.env) does not turn demo mode on, nor reach the
    environment that child processes inherit."""
    var = Path(os.environ["LOYALTY_VAR_DIR"])
    with open(var / "local.env", "a") as f:
        f.write("LOYALTY_DEMO=1\n")
    (var / "demo.env").write_text("LOYALTY_DEMO=1\n")
    assert load_config().demo is False and "LOYALTY_DEMO" not in os.environ
    assert host.app().test_client().get("/dev/mail").status_code == 404


def test_a_leftover_demo_env_does_not_point_a_real_host_at_the_emulator(host):
    """`make run` writes var/demo.env (the emulator's Admin URL, for the CLI beside it). Left on a host with
    a real secret, it is not read: the Admin API stays Shopify's. On the generated set-up the CLI reads it."""
    var = Path(os.environ["LOYALTY_VAR_DIR"])
    (var / "demo.env").write_text("SHOPIFY_ADMIN_URL=http://127.0.0.1:9000/{shop}\n")
    os.environ["SHOPIFY_API_SECRET"] = REAL_SECRET
    assert load_config().admin_url_template == "https://{shop}"
    del os.environ["SHOPIFY_API_SECRET"]
    os.environ.pop("SHOPIFY_ADMIN_URL", None)
    assert load_config().admin_url_template == "http://127.0.0.1:9000/{shop}"


@pytest.mark.parametrize("real", [
    {"SHOPIFY_API_SECRET": REAL_SECRET},
    {"SHOPIFY_API_SECRET_PREVIOUS": REAL_SECRET},
    {"SHOPIFY_API_KEY": "0123456789abcdef0123456789abcdef"},
    {"SHOPIFY_ADMIN_URL": "https://{shop}"},
    {"SHOPIFY_ADMIN_URL": "https://proxy.example.com/{shop}"},
], ids=["secret", "previous-secret", "api-key", "shopify-admin-url", "remote-admin-url"])
def test_the_switch_beside_anything_real_refuses_to_start(host, real):
    """LOYALTY_DEMO=1 with a real secret, key or Admin API: the app does not start, and says why."""
    os.environ.update({"LOYALTY_DEMO": "1", "SHOPIFY_ADMIN_URL": "http://127.0.0.1:9000/{shop}", **real})
    with pytest.raises(DemoRefused, match=r"LOYALTY_DEMO=1 is refused beside a real configuration: SHOPIFY_"):
        host.app()


def test_the_switch_on_the_generated_set_up_serves_the_demo(host):
    """What `make run` gives its web process: the generated var/local.env, LOYALTY_DEMO=1, the emulator."""
    os.environ.update(LOYALTY_DEMO="1", SHOPIFY_ADMIN_URL="http://127.0.0.1:9000/{shop}")
    client = host.app().test_client()
    assert client.get("/dev/mail").status_code == 200
    assert client.get("/admin/dev/session-token").get_json()["shop"] == DEMO_SHOP


def test_make_run_beside_a_real_secret_refuses_to_start_the_demo(tmp_path):
    """The launcher with LOYALTY_DEMO=1 and a real secret exits at once with the reason, starting nothing."""
    write_local_env(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(APP_VARIABLES)}
    env.update(LOYALTY_VAR_DIR=str(tmp_path), LOYALTY_DEMO="1", SHOPIFY_API_SECRET=REAL_SECRET)
    launcher = subprocess.Popen([sys.executable, "-m", "tools.launcher"], cwd=ROOT, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = launcher.communicate(timeout=60)
    finally:  # had it started (the bug), its web, worker and emulator must not outlive the test
        kill_tree(launcher)
    assert launcher.returncode == 2, out + err
    assert "LOYALTY_DEMO=1 is refused beside a real configuration: SHOPIFY_API_SECRET" in err
    assert not (tmp_path / "redis").exists() and not (tmp_path / "loyalty.db").exists()


def test_make_run_starts_the_demo_only_on_the_generated_set_up(tmp_path):
    """With LOYALTY_DEMO unset, `make run` starts the demo on a fresh clone (everything generated), and not
    on a host with a leftover var/local.env beside a real secret; LOYALTY_DEMO=0 turns it off."""
    emulator = "http://127.0.0.1:9000/{shop}"
    generated = demo_config("sqlite://", None, tmp_path, demo=False, admin_url_template="https://{shop}")
    assert launcher_wants_demo(generated, {}, emulator) is True
    real = demo_config("sqlite://", None, tmp_path, demo=False, api_secrets=(REAL_SECRET,))
    assert launcher_wants_demo(real, {}, emulator) is False
    assert launcher_wants_demo(generated, {"LOYALTY_DEMO": "0"}, emulator) is False


def test_demo_mail_shows_the_demo_shop_only(ctx, shop, tmp_path):
    """In demo mode /dev/mail lists the demo shop's emails and not another shop's, and another shop's email
    is 404 by its id."""
    from runtime.web import create_app

    demo = build_context(demo_config(ctx.config.database_url, ctx.config.redis_url, tmp_path))
    prog = template("store-a")
    with demo.engine.begin() as conn:
        demo_shop = install_shop(conn, DEMO_SHOP, b"t", NOW)
        for who, customer_id, email in ((demo_shop, 1, "demo-shopper@example.com"),
                                        (shop, 2, "store-a-private@example.com")):
            record = resolve_customer(conn, who.id, customer_id, email, NOW)
            outbox.notify_perks_granted(conn, who, prog, record, prog.perks[:1], NOW)
        other = conn.execute(select(notifications.c.id).where(notifications.c.shop_id == shop.id)).scalar_one()
    client = create_app(demo).test_client()
    listed = client.get("/dev/mail").get_data(as_text=True)
    assert "demo-shopper@example.com" in listed
    assert "store-a-private@example.com" not in listed and SHOP not in listed
    assert client.get(f"/dev/mail/{other}").status_code == 404
    demo.engine.dispose()
