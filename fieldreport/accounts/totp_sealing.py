"""Authenticator secrets sealed at rest: AES-256-GCM under a key kept in the data directory.

A stolen copy of the database (a backup, a dump) must not let anyone make the codes of every
coordinator and admin, so ``users.totp_secret`` holds ``v1:<key id>:<nonce and ciphertext>``,
never the secret. The associated data names the user (``user:<id>``): a value copied to another
user's row does not open, so nobody with write access to one column can give an account a
secret they know from another.

Why a key file (``<data>/two_factor_key``, 0600, made on first start like the ledger's signing
key) and not one derived from SECRET_KEY: SECRET_KEY signs cookies and is often set in the
environment (a compose file, an .env beside the backups); it must stay free to change when a
cookie leak is feared, and changing it would then lock every enrolled user out. A file of its
own has one purpose and one backup rule: kept apart from the database backups (README, "Data
directory and backups"). AES-GCM rather than Fernet: Fernet takes no associated data.

The key id (8 hex digits of an HMAC of the key) names the key without revealing it, so the
start-up check (``totp_startup``) tells "this is not the key these secrets were sealed with"
from "one row was tampered with" without trying to decrypt anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fieldreport.accounts.errors import AccountError
from fieldreport.i18n import N_
from fieldreport.keyfiles import write_private

KEY_FILE = "two_factor_key"
VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32


class TotpKeyError(RuntimeError):
    """The sealing key cannot be used (missing, damaged, or not the one the secrets were sealed
    with); the message tells the operator what to do. Raised at start-up, never per request."""


class SecretUnreadable(AccountError):
    """A user's stored secret does not open with this key for this user (moved or altered)."""


@dataclass(frozen=True)
class TotpKey:
    key: bytes
    key_id: str

    def seal(self, user_id: int, secret: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.key).encrypt(nonce, secret.encode(), _bound_to(user_id))
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{VERSION}:{self.key_id}:{body}"

    def open(self, user_id: int, stored: str) -> str:
        """The secret of ``user_id``; raises ``SecretUnreadable`` for a value that is not
        sealed for this user with this key. A clear value from before sealing is refused too:
        ``open_stored`` is the one reader that accepts it."""
        try:
            version, key_id, body = stored.split(":", 2)
            raw = base64.urlsafe_b64decode(body.encode())
            if version != VERSION or key_id != self.key_id or len(raw) <= NONCE_BYTES:
                raise ValueError(stored[:12])
            nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
            return AESGCM(self.key).decrypt(nonce, sealed, _bound_to(user_id)).decode()
        except (ValueError, binascii.Error, InvalidTag):
            raise SecretUnreadable(_UNREADABLE, "code") from None


_UNREADABLE = N_(
    "Your two-step log-in cannot be checked here. Use one of your recovery codes, or ask an "
    "admin to reset your two-step log-in."
)


def is_sealed(stored: str) -> bool:
    """Sealed values start ``v1:``; an authenticator secret (base32) never holds a colon."""
    return stored.startswith(f"{VERSION}:")


def key_id_of(stored: str) -> str | None:
    return stored.split(":", 2)[1] if is_sealed(stored) and stored.count(":") >= 2 else None


def open_stored(key: TotpKey, user_id: int, stored: str) -> tuple[str, bool]:
    """The secret, and whether it was still in clear (from before sealing: seal it now)."""
    if is_sealed(stored):
        return key.open(user_id, stored), False
    return stored, True


def _bound_to(user_id: int) -> bytes:
    return f"fieldreport totp {VERSION} user:{user_id}".encode()


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def _from_bytes(key: bytes) -> TotpKey:
    key_id = hmac.new(key, b"fieldreport totp key id", hashlib.sha256).hexdigest()[:8]
    return TotpKey(key, key_id)


def read_key(data_dir: Path) -> TotpKey | None:
    """The key in the data directory; None when there is no file; raises for a damaged one."""
    path = key_path(data_dir)
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    try:
        key = base64.urlsafe_b64decode(text.encode())
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != KEY_BYTES:
        raise TotpKeyError(
            f"{path} is not a two-step log-in key (expected {KEY_BYTES} bytes in base64). "
            "Restore it from the backup of the data directory."
        )
    return _from_bytes(key)


def make_key(data_dir: Path) -> TotpKey:
    """A new key, unless another process made one meanwhile (then that one)."""
    text = base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode()
    write_private(key_path(data_dir), f"{text}\n".encode())
    key = read_key(data_dir)
    assert key is not None
    return key
