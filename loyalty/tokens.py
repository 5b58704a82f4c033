"""Keeping each shop's Admin API token usable: store what Shopify granted (encrypted), hand out a token
that will not expire mid-job, and refresh an expiring one, one refresh at a time per shop across every
process, because the refresh token rotates: a second refresh with the old one fails."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from redis.exceptions import LockError
from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from db.engine import reading
from db.tables import shops
from integrations.shopify import oauth
from integrations.shopify.oauth import TokenGrant
from loyalty.shops import ShopRef, install_shop
from runtime.crypto import decrypt_token, encrypt_token

REFRESH_MARGIN = timedelta(minutes=5)
"""A token expiring sooner than this is refreshed first, so a job never starts with one about to lapse."""

LOCK_TIMEOUT_SECONDS = 30
"""A refresh lock held longer than this (its holder died) is released by Redis on its own."""

LOCK_WAIT_SECONDS = 10
"""How long a worker waits for another's refresh before giving up with TokenRefreshBusy."""


class TokenUnavailable(RuntimeError):
    """The shop has no usable token (never installed, uninstalled, refresh token expired or revoked):
    the merchant has to open the app again so it can get a new one."""


class TokenRefreshBusy(RuntimeError):
    """Another worker held the shop's refresh lock for too long; try the job again later."""


@dataclass(frozen=True)
class StoredToken:
    """A shop's tokens, decrypted; an expiry of None means that token does not expire."""

    access_token: str
    access_token_expires_at: datetime | None
    refresh_token: str | None
    refresh_token_expires_at: datetime | None

    def fresh(self, now: datetime) -> bool:
        """True when the access token outlives the refresh margin (or never expires)."""
        expires = self.access_token_expires_at
        return expires is None or _aware(expires) - now > REFRESH_MARGIN


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _utc_now() -> datetime:
    """The real clock, used only when the caller did not pass `now`."""
    return datetime.now(timezone.utc)


def _after(now: datetime, seconds: int | None) -> datetime | None:
    """The moment a lifetime of `seconds` ends; None for no lifetime."""
    return None if seconds is None else now + timedelta(seconds=seconds)


@contextmanager
def _token_lock(ctx, shop: str):
    """The shop's token lock across every process (Redis); TokenRefreshBusy when it stays taken."""
    lock = ctx.redis.lock(f"loyalty:token-refresh:{shop}", timeout=LOCK_TIMEOUT_SECONDS,
                          blocking_timeout=LOCK_WAIT_SECONDS)
    if not lock.acquire():
        raise TokenRefreshBusy(f"another worker is refreshing the token of {shop}")
    try:
        yield
    finally:
        try:
            lock.release()
        except LockError:  # it expired on its own (a very slow holder); the work is done either way
            pass


def store_grant(conn: Connection, domain: str, grant: TokenGrant, keys: tuple[str, ...],
                now: datetime) -> None:
    """Replace the shop's tokens with a grant, every column at once (a grant without a refresh token
    clears the old one: it belonged to the previous token)."""
    values = dict(
        access_token=encrypt_token(keys, grant.access_token),
        access_token_expires_at=_after(now, grant.expires_in),
        refresh_token=encrypt_token(keys, grant.refresh_token) if grant.refresh_token else None,
        refresh_token_expires_at=_after(now, grant.refresh_token_expires_in) if grant.refresh_token else None,
    )
    if grant.scope is not None:
        values["scopes"] = grant.scope
    conn.execute(update(shops).where(shops.c.domain == domain).values(**values))


def _install(conn: Connection, domain: str, grant: TokenGrant, keys: tuple[str, ...],
             now: datetime) -> ShopRef:
    """Install (or re-install) a shop with what Shopify granted, in the caller's transaction."""
    shop = install_shop(conn, domain, encrypt_token(keys, grant.access_token), now, scopes=grant.scope)
    store_grant(conn, domain, grant, keys, now)
    return shop


def install_with_grant(ctx, shop: str, grant: TokenGrant, *, now: datetime | None = None) -> ShopRef:
    """Install (or re-install) a shop with a grant, under the shop's token lock so a refresh running
    from the previous token cannot overwrite it."""
    now = now or _utc_now()
    with _token_lock(ctx, shop), ctx.engine.begin() as conn:
        return _install(conn, shop, grant, ctx.config.encryption_keys, now)


