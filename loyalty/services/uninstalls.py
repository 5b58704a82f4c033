"""app/uninstalled is acted on only once Shopify confirms the app is uninstalled.

Shopify signs a webhook's body, not its topic header, and app/uninstalled's body is the Shop resource that
shop/update carries too: anyone holding one signed Shop body of a shop (a shop/update, or an app/uninstalled
from before a reinstall) could post it as app/uninstalled with a fresh webhook id. The body naming its shop
(privacy.check_claim) does not help: it is that shop's body. What cannot be forged is Shopify's own answer:
an uninstall revokes the app's tokens at once, so the shop's token is asked `shop { id }` (SHOP_IDENTITY):

- refused (401/403, or its refresh refused), or the shop has no token: the uninstall is real, it is applied;
- answered: the app looks installed. The event is not applied: it waits, logged at WARNING and listed with its
  reason (`loyalty failures`, the admin's failed work), and is asked again after the inbox's backoff, in case
  Shopify had not yet revoked the token when it sent a real uninstall; once its attempts are spent
  (INBOX_MAX_ATTEMPTS) it fails for good as forged or stale;
- Shopify unreachable, failing or throttled: the event waits and is tried again like every event waiting on
  Shopify (jobs.inbox: its attempts and backoff), never applied blindly.

Asked before the batch's transaction, as the payments of orders are (events.prefetch), once per shop and batch.
"""
from __future__ import annotations

import logging
from dataclasses import replace

from db.engine import reading
from integrations.shopify.errors import ShopifyUnauthorized
from integrations.shopify.shop import fetch_shop_id
from loyalty.domain.commands import UninstallShop
from loyalty.domain.errors import ShopMismatch, UninstallNotConfirmed
from loyalty.services import privacy
from loyalty.services.context import Context
from loyalty.services.errors import ShopGone, TokenUnavailable
from loyalty.services.events import shopify_client
from loyalty.services.shops import UnknownShop, get_shop

log = logging.getLogger(__name__)

ASK = dict(timeout=(2, 5), max_attempts=2)
"""One short question per attempt: the inbox tries the event again later (its backoff) when it gets no answer."""

CONFIRMED = None
"""The verdict when Shopify confirms the uninstall (else a failure: reason, whether it is final)."""


def confirm_uninstalls(ctx: Context, rows: list, commands: dict) -> tuple[dict, dict]:
    """Ask Shopify about the shops the batch's app/uninstalled rows name, outside any transaction. Returns the
    commands, the confirmed uninstalls marked `confirmed`, the others taken out, and their failures (row id ->
    (reason, permanent)). A body naming another shop is not asked about: the write refuses it (ShopMismatch)."""
    wanted = [row for row in rows if isinstance(commands.get(row.id), UninstallShop)]
    if not wanted:
        return commands, {}
    with reading(ctx.engine) as conn:
        bound = [row for row in wanted if _names_its_shop(conn, row.shop_domain, commands[row.id])]
    failures, verdicts = {}, {}
    for row in bound:
        if row.shop_domain not in verdicts:
            verdicts[row.shop_domain] = ask_shopify(ctx, row.shop_domain)
        verdict = verdicts[row.shop_domain]
        if verdict is CONFIRMED:
            commands[row.id] = replace(commands[row.id], confirmed=True)
        else:
            failures[row.id] = verdict
            del commands[row.id]
    return commands, failures


def ask_shopify(ctx: Context, domain: str) -> tuple[str, bool] | None:
    """CONFIRMED when the shop's token is refused (or it has none); else the failure to record: a refusal
    when the token works, a reason to wait when Shopify could not say."""
    try:
        with reading(ctx.engine) as conn:
            client = shopify_client(ctx, get_shop(conn, domain), conn, **ASK)
        fetch_shop_id(client)
    except (UnknownShop, ShopGone, TokenUnavailable, ShopifyUnauthorized) as exc:
        log.info("app/uninstalled for %s confirmed: %s: %s", domain, type(exc).__name__, exc)
        return CONFIRMED
    except Exception as exc:  # noqa: BLE001 - unreachable, 5xx, throttled, a refresh that could not run: wait
        log.warning("app/uninstalled for %s waits: Shopify could not confirm it (%s: %s)", domain,
                    type(exc).__name__, exc)
        return f"confirming app/uninstalled with Shopify: {type(exc).__name__}: {exc}", False
    refused = UninstallNotConfirmed(
        f"Shopify still accepts the app's token for {domain} (shop {{ id }} answered): the app looks installed, "
        f"nothing done. Asked again later in case Shopify had not yet revoked it; if it still answers when the "
        f"attempts are spent, this app/uninstalled is forged or stale (a Shop body replayed under that topic, "
        f"whose header Shopify does not sign, or an uninstall sent before a reinstall)")
    log.warning("app/uninstalled not confirmed: %s", refused)
    return f"refused: {type(refused).__name__}: {refused}", False


def _names_its_shop(conn, domain: str, cmd: UninstallShop) -> bool:
    """Whether the body names the row's shop (privacy.check_claim)."""
    try:
        privacy.check_claim(conn, domain, cmd.shop)
    except ShopMismatch:
        return False
    return True
