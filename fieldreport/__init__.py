"""fieldreport: the reporting system of a neutral ceasefire monitoring mission."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from fieldreport.config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the web app; see :mod:`fieldreport.web.app` (imported lazily to keep imports light)."""
    from fieldreport.web.app import build_app

    return build_app(settings)
