"""What the photo functions promise, checked on real phone files and on crafted hostile ones.

Plain functions: no app, no database. The corpus ships in the repo (tests/corpus/README.md).
"""

from __future__ import annotations

import csv
import re
import struct
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageOps, ImageStat
from PIL.TiffImagePlugin import IFDRational

from fieldreport.photos import exif, flags, imaging
from fieldreport.photos.imaging import ImageRejected

REPO_ROOT = Path(__file__).resolve().parents[1]
PHOTOS = REPO_ROOT / "tests" / "corpus" / "photos"


def _manifest() -> list[dict[str, str]]:
    with (PHOTOS / "MANIFEST.tsv").open(newline="") as manifest:
        return list(csv.DictReader(manifest, delimiter="\t"))


MANIFEST = _manifest()


def corpus_rows(predicate: Callable[[dict[str, str]], bool]) -> list:
    """Manifest rows as test parameters (an empty selection is a broken corpus, not a skip)."""
    rows = [row for row in MANIFEST if predicate(row)]
    assert rows, f"no corpus row matches in {PHOTOS / 'MANIFEST.tsv'}"
    return [pytest.param(row, id=Path(row["file"]).name) for row in rows]


def corpus_file(name: str) -> bytes:
    return (PHOTOS / "accept" / name).read_bytes()


def read(row: dict[str, str]) -> bytes:
    return (PHOTOS / row["file"]).read_bytes()


