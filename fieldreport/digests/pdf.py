"""The digest's PDF: the standalone HTML document laid out by WeasyPrint, reading nothing else.

The digest carries observers' narratives; even if one slipped past escaping, the PDF must not
fetch from the network (leaking the build) or embed arbitrary local files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname


class ResourceRefused(ValueError):
    """The digest HTML referred to something outside what the PDF may read."""


# Without a base_url, relative references resolve under this name, which the fetcher refuses:
# WeasyPrint would otherwise skip them with a log line and a PDF without its map.
_NO_BASE = "file:///digest-html-has-no-base-url/"


def _local_root(base_url: str | None) -> Path | None:
    if base_url is None:
        return None
    parts = urlsplit(base_url)
    if parts.scheme not in ("", "file"):
        raise ResourceRefused(f"base_url must be a local directory or file: URL: {base_url!r}")
    path = Path(url2pathname(parts.path) if parts.scheme == "file" else base_url).resolve()
    return path if path.is_dir() else path.parent


def _url_fetcher(root: Path | None) -> Any:
    """A WeasyPrint fetcher that reads data: URIs and files under ``root``, and nothing else.

    The digest carries observers' narratives; even if one slipped past escaping, the PDF
    must not fetch from the network (leaking the build) or embed arbitrary local files.
    """
    from weasyprint.urls import URLFetcher

    class _DigestFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file" and root is not None:
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if path.is_relative_to(root):
                    return super().fetch(url, headers)
            if scheme == "file" and root is None:
                raise ResourceRefused(f"{url[:80]!r}: files need a base_url to be read from")
            raise ResourceRefused(f"the digest PDF may not load {url[:80]!r}")

    return _DigestFetcher(allowed_protocols={"data", "file"}, fail_on_errors=True)


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """Render the digest HTML (the same template as the web page) to PDF bytes.

    Images should be data: URIs (see :func:`png_data_uri`) or files under ``base_url``, a
    local directory. Anything else (the network, files elsewhere, a missing file) stops the
    build with :class:`ResourceRefused` rather than yielding a PDF silently missing its map.
    The options are WeasyPrint's fast defaults, spelled out so nobody turns on a slow one:
    ``optimize_images`` costs ~40 % more time on a map for no visible gain. Layout, not
    options, sets the time: roughly 230 seven-column table rows a second, ~440 with three
    columns (``bench/drawing.py``). Same HTML, same bytes.
    """
    import weasyprint  # heavy (~0.5 s): only the process that renders PDFs pays for it
    from PIL import ImageFile
    from weasyprint.urls import FatalURLFetchingError

    # Importing WeasyPrint turns on Pillow's process-wide "accept truncated images"; uploads in
    # this same process must keep refusing them (imaging.py also resets it before each decode).
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    root = _local_root(base_url)
    document = weasyprint.HTML(
        string=html,
        base_url=root.as_uri() + "/" if root is not None else _NO_BASE,
        url_fetcher=_url_fetcher(root),
    )
    try:
        pdf = document.write_pdf(
            # Tagged (PDF/UA-1): a screen reader reads headings, tables and the map's alt text.
            pdf_variant="pdf/ua-1",
            optimize_images=False,
            uncompressed_pdf=False,
            full_fonts=False,
            hinting=False,
            presentational_hints=False,
        )
    except FatalURLFetchingError as error:
        # WeasyPrint raises a BaseException here; give callers an ordinary error.
        cause = error.__cause__
        if isinstance(cause, ResourceRefused):
            raise cause from None
        raise ResourceRefused(f"{error}: {cause}") from cause
    assert pdf is not None
    return bytes(pdf)
