"""The image formats photo code opens, and what HEIC needs beyond Pillow.

Phones write HEIC, which pillow-heif opens once registered; libheif decodes a truncated file
without complaint, so its completeness is checked here on the container's box structure.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from functools import cache

ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
MIME_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    # pillow-heif's HEIF opener reads HEVC-coded files (AVIF has its own opener): what phones
    # write as .HEIC, whose registered type is image/heic.
    "HEIF": "image/heic",
}


@cache
def register_heif_opener() -> None:
    import pillow_heif

    # Without thumbnails, draft() can never hand back an embedded thumbnail (which may show
    # something else) in place of the image itself; depth and auxiliary images are not needed.
    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def heif_data_present(data: bytes) -> bool:
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
