"""Phones' signatures: register a phone's public key, and check a report's signature on arrival.

The phone (``static/js/device-key.js``) signs the exact bytes of ``signed_body``: canonical JSON
``{"photos": [SHA-256 of each photo], "report": <the report's fields as sent>}``. The server
checks the signature over those bytes with the key the observer registered, and that the signed
fields are exactly the fields submitted (and the photos, when they come with the report). A
mismatch is refused (:class:`DeviceSignatureRejected`, a :class:`ReportInvalid`: a 422 with the
reason at both edges). A report without a signature is kept, marked unsigned by device (its leaf
says ``"device": null``). Signatures: ECDSA P-256 / SHA-256 as WebCrypto makes them (r || s,
64 bytes), or Ed25519; base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldreport.accounts.models import User
from fieldreport.i18n import N_
from fieldreport.ledger.models import DeviceKey
from fieldreport.reports.schemas import ReportInvalid

DEVICE_FIELDS = ("device_key_id", "device_signature", "signed_body")
ALGORITHMS = ("ECDSA-P256", "Ed25519")
MAX_KEY_CHARS = 400
MAX_BODY_CHARS = 200_000


class DeviceKeyInvalid(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DeviceSignatureRejected(ReportInvalid):
    def __init__(self, message: str) -> None:
        super().__init__({"device_signature": [message]})


@dataclass(frozen=True)
class DeviceClaim:
    key_id: str
    signature: str
    signed_body: str


def register_key(
    session: Session, user: User, algorithm: Any, spki_b64: Any
) -> tuple[DeviceKey, bool]:
    """Keep a phone's public key for ``user``; (row, created): the same key again is no change."""
    if algorithm not in ALGORITHMS:
        raise DeviceKeyInvalid(N_("The algorithm must be ECDSA-P256 or Ed25519."))
    der = _decode(spki_b64, MAX_KEY_CHARS, DeviceKeyInvalid(N_("The key is not base64 SPKI.")))
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        raise DeviceKeyInvalid(N_("The key is not a public key in SPKI form.")) from None
    if _algorithm_of(key) != algorithm:
        raise DeviceKeyInvalid(N_("The key is not of the algorithm named."))
    key_id = hashlib.sha256(der).hexdigest()
    existing = session.scalar(select(DeviceKey).where(DeviceKey.key_id == key_id))
    if existing is not None:
        if existing.user_id != user.id:
            raise DeviceKeyInvalid(N_("This key is registered to another account."))
        return existing, False
    row = DeviceKey(key_id=key_id, user_id=user.id, algorithm=algorithm, public_key_spki=spki_b64)
    session.add(row)
    session.flush()
    return row, True


def split_claim(values: Mapping[str, Any]) -> tuple[dict[str, Any], DeviceClaim | None]:
    """The report's own fields, and the phone's signature claim if the body carries one."""
    report = {k: v for k, v in values.items() if k not in DEVICE_FIELDS}
    present = [values.get(name) for name in DEVICE_FIELDS]
    if all(value in (None, "") for value in present):
        return report, None
    if not all(isinstance(value, str) and value for value in present):
        raise DeviceSignatureRejected(N_("A device signature needs its key, signature and body."))
    return report, DeviceClaim(*present)  # type: ignore[arg-type]


def check_claim(
    session: Session,
    observer: User,
    claim: DeviceClaim,
    submitted: Mapping[str, Any],
    photo_sha256s: Sequence[str] | None,
) -> None:
    """Refuse (422) unless the phone's key signed exactly what was submitted."""
    key = session.scalar(select(DeviceKey).where(DeviceKey.key_id == claim.key_id))
    if key is None or key.user_id != observer.id:
        raise DeviceSignatureRejected(N_("This phone's key is not registered to your account."))
    if len(claim.signed_body) > MAX_BODY_CHARS or not signature_ok(key, claim):
        raise DeviceSignatureRejected(N_("The phone's signature does not match the report."))
    try:
        signed = json.loads(claim.signed_body)
    except ValueError:
        raise DeviceSignatureRejected(N_("The signed body is not JSON.")) from None
    if not isinstance(signed, dict) or signed.get("report") != dict(submitted):
        raise DeviceSignatureRejected(N_("The report differs from what the phone signed."))
    if photo_sha256s and sorted(signed.get("photos") or []) != sorted(photo_sha256s):
        raise DeviceSignatureRejected(N_("The photos differ from those the phone signed."))


def signature_ok(key: DeviceKey, claim: DeviceClaim) -> bool:
    """The signature over the exact bytes of the signed body, with the registered key."""
    try:
        public = serialization.load_der_public_key(base64.b64decode(key.public_key_spki))
        signature = base64.b64decode(claim.signature, validate=True)
        body = claim.signed_body.encode()
        if isinstance(public, ec.EllipticCurvePublicKey) and len(signature) == 64:
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            public.verify(encode_dss_signature(r, s), body, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, Ed25519PublicKey):
            public.verify(signature, body)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


def _algorithm_of(key: Any) -> str | None:
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ECDSA-P256"
    return "Ed25519" if isinstance(key, Ed25519PublicKey) else None


def _decode(text: str, limit: int, error: Exception) -> bytes:
    if not isinstance(text, str) or len(text) > limit:
        raise error
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise error from None
