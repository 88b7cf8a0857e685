"""Pure image functions for observers' photos: check an upload, read its EXIF, make derivatives.

Every upload is distrusted: files are identified by decoding, never by name or
MIME type, only JPEG, PNG, WebP and HEIC are opened, the pixel count is checked before any
pixels are decoded, and whatever a hostile file makes a decoder raise becomes `ImageRejected`
with a message an observer can act on. No Flask and no database here.
"""

from __future__ import annotations

import math
import re
import struct
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from io import BytesIO
from typing import Any, TypeVar

from PIL import ExifTags, Image, ImageCms, ImageFile, UnidentifiedImageError

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
DEFAULT_MAX_PIXELS = 40_000_000

MIME_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    # pillow-heif's HEIF opener reads HEVC-coded files (AVIF has its own opener): what phones
    # write as .HEIC, whose registered type is image/heic.
    "HEIF": "image/heic",
}

UNSUPPORTED_MESSAGE = "This file is not a photo we can read (JPEG, PNG, WebP or HEIC)."
DAMAGED_MESSAGE = "This image is damaged or incomplete — take or export it again."

# Baseline, not progressive: progressive encoding doubles the encode (about +15 ms for a
# 1600 px photo, bench/photos.py) to save 2-5 % of the bytes. optimize (two-pass Huffman)
# costs 5-8 ms at display size for 1-2 %, so only the thumbnail gets it.
DISPLAY_JPEG = {"quality": 82}
THUMBNAIL_JPEG = {"quality": 75, "optimize": True}

_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

_TAG_ORIENTATION = ExifTags.Base.Orientation
_TAG_DATETIME_ORIGINAL = ExifTags.Base.DateTimeOriginal
_TAG_OFFSET_TIME_ORIGINAL = ExifTags.Base.OffsetTimeOriginal
_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})")

_T = TypeVar("_T")


class ImageRejected(ValueError):
    """A file we refuse to take; `message` is plain words for the observer.

    `reason` is a stable code for the callers that answer differently: "unsupported",
    "damaged" or "too_large".
    """

    def __init__(self, message: str, *, reason: str = "unsupported") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class ImageInfo:
    """What an accepted upload is; width and height as stored, before EXIF orientation."""

    format: str
    width: int
    height: int
    mime_type: str


@dataclass(frozen=True)
class ExifFacts:
    """What the photo's EXIF says, each fact None when absent or unreadable.

    `taken_at` is the phone's wall-clock time: aware when the photo records its UTC offset
    (OffsetTimeOriginal), naive otherwise, and then it must not be compared with UTC as if it
    were. `has_exif` is False when the file carries no EXIF at all or none that can be read.
    """

    taken_at: datetime | None
    taken_at_has_offset: bool
    latitude: float | None
    longitude: float | None
    orientation: int | None
    has_exif: bool


@dataclass(frozen=True)
class Derivatives:
    """The display JPEG and thumbnail JPEG, with their pixel sizes (upright)."""

    display: bytes
    thumbnail: bytes
    display_size: tuple[int, int]
    thumbnail_size: tuple[int, int]


