"""Keyset (cursor) pagination: pages whose cost does not grow with history.

An OFFSET page reads and throws away every row before it, so page 2,000 of the reports costs
2,000 pages. A keyset page starts *after the last row shown*: ``WHERE (received_at, id) <
(:last_received_at, :last_id) ORDER BY received_at DESC, id DESC LIMIT n`` walks an index from
that point and reads only ``n + 1`` rows, on page 1 as on page 2,000.

The cursor is opaque to clients (base64url of a small JSON list) but carries nothing secret:
it is the sort key of the last row shown. A cursor that cannot be read raises ``BadCursor``,
which the web edge answers with a clear 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")

MAX_CURSOR_CHARS = 512


class BadCursor(ValueError):
    """The cursor given by a client is not one this server wrote."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the cursor of the next page (None on the last page)."""

    items: list[T]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if value is None or isinstance(value, int | str | float):
        return value
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"t"} and isinstance(value["t"], str):
        try:
            return datetime.fromisoformat(value["t"])
        except ValueError as error:
            raise BadCursor("the cursor holds a time that cannot be read") from error
    if isinstance(value, dict) and set(value) == {"d"} and isinstance(value["d"], str):
        try:
            return date.fromisoformat(value["d"])
        except ValueError as error:
            raise BadCursor("the cursor holds a day that cannot be read") from error
    if value is None or isinstance(value, int | str | float):
        return value
    raise BadCursor("the cursor holds a value that cannot be read")


def encode_cursor(values: Sequence[Any]) -> str:
    """The opaque text a client sends back to get the page after a row with these key values."""
    payload = json.dumps([_encode_value(v) for v in values], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> tuple[Any, ...]:
    """The sort key a cursor stands for; raises BadCursor for anything this server did not write."""
    if not cursor or len(cursor) > MAX_CURSOR_CHARS:
        raise BadCursor("the cursor is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise BadCursor("the cursor cannot be read") from error
    if not isinstance(values, list) or len(values) != width:
        raise BadCursor("the cursor does not fit this list")
    return tuple(_decode_value(v) for v in values)


def decode_cursor_of(cursor: str, types: Sequence[type]) -> tuple[Any, ...]:
    """:func:`decode_cursor`, refusing also a cursor of another list (values not of ``types``):
    compared with the wrong columns, it would be an error of the database, not a 400."""
    values = decode_cursor(cursor, len(types))
    for value, kind in zip(values, types, strict=True):
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise BadCursor("the cursor belongs to another list")
    return values


def keyset_page(
    session: Session,
    query: Select[tuple[T]],
    keys: Sequence[ColumnElement[Any]],
    key_of: Callable[[T], Sequence[Any]],
    *,
    limit: int,
    cursor: str | None = None,
    descending: bool = True,
) -> Page[T]:
    """One page of ``query`` ordered by ``keys`` (all the same direction, the last one unique).

    ``key_of(row)`` gives a row's values for ``keys``; the last row shown becomes the next
    cursor. ``query`` must not carry its own ORDER BY or LIMIT.
    """
    if cursor:
        after = decode_cursor(cursor, len(keys))
        row_key = tuple_(*keys)
        query = query.where(row_key < tuple_(*after) if descending else row_key > tuple_(*after))
    order = [key.desc() if descending else key.asc() for key in keys]
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(rows, None)
    shown = rows[:limit]
    return Page(shown, encode_cursor(list(key_of(shown[-1]))))
