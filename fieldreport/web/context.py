"""What a view may need of the app around it: the runtime, and the caller's address."""

from __future__ import annotations

from flask import current_app, request

from fieldreport.runtime import Runtime


def runtime() -> Runtime:
    """The app's runtime: settings, database, file storage and job queue."""
    return current_app.extensions["fieldreport.runtime"]


def client_address() -> str | None:
    return request.remote_addr
