"""``python -m worker [--burst]``: the RQ worker process (``fieldreport worker`` runs this)."""

from __future__ import annotations

import sys

from worker.main import main

if __name__ == "__main__":
    sys.exit(main())
