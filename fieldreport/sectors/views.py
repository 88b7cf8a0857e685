"""Web pages of the sectors domain (a thin layer over sectors/service.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sectors", __name__)
