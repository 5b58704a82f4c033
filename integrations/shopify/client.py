"""A small Admin GraphQL client: one POST per call, typed errors, retries, cost reporting."""
import logging
import random
import re
import time

import requests

from integrations.shopify.errors import (
    ShopifyGraphQLError,
    ShopifyHTTPError,
    ShopifyOutcomeUnknown,
    ShopifyThrottled,
    ShopifyUnauthorized,
    ShopifyUnavailable,
)
from loyalty.defaults import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS, THROTTLED_ATTEMPTS_FACTOR

log = logging.getLogger(__name__)


_OPERATION_NAME = re.compile(r"\s*(?:#[^\n]*\n\s*)*(?:query|mutation|subscription)\s+([_A-Za-z]\w*)")
_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def operation_name(document):
    """Return the document's operation name (`query Foo(` -> "Foo"), or "anonymous"."""
    match = _OPERATION_NAME.match(document)
    return match.group(1) if match else "anonymous"


class _Retry(Exception):
    """Internal signal: this attempt failed in a way worth retrying."""

    def __init__(self, reason, *, throttled, delay=None, sent=False):
        """`delay` overrides the backoff when the server said how long to wait; `sent`: the request may
        have reached Shopify and run (a read timeout, a 5xx), so sending it again could run it twice."""
        super().__init__(reason)
        self.reason = reason
        self.throttled = throttled
        self.delay = delay
        self.sent = sent


class AdminClient:
    """Executes GraphQL documents against one shop's Admin API."""

    def __init__(
        self,
        shop_domain,
        access_token,
        *,
        admin_url_template="https://{shop}",
        api_version="2025-10",
        session=None,
        timeout=(2, 10),
        max_attempts=5,
        sleep=time.sleep,
        throttle=None,
    ):
        """The URL template lets tests and local fakes point at `http://127.0.0.1:9000/{shop}`."""
        self.shop = shop_domain
        self.url = f"{admin_url_template.format(shop=shop_domain)}/admin/api/{api_version}/graphql.json"
        self.access_token = access_token
        self._session = session or requests.Session()
        self._timeout = timeout
        self._max_attempts = max(1, max_attempts)
        self._sleep = sleep
        self._throttle = throttle
        # The requested cost of an operation barely changes between calls, so the last
        # one Shopify reported is the best estimate to reserve before the next call.
        self._known_costs = {}

    @property
    def session(self):
        """The HTTP session, also for the files of bulk operations (staged uploads, result JSONL)."""
        return self._session

    def execute(self, document, variables=None, *, resend_unknown=True):
        """POST the document and return `data`; raise a ShopifyError subclass on failure.

        `resend_unknown=False` is for a mutation Shopify cannot deduplicate (storeCreditAccountCredit): a
        failure after the request may have run (a read timeout, a 5xx, a broken answer) is not retried but
        raised as ShopifyOutcomeUnknown, so the caller can find out what happened before sending it again.
        Throttling and a connection never made are still retried: the request did not run."""
        operation = operation_name(document)
        payload = {"query": document, "variables": variables or {}}
        attempt = throttled = 0
        while True:
            if self._throttle is not None:
                self._throttle.acquire(self.shop, self._known_costs.get(operation))
            try:
                return self._attempt(payload, operation)
            except _Retry as retry:
                if retry.sent and not resend_unknown:
                    raise ShopifyOutcomeUnknown(retry.reason, shop=self.shop, operation=operation,
                                                attempts=attempt + 1) from retry.__cause__
                # Being throttled is Shopify asking us to wait, not a failure: it has its own, larger
                # allowance, so a burst waits its turn instead of failing.
                if retry.throttled:
                    throttled += 1
                    count, limit = throttled, self._max_attempts * THROTTLED_ATTEMPTS_FACTOR
                else:
                    attempt += 1
                    count, limit = attempt, self._max_attempts
                if count >= limit:
                    self._give_up(retry, operation, count)
                delay = retry.delay if retry.delay is not None else _backoff(count)
                log.warning(
                    "shopify %s for %s: %s; retry %d/%d in %.2fs",
                    operation, self.shop, retry.reason, count, limit - 1, delay,
                )
                self._sleep(delay)

    def _attempt(self, payload, operation):
        """One HTTP round trip: return `data`, raise a final error, or raise _Retry."""
        try:
            response = self._session.post(
                self.url,
                json=payload,
                headers={"X-Shopify-Access-Token": self.access_token, "Accept": "application/json"},
                timeout=self._timeout,
            )
        except _NETWORK_ERRORS as exc:
            unsent = isinstance(exc, requests.ConnectTimeout)  # no connection: nothing reached Shopify
            raise _Retry(f"network error {type(exc).__name__}", throttled=False, sent=not unsent) from exc
        status = response.status_code
        if status in (401, 403):
            raise ShopifyUnauthorized(
                f"HTTP {status}: access token rejected", shop=self.shop, operation=operation, status=status
            )
        if status == 429:
            raise _Retry("HTTP 429", throttled=True, delay=_retry_after(response))
        if status >= 500:
            raise _Retry(f"HTTP {status}", throttled=False, sent=True)
        if status >= 400:
            raise ShopifyHTTPError(
                f"HTTP {status}: {response.text[:200]}", shop=self.shop, operation=operation, status=status
            )
        try:
            body = response.json()
        except ValueError as exc:
            # A 200 that is not JSON comes from a proxy in trouble, not from the API.
            raise _Retry("response body is not JSON", throttled=False, sent=True) from exc
        cost = (body.get("extensions") or {}).get("cost")
        self._report_cost(operation, cost)
        errors = body.get("errors")
        if errors:
            errors = errors if isinstance(errors, list) else [errors]
            if any(_is_throttled(e) for e in errors):
                delay = _refill_delay(cost)
                if delay is not None and self._throttle is not None:
                    # The throttle has just observed the same deficit and its acquire()
                    # will wait it out; sleeping here as well would wait twice.
                    delay = 0.0
                raise _Retry("GraphQL THROTTLED", throttled=True, delay=delay)
            raise ShopifyGraphQLError(errors, shop=self.shop, operation=operation)
        return body.get("data") or {}

    def _report_cost(self, operation, cost):
        """Remember the requested cost and tell the shared throttle what Shopify observed."""
        if not cost:
            return
        if cost.get("requestedQueryCost") is not None:
            self._known_costs[operation] = cost["requestedQueryCost"]
        if self._throttle is not None and cost.get("throttleStatus"):
            self._throttle.observe(self.shop, cost["throttleStatus"], cost.get("actualQueryCost"))

    def _give_up(self, retry, operation, attempts):
        """Turn the last retryable failure into the typed error callers handle."""
        detail = f"{retry.reason} after {attempts} attempts"
        error_type = ShopifyThrottled if retry.throttled else ShopifyUnavailable
        error = error_type(detail, shop=self.shop, operation=operation, attempts=attempts)
        raise error from retry.__cause__


def _backoff(attempt):
    """Exponential backoff with jitter, so workers that failed together retry apart."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _retry_after(response):
    """Seconds from a 429's Retry-After header, or None to fall back to backoff."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None


def _is_throttled(error):
    """True for Shopify's cost-based throttling error."""
    return isinstance(error, dict) and (error.get("extensions") or {}).get("code") == "THROTTLED"


def _refill_delay(cost):
    """Seconds until the bucket holds the requested cost, when Shopify told us enough."""
    try:
        status = cost["throttleStatus"]
        missing = cost["requestedQueryCost"] - status["currentlyAvailable"]
        return max(0.0, missing / status["restoreRate"])
    except (KeyError, TypeError, ZeroDivisionError):
        return None