def install_by_token_exchange(ctx, shop: str, session_token: str, *, now: datetime | None = None) -> bool:
    """When the shop has no usable token, trade a verified session token for one and install the shop;
    True if it did. Under the lock: each exchange revokes the shop's previous expiring token, so two
    admin pages loading at once must not both exchange."""
    now = now or _utc_now()
    keys = ctx.config.encryption_keys
    with _token_lock(ctx, shop):
        with reading(ctx.engine) as conn:
            if not needs_new_token(conn, shop, keys, now):
                return False
        grant = oauth.token_exchange(shop, session_token, ctx.config.api_key, ctx.config.api_secrets[0],
                                     admin_url_template=ctx.config.admin_url_template)
        with ctx.engine.begin() as conn:
            _install(conn, shop, grant, keys, now)
        return True


def stored_token(conn: Connection, domain: str, keys: tuple[str, ...]) -> StoredToken | None:
    """The installed shop's tokens, or None when it has none."""
    row = conn.execute(select(
        shops.c.access_token, shops.c.access_token_expires_at, shops.c.refresh_token,
        shops.c.refresh_token_expires_at,
    ).where(shops.c.domain == domain, shops.c.uninstalled_at.is_(None))).first()
    if row is None or row.access_token is None:
        return None
    return StoredToken(
        decrypt_token(keys, row.access_token), row.access_token_expires_at,
        decrypt_token(keys, row.refresh_token) if row.refresh_token else None, row.refresh_token_expires_at)


def needs_new_token(conn: Connection, domain: str, keys: tuple[str, ...], now: datetime) -> bool:
    """True when nothing stored can reach the shop: no token, or an expired one that cannot be refreshed."""
    token = stored_token(conn, domain, keys)
    if token is None:
        return True
    return not token.fresh(now) and not _refreshable(token, now)


def _refreshable(token: StoredToken, now: datetime) -> bool:
    """A refresh token is there and has not expired."""
    return token.refresh_token is not None and (
        token.refresh_token_expires_at is None or _aware(token.refresh_token_expires_at) > now)


def access_token_for(ctx, shop: str, *, now: datetime | None = None) -> str:
    """A token for the shop's Admin API valid for at least REFRESH_MARGIN (refreshed here when needed);
    a token that does not expire is returned as it is."""
    now = now or _utc_now()
    with reading(ctx.engine) as conn:
        token = stored_token(conn, shop, ctx.config.encryption_keys)
    if token is None:
        raise TokenUnavailable(f"{shop} has no Admin API token: the merchant must open the app")
    if token.fresh(now):
        return token.access_token
    return _refresh_locked(ctx, shop, now, still_needed=lambda current: not current.fresh(now))


def force_refresh_after_401(ctx, shop: str, failed_token: str, *, now: datetime | None = None) -> str:
    """After Shopify refused `failed_token`: refresh, unless another worker already replaced that token,
    in which case its replacement is returned."""
    now = now or _utc_now()
    return _refresh_locked(ctx, shop, now, still_needed=lambda current: current.access_token == failed_token)


def _refresh_locked(ctx, shop: str, now: datetime, still_needed) -> str:
    """Refresh under the shop's lock, re-reading the row once the lock is held: a worker that waited
    finds the token its predecessor stored and must not spend the (now rotated) refresh token again."""
    keys = ctx.config.encryption_keys
    with _token_lock(ctx, shop):
        with reading(ctx.engine) as conn:
            current = stored_token(conn, shop, keys)
        if current is None:
            raise TokenUnavailable(f"{shop} has no Admin API token: the merchant must open the app")
        if not still_needed(current):
            return current.access_token
        if not _refreshable(current, now):
            raise TokenUnavailable(f"the token of {shop} cannot be refreshed: the merchant must open the app")
        try:
            grant = oauth.refresh(shop, current.refresh_token, ctx.config.api_key, ctx.config.api_secrets[0],
                                  admin_url_template=ctx.config.admin_url_template)
        except oauth.OAuthError as exc:
            # 400/401: the refresh token is revoked, reused or expired; only the merchant can fix that
            if exc.status in (400, 401):
                raise TokenUnavailable(f"Shopify refused to refresh the token of {shop}: {exc}") from exc
            raise
        # Stored before the lock is released: the next holder must see the rotated refresh token.
        with ctx.engine.begin() as conn:
            store_grant(conn, shop, grant, keys, now)
        return grant.access_token
