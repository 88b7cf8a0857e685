"""Merkle tree hashing and proofs exactly as RFC 9162 (Certificate Transparency 2.0), section 2.1.

Every function that needs a subtree's hash asks a ``NodeGetter`` for *perfect, aligned* subtrees
only (``getter(level, index)`` = the hash of leaves ``index*2**level .. (index+1)*2**level``);
any other range is split the RFC's way into such subtrees. The log stores those nodes as they
complete (``service.py``), so a root or a proof at a million leaves reads a few dozen stored
hashes instead of rehashing the tree. ``tools/verify_package.py`` carries its own copy of the
verification functions (it must run with no fieldreport), and the tests check both against a
naive recomputation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

NodeGetter = Callable[[int, int], bytes]
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(get: NodeGetter, start: int, end: int) -> bytes:
    """MTH(D[start:end]) from perfect aligned subtrees; ``start`` must be aligned to the split."""
    size = end - start
    if size == 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return get(level, start >> level)
    k = split_point(size)
    return node_hash(subtree_hash(get, start, start + k), subtree_hash(get, start + k, end))


def root(get: NodeGetter, size: int) -> bytes:
    """MTH(D[0:size])."""
    return subtree_hash(get, 0, size)


def inclusion_path(get: NodeGetter, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 section 2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    return _path(get, index, 0, size)


def _path(get: NodeGetter, m: int, start: int, end: int) -> list[bytes]:
    n = end - start
    if n == 1:
        return []
    k = split_point(n)
    if m < k:
        return [*_path(get, m, start, start + k), subtree_hash(get, start + k, end)]
    return [*_path(get, m - k, start + k, end), subtree_hash(get, start, start + k)]


def consistency_proof(get: NodeGetter, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 section 2.1.4.1 (empty when m is 0 or m equals n)."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    return _subproof(get, old_size, 0, new_size, True)


def _subproof(get: NodeGetter, m: int, start: int, end: int, complete: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [subtree_hash(get, start, end)]
    k = split_point(n)
    if m <= k:
        return [*_subproof(get, m, start, start + k, complete), subtree_hash(get, start + k, end)]
    return [*_subproof(get, m - k, start + k, end, False), subtree_hash(get, start, start + k)]


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2: does ``path`` prove leaf hash ``leaf`` at ``index`` in the root?"""
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
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: does ``proof`` show the new tree extends the old one?"""
    if old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
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
    return fr == old_root and sr == new_root and sn == 0


def completed_nodes(index: int, get: NodeGetter, leaf: bytes) -> list[tuple[int, int, bytes]]:
    """The perfect subtrees that adding leaf number ``index`` completes: (level, index, hash).

    Appending leaf i finishes one node on each level l where (i + 1) is a multiple of 2**l;
    each is its left sibling (already stored) hashed with the node just finished below it.
    """
    done: list[tuple[int, int, bytes]] = []
    current, position, level = leaf, index, 0
    while position & 1:
        current = node_hash(get(level, position - 1), current)
        position, level = position >> 1, level + 1
        done.append((level, position, current))
    return done


class MemoryTree:
    """A tree held in memory: level 0 the leaf hashes, level l its completed perfect subtrees."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]

    def append(self, leaf: bytes) -> None:
        index = len(self.levels[0])
        self.levels[0].append(leaf)
        for level, _position, value in completed_nodes(index, self.get, leaf):
            if len(self.levels) <= level:
                self.levels.append([])
            self.levels[level].append(value)

    def get(self, level: int, index: int) -> bytes:
        return self.levels[level][index]

    @property
    def size(self) -> int:
        return len(self.levels[0])
