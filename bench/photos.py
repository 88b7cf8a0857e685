"""Time photo derivatives on the corpus's large phone photos: ours, a naive Pillow pipeline,
and the floor (the reduced-size JPEG decode alone, which no pipeline can go below).

Run: python bench/photos.py [--repeat N]. The corpus is $FIELDREPORT_CORPUS, else
the repo's own tests/corpus. Prints the figures and exits 0.
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

from fieldreport.photos import imaging

MIN_PIXELS = 7_000_000
DISPLAY_EDGE = 1600
THUMBNAIL_EDGE = 320
TARGET_SPEEDUP = 3.0
TARGET_FLOOR_RATIO = 1.3


def corpus_photos() -> Path:
    root = os.environ.get("FIELDREPORT_CORPUS")
    corpus = Path(root) if root else REPO_ROOT / "tests" / "corpus"
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


def jpeg(image: Image.Image, options: dict[str, object]) -> bytes:
    out = BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def ours(data: bytes) -> bytes:
    return imaging.make_derivatives(data).thumbnail


def naive(data: bytes) -> bytes:
    """What one writes first: decode everything, then resize from full size twice."""
    image = ImageOps.exif_transpose(Image.open(BytesIO(data))).convert("RGB")
    display = image.resize(fit(image.size, DISPLAY_EDGE), Image.Resampling.LANCZOS)
    thumbnail = image.resize(fit(image.size, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
    jpeg(display, imaging.DISPLAY_JPEG)
    return jpeg(thumbnail, imaging.THUMBNAIL_JPEG)


def floor(data: bytes) -> bytes:
    image = Image.open(BytesIO(data), formats=["JPEG"])
    image.draft("RGB", fit(image.size, DISPLAY_EDGE))
    image.load()
    return b""


def stages(data: bytes) -> dict[str, float]:
    """Seconds per step of make_derivatives, redone step by step with the same settings."""
    marks = [time.perf_counter()]
    image = Image.open(BytesIO(data), formats=["JPEG"])
    image.draft("RGB", fit(image.size, DISPLAY_EDGE))
    image.load()
    marks.append(time.perf_counter())
    display = image.resize(fit(image.size, DISPLAY_EDGE), Image.Resampling.BICUBIC)
    marks.append(time.perf_counter())
    thumbnail = display.resize(
        fit(display.size, THUMBNAIL_EDGE), Image.Resampling.LANCZOS, reducing_gap=2.0
    )
    marks.append(time.perf_counter())
    jpeg(display, imaging.DISPLAY_JPEG)
    marks.append(time.perf_counter())
    jpeg(thumbnail, imaging.THUMBNAIL_JPEG)
    marks.append(time.perf_counter())
    names = ("decode", "resize", "thumbnail", "encode", "encode thumb")
    return {name: end - start for name, start, end in zip(names, marks, marks[1:], strict=False)}


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
    print(f"Pillow {Image.__version__}; {args.repeat} interleaved runs each; photos >= 7 MP:")
    for path, width, height in chosen:
        print(f"  {path.name}  {width}x{height} ({width * height / 1e6:.1f} MP)")

    pipelines = {"ours": ours, "naive": naive, "floor": floor}
    results = []
    for path, _, _ in chosen:
        data = path.read_bytes()
        times: dict[str, list[float]] = {name: [] for name in pipelines}
        steps: dict[str, list[float]] = {}
        thumbs = {name: work(data) for name, work in pipelines.items()}
        # Interleaved, so that a slow spell on the machine hits all three alike.
        for _ in range(args.repeat):
            for name, work in pipelines.items():
                timed(work, data, times[name])
            for step, seconds in stages(data).items():
                steps.setdefault(step, []).append(seconds)
        diff = mean_abs_diff(thumbs["ours"], thumbs["naive"])
        results.append((path.name, times, steps, diff))

    print()
    print("Median ms per photo (best of the runs in brackets):")
    header = (
        f"{'photo':<44}{'ours':>14}{'naive':>14}{'floor':>14}{'naive/ours':>12}{'ours/floor':>12}"
    )
    print(header)
    print("-" * len(header))
    speedups, floor_ratios, best_speedups, best_floor_ratios = [], [], [], []
    for name, times, _, _ in results:
        med = {key: median_ms(runs) for key, runs in times.items()}
        best = {key: min(runs) * 1000 for key, runs in times.items()}
        speedups.append(med["naive"] / med["ours"])
        floor_ratios.append(med["ours"] / med["floor"])
        best_speedups.append(best["naive"] / best["ours"])
        best_floor_ratios.append(best["ours"] / best["floor"])
        cells = "".join(f"{med[key]:>7.1f} ({best[key]:>4.0f})" for key in pipelines)
        print(f"{name:<44}{cells}{speedups[-1]:>11.2f}x{floor_ratios[-1]:>11.2f}x")

    print()
    print("Where ours spends its time (median ms, the same steps timed one by one):")
    step_names = list(results[0][2])
    print(f"{'photo':<44}" + "".join(f"{step:>14}" for step in step_names))
    for name, _, steps, _ in results:
        print(f"{name:<44}" + "".join(f"{median_ms(steps[step]):>14.1f}" for step in step_names))

    print()
    for label, medians, bests, target, ok in (
        ("naive/ours", speedups, best_speedups, f">= {TARGET_SPEEDUP}x", min),
        ("ours/floor", floor_ratios, best_floor_ratios, f"<= {TARGET_FLOOR_RATIO}x", max),
    ):
        worst = ok(medians)
        met = worst >= TARGET_SPEEDUP if ok is min else worst <= TARGET_FLOOR_RATIO
        print(
            f"{label}: worst {worst:.2f}x, geometric mean {statistics.geometric_mean(medians):.2f}x"
            f" (best-of-runs: worst {ok(bests):.2f}x); target {target}: "
            f"{'met' if met else 'NOT met'}"
        )
    diffs = [diff for _, _, _, diff in results]
    print(
        f"thumbnails, ours against naive: mean absolute difference at most {max(diffs):.2f} "
        f"of 255 per channel ({'visually equal' if max(diffs) < 3 else 'DIFFERENT'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
