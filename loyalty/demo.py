"""Demo mode: what a person trying the app on their own machine gets with no Shopify account, and only then.

Demo mode serves two things a production app must never serve: `/dev/mail` (the demo shop's captured emails,
voucher codes included, unauthenticated) and `/admin/dev/session-token` (session tokens for the demo shop,
signed with the app secret). So it is never inferred by the app:

- it is on only when the process's own environment says `LOYALTY_DEMO=1` (loyalty.config never takes it
  from `var/local.env`); `make run` (tools.launcher) sets it for the processes it starts when everything
  it runs on was generated for local use, and the Procfile never sets it;
- it is limited to DEMO_SHOP: the mailbox lists and shows only its emails, tokens are minted only for it;
- beside anything real it refuses to start (`check`): an API key other than the generated one, a secret
  that is not the one `make` wrote to `var/local.env`, an Admin API that is not the local emulator.
"""
from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from loyalty.config import DEFAULT_ADMIN_URL, DEMO_SWITCH, LOCAL_DEV_API_KEY, Config

DEMO_SHOP = "demo.myshopify.com"
"""The emulator's shop that `make run` installs; the only shop demo mode serves."""
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class DemoRefused(RuntimeError):
    """LOYALTY_DEMO=1 beside a real configuration; the message says what is real and what to do."""


def _loopback(admin_url_template: str) -> bool:
    """True for an Admin API URL on this machine (the emulator `make run` starts), e.g. http://127.0.0.1:9000/{shop}."""
    try:
        host = urlsplit(admin_url_template).hostname
    except ValueError:
        return False
    return host in LOOPBACK_HOSTS


def real_settings(config: Config) -> list[str]:
    """What in `config` is not the generated local set-up (empty: demo mode may run on it)."""
    found = []
    if config.api_key != LOCAL_DEV_API_KEY:
        found.append(f"SHOPIFY_API_KEY is {config.api_key!r}, not the generated {LOCAL_DEV_API_KEY!r}")
    if config.local_secret is None or config.api_secrets != (config.local_secret,):
        found.append("SHOPIFY_API_SECRET (or SHOPIFY_API_SECRET_PREVIOUS) is not the secret `make` generated "
                     "in var/local.env")
    if not _loopback(config.admin_url_template):
        found.append(f"SHOPIFY_ADMIN_URL {config.admin_url_template!r} is not the local emulator")
    return found


def check(config: Config) -> None:
    """Refuse to start (DemoRefused) when demo mode is on beside a real key, secret or Admin API."""
    found = real_settings(config) if config.demo else []
    if found:
        raise DemoRefused(
            f"{DEMO_SWITCH}=1 is refused beside a real configuration: {'; '.join(found)}. Demo mode shows "
            "captured emails and mints session tokens with the app secret; it runs only on what `make` "
            f"generates. Unset {DEMO_SWITCH} (production never sets it).")


def launcher_wants_demo(config: Config, environ, emulator_url: str) -> bool:
    """Whether `make run` starts the demo: as LOYALTY_DEMO says when it is set (1 is checked, beside the
    emulator, and refused beside anything real), else when everything is the generated local set-up (a fresh
    clone). The Admin URL counts as the emulator's when nothing else was set."""
    admin_url = emulator_url if config.admin_url_template == DEFAULT_ADMIN_URL else config.admin_url_template
    candidate = replace(config, admin_url_template=admin_url)
    if environ.get(DEMO_SWITCH, "").strip():
        check(candidate)
        return candidate.demo
    return not real_settings(candidate)
