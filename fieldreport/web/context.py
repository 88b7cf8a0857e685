"""What a view may need of the app around it: the runtime, and the caller's address."""

from __future__ import annotations

from flask import current_app, request

from fieldreport.accounts.totp_sealing import TotpKey
from fieldreport.runtime import Runtime


def runtime() -> Runtime:
    """The app's runtime: settings, database, file storage and job queue."""
    return current_app.extensions["fieldreport.runtime"]


def totp_key() -> TotpKey:
    """The key that seals two-step log-in secrets, checked when the app started."""
    return current_app.extensions["fieldreport.totp_key"]


def client_address() -> str | None:
    """The caller's address (the last trusted X-Forwarded-For hop behind FIELDREPORT_PROXY_HOPS
    proxies), cut to what the audit log and the throttle keys hold."""
    address = request.remote_addr
    return address[:64] if address else None
