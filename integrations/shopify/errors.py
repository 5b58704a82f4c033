"""Typed exceptions raised by the Shopify adapter.

Callers (jobs) decide what to do from the type alone: retry later, mark the shop
as uninstalled, or fail the job. Every message names the shop and the operation
so a log line is enough to find the call that failed.
"""
from dataclasses import dataclass


class ShopifyError(Exception):
    """Base class: something went wrong talking to one shop's Admin API."""

    def __init__(self, detail, *, shop, operation):
        """Keep the parts separately so handlers need not parse the message."""
        self.detail = detail
        self.shop = shop
        self.operation = operation
        super().__init__(f"Shopify {operation} for {shop}: {detail}")


class ShopifyUnauthorized(ShopifyError):
    """401/403: the access token is bad or was revoked (often: app uninstalled)."""

    def __init__(self, detail, *, shop, operation, status):
        """Record the HTTP status; retrying cannot help, so none is attempted."""
        self.status = status
        super().__init__(detail, shop=shop, operation=operation)


class ShopifyHTTPError(ShopifyError):
    """Any other non-retryable HTTP status (400, 402 frozen shop, 404, 423 locked)."""

    def __init__(self, detail, *, shop, operation, status):
        """Record the HTTP status for the caller."""
        self.status = status
        super().__init__(detail, shop=shop, operation=operation)


class ShopifyThrottled(ShopifyError):
    """Still rate-limited (HTTP 429 or GraphQL THROTTLED) after every attempt."""

    def __init__(self, detail, *, shop, operation, attempts):
        """Record how many attempts were spent before giving up."""
        self.attempts = attempts
        super().__init__(detail, shop=shop, operation=operation)


class ShopifyUnavailable(ShopifyError):
    """5xx responses or network failures persisted after every attempt."""

    def __init__(self, detail, *, shop, operation, attempts):
        """Record how many attempts were spent before giving up."""
        self.attempts = attempts
        super().__init__(detail, shop=shop, operation=operation)


class ShopifyOutcomeUnknown(ShopifyUnavailable):
    """A request that may have run in Shopify failed before its answer came back (a read timeout, a 5xx):
    raised instead of resending a mutation Shopify cannot deduplicate."""


class ShopifyGraphQLError(ShopifyError):
    """The response carried top-level `errors` (bad query, access denied...)."""

    def __init__(self, errors, *, shop, operation):
        """Keep the raw error objects; the message joins their texts."""
        self.errors = errors
        messages = "; ".join(_error_message(e) for e in errors)
        super().__init__(f"GraphQL errors: {messages}", shop=shop, operation=operation)


@dataclass(frozen=True)
class UserError:
    """One entry of a mutation payload's `userErrors` (field path may be null)."""

    field: tuple[str, ...] | None
    message: str
    code: str | None = None


class ShopifyUserErrors(ShopifyError):
    """A mutation ran but Shopify refused the input (payload `userErrors`)."""

    def __init__(self, user_errors, *, shop, operation):
        """Keep the parsed user errors; the message lists field: message pairs."""
        self.user_errors = user_errors
        listed = "; ".join(
            f"{'.'.join(e.field) if e.field else '(input)'}: {e.message}" for e in user_errors
        )
        super().__init__(f"user errors: {listed}", shop=shop, operation=operation)


def raise_for_user_errors(data_root, shop, operation, key="userErrors"):
    """Raise ShopifyUserErrors if the payload `data_root` has user errors, else return it."""
    raw = (data_root or {}).get(key) or []
    if raw:
        parsed = [
            UserError(
                field=tuple(e["field"]) if e.get("field") else None,
                message=e.get("message", ""),
                code=e.get("code"),
            )
            for e in raw
        ]
        raise ShopifyUserErrors(parsed, shop=shop, operation=operation)
    return data_root


def user_errors_reason(exc: ShopifyUserErrors) -> str:
    """What Shopify refused, short enough to show beside the thing it concerns: `TagsAdd: Customer does
    not exist` (the shop is known from where it is shown)."""
    return f"{exc.operation}: " + "; ".join(e.message for e in exc.user_errors)


def _error_message(error):
    """Shopify sometimes sends errors as strings, not objects; accept both."""
    if isinstance(error, dict):
        return str(error.get("message", error))
    return str(error)


class BadPayload(ValueError):
    """The body does not have the shape its topic promises; the message says which field."""


class BulkOperationFailed(ShopifyError):
    """Shopify refused the bulk operation, or it ended other than COMPLETED."""


class BadJsonl(ValueError):
    """A JSONL line that is not an object, or a child line away from its parent."""


class StagedUploadFailed(ShopifyError):
    """stagedUploadsCreate refused, or the storage refused the file."""


class InvalidSessionToken(ValueError):
    """The token is not one Shopify issued for this app and shop, now; the message says why."""


class ProxyRefused(ValueError):
    """The request is not a genuine, fresh proxy request; the message says why (for the log)."""


class InvalidShopDomain(ValueError):
    """The shop is not a `*.myshopify.com` name: no request is made to it."""


class OAuthError(RuntimeError):
    """The token endpoint refused the request or answered something that is not a token."""

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None):
        """`error` is Shopify's OAuth error code (`invalid_grant`...), when it sent one."""
        super().__init__(message)
        self.status = status
        self.error = error


class ReaderDied(RuntimeError):
    """The reading process ended without handing over the rest of the file."""
