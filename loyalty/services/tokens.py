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
from loyalty.services.shops import ShopRef, install_shop
from integrations.crypto import decrypt_token, encrypt_token
from loyalty.services.errors import TokenRefreshBusy, TokenUnavailable
from loyalty.defaults import (TOKEN_LOCK_TIMEOUT_SECONDS as LOCK_TIMEOUT_SECONDS,
                              TOKEN_LOCK_WAIT_SECONDS as LOCK_WAIT_SECONDS, TOKEN_REFRESH_MARGIN as REFRESH_MARGIN)


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
        raise _unavailable(ctx, shop)
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
            raise _unavailable(ctx, shop)
        if not still_needed(current):
            return current.access_token
        if not _refreshable(current, now):
            raise _unavailable(ctx, shop)
        try:
            grant = oauth.refresh(shop, current.refresh_token, ctx.config.api_key, ctx.config.api_secrets[0],
                                  admin_url_template=ctx.config.admin_url_template)
        except oauth.OAuthError as exc:
            # 400/401: the refresh token is revoked, reused or expired; only the merchant can fix that
            if exc.status in (400, 401):
                raise _unavailable(ctx, shop, f" (Shopify refused the refresh: {exc})") from exc
            raise
        # Stored before the lock is released: the next holder must see the rotated refresh token.
        with ctx.engine.begin() as conn:
            store_grant(conn, shop, grant, keys, now)
        return grant.access_token


def _unavailable(ctx, shop: str, detail: str = "") -> TokenUnavailable:
    """TokenUnavailable saying what to do, for the kind of token the shop holds (what_to_do)."""
    with reading(ctx.engine) as conn:
        return TokenUnavailable(what_to_do(conn, shop) + detail)


def lacks_scope(conn: Connection, domain: str, scope: str) -> bool:
    """True when the shop's granted scopes are known (an OAuth grant) and `scope` is not among them. A token
    registered with `loyalty shops add` has no recorded scopes: Shopify's answers tell."""
    granted = conn.execute(select(shops.c.scopes).where(shops.c.domain == domain)).scalar()
    return granted is not None and scope not in {s.strip() for s in granted.split(",")}


def what_to_do(conn: Connection, domain: str, missing_scope: str | None = None) -> str:
    """What the merchant or operator must do so the app can reach the shop's Admin API again, told for the
    kind of token the shop holds: a custom app's token registered with `loyalty shops add` (no expiry, no
    refresh token: only a new token helps), or an OAuth token (expiring, refreshed by the app: the merchant
    opening the app gets a new one). With `missing_scope`, what grants that scope."""
    row = conn.execute(select(shops.c.access_token, shops.c.refresh_token, shops.c.access_token_expires_at,
                              shops.c.uninstalled_at, shops.c.scopes).where(shops.c.domain == domain)).first()
    register = f"`loyalty shops add {domain} --token shpat_... --replace`"
    if row is None or row.uninstalled_at is not None or row.access_token is None:
        return (f"{domain} has no installed app (uninstalled, or never installed): the merchant installs it again "
                f"(public app: /auth/install?shop={domain}; custom app: register its token with {register})")
    custom_app = row.refresh_token is None and row.access_token_expires_at is None
    if missing_scope and custom_app:
        return (f"the custom app's Admin API token for {domain} lacks the {missing_scope} scope: in the shop's "
                f"admin (Settings > Apps and sales channels > Develop apps) add {missing_scope} to the app's Admin "
                f"API scopes, install the app again there, and register the new token with {register}")
    if missing_scope:
        return (f"the app's access to {domain} lacks the {missing_scope} scope (granted: {row.scopes}): the app "
                f"must request it (SHOPIFY_SCOPES or shopify.app.toml; read_all_orders also needs Shopify's "
                f"approval in the Partner Dashboard), then the merchant approves it by opening the app from the "
                f"shop's admin")
    if custom_app:
        return (f"Shopify refused the Admin API token registered for {domain} with `loyalty shops add` (revoked, "
                f"or the custom app was uninstalled): reveal or create the token of the shop's custom app and "
                f"register it with {register}")
    return (f"the app's OAuth token for {domain} expired and could not be refreshed (its refresh token expired "
            f"or was revoked): the merchant opens the app from the shop's admin (Apps), which gets a new token; "
            f"if the app was removed, the merchant installs it again from /auth/install?shop={domain}")
