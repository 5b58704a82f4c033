"""Every setting comes from the environment (12-factor); `var/local.env` fills the gaps in local runs.

`make run` and `make test` write `var/local.env` once (a development API secret and a freshly generated
encryption key) so a fresh clone works with no set-up; on a production host the variables are set by the
platform and the file does not exist.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

API_VERSION = "2025-10"
"""The Admin API version every call is pinned to (and the webhook subscriptions declare)."""
LOCAL_DEV_API_KEY = "local-dev-app"
"""The API key `make` writes to var/local.env: no Shopify app has it, so it marks a local (demo) run."""
DEFAULT_ADMIN_URL = "https://{shop}"
DEMO_SWITCH = "LOYALTY_DEMO"
"""`1` turns demo mode on (loyalty.demo). Read from the process's own environment only, never from a file
under var/: a production host cannot inherit it from a leftover `var/local.env`."""


def _var_dir() -> Path:
    return Path(os.environ.get("LOYALTY_VAR_DIR", "var")).resolve()


def _secrets(name: str) -> tuple[str, ...]:
    return tuple(s for s in (os.environ.get(name, ""), os.environ.get(f"{name}_PREVIOUS", "")) if s)


@dataclass(frozen=True)
class Config:
    """The settings of one process, read once at start-up."""

    database_url: str
    redis_url: str | None
    var_dir: Path
    api_key: str
    api_secrets: tuple[str, ...]
    encryption_keys: tuple[str, ...]
    admin_url_template: str = DEFAULT_ADMIN_URL
    api_version: str = API_VERSION
    webhook_max_bytes: int = 1024 * 1024
    db_timeout_seconds: float = 0.8
    """Web requests: a locked or dead database answers 503 well inside Shopify's 5 s."""
    worker_db_timeout_seconds: float = 30.0
    """Workers, scheduler and CLI: wait this long for SQLite's write lock (a batch may hold it) before failing."""
    redis_timeout_seconds: float = 0.3
    batch_size: int = 500
    inbox_retention_days: int = 30
    """Processed webhooks older than this are deleted (their raw bodies hold personal data)."""
    smtp_url: str | None = None
    """smtp://user:pass@host:587 (STARTTLS when offered) or smtps://...:465; None: emails are captured
    under var/mail/ instead of sent (demo and local runs)."""
    smtp_from: str = "loyalty@localhost"
    app_url: str = "http://localhost:8000"
    """SHOPIFY_APP_URL: the app's public address (emails' one-click unsubscribe links point at it); local
    runs: http://localhost:PORT."""
    inbox_socket: str | None = None
    """LOYALTY_INBOX_SOCKET: the inbox writer's Unix socket (webhooks.writer); `make run` starts one
    on SQLite. Unset: each web process commits its own webhooks."""
    trusted_proxies: int = 0
    """LOYALTY_TRUSTED_PROXIES: proxies in front of the web that append to X-Forwarded-For (1 on Heroku);
    0: the client is the socket's peer."""
    rate_limit_auth: str = "20 per minute"
    """Per client: /auth/install and /auth/callback (runtime.rate_limits)."""
    rate_limit_pages: str = "120 per minute"
    """Per client: the admin's pages and static files, /healthz."""
    rate_limit_refused: str = "30 per minute"
    """Per client: admin API and app proxy requests refused 401; past it, 429 there."""
    body_timeout_seconds: float = 10.0
    """LOYALTY_BODY_TIMEOUT: a request body must arrive within this (408 and closed otherwise)."""
    demo: bool = False
    """LOYALTY_DEMO=1: the demo shop's captured mail and self-minted session tokens (loyalty.demo)."""
    local_secret: str | None = None
    """The SHOPIFY_API_SECRET that `make` generated in var/local.env, when that file exists: demo mode runs
    on that secret only."""
    extra: dict = field(default_factory=dict)

    @property
    def embedded_redis(self) -> bool:
        """True when no REDIS_URL is set and the project runs its own Redis under var/."""
        return self.redis_url is None

    @property
    def effective_redis_url(self) -> str:
        """The URL every process connects to: REDIS_URL, or the embedded server's socket."""
        return self.redis_url or f"unix://{self.var_dir / 'redis' / 'redis.sock'}"


