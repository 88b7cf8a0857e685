"""Headers every answer carries: the content security policy, no sniffing, no framing, and
``no-store`` for anything a logged-in user sees (a shared phone keeps no report in its cache),
and HSTS when the cookies are for HTTPS only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request, session

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

# A year; no includeSubDomains: other hosts of the mission's domain are not ours to decide.
HSTS = "max-age=31536000"


def content_security_policy(map_tile_url: str) -> str:
    """The CSP, letting images come from the map tile host when one is configured."""
    parts = urlsplit(map_tile_url.replace("{s}", "*")) if map_tile_url else None
    if not parts or parts.scheme not in ("http", "https") or not parts.netloc:
        return CONTENT_SECURITY_POLICY
    source = f"{parts.scheme}://{parts.netloc}"
    return CONTENT_SECURITY_POLICY.replace("img-src 'self'", f"img-src 'self' {source}", 1)


def security_headers(response: Any) -> Any:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.endpoint == "static":
        # A script, style or icon is no document: the page's policy governs it, and every header
        # costs a phone's first load (16 static files x 500 bytes of headers is 8 KB of 50).
        response.headers.pop("Content-Disposition", None)
        return response
    policy = current_app.config.get("FIELDREPORT_CSP", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(self)")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # Served over HTTPS: the browser must never try plain HTTP (where a cookie could leak).
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    # The session cookie, not current_user: this runs on error pages too, where loading the
    # user may be what just failed (a locked database).
    if "_user_id" in session and not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response
