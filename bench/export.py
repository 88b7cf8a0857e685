"""The streamed export keeps its memory flat: the whole history as CSV at 10 k, 100 k and 1 M
reports, each size in a fresh process, printing rows a second and the process's peak memory.

Run: ``python bench/export.py [--sizes 10000,100000,1000000] [--data DIR] [--kind csv]``.
``--data`` is ``bench/pages.py``'s: its databases are used again (made when missing).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pages import _fill, _login
from fieldreport.config import load_settings
from fieldreport.runtime import build_runtime
from fieldreport.web.app import build_app


def measure(data: Path, size: int, kind: str) -> str:
    """One export of every report, read a chunk at a time as a client would."""
    settings = load_settings(
        {
            "FIELDREPORT_DATA_DIR": str(data),
            "DATABASE_URL": f"sqlite:///{data / 'bench.db'}",
            "FIELDREPORT_TIME_ZONE": "Europe/Rome",
            "FIELDREPORT_TWO_FACTOR_ROLES": "",
            "SECRET_KEY": "bench",
        }
    )
    runtime = build_runtime(settings)
    if not (data / "made").exists():
        _fill(runtime, size)
        (data / "made").write_text(str(size))
    client = _login(build_app(settings, runtime), "admin")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    everything = f"/api/v1/reports/export.{kind}?from=2000-01-01&to=2100-12-31"
    answer = client.get(everything, buffered=False)
    sent = lines = 0
    for chunk in answer.response:
        sent += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    runtime.queue.shutdown()
    return (
        f"{size:>10,} {seconds:>8.1f} s {size / seconds:>10,.0f} {sent / 2**20:>9.0f} "
        f"{before:>10.0f} {peak:>9.0f}  ({lines:,} lines)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--data")
    parser.add_argument("--kind", default="csv", choices=["csv", "geojson"])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(measure(Path(args.data) / str(args.one), args.one, args.kind), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or tmp
        print(
            f"{'reports':>10} {'time':>10} {'rows/s':>10} {'MiB sent':>9} {'MiB before':>10} "
            f"{'MiB peak':>9}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            (Path(data) / str(size)).mkdir(parents=True, exist_ok=True)
            command = [sys.executable, __file__, "--one", str(size), "--data", data]
            subprocess.run([*command, "--kind", args.kind], check=True)


if __name__ == "__main__":
    main()
