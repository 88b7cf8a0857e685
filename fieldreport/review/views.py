"""Web pages of the review domain (a thin layer over review/service.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__)
