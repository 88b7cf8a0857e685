"""The Merkle tree functions against RFC 9162's own definitions, recomputed naively, and the
Certificate Transparency test vectors (the roots every CT implementation checks)."""

from __future__ import annotations

import hashlib

import pytest

from fieldreport.ledger import merkle

CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def naive_mth(entries: list[bytes]) -> bytes:
    """MTH straight from RFC 9162 2.1.1, on the entries themselves."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:])).digest()


def naive_path(m: int, entries: list[bytes]) -> list[bytes]:
    if len(entries) == 1:
        return []
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    if m < k:
        return [*naive_path(m, entries[:k]), naive_mth(entries[k:])]
    return [*naive_path(m - k, entries[k:]), naive_mth(entries[:k])]


def naive_subproof(m: int, entries: list[bytes], complete: bool) -> list[bytes]:
    if m == len(entries):
        return [] if complete else [naive_mth(entries)]
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    if m <= k:
        return [*naive_subproof(m, entries[:k], complete), naive_mth(entries[k:])]
    return [*naive_subproof(m - k, entries[k:], False), naive_mth(entries[:k])]


def tree_of(entries: list[bytes]) -> merkle.MemoryTree:
    tree = merkle.MemoryTree()
    for entry in entries:
        tree.append(merkle.leaf_hash(entry))
    return tree


def test_roots_match_the_certificate_transparency_test_vectors() -> None:
    for size in range(1, len(CT_LEAVES) + 1):
        tree = tree_of(CT_LEAVES[:size])
        assert merkle.root(tree.get, size).hex() == CT_ROOTS[size - 1]
        assert naive_mth(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


def test_every_root_and_inclusion_path_equals_the_naive_recomputation() -> None:
    entries = [f"entry {i}".encode() for i in range(70)]
    tree = tree_of(entries)
    for size in range(1, len(entries) + 1):
        expected_root = naive_mth(entries[:size])
        assert merkle.root(tree.get, size) == expected_root
        for m in range(size):
            path = merkle.inclusion_path(tree.get, m, size)
            assert path == naive_path(m, entries[:size])
            assert merkle.verify_inclusion(
                merkle.leaf_hash(entries[m]), m, size, path, expected_root
            )


def test_every_consistency_proof_equals_the_naive_recomputation_and_verifies() -> None:
    entries = [f"entry {i}".encode() for i in range(40)]
    tree = tree_of(entries)
    for new in range(1, len(entries) + 1):
        new_root = naive_mth(entries[:new])
        for old in range(1, new + 1):
            proof = merkle.consistency_proof(tree.get, old, new)
            assert proof == (naive_subproof(old, entries[:new], True) if old < new else [])
            old_root = naive_mth(entries[:old])
            assert merkle.verify_consistency(old, new, old_root, new_root, proof)


def test_a_wrong_leaf_path_or_root_fails_verification() -> None:
    entries = [f"entry {i}".encode() for i in range(13)]
    tree = tree_of(entries)
    root = merkle.root(tree.get, 13)
    path = merkle.inclusion_path(tree.get, 5, 13)
    leaf = merkle.leaf_hash(entries[5])
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"forged"), 5, 13, path, root)
    assert not merkle.verify_inclusion(leaf, 6, 13, path, root)
    assert not merkle.verify_inclusion(leaf, 5, 13, path[:-1], root)
    tampered = [bytes([path[0][0] ^ 1]) + path[0][1:], *path[1:]]
    assert not merkle.verify_inclusion(leaf, 5, 13, tampered, root)


@pytest.mark.parametrize(("old", "new"), [(3, 7), (4, 8), (5, 13), (1, 2)])
def test_a_rewritten_history_fails_the_consistency_check(old: int, new: int) -> None:
    entries = [f"entry {i}".encode() for i in range(new)]
    rewritten = [*entries[: old - 1], b"rewritten", *entries[old:]]
    tree = tree_of(rewritten)
    proof = merkle.consistency_proof(tree.get, old, new)
    assert not merkle.verify_consistency(
        old, new, naive_mth(entries[:old]), naive_mth(rewritten), proof
    )
