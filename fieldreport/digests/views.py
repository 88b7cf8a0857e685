"""Web pages of the digests domain (a thin layer over digests/service.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("digests", __name__)
