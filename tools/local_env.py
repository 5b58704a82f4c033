"""`var/local.env`: the development secrets `make` generates once for a fresh clone (never used in production,
where the platform's environment holds them)."""
from __future__ import annotations

import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from loyalty.config import LOCAL_DEV_API_KEY, _var_dir


def write_local_env(var_dir: Path | None = None) -> Path:
    """Create `var/local.env` with development secrets, once; never overwrite an existing one."""
    var_dir = var_dir or _var_dir()
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "local.env"
    if not path.exists():
        path.write_text(
            "# Generated for local runs by `make`; production sets these in its environment.\n"
            f"SHOPIFY_API_KEY={LOCAL_DEV_API_KEY}\n"
            f"SHOPIFY_API_SECRET={secrets.token_hex(32)}\n"
            f"LOYALTY_ENCRYPTION_KEYS={Fernet.generate_key().decode()}\n"
        )
        path.chmod(0o600)
    return path
