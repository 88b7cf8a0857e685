"""The evidence log: a signed, append-only Merkle tree (RFC 9162) of everything that is evidence."""
