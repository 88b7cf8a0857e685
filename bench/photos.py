"""Time photo derivatives on the corpus's large phone photos: ours, a naive Pillow pipeline,
and the floor (the reduced-size JPEG decode alone, which no pipeline can go below).

Run: python bench/photos.py [--repeat N]. The corpus is $FIELDREPORT_CORPUS, else
../shared/corpus next to the repository. Prints the figures and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageChops, ImageOps, ImageStat

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fieldreport.photos import imaging  # noqa: E402

MIN_PIXELS = 7_000_000
DISPLAY_EDGE = 1600
THUMBNAIL_EDGE = 320
TARGET_SPEEDUP = 3.0
TARGET_FLOOR_RATIO = 1.3


def corpus_photos() -> Path:
    root = os.environ.get("FIELDREPORT_CORPUS")
    corpus = Path(root) if root else REPO_ROOT.parent / "shared" / "corpus"
    return corpus / "photos"


def large_jpegs(photos: Path) -> list[tuple[Path, int, int]]:
    with (photos / "MANIFEST.tsv").open(newline="") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    chosen = []
    for row in rows:
        if row["expect"] != "accept" or row["format"] != "JPEG":
            continue
        width, height = int(row["width"]), int(row["height"])
        if width * height >= MIN_PIXELS:
            chosen.append((photos / row["file"], width, height))
    return chosen


def fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    width, height = size
    if max(width, height) <= edge:
        return size
    scale = edge / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def jpeg(image: Image.Image, quality: int) -> bytes:
    out = BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def ours(data: bytes) -> bytes:
    return imaging.make_derivatives(data).thumbnail


def naive(data: bytes) -> bytes:
    """What one writes first: decode everything, then resize from full size twice."""
    image = ImageOps.exif_transpose(Image.open(BytesIO(data))).convert("RGB")
    display = image.resize(fit(image.size, DISPLAY_EDGE), Image.Resampling.LANCZOS)
    thumbnail = image.resize(fit(image.size, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    jpeg(display, imaging.DISPLAY_QUALITY)
    return jpeg(thumbnail, imaging.THUMBNAIL_QUALITY)


def floor(data: bytes) -> bytes:
    image = Image.open(BytesIO(data), formats=["JPEG"])
    image.draft("RGB", fit(image.size, DISPLAY_EDGE))
    image.load()
    return b""


def median_ms(runs: list[float]) -> float:
    return statistics.median(runs) * 1000


def timed(work: Callable[[bytes], bytes], data: bytes, runs: list[float]) -> bytes:
    start = time.perf_counter()
    result = work(data)
    runs.append(time.perf_counter() - start)
    return result


def mean_abs_diff(a: bytes, b: bytes) -> float:
    first, second = Image.open(BytesIO(a)).convert("RGB"), Image.open(BytesIO(b)).convert("RGB")
    if first.size != second.size:
        second = second.resize(first.size, Image.Resampling.LANCZOS)
    return statistics.fmean(ImageStat.Stat(ImageChops.difference(first, second)).mean)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="runs per photo and pipeline")
    args = parser.parse_args()

    photos = corpus_photos()
    if not (photos / "MANIFEST.tsv").is_file():
        print(f"no corpus at {photos}: set FIELDREPORT_CORPUS")
        return 0
    chosen = large_jpegs(photos)
    print(f"Pillow {Image.__version__}; {args.repeat} runs each, median; photos >= 7 MP:")
    for path, width, height in chosen:
        print(f"  {path.name}  {width}x{height} ({width * height / 1e6:.1f} MP)")
    print()
    header = f"{'photo':<46}{'ours':>8}{'naive':>8}{'floor':>8}{'naive/ours':>12}{'ours/floor':>12}"
    print(header + f"{'thumb diff':>12}")
    print("-" * (len(header) + 12))

    speedups, floor_ratios, diffs = [], [], []
    for path, _, _ in chosen:
        data = path.read_bytes()
        times: dict[str, list[float]] = {"ours": [], "naive": [], "floor": []}
        pipelines = {"ours": ours, "naive": naive, "floor": floor}
        for work in pipelines.values():
            work(data)
        # Interleaved, so that a slow spell on the machine hits all three alike.
        for _ in range(args.repeat):
            thumbs = {name: timed(work, data, times[name]) for name, work in pipelines.items()}
        ours_ms, naive_ms, floor_ms = (median_ms(times[n]) for n in ("ours", "naive", "floor"))
        speedup, floor_ratio = naive_ms / ours_ms, ours_ms / floor_ms
        diff = mean_abs_diff(thumbs["ours"], thumbs["naive"])
        speedups.append(speedup)
        floor_ratios.append(floor_ratio)
        diffs.append(diff)
        print(
            f"{path.name:<46}{ours_ms:>8.1f}{naive_ms:>8.1f}{floor_ms:>8.1f}"
            f"{speedup:>11.2f}x{floor_ratio:>11.2f}x{diff:>12.2f}"
        )

    print()
    print(
        f"naive/ours: min {min(speedups):.2f}x, geometric mean "
        f"{statistics.geometric_mean(speedups):.2f}x (target >= {TARGET_SPEEDUP}x): "
        f"{'met' if min(speedups) >= TARGET_SPEEDUP else 'NOT met'}"
    )
    print(
        f"ours/floor: max {max(floor_ratios):.2f}x, geometric mean "
        f"{statistics.geometric_mean(floor_ratios):.2f}x (target <= {TARGET_FLOOR_RATIO}x): "
        f"{'met' if max(floor_ratios) <= TARGET_FLOOR_RATIO else 'NOT met'}"
    )
    print(
        f"thumbnails, ours against naive: mean absolute difference at most {max(diffs):.2f} "
        f"of 255 per channel ({'visually equal' if max(diffs) < 3 else 'DIFFERENT'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