def _demo_switch() -> bool:
    """LOYALTY_DEMO from the environment: `1` on, `0` or unset off; anything else is refused."""
    value = os.environ.get(DEMO_SWITCH, "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"{DEMO_SWITCH} must be 1 (demo mode) or 0, not {value!r}")
    return value == "1"


def _fill_from(path: Path) -> dict:
    """Set the variables of a dotenv file that the environment lacks (never LOYALTY_DEMO: demo mode is asked
    for, not inherited from a file); returns the file's values."""
    values = dotenv_values(path)
    for key, value in values.items():
        if key != DEMO_SWITCH and value is not None:
            os.environ.setdefault(key, value)
    return values


def load_config(env_file: bool = True) -> Config:
    """Read the environment (and `var/local.env` when present) into a Config."""
    var_dir = _var_dir()
    demo = _demo_switch()  # read before any file fills the environment
    local: dict = {}
    if env_file and (var_dir / "local.env").exists():
        local = _fill_from(var_dir / "local.env")
    # demo.env (written by `make run` in demo mode: the emulator's Admin URL, for the CLI beside it) counts
    # only on the generated set-up: a leftover file never points a host with a real secret at the loopback.
    generated = bool(local.get("SHOPIFY_API_SECRET")) and os.environ.get("SHOPIFY_API_SECRET") == local["SHOPIFY_API_SECRET"]
    if env_file and generated and (var_dir / "demo.env").exists():
        _fill_from(var_dir / "demo.env")
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{var_dir / 'loyalty.db'}"
    if database_url.startswith("postgres://"):  # Heroku-style URLs name the dialect differently
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    keys = tuple(k.strip() for k in os.environ.get("LOYALTY_ENCRYPTION_KEYS", "").split(",") if k.strip())
    return Config(
        database_url=database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        var_dir=var_dir,
        api_key=os.environ.get("SHOPIFY_API_KEY", ""),
        api_secrets=_secrets("SHOPIFY_API_SECRET"),
        encryption_keys=keys,
        admin_url_template=os.environ.get("SHOPIFY_ADMIN_URL", DEFAULT_ADMIN_URL),
        batch_size=int(os.environ.get("LOYALTY_BATCH_SIZE", "500")),
        db_timeout_seconds=float(os.environ.get("LOYALTY_DB_TIMEOUT", "0.8")),
        worker_db_timeout_seconds=float(os.environ.get("LOYALTY_WORKER_DB_TIMEOUT", "30")),
        redis_timeout_seconds=float(os.environ.get("LOYALTY_REDIS_TIMEOUT", "0.3")),
        inbox_retention_days=int(os.environ.get("LOYALTY_INBOX_RETENTION_DAYS", "30")),
        inbox_socket=os.environ.get("LOYALTY_INBOX_SOCKET") or None,
        smtp_url=os.environ.get("SMTP_URL") or None,
        smtp_from=os.environ.get("SMTP_FROM") or "loyalty@localhost",
        app_url=(os.environ.get("SHOPIFY_APP_URL") or f"http://localhost:{os.environ.get('PORT') or 8000}").rstrip("/"),
        trusted_proxies=int(os.environ.get("LOYALTY_TRUSTED_PROXIES") or 0),
        rate_limit_auth=os.environ.get("LOYALTY_RATE_LIMIT_AUTH") or Config.rate_limit_auth,
        rate_limit_pages=os.environ.get("LOYALTY_RATE_LIMIT_PAGES") or Config.rate_limit_pages,
        rate_limit_refused=os.environ.get("LOYALTY_RATE_LIMIT_REFUSED") or Config.rate_limit_refused,
        body_timeout_seconds=float(os.environ.get("LOYALTY_BODY_TIMEOUT") or Config.body_timeout_seconds),
        demo=demo,
        local_secret=local.get("SHOPIFY_API_SECRET") or None,
    )