def inspect_upload(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Decide whether `data` is a photo we take, by decoding all of it.

    Raises `ImageRejected` for anything else: an unknown or forbidden format, a pixel count
    above `max_pixels`, or a file that does not decode to the end (truncated or corrupt).
    JPEGs are decoded at 1/8 scale: the entropy stream is still read to its end, so damage is
    found, but the inverse DCT is skipped for all but the DC terms.
    """
    image, info = _open(data, max_pixels)
    if info.format == "JPEG":
        image.draft("L", (1, 1))
    _load(image, data)
    return info


def make_derivatives(
    data: bytes,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    display_edge: int = 1600,
    thumbnail_edge: int = 320,
) -> Derivatives:
    """Make the display image and the thumbnail that the app shows instead of the original.

    Both are JPEGs in sRGB with the EXIF orientation applied and no metadata at all (no EXIF,
    GPS, XMP, ICC profile or comment), so that what is shown never leaks the phone, the place
    or the observer. The same input always gives the same bytes. Raises `ImageRejected` for a
    file that `inspect_upload` would refuse.
    """
    image, info = _open(data, max_pixels)
    icc_profile = image.info.get("icc_profile")
    if info.format == "JPEG":
        # draft() only reconfigures the raw JPEG decoder, so it must come before anything
        # that loads pixels (orientation, convert). It picks the smallest 1/2^n DCT scale that
        # still covers the display size, which is most of the speed-up.
        image.draft("RGB", _fit(image.size, display_edge))
    _load(image, data)
    try:
        image = _apply_orientation(image)
        image = _to_rgb(image)
        # After draft() the ratio left is below 2, where BICUBIC is within 42-50 dB PSNR of
        # LANCZOS from the full-size decode, at two thirds of LANCZOS's cost.
        display = _shrink(image, display_edge, Image.Resampling.BICUBIC)
        display = _to_srgb(display, icc_profile)
        # Pillow writes im.info["comment"] into a saved JPEG; drop everything it carries.
        display.info = {}
        thumbnail = _shrink(display, thumbnail_edge, Image.Resampling.LANCZOS)
        thumbnail.info = {}
        display_bytes = _encode(display, DISPLAY_JPEG)
        thumbnail_bytes = _encode(thumbnail, THUMBNAIL_JPEG)
    except (MemoryError, OSError, ValueError) as exc:
        raise ImageRejected(DAMAGED_MESSAGE, reason="damaged") from exc
    return Derivatives(
        display=display_bytes,
        thumbnail=thumbnail_bytes,
        display_size=display.size,
        thumbnail_size=thumbnail.size,
    )


def read_exif(data: bytes) -> ExifFacts:
    """Read capture time, position and orientation from the photo's EXIF, if it has any.

    Phones and editors write broken EXIF often enough that nothing here may fail: a fact
    that cannot be read is None, and this function never raises.
    """
    try:
        _register_heif()
        with Image.open(BytesIO(data), formats=ALLOWED_FORMATS) as image:
            exif = image.getexif()
            has_exif = len(exif) > 0
    except Exception:
        return ExifFacts(None, False, None, None, None, False)
    taken_at = _guard(_taken_at, exif)
    latitude, longitude = _guard(_position, exif) or (None, None)
    return ExifFacts(
        taken_at=taken_at,
        taken_at_has_offset=taken_at is not None and taken_at.tzinfo is not None,
        latitude=latitude,
        longitude=longitude,
        orientation=_guard(_orientation, exif),
        has_exif=has_exif,
    )


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres, to flag a photo taken far from its report."""
    earth_radius_m = 6_371_008.8
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * earth_radius_m * math.asin(min(1.0, math.sqrt(a)))


@cache
def _register_heif() -> None:
    import pillow_heif

    # Without thumbnails, draft() can never hand back an embedded thumbnail (which may show
    # something else) in place of the image itself; depth and auxiliary images are not needed.
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _open(data: bytes, max_pixels: int) -> tuple[Image.Image, ImageInfo]:
    """Identify the file and check its size, without decoding any pixels."""
    if not data:
        raise ImageRejected(UNSUPPORTED_MESSAGE)
    _register_heif()
    try:
        # Pillow's own bomb check in open() only warns between its limit and twice it; made
        # an error here. catch_warnings() is process-wide, not per thread, so the explicit
        # check below is what enforces our limit: a race can only let the warning through.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data), formats=ALLOWED_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(_too_large_message(None, max_pixels), reason="too_large") from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(UNSUPPORTED_MESSAGE) from exc
    except Exception as exc:
        # A recognised header that its plugin then chokes on: decoders raise a zoo of types
        # on hostile input (SyntaxError, struct.error, ValueError, RuntimeError from libheif…).
        raise ImageRejected(DAMAGED_MESSAGE, reason="damaged") from exc

    # A JPEG that carries more pictures (MPO: a depth map, a second exposure) opens as MPO;
    # it is still a JPEG and only its first picture is used.
    image_format = "JPEG" if image.format == "MPO" else image.format
    if image_format not in ALLOWED_FORMATS:
        raise ImageRejected(UNSUPPORTED_MESSAGE)
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected(DAMAGED_MESSAGE, reason="damaged")
    pixels = width * height
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    if pixels > limit:
        raise ImageRejected(_too_large_message(pixels, limit), reason="too_large")
    return image, ImageInfo(image_format, width, height, MIME_TYPES[image_format])


def _load(image: Image.Image, data: bytes) -> None:
    """Decode the first frame's pixels; a file that does not decode to its end is refused."""
    if image.format == "HEIF" and not _heif_data_present(data):
        raise ImageRejected(DAMAGED_MESSAGE, reason="damaged")
    # WeasyPrint sets this process-wide flag to True when it is imported (digests render PDFs
    # in the same process in the embedded default); truncated uploads must still be refused.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    except Exception as exc:
        raise ImageRejected(DAMAGED_MESSAGE, reason="damaged") from exc


def _heif_data_present(data: bytes) -> bool:
    """False when the HEIF boxes, or the item data its `iloc` box points to, run past the end.

    libheif decodes a truncated HEIC without complaint, painting the missing grid tiles green,
    so completeness is checked on the box structure (ISO/IEC 14496-12 §4.2, §8.11.3) instead.
    Anything this reader does not understand is left for libheif to judge.
    """
    try:
        meta = None
        for box_type, start, end in _boxes(data, 0, len(data)):
            if end > len(data):
                return False
            if box_type == b"meta":
                meta = (start, end)
        if meta is None:
            return True
        iloc = next((b for b in _boxes(data, meta[0] + 4, meta[1]) if b[0] == b"iloc"), None)
        if iloc is None:
            return True
        return all(
            offset + max(length, 1) <= len(data)
            for offset, length in _iloc_file_extents(data, iloc[1], iloc[2])
        )
    except (IndexError, ValueError, struct.error):
        return True


def _boxes(data: bytes, offset: int, limit: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, end) of the ISO BMFF boxes between offset and limit."""
    while offset + 8 <= limit:
        size, box_type = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = limit - offset
        if size < header:
            raise ValueError("box smaller than its header")
        yield box_type, offset + header, offset + size
        offset += size


def _iloc_file_extents(data: bytes, start: int, end: int) -> Iterator[tuple[int, int]]:
    """(offset, length) of every item extent that `iloc` places in this file."""
    payload = data[start:end]
    version = payload[0]
    if version > 2:
        return
    pos = 4

    def read(size: int) -> int:
        nonlocal pos
        if pos + size > len(payload):
            raise ValueError("iloc shorter than its entries")
        value = int.from_bytes(payload[pos : pos + size], "big")
        pos += size
        return value

    sizes = read(2)
    offset_size, length_size = sizes >> 12, (sizes >> 8) & 15
    base_offset_size = (sizes >> 4) & 15
    index_size = sizes & 15 if version in (1, 2) else 0
    id_size = 2 if version < 2 else 4
    for _ in range(read(id_size)):
        read(id_size)
        construction_method = read(2) & 15 if version in (1, 2) else 0
        data_reference_index = read(2)
        base_offset = read(base_offset_size)
        for _ in range(read(2)):
            read(index_size)
            extent_offset = read(offset_size)
            extent_length = read(length_size)
            if construction_method == 0 and data_reference_index == 0:
                yield base_offset + extent_offset, extent_length


def _too_large_message(pixels: int | None, max_pixels: int) -> str:
    limit = f"{max_pixels / 1_000_000:g}"
    if pixels is None:
        return f"This image is too large (the limit is {limit} megapixels)."
    return f"This image is too large ({pixels / 1_000_000:.1f} megapixels; the limit is {limit})."


def _fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """The size that fits `size` within `edge` on its long side, keeping its shape."""
    width, height = size
    if max(width, height) <= edge:
        return size
    scale = edge / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _apply_orientation(image: Image.Image) -> Image.Image:
    """Turn the pixels upright as the EXIF orientation says.

    Does what ImageOps.exif_transpose() does, but reads the tag tolerantly (broken EXIF
    means "as stored", never a refused photo) and skips re-serialising EXIF that is about to
    be thrown away.
    """
    try:
        orientation = _orientation(image.getexif())
    except Exception:
        return image
    method = _TRANSPOSE.get(orientation or 1)
    return image.transpose(method) if method is not None else image


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels, with any transparency flattened onto white (JPEG has no alpha)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit greyscale: convert("L") would clip instead of scaling to 8 bits.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _shrink(image: Image.Image, edge: int, resample: Image.Resampling) -> Image.Image:
    """Fit within `edge`; never enlarge."""
    size = _fit(image.size, edge)
    if size == image.size:
        return image
    # reducing_gap box-averages whole blocks first when the ratio is large (the thumbnail,
    # 1600 to 320): a third of the time of a plain LANCZOS, within 0.5/255 of it per pixel.
    return image.resize(size, resample, reducing_gap=2.0)


@cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _to_srgb(image: Image.Image, icc_profile: Any) -> Image.Image:
    """Convert the colours to sRGB rather than embed the camera's profile.

    An embedded profile is metadata (it can name the device), and browsers take an untagged
    JPEG as sRGB; so iPhones' Display P3 photos are converted, and keep their colours, with no
    profile in the derivative. A profile we cannot read is ignored, as broken EXIF is.
    """
    if not isinstance(icc_profile, bytes) or not icc_profile or image.mode != "RGB":
        return image
    try:
        source = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
        description = source.profile.profile_description or ""
        if source.profile.xcolor_space != "RGB " or description.startswith("sRGB"):
            return image
        transform = ImageCms.buildTransform(source, _srgb_profile(), "RGB", "RGB")
        return transform.apply(image)
    except (ImageCms.PyCMSError, OSError, TypeError, ValueError):
        return image


def _encode(image: Image.Image, options: dict[str, Any]) -> bytes:
    # No exif=, icc_profile=, xmp= or comment=: a JPEG saved without them carries none.
    out = BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


def _guard(read: Callable[[Image.Exif], _T], exif: Image.Exif) -> _T | None:
    """One fact from broken EXIF must not cost the others: any failure reads as None."""
    try:
        return read(exif)
    except Exception:
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ")


def _orientation(exif: Image.Exif) -> int | None:
    value = exif.get(_TAG_ORIENTATION)
    if isinstance(value, (tuple, list)) and value:
        value = value[0]
    if isinstance(value, int) and 1 <= value <= 8:
        return value
    return None


def _taken_at(exif: Image.Exif) -> datetime | None:
    sub_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    text = _text(sub_ifd.get(_TAG_DATETIME_ORIGINAL))
    if not text:
        return None
    try:
        taken_at = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = _utc_offset(_text(sub_ifd.get(_TAG_OFFSET_TIME_ORIGINAL)))
    return taken_at.replace(tzinfo=offset) if offset is not None else taken_at


def _utc_offset(text: str | None) -> timezone | None:
    match = _OFFSET_RE.fullmatch(text or "")
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14) or int(minutes) >= 60:
        return None
    return timezone(-delta if sign == "-" else delta)


def _position(exif: Image.Exif) -> tuple[float, float] | None:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    latitude = _coordinate(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef))
    longitude = _coordinate(
        gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef)
    )
    if latitude is None or longitude is None or abs(latitude) > 90 or abs(longitude) > 180:
        return None
    # 0/0 everywhere is what some phones write when they have no fix; nobody reports from
    # the Gulf of Guinea's null island.
    if latitude == 0 and longitude == 0:
        return None
    return latitude, longitude


def _coordinate(value: Any, ref: Any) -> float | None:
    """Degrees from EXIF's (degrees, minutes, seconds) rationals and an N/S/E/W reference.

    Without a reference the hemisphere is unknown, and a position in the wrong hemisphere is
    worse than none.
    """
    sign = {"N": 1, "E": 1, "S": -1, "W": -1}.get((_text(ref) or "").upper()[:1])
    if sign is None:
        return None
    parts = value if isinstance(value, (tuple, list)) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    degrees = 0.0
    for index, part in enumerate(parts):
        number = _rational(part, may_be_unknown=index > 0)
        if number is None or number < 0:
            return None
        degrees += number / 60**index
    return sign * degrees


def _rational(value: Any, *, may_be_unknown: bool) -> float | None:
    numerator = getattr(value, "numerator", value)
    denominator = getattr(value, "denominator", 1)
    if denominator == 0:
        # 0/0 minutes or seconds means "not recorded"; n/0 is garbage, as is 0/0 degrees.
        return 0.0 if may_be_unknown and numerator == 0 else None
    number = float(value)
    return number if math.isfinite(number) else None
