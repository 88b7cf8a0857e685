"""At start-up: the key that opens every sealed two-step log-in secret, or a clear refusal.

The safest behaviour when the key is missing or wrong is to refuse to start and say so. A new
key made silently would leave every enrolled coordinator and admin unable to log in, with
nothing on the server saying why, and the one admin able to reset them locked out too. So:

- no key file and no sealed secret in the database: first start (or secrets from before
  sealing only): the key is made;
- no key file but sealed secrets, a damaged key file, or secrets sealed with another key:
  ``TotpKeyError`` naming the file, the key ids and the two ways out (restore the file from
  the backup of the data directory, or ``fieldreport reset-two-factor --all`` on purpose).

Secrets still in clear (stored before sealing existed) are sealed here, so migrations never
need the key: ``fieldreport init-db`` runs this right after migrating, and the web app at
start. docs/architecture.md, "Two-step log-in secrets at rest".
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.accounts.totp_sealing import (
    TotpKey,
    TotpKeyError,
    is_sealed,
    key_id_of,
    key_path,
    make_key,
    read_key,
)

log = logging.getLogger(__name__)

WAYS_OUT = (
    "Restore {path} from the backup of the data directory (it is backed up apart from the "
    "database), or, if it is lost for good, run `fieldreport reset-two-factor --all`: every "
    "user then sets up two-step log-in again at the next log-in."
)


def prepare_key(session: Session, data_dir: Path) -> TotpKey:
    """The key for this database's secrets (made on first start); legacy clear secrets sealed.
    Raises ``TotpKeyError`` when the key is missing, damaged or not the one used."""
    with_secret = select(User.id, User.totp_secret).where(User.totp_secret.is_not(None))
    stored: dict[int, str] = dict(session.execute(with_secret).all())  # type: ignore[arg-type]
    used = {key_id_of(value) for value in stored.values() if is_sealed(value)}
    key = read_key(data_dir)
    if key is None and used:
        raise TotpKeyError(
            f"{key_path(data_dir)} is missing, and {_count(stored)} two-step log-in secrets "
            "in the database were sealed with it. " + WAYS_OUT.format(path=key_path(data_dir))
        )
    key = key or make_key(data_dir)
    others = sorted(str(key_id) for key_id in used - {key.key_id})
    if others:
        raise TotpKeyError(
            f"{key_path(data_dir)} holds key {key.key_id}, but two-step log-in secrets in the "
            f"database were sealed with key {', '.join(others)}. "
            + WAYS_OUT.format(path=key_path(data_dir))
        )
    sealed = seal_clear_secrets(session, key, stored)
    if sealed:
        log.info("sealed %d two-step log-in secrets stored in clear", sealed)
    return key


def seal_clear_secrets(session: Session, key: TotpKey, stored: dict[int, str]) -> int:
    """Seal each secret still in clear; a row changed meanwhile (by a log-in) is left alone."""
    sealed = 0
    for user_id, value in stored.items():
        if is_sealed(value):
            continue
        result = session.execute(
            update(User)
            .where(User.id == user_id, User.totp_secret == value)
            .values(totp_secret=key.seal(user_id, value))
            .execution_options(synchronize_session=False)
        )
        sealed += result.rowcount  # type: ignore[attr-defined]
    return sealed


def _count(stored: dict[int, str]) -> int:
    return sum(1 for value in stored.values() if is_sealed(value))
