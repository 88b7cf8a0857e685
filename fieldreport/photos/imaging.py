"""Pure image functions for observers' photos: check an upload, make its derivatives.

Every upload is distrusted: files are identified by decoding, never by name or MIME type, only
JPEG, PNG, WebP and HEIC are opened (``formats.py``), the pixel count is checked before any
pixels are decoded, and whatever a hostile file makes a decoder raise becomes `ImageRejected`
with a message an observer can act on. No Flask and no database here.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from typing import Any

from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from fieldreport.i18n import N_
from fieldreport.photos.exif import orientation as exif_orientation
from fieldreport.photos.formats import (
    ALLOWED_FORMATS,
    MIME_TYPES,
    heif_data_present,
    register_heif_opener,
)

DEFAULT_MAX_PIXELS = 40_000_000

UNSUPPORTED_MESSAGE = N_("This file is not a photo we can read (JPEG, PNG, WebP or HEIC).")
DAMAGED_MESSAGE = N_("This image is damaged or incomplete — take or export it again.")

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


def _open(data: bytes, max_pixels: int) -> tuple[Image.Image, ImageInfo]:
    """Identify the file and check its size, without decoding any pixels."""
    if not data:
        raise ImageRejected(UNSUPPORTED_MESSAGE)
    register_heif_opener()
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
    if image.format == "HEIF" and not heif_data_present(data):
        raise ImageRejected(DAMAGED_MESSAGE, reason="damaged")
    # WeasyPrint sets this process-wide flag to True when it is imported (digests render PDFs
    # in the same process in the embedded default); truncated uploads must still be refused.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        image.load()
    except Exception as exc:
        raise ImageRejected(DAMAGED_MESSAGE, reason="damaged") from exc


def _too_large_message(pixels: int | None, max_pixels: int) -> str:
    limit = f"{max_pixels / 1_000_000:g}"
    if pixels is None:
        return N_("This image is too large (the limit is %(limit)s megapixels).", limit=limit)
    return N_(
        "This image is too large (%(size)s megapixels; the limit is %(limit)s).",
        size=f"{pixels / 1_000_000:.1f}",
        limit=limit,
    )


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
        orientation = exif_orientation(image.getexif())
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
