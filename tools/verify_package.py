#!/usr/bin/env python3
"""Check a fieldreport evidence package offline: python3 verify_package.py PACKAGE.zip

Needs only Python 3.11+ and the ``cryptography`` package; it imports nothing of fieldreport, so
a commission member can read all of it (about 200 lines) and run it on their own machine.

It checks: each mission key's announcement (a new key signed by the one before); the tree
head's Ed25519 signature; every entry's inclusion proof (RFC 9162) against that head; each
report version's and photo's SHA-256 against its logged entry; each phone signature over its
exact signed body; and the consistency proof from the latest digest's head (the one printed in
the digest email) to the package's head. Exit status 0: everything matches; 1: something does
not (named on the line marked FAIL).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

HEAD_CONTEXT = "fieldreport-tree-head-v1"
ROTATION_CONTEXT = b"fieldreport-key-rotation-v1\n"


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _h(b"\x01" + left + right)


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, old: bytes, new: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if m > n:
        return False
    if m == n:
        return not proof and old == new
    if m == 0:
        return not proof
    path = list(proof)
    if m & (m - 1) == 0:
        path.insert(0, old)
    if not path:
        return False
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old and sr == new and sn == 0


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def grouped(fp: str) -> str:
    return " ".join(fp[i : i + 4] for i in range(0, len(fp), 4))


def ed25519_ok(key: Ed25519PublicKey, message: bytes, signature_hex: str) -> bool:
    try:
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


class Checker:
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.failures: list[str] = []

    def check(self, ok: bool, what: str) -> bool:
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            self.failures.append(what)
        return ok

    def read(self, name: str) -> bytes:
        return self.archive.read(name)

    def mission_keys(self) -> dict[str, Ed25519PublicKey]:
        found: dict[str, Ed25519PublicKey] = {}
        announcements = {}
        for name in self.archive.namelist():
            if name.startswith("keys/") and name.endswith(".pem"):
                key = serialization.load_pem_public_key(self.read(name))
                assert isinstance(key, Ed25519PublicKey)
                fp = fingerprint(key)
                self.check(
                    name == f"keys/{fp}.pem",
                    f"mission key {grouped(fp)} is named by its fingerprint",
                )
                found[fp] = key
                announcements[fp] = json.loads(self.read(f"keys/{fp}.json"))
        for fp, announcement in announcements.items():
            previous = announcement.get("previous")
            if previous is None:
                print(f"      first mission key {grouped(fp)}")
                continue
            message = (
                ROTATION_CONTEXT + f"{previous}\n{fp}\n{announcement['created_ms']}\n".encode()
            )
            old = found.get(previous)
            signature = announcement.get("signature_by_previous", "")
            self.check(old is not None and ed25519_ok(old, message, signature),
                       f"key {grouped(fp)} is announced by the key before it")  # fmt: skip
        return found

    def head(self, head: dict, keys: dict[str, Ed25519PublicKey], label: str) -> bool:
        message = (
            f"{HEAD_CONTEXT}\n{head['tree_size']}\n{head['root_hash']}\n{head['timestamp_ms']}\n"
        )
        key = keys.get(head["key_fingerprint"])
        ok = key is not None and ed25519_ok(key, message.encode(), head["signature"])
        return self.check(ok, f"{label} (size {head['tree_size']}) is signed by mission key "
                              f"{grouped(head['key_fingerprint'])}")  # fmt: skip

    def entry(self, entry: dict, head: dict) -> None:
        leaf_bytes = entry["leaf"].encode()
        leaf = json.loads(leaf_bytes)
        what = f"leaf {entry['leaf_index']} ({entry['kind']}, report {leaf.get('report')})"
        proof = [bytes.fromhex(p) for p in entry["inclusion_proof"]]
        root = bytes.fromhex(head["root_hash"])
        ok = verify_inclusion(
            _h(b"\x00" + leaf_bytes), entry["leaf_index"], head["tree_size"], proof, root
        )
        self.check(ok, f"{what} is in the signed log")
        files = entry.get("files", {})
        if "content" in files:
            sha = hashlib.sha256(self.read(files["content"])).hexdigest()
            self.check(sha == leaf["content_sha256"], f"{files['content']} is the logged version")
        if "original" in files:
            sha = hashlib.sha256(self.read(files["original"])).hexdigest()
            self.check(sha == leaf["sha256"], f"{files['original']} is the logged photo")
        if "device_signature" in files:
            self.device(json.loads(self.read(files["device_signature"])), leaf, what)

    def device(self, record: dict, leaf: dict, what: str) -> None:
        body = record["signed_body"].encode()
        logged = leaf.get("device") or {}
        self.check(hashlib.sha256(body).hexdigest() == logged.get("signed_body_sha256"),
                   f"{what}: the phone's signed body is the logged one")  # fmt: skip
        self.check(device_signature_ok(record, body), f"{what}: the phone's signature checks")


def device_signature_ok(record: dict, body: bytes) -> bool:
    """ECDSA P-256 with SHA-256 (WebCrypto: raw r||s) or Ed25519, over the exact signed body."""
    try:
        key = serialization.load_der_public_key(base64.b64decode(record["public_key_spki"]))
        signature = base64.b64decode(record["signature"])
        if isinstance(key, ec.EllipticCurvePublicKey):
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            key.verify(encode_dss_signature(r, s), body, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, Ed25519PublicKey):
            key.verify(signature, body)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, KeyError):
        return False
    return True


def verify(path: str) -> int:
    with zipfile.ZipFile(path) as archive:
        checker = Checker(archive)
        package = json.loads(archive.read("package.json"))
        print(f"Evidence package of {package['subject']}")
        keys = checker.mission_keys()
        head = package["tree_head"]
        checker.head(head, keys, "the tree head")
        for entry in package["entries"]:
            checker.entry(entry, head)
        witness = package.get("digest_head")
        if witness:
            checker.head(witness, keys, f"the head of the digest of {witness.get('day')}")
            proof = [bytes.fromhex(p) for p in witness["consistency_proof"]]
            ok = verify_consistency(witness["tree_size"], head["tree_size"],
                                    bytes.fromhex(witness["root_hash"]),
                                    bytes.fromhex(head["root_hash"]), proof)  # fmt: skip
            checker.check(ok, "the log extends the digest's log (nothing rewritten)")
            print(f"      digest head root: {witness['root_hash']} (compare with the email)")
    if checker.failures:
        print(f"\nNOT VERIFIED: {checker.failures[0]}")
        return 1
    print("\nVERIFIED: every entry matches the signed log.")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: verify_package.py PACKAGE.zip")
    sys.exit(verify(sys.argv[1]))
