"""What the services raise when the world is not as a use case needs it: the shop is unknown or gone, its
token cannot be used, a run is already going."""
from __future__ import annotations

from sqlalchemy.exc import OperationalError


class UnknownShop(LookupError):
    """No installed shop has that domain."""


class ShopGone(Exception):
    """The shop uninstalled the app (or was never installed), or its token is not usable (then the
    TokenUnavailable it comes from is its __cause__, saying what to do)."""


class TokenUnavailable(RuntimeError):
    """The shop has no usable token (never installed, uninstalled, a custom app's token revoked, refresh token
    expired or revoked); the message says what to do for that kind of token (what_to_do)."""


class TokenRefreshBusy(RuntimeError):
    """Another worker held the shop's refresh lock for too long; try the job again later."""


class MissingScope(RuntimeError):
    """The shop's granted scopes lack one the run needs (checked before asking Shopify)."""

    def __init__(self, scope: str, why: str):
        self.scope = scope
        super().__init__(why)


class ImportBusy(RuntimeError):
    """Another import of the shop is running (its progress is recent)."""


class UnknownCustomer(LookupError):
    """No customer of the shop has that email or Shopify id."""

    def __init__(self, customer: str, shop: str):
        super().__init__(f"no customer {customer} in {shop}")


DatabaseBusy = OperationalError
"""The database was locked past its timeout or could not be reached: the use case did nothing it did not
finish, and trying again later may succeed. (SQLAlchemy's OperationalError, named here so that
entrypoints can answer "try again" without importing the database library.)"""


class ShopTokenKept(RuntimeError):
    """The shop is installed already, with a token, and replacing it was not asked for: nothing changed."""

    def __init__(self, shop: str):
        super().__init__(shop)
        self.shop = shop
