"""AdminClient: request shape, retries, typed errors and cost reporting, over mocked HTTP."""
import json

import pytest
import requests
import responses

from integrations.shopify.client import AdminClient
from integrations.shopify.errors import (
    ShopifyGraphQLError,
    ShopifyHTTPError,
    ShopifyThrottled,
    ShopifyUnauthorized,
    ShopifyUnavailable,
)

SHOP = "demo.myshopify.com"
URL = f"https://{SHOP}/admin/api/2025-10/graphql.json"
DOC = "query OrderTransactions($id: ID!) { order(id: $id) { id } }"
THROTTLE_STATUS = {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}
COST = {"requestedQueryCost": 12, "actualQueryCost": 10, "throttleStatus": THROTTLE_STATUS}
OK_BODY = {"data": {"order": {"id": "gid://shopify/Order/1"}}, "extensions": {"cost": COST}}
THROTTLED_BODY = {
    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
    "extensions": {"cost": {
        "requestedQueryCost": 300,
        "actualQueryCost": None,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 100, "restoreRate": 100.0},
    }},
}


class FakeThrottle:
    """Records acquire/observe calls in order."""

    def __init__(self):
        """Start with no calls."""
        self.calls = []

    def acquire(self, shop, cost):
        """Record the reservation."""
        self.calls.append(("acquire", shop, cost))

    def observe(self, shop, throttle_status, actual_cost):
        """Record the observation."""
        self.calls.append(("observe", shop, throttle_status, actual_cost))


@pytest.fixture
def sleeps():
    """The delays the client asked to sleep, instead of sleeping."""
    return []


@pytest.fixture
def client(sleeps):
    """A client whose sleep only records."""
    return AdminClient(SHOP, "shpat_secret", sleep=sleeps.append)


@responses.activate
def test_execute_posts_query_variables_and_token_and_returns_data(client):
    """execute() POSTs query+variables with the access token header and returns `data`."""
    responses.post(URL, json=OK_BODY)
    data = client.execute(DOC, {"id": "gid://shopify/Order/1"})
    assert data == OK_BODY["data"]
    request = responses.calls[0].request
    assert request.headers["X-Shopify-Access-Token"] == "shpat_secret"
    assert json.loads(request.body) == {"query": DOC, "variables": {"id": "gid://shopify/Order/1"}}


@responses.activate
def test_url_is_built_from_the_template_and_api_version(sleeps):
    """The admin URL template (e.g. a local fake) and api_version shape the endpoint."""
    url = f"http://127.0.0.1:9000/{SHOP}/admin/api/2024-07/graphql.json"
    responses.post(url, json=OK_BODY)
    client = AdminClient(
        SHOP, "t", admin_url_template="http://127.0.0.1:9000/{shop}", api_version="2024-07", sleep=sleeps.append
    )
    assert client.execute(DOC) == OK_BODY["data"]
    assert responses.calls[0].request.url == url


@responses.activate
def test_429_is_retried_after_the_retry_after_header(client, sleeps):
    """A 429 waits exactly Retry-After seconds, then the retry succeeds."""
    responses.post(URL, status=429, headers={"Retry-After": "2.0"})
    responses.post(URL, json=OK_BODY)
    assert client.execute(DOC) == OK_BODY["data"]
    assert sleeps == [2.0]
    assert len(responses.calls) == 2


@responses.activate
def test_5xx_then_success_backs_off_with_jitter(client, sleeps):
    """502 and 503 are retried with growing, jittered waits; the third attempt succeeds."""
    responses.post(URL, status=502)
    responses.post(URL, status=503)
    responses.post(URL, json=OK_BODY)
    assert client.execute(DOC) == OK_BODY["data"]
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


@responses.activate
def test_connection_errors_are_retried(client, sleeps):
    """A dropped connection is retried like a 5xx."""
    responses.post(URL, body=requests.ConnectionError("reset"))
    responses.post(URL, json=OK_BODY)
    assert client.execute(DOC) == OK_BODY["data"]
    assert len(sleeps) == 1


