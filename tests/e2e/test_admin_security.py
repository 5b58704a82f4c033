"""The admin API trusts nothing but a valid session token, and a token only ever opens its own shop:
every route refuses missing, forged, expired, not-yet-valid and wrong-audience tokens, and store B's
staff can neither read nor change store A's customers, vouchers, failed jobs or programme."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select

from db.inbox import insert_webhooks
from db.tables import ledger_entries, programme_settings, vouchers, webhook_inbox
from loyalty.services.customers import resolve_customer
from loyalty.services.shops import install_shop
from integrations.crypto import encrypt_token
from tests.admin_client import OPENAPI, AdminApi, check_against_openapi, session_token
from tests.conftest import SECRET

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
NOW = datetime(2025, 6, 1, tzinfo=timezone.utc)
STORE_B = "store-b.myshopify.com"


def every_route(customer_id: int = 1, code: str = "LOY-X", job_id: int = 1):
    """(method, path) of every operation in the OpenAPI document but the document itself."""
    values = {"customer_id": customer_id, "code": code, "job_id": job_id, "kind": "points_awarded", "language": "fr",
              "version": 1}
    for template, item in OPENAPI["paths"].items():
        for method in item:
            if method != "parameters" and not template.endswith("openapi.json"):
                yield method.upper(), template.format(**values)


ROUTES = list(every_route())


@pytest.fixture
def store_a_data(ctx, shop):
    """Store A: a customer with points, a voucher, and a failed webhook."""
    with ctx.engine.begin() as conn:
        customer = resolve_customer(conn, shop.id, 900, "private@example.com", NOW)
        conn.execute(insert(ledger_entries).values(
            shop_id=shop.id, customer_id=customer, kind="adjust", available=500, reason="seed",
            idempotency_key="seed-1", effective_at=NOW, created_at=NOW, actor="1"))
        conn.execute(insert(vouchers).values(
            shop_id=shop.id, customer_id=customer, request_key="rk", code="LOY-AAAA", points=10, amount=1,
            ends_at=NOW, status="active", created_at=NOW))
        job = insert_webhooks(conn, [dict(
            webhook_id="a-failed", shop_domain=shop.domain, topic="orders/paid", body=b"{}", received_at=NOW,
            failed_at=NOW, attempts=8, last_error="boom")])[0]
    return {"customer_id": customer, "code": "LOY-AAAA", "job_id": job}


@pytest.fixture
def store_b(ctx, client):
    """Store B installed beside store A, and its staff's view of the admin API."""
    with ctx.engine.begin() as conn:
        install_shop(conn, STORE_B, encrypt_token(ctx.config.encryption_keys, "shpat_b"), NOW)
    return AdminApi(client, STORE_B, SECRET, sub="77")


@pytest.mark.parametrize("case", ["missing", "not bearer", "forged", "expired", "not yet valid", "wrong aud",
                                  "iss and dest differ", "not a JWT"])
def test_every_route_refuses_a_bad_token(client, shop, case):
    """401 with a JSON error (and App Bridge's retry header for a token that is there but wrong)."""
    now = int(time.time())
    headers = {
        "missing": {},
        "not bearer": {"Authorization": "Basic " + session_token(shop.domain, secret=SECRET)},
        "forged": {"Authorization": "Bearer " + session_token(shop.domain, secret="another-secret-of-32-bytes-long!")},
        "expired": {"Authorization": "Bearer " + session_token(shop.domain, secret=SECRET, exp=now - 60, nbf=now - 120)},
        "not yet valid": {"Authorization": "Bearer " + session_token(shop.domain, secret=SECRET, nbf=now + 120, exp=now + 180)},
        "wrong aud": {"Authorization": "Bearer " + session_token(shop.domain, secret=SECRET, api_key="another-app")},
        "iss and dest differ": {"Authorization": "Bearer " + session_token(
            shop.domain, secret=SECRET, iss=f"https://{STORE_B}/admin")},
        "not a JWT": {"Authorization": "Bearer not.a.jwt"},
    }[case]
    for method, path in ROUTES:
        answer = client.open(path, method=method, json={} if method in ("POST", "PUT") else None, headers=headers)
        assert answer.status_code == 401, f"{method} {path}"
        assert answer.get_json()["error"]
        check_against_openapi(method, path, answer)


