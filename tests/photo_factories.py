"""Photo rows whose stored original is given bytes, as if they had passed the upload check.

The pipeline tests need photos the upload would refuse (a truncated JPEG reaching the worker)
or that must not be processed yet; this is the one place that makes them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fieldreport.photos.models import Photo
from fieldreport.storage import original_key


def add_photo_row(runtime: Any, report_id: int, data: bytes) -> int:
    sha256 = hashlib.sha256(data).hexdigest()
    runtime.storage.put(original_key(sha256), data)
    with runtime.db.session_scope() as session:
        photo = Photo(
            report_id=report_id,
            sha256=sha256,
            byte_size=len(data),
            format="JPEG",
            width=100,
            height=100,
            state="pending",
            flags=[],
        )
        session.add(photo)
        session.flush()
        return photo.id
