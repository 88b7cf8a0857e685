"""The mission's Ed25519 signing key: made on first use, kept in the data directory (0600).

Every public key the mission ever used stays in ``<data>/ledger/keys/<fingerprint>.pem`` with
its announcement (``<fingerprint>.json``): a rotated key is announced signed by the key before
it, so whoever trusted the first fingerprint can follow the chain, and old signatures stay
checkable. The fingerprint is SHA-256 of the raw 32-byte public key, shown in groups of four.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fieldreport.keyfiles import write_private

ROTATION_CONTEXT = b"fieldreport-key-rotation-v1\n"
PRIVATE_NAME = "private-key.pem"


@dataclass(frozen=True)
class PublicKey:
    fingerprint: str
    pem: str
    announcement: dict


def ledger_dir(data_dir: Path) -> Path:
    return data_dir / "ledger"


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def grouped(fingerprint_hex: str) -> str:
    """A fingerprint as people compare it: groups of four hex digits."""
    return " ".join(fingerprint_hex[i : i + 4] for i in range(0, len(fingerprint_hex), 4))


def public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """The current key; made (once, even with several processes starting) when there is none."""
    path = ledger_dir(data_dir) / PRIVATE_NAME
    if not path.exists():
        _install(data_dir, Ed25519PrivateKey.generate(), previous=None, replace=False)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def rotate(data_dir: Path) -> tuple[str, str]:
    """Make a new key announced by the current one; (old, new) fingerprints."""
    old = signing_key(data_dir)
    new = Ed25519PrivateKey.generate()
    _install(data_dir, new, previous=old, replace=True)
    return fingerprint(old.public_key()), fingerprint(new.public_key())


def rotation_message(old_fp: str, new_fp: str, created_ms: int) -> bytes:
    return ROTATION_CONTEXT + f"{old_fp}\n{new_fp}\n{created_ms}\n".encode()


def _install(
    data_dir: Path, key: Ed25519PrivateKey, previous: Ed25519PrivateKey | None, *, replace: bool
) -> None:
    folder = ledger_dir(data_dir)
    (folder / "keys").mkdir(parents=True, exist_ok=True, mode=0o700)
    new_fp = fingerprint(key.public_key())
    created = int(time.time() * 1000)
    announcement: dict = {"fingerprint": new_fp, "created_ms": created, "previous": None}
    if previous is not None:
        old_fp = fingerprint(previous.public_key())
        signature = previous.sign(rotation_message(old_fp, new_fp, created))
        announcement.update(previous=old_fp, signature_by_previous=signature.hex())
    (folder / "keys" / f"{new_fp}.pem").write_text(public_pem(key.public_key()))
    (folder / "keys" / f"{new_fp}.json").write_text(json.dumps(announcement, indent=2))
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    if not write_private(folder / PRIVATE_NAME, pem, replace=replace):
        # Another process made the first key meanwhile: its key and announcement stay.
        (folder / "keys" / f"{new_fp}.pem").unlink()
        (folder / "keys" / f"{new_fp}.json").unlink()


def public_keys(data_dir: Path) -> dict[str, PublicKey]:
    """Every key the mission has used, by fingerprint (oldest announcement first)."""
    signing_key(data_dir)
    found: dict[str, PublicKey] = {}
    folder = ledger_dir(data_dir) / "keys"
    for pem_path in folder.glob("*.pem"):
        fp = pem_path.stem
        announcement = json.loads((folder / f"{fp}.json").read_text())
        found[fp] = PublicKey(fp, pem_path.read_text(), announcement)
    return dict(sorted(found.items(), key=lambda item: item[1].announcement["created_ms"]))


def load_public(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def check(pem: str, message: bytes, signature_hex: str) -> bool:
    """Whether ``signature_hex`` is the key's Ed25519 signature of ``message``."""
    try:
        load_public(pem).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
