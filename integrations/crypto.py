"""Admin API tokens are stored encrypted (Fernet: AES-CBC + HMAC); keys rotate with MultiFernet."""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from integrations.errors import MissingEncryptionKey


def token_cipher(keys: tuple[str, ...]) -> MultiFernet:
    """The cipher for the configured keys: the first encrypts, all decrypt (for rotation)."""
    if not keys:
        raise MissingEncryptionKey(
            "LOYALTY_ENCRYPTION_KEYS is not set: generate one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        )
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt_token(keys: tuple[str, ...], token: str) -> bytes:
    """Encrypt an access token for storage."""
    return token_cipher(keys).encrypt(token.encode())


def decrypt_token(keys: tuple[str, ...], blob: bytes) -> str:
    """Decrypt a stored access token; a clear error if the keys do not match."""
    try:
        return token_cipher(keys).decrypt(bytes(blob)).decode()
    except InvalidToken:
        raise MissingEncryptionKey("stored token cannot be decrypted with LOYALTY_ENCRYPTION_KEYS") from None
