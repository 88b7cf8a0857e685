"""Password hashing (Argon2), the password rule, and the one-time codes of a reset."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fieldreport.accounts.errors import AccountError
from fieldreport.i18n import N_

MIN_PASSWORD_LENGTH = 10
# A dummy password whose hash is checked for unknown usernames: a log-in costs the same time
# whether the account exists or not, so timing does not list the usernames.
_DUMMY_PASSWORD = "no account has this password"  # noqa: S105 (hashed, never accepted)

_hasher = PasswordHasher()
_dummy_hash: tuple[PasswordHasher, str] | None = None


def use_password_hasher(hasher: PasswordHasher) -> None:
    """Swap the hasher (tests use cheap parameters; hashes still verify either way)."""
    global _hasher
    _hasher = hasher


def check_password_rule(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            N_("The password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH), "password"
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def verify_nobody(password: str) -> bool:
    """Spend the time of a real check on an account that does not exist; always False."""
    global _dummy_hash
    if _dummy_hash is None or _dummy_hash[0] is not _hasher:
        _dummy_hash = (_hasher, _hasher.hash(_DUMMY_PASSWORD))
    verify(_dummy_hash[1], password)
    return False


def one_time_code() -> str:
    """A code an admin reads out to a user (no look-alike characters), valid until changed."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)
