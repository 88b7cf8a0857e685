"""The one owner of a web request's transaction.

A view opens the request's session with :func:`request_session`, calls services, and returns.
When it returns, :func:`commit_after` commits what the services wrote; when it raises (a domain
error turned into an HTTP error, ``abort``, a bug), the teardown rolls everything back. Views and
services never commit: a use case that refuses its input raises before it writes, so "commit on
return" stores exactly what was accepted (docs/architecture.md, "Transactions").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, request
from sqlalchemy.orm import Session

from fieldreport.db import Database

READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


def request_session() -> Session:
    """The session of the current web request, opened on first use and closed at teardown.

    Requests that may write (anything but GET/HEAD/OPTIONS) take the SQLite write lock up front.
    """
    session = g.get("db_session")
    if session is None:
        database: Database = current_app.extensions["fieldreport.db"]
        session = database.new_session(write=request.method not in READ_ONLY_METHODS)
        g.db_session = session
    return session


def commit_after(view: Callable[..., Any]) -> Callable[..., Any]:
    """Commit the request's session once ``view`` has returned (an exception skips this)."""

    @wraps(view)
    def committing(*args: Any, **kwargs: Any) -> Any:
        response = view(*args, **kwargs)
        session: Session | None = g.get("db_session")
        if session is not None and session.in_transaction():
            session.commit()
        return response

    return committing


def close_request_session(error: BaseException | None = None) -> None:
    """Teardown hook: roll back whatever the request left uncommitted, then close."""
    session = g.pop("db_session", None)
    if session is not None:
        if error is not None or session.in_transaction():
            session.rollback()
        session.close()


def own_transactions(app: Flask) -> None:
    """Make every registered view commit on return and every request close its session."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = commit_after(view)
    app.teardown_appcontext(close_request_session)
