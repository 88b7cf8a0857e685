"""``python -m worker [--burst]``: the same as ``fieldreport worker``."""

from __future__ import annotations

from fieldreport.cli import worker

if __name__ == "__main__":
    worker.main(prog_name="python -m worker")