def test_a_shop_that_has_not_installed_the_app_is_refused(client, shop):
    """A genuine token for a shop we do not know: 403 on every route, nothing read."""
    token = session_token("stranger.myshopify.com", secret=SECRET)
    for method, path in ROUTES:
        answer = client.open(path, method=method, json={} if method in ("POST", "PUT") else None,
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403, f"{method} {path}"
        check_against_openapi(method, path, answer)


def _counts(ctx) -> tuple:
    with ctx.engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(ledger_entries)).scalar(),
                conn.execute(select(vouchers.c.status)).scalars().all(),
                conn.execute(select(webhook_inbox.c.failed_at)).scalars().all(),
                conn.execute(select(func.count()).select_from(programme_settings)).scalar())


def test_another_shops_token_cannot_reach_this_shops_data(ctx, store_a_data, store_b):
    """Every route, called by store B with store A's ids and code: nothing of A is shown or changed."""
    before = _counts(ctx)
    for method, path in every_route(**store_a_data):
        body = {"points": 5, "reason": "steal", "client_token": "b-attempt-1"} if path.endswith("adjustments") else {}
        answer = store_b.call(method, path.removeprefix("/admin/api"), json_body=body if method != "GET" else None)
        text = answer.get_data(as_text=True)
        assert "private@example.com" not in text and "a-failed" not in text, path
        assert "LOY-AAAA" not in text or "LOY-AAAA" in path, path  # a 404 may repeat the code it was given
        template = next(t for t in OPENAPI["paths"] if _matches(t, path))
        # {kind}/{language} of /emails and {version} of /programme/versions name no row of store A: they
        # open store B's own texts and versions (test_admin_emails.py, test_admin_audit_api.py).
        if "{" in template and not template.startswith(("/admin/api/emails/", "/admin/api/programme/versions/")):
            assert answer.status_code == 404, f"{method} {path} answered {answer.status_code}"
    after = _counts(ctx)
    # Store B's own programme may get new versions (PUT/template); store A's rows are untouched.
    assert before[:3] == after[:3]
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(programme_settings)
                            .where(programme_settings.c.shop_id == 1)).scalar() == 1


def _matches(template: str, path: str) -> bool:
    import re
    return re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path) is not None


def test_store_b_sees_only_its_own_lists(store_a_data, store_b):
    """Lists and reports of store B are empty though store A has data."""
    assert store_b.get("/customers").get_json()["customers"] == []
    assert store_b.get("/vouchers").get_json()["vouchers"] == []
    assert store_b.get("/failed-jobs").get_json()["failed_jobs"] == []
    assert store_b.get("/adjustments").get_json()["adjustments"] == []
    report = store_b.get("/reports/liability?from=2025-05-30&to=2025-06-02").get_json()
    assert all(day["outstanding"] == 0 for day in report["days"])


def test_demo_tokens_exist_only_with_the_local_dev_key(client, shop):
    """With a real API key the demo token endpoint is 404 and pages load App Bridge from Shopify."""
    assert client.get("/admin/dev/session-token").status_code == 404
    page = client.get("/admin?shop=store-a.myshopify.com&host=abc").get_data(as_text=True)
    assert "https://cdn.shopify.com/shopifycloud/app-bridge.js" in page and "loyalty-dev-tokens" not in page


def test_pages_may_only_be_framed_by_the_shops_admin(client, shop):
    answer = client.get("/admin/customers?shop=store-a.myshopify.com")
    assert answer.headers["Content-Security-Policy"] == (
        "frame-ancestors https://store-a.myshopify.com https://admin.shopify.com;")
    assert "evil" not in client.get("/admin?shop=evil.com").headers["Content-Security-Policy"]


def test_demo_mode_mints_tokens_for_the_demo_shop_only(ctx, tmp_path):
    """In demo mode the endpoint gives a token that the API accepts for demo.myshopify.com, whatever shop is
    asked for."""
    from loyalty.services.context import build_context
    from runtime.web import create_app
    from tests.conftest import demo_config

    local = build_context(demo_config(ctx.config.database_url, ctx.config.redis_url, tmp_path))
    with local.engine.begin() as conn:
        install_shop(conn, "demo.myshopify.com", encrypt_token(local.config.encryption_keys, "t"), NOW)
    client = create_app(local).test_client()
    minted = client.get("/admin/dev/session-token?shop=store-a.myshopify.com").get_json()
    assert minted["shop"] == "demo.myshopify.com"
    answer = client.get("/admin/api/programme", headers={"Authorization": f"Bearer {minted['token']}"})
    assert answer.status_code == 200
    local.engine.dispose()
