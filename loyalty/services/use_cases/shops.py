"""Installing shops by hand (a custom app's pasted token) and the OAuth install's replay guard."""
from __future__ import annotations

from sqlalchemy import delete

from db.tables import oauth_states
from integrations.crypto import encrypt_token
from integrations.shopify.oauth import TokenGrant
from loyalty.defaults import INSTALL_STATE_LIFETIME as STATE_LIFETIME
from loyalty.domain.requests import RegisterShopToken, UseInstallNonce
from loyalty.domain.shops import valid_shop_domain
from loyalty.services.errors import ShopTokenKept
from loyalty.services.shops import ShopRef, has_token, install_shop
from loyalty.services.tokens import store_grant
from loyalty.services.unit_of_work import UnitOfWork
from loyalty.services.wakeups import queue_history_import


def register_shop_token(request: RegisterShopToken, uow: UnitOfWork) -> ShopRef:
    """Install (or re-install) the shop with the token; a shop installed with a token keeps it unless
    `replace` (ShopTokenKept): a pasted token must not silently take the place of one that works. Once
    committed, the import of the shop's past orders is queued when asked."""
    if not valid_shop_domain(request.shop):
        raise ValueError(f"{request.shop!r} is not a shop domain (expected name.myshopify.com)")
    keys = uow.config.encryption_keys
    with uow:
        if has_token(uow.conn, request.shop) and not request.replace:
            raise ShopTokenKept(request.shop)
        ref = install_shop(uow.conn, request.shop, encrypt_token(keys, request.token), uow.now)
        # a custom app's token neither expires nor refreshes: whatever an OAuth install stored goes
        store_grant(uow.conn, request.shop, TokenGrant(request.token), keys, uow.now)
        if request.import_history:
            uow.after_commit(queue_history_import, uow.ctx, ref.domain)
    return ref


def use_install_nonce(request: UseInstallNonce, uow: UnitOfWork) -> bool:
    """True the first time a state's nonce is used: it is kept (until its state would have expired
    anyway) so a replayed callback is refused. The INSERT decides, so two callbacks racing with one state
    cannot both succeed. The nonces whose state expired are swept here."""
    with uow:
        conn = uow.conn
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        conn.execute(delete(oauth_states).where(oauth_states.c.created_at < uow.now - STATE_LIFETIME))
        # created_at: when the state was issued, so the sweep above removes it once it could no longer verify
        return conn.execute(insert(oauth_states).values(
            nonce=request.nonce, shop_domain=request.shop, created_at=request.expires - STATE_LIFETIME,
        ).on_conflict_do_nothing(index_elements=[oauth_states.c.nonce]).returning(oauth_states.c.nonce)).first() \
            is not None