@responses.activate
def test_graphql_throttled_error_is_retried_after_the_refill_time(client, sleeps):
    """A THROTTLED error waits until the bucket holds the requested cost, then retries."""
    responses.post(URL, json=THROTTLED_BODY)
    responses.post(URL, json=OK_BODY)
    assert client.execute(DOC) == OK_BODY["data"]
    assert sleeps == [pytest.approx(2.0)]  # (300 - 100) points at 100 points/s


@responses.activate
def test_persistent_throttling_raises_shopify_throttled(sleeps):
    """Throttling waits longer than errors do (max_attempts x THROTTLED_ATTEMPTS_FACTOR tries), then
    ShopifyThrottled naming shop and operation."""
    from integrations.shopify.client import THROTTLED_ATTEMPTS_FACTOR

    responses.post(URL, status=429, headers={"Retry-After": "1"})
    client = AdminClient(SHOP, "t", max_attempts=3, sleep=sleeps.append)
    with pytest.raises(ShopifyThrottled) as caught:
        client.execute(DOC)
    tries = 3 * THROTTLED_ATTEMPTS_FACTOR
    assert len(responses.calls) == tries and sleeps == [1.0] * (tries - 1)
    assert caught.value.attempts == tries
    assert SHOP in str(caught.value) and "OrderTransactions" in str(caught.value)


@responses.activate
def test_persistent_5xx_raises_shopify_unavailable(sleeps):
    """Still failing after max_attempts: ShopifyUnavailable, with no sleep after the last try."""
    responses.post(URL, status=500)
    client = AdminClient(SHOP, "t", max_attempts=4, sleep=sleeps.append)
    with pytest.raises(ShopifyUnavailable) as caught:
        client.execute(DOC)
    assert len(responses.calls) == 4 and len(sleeps) == 3
    assert caught.value.shop == SHOP and caught.value.operation == "OrderTransactions"


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_unauthorized_is_raised_at_once_without_retry(client, sleeps, status):
    """401/403 mean a bad or revoked token: raise ShopifyUnauthorized, no retry."""
    responses.post(URL, status=status, json={"errors": "[API] Invalid API key or access token"})
    with pytest.raises(ShopifyUnauthorized) as caught:
        client.execute(DOC)
    assert len(responses.calls) == 1 and sleeps == []
    assert caught.value.status == status


@responses.activate
def test_other_4xx_is_not_retried(client, sleeps):
    """A 402 (frozen shop) is final: ShopifyHTTPError, no retry."""
    responses.post(URL, status=402, body="Payment Required")
    with pytest.raises(ShopifyHTTPError):
        client.execute(DOC)
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_top_level_errors_raise_graphql_error_without_retry(client, sleeps):
    """Non-THROTTLED top-level errors raise ShopifyGraphQLError carrying the errors."""
    errors = [{"message": "Field 'nope' doesn't exist on type 'Order'"}]
    responses.post(URL, json={"errors": errors})
    with pytest.raises(ShopifyGraphQLError) as caught:
        client.execute(DOC)
    assert caught.value.errors == errors and "doesn't exist" in str(caught.value)
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_throttle_is_asked_before_and_told_after_each_request(sleeps):
    """acquire() precedes every request (with the last requested cost once known); observe() follows."""
    responses.post(URL, json=OK_BODY)
    throttle = FakeThrottle()
    client = AdminClient(SHOP, "t", sleep=sleeps.append, throttle=throttle)
    client.execute(DOC)
    client.execute(DOC)
    assert throttle.calls == [
        ("acquire", SHOP, None),
        ("observe", SHOP, THROTTLE_STATUS, 10),
        ("acquire", SHOP, 12),
        ("observe", SHOP, THROTTLE_STATUS, 10),
    ]


@responses.activate
def test_throttled_retry_leaves_the_waiting_to_the_throttle(sleeps):
    """With a throttle, a THROTTLED retry does not sleep itself: the next acquire() waits."""
    responses.post(URL, json=THROTTLED_BODY)
    responses.post(URL, json=OK_BODY)
    throttle = FakeThrottle()
    client = AdminClient(SHOP, "t", sleep=sleeps.append, throttle=throttle)
    client.execute(DOC)
    assert sleeps == [0.0]
    assert [call[0] for call in throttle.calls] == ["acquire", "observe", "acquire", "observe"]
    assert throttle.calls[2] == ("acquire", SHOP, 300)
