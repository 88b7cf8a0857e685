"""Key files in the data directory: readable by the service's user only, written whole.

The Flask secret key, the mission's Ed25519 signing key and the two-step log-in sealing key are
all made on first start. Several processes may start at once (gunicorn workers, a worker, the
``init-db`` that runs before them): a file is written under a temporary name (``mkstemp``:
mode 0600) and linked into place, so exactly one key wins, every process reads that one, and
nobody ever reads half a key.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: Path, content: bytes, *, replace: bool = False) -> bool:
    """Write ``content`` to ``path`` (mode 0600) unless it exists; True if this call wrote it.

    ``replace``: write it whatever is there (a key rotation), atomically.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)  # first writer wins; the others read its key
        except FileExistsError:
            return False
        return True
    finally:
        Path(temporary).unlink(missing_ok=True)