def opened(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


def as_srgb(image: Image.Image) -> Image.Image:
    """The image in sRGB, converted from its embedded profile as a browser would."""
    profile = image.info.get("icc_profile")
    if not profile:
        return image
    source = ImageCms.ImageCmsProfile(BytesIO(profile))
    return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"))


def jpeg(image: Image.Image | None = None, **options: object) -> bytes:
    out = BytesIO()
    (image or Image.new("RGB", (64, 48), (10, 200, 30))).save(out, "JPEG", **options)
    return out.getvalue()


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    out = BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but whose data is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def exif_bytes(*, exif_ifd: dict | None = None, gps: dict | None = None) -> bytes:
    exif = Image.Exif()
    if exif_ifd is not None:
        exif[ExifTags.IFD.Exif] = exif_ifd
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = gps
    return exif.tobytes()


def mean_abs_diff(first: Image.Image, second: Image.Image, size: tuple[int, int]) -> float:
    """Mean absolute difference per channel (0-255) of two images brought to the same size."""
    a = first.convert("RGB").resize(size, Image.Resampling.BOX)
    b = second.convert("RGB").resize(size, Image.Resampling.BOX)
    return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3


def assert_plain_words(message: str) -> None:
    assert message.strip()
    assert not re.search(r"Traceback|File \"|Error\b|Exception|\.py\b|0x[0-9a-f]+|<|>", message)


@pytest.mark.parametrize("row", corpus_rows(lambda row: row["expect"] == "accept"))
def test_every_corpus_photo_is_accepted_with_its_format_and_size(row: dict[str, str]) -> None:
    info = imaging.inspect_upload(read(row))

    assert (info.format, info.width, info.height) == (
        row["format"],
        int(row["width"]),
        int(row["height"]),
    )
    assert info.mime_type == {"JPEG": "image/jpeg", "HEIF": "image/heic"}[info.format]


@pytest.mark.parametrize("row", corpus_rows(lambda row: row["expect"] == "reject"))
def test_every_hostile_corpus_file_is_refused_in_plain_words(row: dict[str, str]) -> None:
    with pytest.raises(ImageRejected) as refused:
        imaging.inspect_upload(read(row))

    assert_plain_words(refused.value.message)
    with pytest.raises(ImageRejected):
        imaging.make_derivatives(read(row))


def test_truncated_jpeg_is_refused() -> None:
    photo = corpus_file("mobile_jolla.jpg")

    for fraction in (0.2, 0.5, 0.9, 0.99):
        with pytest.raises(ImageRejected) as refused:
            imaging.inspect_upload(photo[: int(len(photo) * fraction)])
        assert refused.value.message == imaging.DAMAGED_MESSAGE
        assert refused.value.reason == "damaged"
    with pytest.raises(ImageRejected):
        imaging.make_derivatives(photo[: len(photo) // 2])


def test_truncated_progressive_jpeg_is_refused() -> None:
    photo = jpeg(opened(corpus_file("gps_DSCN0010.jpg")), progressive=True, quality=90)

    with pytest.raises(ImageRejected, match="damaged"):
        imaging.inspect_upload(photo[: int(len(photo) * 0.8)])


def test_truncated_heic_is_refused() -> None:
    # libheif alone would decode this, painting the missing tiles green.
    photo = corpus_file("heic_IMG_5195.HEIC")

    for fraction in (0.1, 0.6, 0.999):
        with pytest.raises(ImageRejected, match="damaged"):
            imaging.inspect_upload(photo[: int(len(photo) * fraction)])


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(ImageRejected) as refused:
        imaging.inspect_upload(b"")

    assert refused.value.message == imaging.UNSUPPORTED_MESSAGE


def test_text_file_is_refused() -> None:
    with pytest.raises(ImageRejected) as refused:
        imaging.inspect_upload(b"Sector 7, 14:05, two explosions heard to the north.\n" * 40)

    assert refused.value.message == imaging.UNSUPPORTED_MESSAGE
    assert refused.value.reason == "unsupported"


def test_svg_is_refused() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'

    with pytest.raises(ImageRejected, match="not a photo"):
        imaging.inspect_upload(svg)


@pytest.mark.parametrize("image_format", ["GIF", "TIFF", "BMP", "JPEG2000", "PDF", "EPS", "ICO"])
def test_formats_pillow_could_read_but_we_do_not_take_are_refused(image_format: str) -> None:
    data = encoded(Image.new("RGB", (32, 32), (200, 30, 30)), image_format)

    with pytest.raises(ImageRejected) as refused:
        imaging.inspect_upload(data)

    assert refused.value.message == imaging.UNSUPPORTED_MESSAGE


def test_png_declaring_more_pixels_than_the_limit_is_refused_before_decoding() -> None:
    data = png_declaring(5000, 5000)

    with pytest.raises(ImageRejected) as refused:
        imaging.inspect_upload(data, max_pixels=1_000_000)

    assert refused.value.reason == "too_large"
    assert refused.value.message == "This image is too large (25.0 megapixels; the limit is 1)."


@pytest.mark.parametrize(
    ("width", "height"),
    [(10_000, 10_000), (30_000, 30_000)],
    ids=["past-pillows-warning", "past-pillows-error"],
)
def test_png_declaring_a_decompression_bomb_is_refused(width: int, height: int) -> None:
    # Pillow's own check inside Image.open() warns at 100 MP and raises at 900 MP.
    with pytest.raises(ImageRejected) as refused:
        imaging.inspect_upload(png_declaring(width, height), max_pixels=500_000_000)

    assert refused.value.reason == "too_large"
    assert_plain_words(refused.value.message)


def test_default_limit_is_forty_megapixels() -> None:
    with pytest.raises(ImageRejected, match=r"48\.0 megapixels; the limit is 40\)"):
        imaging.inspect_upload(png_declaring(8000, 6000))


def test_png_with_damaged_data_is_refused() -> None:
    data = encoded(Image.effect_noise((200, 200), 60).convert("RGB"), "PNG")

    with pytest.raises(ImageRejected, match="damaged"):
        imaging.inspect_upload(data[: len(data) // 2])


def test_png_and_webp_are_accepted() -> None:
    image = Image.new("RGB", (300, 200), (0, 90, 200))

    assert imaging.inspect_upload(encoded(image, "PNG")).mime_type == "image/png"
    assert imaging.inspect_upload(encoded(image, "WEBP")).mime_type == "image/webp"


def test_jpeg_with_a_second_picture_is_read_as_jpeg() -> None:
    # Phones write MPO (a JPEG followed by a depth map or a second exposure).
    mpo = encoded(
        Image.new("RGB", (64, 48), "red"),
        "MPO",
        save_all=True,
        append_images=[Image.new("RGB", (64, 48), "blue")],
    )

    info = imaging.inspect_upload(mpo)

    assert (info.format, info.mime_type) == ("JPEG", "image/jpeg")
    display = opened(imaging.make_derivatives(mpo).display)
    assert display.getpixel((32, 24))[0] > 200


@pytest.mark.parametrize("row", corpus_rows(lambda row: bool(row["gps_lat"])))
def test_gps_position_matches_the_manifest(row: dict[str, str]) -> None:
    facts = exif.read_exif(read(row))

    assert facts.latitude == pytest.approx(float(row["gps_lat"]), abs=1e-4)
    assert facts.longitude == pytest.approx(float(row["gps_lon"]), abs=1e-4)


@pytest.mark.parametrize(
    "row", corpus_rows(lambda row: row["expect"] == "accept" and not row["gps_lat"])
)
def test_photo_without_a_usable_position_has_none(row: dict[str, str]) -> None:
    facts = exif.read_exif(read(row))

    assert (facts.latitude, facts.longitude) == (None, None)


@pytest.mark.parametrize("row", corpus_rows(lambda row: row["exif_orientation"] != ""))
def test_orientation_matches_the_manifest(row: dict[str, str]) -> None:
    assert exif.read_exif(read(row)).orientation == int(row["exif_orientation"])


@pytest.mark.parametrize("row", corpus_rows(lambda row: "oddexif" in row["file"]))
def test_photo_with_broken_exif_is_read_and_processed(row: dict[str, str]) -> None:
    data = read(row)

    facts = exif.read_exif(data)
    imaging.inspect_upload(data)
    derivatives = imaging.make_derivatives(data)

    assert isinstance(facts, exif.ExifFacts)
    assert max(derivatives.display_size) <= 1600


@pytest.mark.parametrize("row", corpus_rows(lambda row: row["expect"] == "reject"))
def test_read_exif_does_not_raise_on_hostile_files(row: dict[str, str]) -> None:
    facts = exif.read_exif(read(row))

    assert facts.latitude is None
    assert facts.taken_at is None


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image", b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00\xff\xff", jpeg()[:40]],
    ids=["empty", "text", "broken-exif-segment", "truncated-header"],
)
def test_read_exif_of_garbage_is_all_none(data: bytes) -> None:
    assert exif.read_exif(data) == exif.ExifFacts(None, False, None, None, None, False)


def test_capture_time_with_offset_is_aware() -> None:
    facts = exif.read_exif(corpus_file("mobile_HMD_Nokia_8.3_5G.jpg"))

    assert facts.taken_at == datetime(2022, 8, 14, 14, 12, 31, tzinfo=timezone(timedelta(hours=3)))
    assert facts.taken_at_has_offset is True


def test_capture_time_of_heic_keeps_its_offset() -> None:
    facts = exif.read_exif(corpus_file("heic_IMG_5195.HEIC"))

    assert facts.taken_at == datetime(2021, 4, 11, 15, 47, 53, tzinfo=timezone(timedelta(hours=-5)))


def test_capture_time_without_offset_is_naive() -> None:
    facts = exif.read_exif(corpus_file("mobile_jolla.jpg"))

    assert facts.taken_at == datetime(2014, 9, 21, 16, 0, 56)
    assert facts.taken_at.tzinfo is None
    assert facts.taken_at_has_offset is False
    assert facts.has_exif is True


@pytest.mark.parametrize(
    ("original", "offset", "expected"),
    [
        (
            "2024:01:02 03:04:05",
            "+05:30",
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
        ("2024:01:02 03:04:05\x00", "+25:00", datetime(2024, 1, 2, 3, 4, 5)),
        ("2024:01:02 03:04:05", "garbage", datetime(2024, 1, 2, 3, 4, 5)),
        ("0000:00:00 00:00:00", "+01:00", None),
        ("    :  :     :  :  ", None, None),
    ],
    ids=["offset", "impossible-offset", "unreadable-offset", "zero-date", "blank-date"],
)
def test_odd_capture_times_read_as_far_as_they_can(
    original: str, offset: str | None, expected: datetime | None
) -> None:
    exif_ifd = {ExifTags.Base.DateTimeOriginal: original}
    if offset is not None:
        exif_ifd[ExifTags.Base.OffsetTimeOriginal] = offset

    facts = exif.read_exif(jpeg(exif=exif_bytes(exif_ifd=exif_ifd)))

    assert facts.taken_at == expected
    assert facts.taken_at_has_offset is (expected is not None and expected.tzinfo is not None)


def _gps(lat: tuple, lat_ref: str | None, lon: tuple, lon_ref: str | None) -> dict:
    gps: dict = {ExifTags.GPS.GPSLatitude: lat, ExifTags.GPS.GPSLongitude: lon}
    if lat_ref is not None:
        gps[ExifTags.GPS.GPSLatitudeRef] = lat_ref
    if lon_ref is not None:
        gps[ExifTags.GPS.GPSLongitudeRef] = lon_ref
    return gps


def _r(numerator: int, denominator: int = 1) -> IFDRational:
    return IFDRational(numerator, denominator)


@pytest.mark.parametrize(
    ("gps", "expected"),
    [
        (
            _gps((_r(33), _r(52), _r(0, 0)), "S", (_r(151), _r(12), _r(30)), "E"),
            (-33.86667, 151.20833),
        ),
        (_gps((_r(48), _r(30), _r(36)), "N", (_r(35), _r(1, 2), _r(0)), "W"), (48.51, -35.00833)),
        (_gps((_r(5, 0), _r(1), _r(1)), "N", (_r(35), _r(1), _r(1)), "E"), None),
        (_gps((_r(48), _r(30), _r(36)), None, (_r(35), _r(1), _r(1)), "E"), None),
        (_gps((_r(0), _r(0), _r(0)), "N", (_r(0), _r(0), _r(0)), "E"), None),
        (_gps((_r(123), _r(0), _r(0)), "N", (_r(35), _r(1), _r(1)), "E"), None),
    ],
    ids=["zero-over-zero-seconds", "west", "degrees-over-zero", "no-ref", "null-island", "lat-123"],
)
def test_gps_rationals_are_read_or_refused(gps: dict, expected: tuple | None) -> None:
    facts = exif.read_exif(jpeg(exif=exif_bytes(gps=gps)))

    if expected is None:
        assert (facts.latitude, facts.longitude) == (None, None)
    else:
        assert (facts.latitude, facts.longitude) == pytest.approx(expected, abs=1e-4)


def assert_no_metadata(data: bytes) -> None:
    image = Image.open(BytesIO(data))
    assert image.format == "JPEG"
    assert image.mode == "RGB"
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "icc_profile", "comment", "photoshop"} & set(image.info)
    for marker in (b"Exif\x00\x00", b"http://ns.adobe.com/xap/", b"ICC_PROFILE", b"Photoshop"):
        assert marker not in data


@pytest.mark.parametrize("row", corpus_rows(lambda row: row["expect"] == "accept"))
def test_derivatives_carry_no_metadata_and_fit_the_limits(row: dict[str, str]) -> None:
    derivatives = imaging.make_derivatives(read(row))

    for data, size, edge in (
        (derivatives.display, derivatives.display_size, 1600),
        (derivatives.thumbnail, derivatives.thumbnail_size, 320),
    ):
        assert_no_metadata(data)
        assert Image.open(BytesIO(data)).size == size
        assert max(size) <= edge
    stored = (int(row["width"]), int(row["height"]))
    assert max(derivatives.display_size) == min(1600, max(stored))


def test_comment_and_gps_of_the_original_are_not_copied() -> None:
    original = jpeg(
        Image.new("RGB", (640, 480), (120, 120, 120)),
        exif=exif_bytes(gps=_gps((_r(48), _r(30), _r(36)), "N", (_r(35), _r(1), _r(1)), "E")),
        comment=b"taken by observer Jane Roe",
    )

    derivatives = imaging.make_derivatives(original)

    for data in (derivatives.display, derivatives.thumbnail):
        assert_no_metadata(data)
        assert b"Jane" not in data


def test_display_p3_heic_is_converted_to_srgb_without_a_profile() -> None:
    photo = corpus_file("heic_iphone_13_pro_max.HEIC")
    assert Image.open(BytesIO(photo)).info.get("icc_profile")

    derivatives = imaging.make_derivatives(photo)

    assert_no_metadata(derivatives.display)
    assert derivatives.display_size == (1200, 1600)


def test_smaller_edges_are_honoured() -> None:
    derivatives = imaging.make_derivatives(
        corpus_file("mobile_HMD_Nokia_8.3_5G.jpg"), display_edge=1000, thumbnail_edge=100
    )

    assert derivatives.display_size == (1000, 429)
    assert derivatives.thumbnail_size == (100, 43)


def test_small_photo_is_not_enlarged() -> None:
    derivatives = imaging.make_derivatives(jpeg(Image.new("RGB", (200, 100), "white")))

    assert derivatives.display_size == (200, 100)
    assert derivatives.thumbnail_size == (200, 100)


def test_transparency_is_flattened_onto_white() -> None:
    image = Image.new("RGBA", (400, 200), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 200, 200))

    for image_format in ("PNG", "WEBP"):
        display = opened(imaging.make_derivatives(encoded(image, image_format)).display)
        assert display.getpixel((100, 100))[2] > 230
        assert min(display.getpixel((300, 100))) > 240


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    image = Image.new("I;16", (256, 64))
    image.putdata([x * 256 for _ in range(64) for x in range(256)])

    display = opened(imaging.make_derivatives(encoded(image, "PNG")).display)

    assert 110 < display.getpixel((128, 32))[0] < 146


@pytest.mark.parametrize(
    "row", corpus_rows(lambda row: row["file"].startswith("accept/orientation_"))
)
def test_orientation_is_applied_to_the_pixels(row: dict[str, str]) -> None:
    data = read(row)
    reference = as_srgb(ImageOps.exif_transpose(opened(data)))

    derivatives = imaging.make_derivatives(data)
    display = opened(derivatives.display)
    thumbnail = opened(derivatives.thumbnail)

    assert display.size == reference.size
    small = (48, 48)
    right = mean_abs_diff(display, reference, small)
    assert right < 4
    assert mean_abs_diff(thumbnail, reference, small) < 4
    for wrong in (
        reference.transpose(Image.Transpose.ROTATE_180),
        reference.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        as_srgb(opened(data)),
    ):
        if wrong.tobytes() != reference.tobytes():
            assert mean_abs_diff(display, wrong, small) > 4 * right + 10


def test_thumbnail_looks_like_a_full_decode_and_resize() -> None:
    data = corpus_file("oddexif_exifsamples_tests_42_IndexError.jpg")
    full = opened(data).convert("RGB")

    thumbnail = opened(imaging.make_derivatives(data).thumbnail)

    assert thumbnail.size == (320, 240)
    reference = full.resize(thumbnail.size, Image.Resampling.LANCZOS)
    reference = opened(jpeg(reference, **imaging.THUMBNAIL_JPEG))
    # At a quarter of the size, where the two JPEGs' own noise averages out (measured 0.7).
    assert mean_abs_diff(thumbnail, reference, (80, 60)) < 1.5


@pytest.mark.parametrize(
    "name", ["mobile_jolla.jpg", "heic_IMG_5195.HEIC", "orientation_portrait_8.jpg"]
)
def test_same_photo_gives_the_same_derivative_bytes(name: str) -> None:
    data = corpus_file(name)

    assert imaging.make_derivatives(data) == imaging.make_derivatives(data)


def test_haversine_gives_known_distances() -> None:
    assert flags.haversine_m(48.8566, 2.3522, 48.8566, 2.3522) == 0
    assert flags.haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)
    assert flags.haversine_m(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343_560, rel=5e-3)
    assert flags.haversine_m(0, 179.9, 0, -179.9) == pytest.approx(22_239, rel=1e-3)


def test_truncated_jpeg_is_refused_even_after_weasyprint_is_imported(corpus):
    import weasyprint  # noqa: F401 - its import flips Pillow's LOAD_TRUNCATED_IMAGES on
    from PIL import ImageFile

    truncated = (corpus / "reject" / "pillow_truncated_jpeg.jpg").read_bytes()
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with pytest.raises(ImageRejected):
            imaging.inspect_upload(truncated)
        with pytest.raises(ImageRejected):
            imaging.make_derivatives(truncated)
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False
