"""The web side of server-side sessions: load the user from the cookie's session id, note the
session as seen (at most once a minute, after the request's own transaction), and the client
details a session is opened with."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Response, g, request
from sqlalchemy.exc import OperationalError

from fieldreport.accounts import sessions
from fieldreport.accounts.service import load_user
from fieldreport.accounts.sessions import ClientInfo, SessionLimits
from fieldreport.config import Settings
from fieldreport.db import utcnow
from fieldreport.web.context import client_address, runtime
from fieldreport.web.transaction import request_session

log = logging.getLogger(__name__)


def session_limits(settings: Settings) -> SessionLimits:
    return SessionLimits(
        idle=timedelta(hours=settings.session_idle_hours),
        absolute=timedelta(days=settings.session_max_days),
    )


def client_info() -> ClientInfo:
    return ClientInfo(client_address(), request.headers.get("User-Agent"))


def user_from_cookie(token: str) -> Any:
    """Flask-Login's user loader: the user of a live session, or None (asked to log in)."""
    loaded = load_user(request_session(), token, limits=session_limits(runtime().settings))
    if loaded is None:
        return None
    if loaded.needs_touch:
        g.touch_session_id = loaded.session_id
    return loaded.user


def touch_seen_session(response: Response) -> Response:
    """After-request hook: record "last seen" in a short transaction of its own.

    Not in the request's transaction: a read request would have to upgrade its SQLite read
    lock to a write lock, which can fail under concurrent writers. A missed touch is harmless.
    """
    session_id = g.pop("touch_session_id", None)
    request_db = g.get("db_session")
    if session_id is None or (request_db is not None and request_db.in_transaction()):
        return response
    try:
        with runtime().db.session_scope() as db:
            sessions.touch(db, session_id, utcnow())
    except OperationalError:
        log.warning("could not note session %s as seen; next request will", session_id)
    return response
