"""The one validation schema for a report, shared by the HTML form and the JSON API.

It takes plain values (a mapping of strings, numbers and a ``details`` mapping) and returns a
:class:`ReportInput` or raises :class:`ReportInvalid` with messages by field, so both the form
and the API answer with the same words for the same mistake.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fieldreport.i18n import N_
from fieldreport.reports.taxonomy import (
    BASIS_CODES,
    CATEGORY_BY_CODE,
    CONFIDENCE_CODES,
    clean_details,
)

CLOCK_SKEW_ALLOWANCE = timedelta(minutes=10)
MAX_EVENT_AGE = timedelta(days=366)
MAX_NARRATIVE_CHARS = 10_000
MAX_ACCURACY_M = 100_000
# Beyond 2**53 a JSON number is no longer exact in every client; no field needs more.
MAX_SAFE_INTEGER = 2**53
POSITION_SOURCES = ("gps", "manual", "photo")
FIELDS = (
    "client_id",
    "category",
    "subcategory",
    "occurred_at",
    "latitude",
    "longitude",
    "accuracy_m",
    "position_source",
    "basis",
    "attribution_party",
    "attribution_confidence",
    "narrative",
    "urgent",
    "details",
)


class ReportInvalid(ValueError):
    """Input that cannot be a report; ``errors`` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class ReportInput:
    client_id: str
    category: str
    subcategory: str
    occurred_at: datetime
    occurred_offset_minutes: int
    latitude: float
    longitude: float
    accuracy_m: float | None
    position_source: str
    basis: str
    attribution_party: str | None
    attribution_confidence: str | None
    narrative: str
    urgent: bool
    details: dict[str, Any] = field(default_factory=dict)

    def content(self) -> dict[str, Any]:
        """The report's content as canonical JSON-ready values (the ledger hashes this)."""
        values = asdict(self)
        values["occurred_at"] = self.occurred_at.astimezone(UTC).isoformat()
        return values

    def content_sha256(self) -> str:
        return content_hash(self.content())


def canonical_json(values: Mapping[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(values: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(values).encode()).hexdigest()


class _Collector:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _number(raw: Any, name: str, low: float, high: float, errors: _Collector) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors.add(name, N_("This field is required."))
        return None
    if isinstance(raw, bool):
        errors.add(name, N_("Enter a number."))
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        errors.add(name, N_("Enter a number."))
        return None
    if not low <= value <= high:
        errors.add(
            name, N_("Must be between %(low)s and %(high)s.", low=f"{low:g}", high=f"{high:g}")
        )
        return None
    return value


def parse_occurred_at(raw: Any, now: datetime, errors: _Collector) -> datetime | None:
    """An ISO 8601 time with its offset; a time without a zone is refused, never guessed."""
    if not isinstance(raw, str) or not raw.strip():
        errors.add("occurred_at", N_("Give the time of the event."))
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        errors.add("occurred_at", N_("Not a valid date and time (ISO 8601 with offset)."))
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        errors.add("occurred_at", N_("The time needs its offset from UTC, e.g. +03:00."))
        return None
    if value - now > CLOCK_SKEW_ALLOWANCE:
        errors.add("occurred_at", N_("The event time is in the future. Check the phone's clock."))
        return None
    if now - value > MAX_EVENT_AGE:
        errors.add("occurred_at", N_("The event time is more than a year ago."))
        return None
    return value


def _choice(
    raw: Any, name: str, choices: Sequence[str], errors: _Collector, *, required: bool = True
) -> str | None:
    text = raw.strip() if isinstance(raw, str) else raw
    if text in (None, ""):
        if required:
            errors.add(name, N_("This field is required."))
        return None
    if text not in choices:
        errors.add(name, N_("Not one of the allowed values."))
        return None
    return text


def _client_id(raw: Any, errors: _Collector) -> str | None:
    try:
        return str(uuid.UUID(str(raw)))
    except (ValueError, TypeError, AttributeError):
        errors.add("client_id", N_("Must be a UUID made by the phone."))
        return None


def _urgent(raw: Any, errors: _Collector) -> bool:
    if raw in (None, "", False, "false", "0", "off", "no"):
        return False
    if raw in (True, "true", "1", "on", "yes", "y"):
        return True
    errors.add("urgent", N_("Answer yes or no."))
    return False


def _category(data: Mapping[str, Any], errors: _Collector) -> tuple[str | None, str | None]:
    category = _choice(data.get("category"), "category", tuple(CATEGORY_BY_CODE), errors)
    if category is None:
        return None, None
    subs = tuple(sub.code for sub in CATEGORY_BY_CODE[category].subcategories)
    raw_sub = data.get("subcategory")
    if raw_sub not in subs:
        message = (
            N_("This field is required.") if not raw_sub else N_("Does not belong to the category.")
        )
        errors.add("subcategory", message)
        return category, None
    return category, raw_sub


def _attribution(
    data: Mapping[str, Any], parties: Sequence[str], errors: _Collector
) -> tuple[str | None, str | None]:
    party = _choice(
        data.get("attribution_party"),
        "attribution_party",
        (*parties, "unknown"),
        errors,
        required=False,
    )
    confidence = _choice(
        data.get("attribution_confidence"),
        "attribution_confidence",
        CONFIDENCE_CODES,
        errors,
        required=False,
    )
    if party and not confidence:
        errors.add("attribution_confidence", N_("Say how sure the attribution is."))
    return party, confidence if party else None


def _narrative(raw: Any, errors: _Collector) -> str:
    text = raw if isinstance(raw, str) else ("" if raw is None else None)
    if text is None:
        errors.add("narrative", N_("Must be text."))
        return ""
    if len(text) > MAX_NARRATIVE_CHARS:
        errors.add("narrative", N_("At most %(n)s characters.", n=MAX_NARRATIVE_CHARS))
        return ""
    return text.strip()


@dataclass(frozen=True)
class _Position:
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    source: str | None


def _position(data: Mapping[str, Any], errors: _Collector) -> _Position:
    latitude = _number(data.get("latitude"), "latitude", -90, 90, errors)
    longitude = _number(data.get("longitude"), "longitude", -180, 180, errors)
    accuracy = data.get("accuracy_m")
    accuracy_m = None
    if accuracy not in (None, ""):
        accuracy_m = _number(accuracy, "accuracy_m", 0, MAX_ACCURACY_M, errors)
    source = _choice(
        data.get("position_source") or "manual", "position_source", POSITION_SOURCES, errors
    )
    return _Position(latitude, longitude, accuracy_m, source)


def _details(
    raw: Any, category: str | None, subcategory: str | None, errors: _Collector
) -> dict[str, Any]:
    raw = raw or {}
    if not isinstance(raw, Mapping):
        errors.add("details", N_("Must be an object of field values."))
        return {}
    if not (category and subcategory):
        return {}
    details, detail_errors = clean_details(category, subcategory, raw)
    for name, message in detail_errors.items():
        errors.add(f"details.{name}", message)
    return details


def unstorable_reason(value: Any) -> str | None:
    """Why a submitted value cannot be stored as it is, or None.

    NUL characters are refused by PostgreSQL, lone surrogates cannot be encoded as UTF-8 (the
    ledger hashes UTF-8), and integers past 2**53 overflow floats and lose precision in clients.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return N_("Must not contain NUL characters.")
        if not _encodable(value):
            return N_("Contains characters that are not valid text.")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INTEGER:
        return N_("The number is too large.")
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refuse_unsafe_values(data: Mapping[str, Any]) -> None:
    """Raise :class:`ReportInvalid` naming every field whose value cannot be stored safely.

    Checked before anything else (``details`` one level down, its fields named
    ``details.<name>``), so no later check meets a value it cannot handle.
    """
    errors = _Collector()
    for name, value in data.items():
        entries = value.items() if isinstance(value, Mapping) else [(None, value)]
        for key, item in entries:
            where = name if key is None else f"{name}.{key}"
            problem = unstorable_reason(where) or unstorable_reason(item)
            if problem:
                errors.add(where if _encodable(where) else "body", problem)
    if errors.errors:
        raise ReportInvalid(errors.errors)


def validate_report(
    data: Mapping[str, Any], *, now: datetime, parties: Sequence[str]
) -> ReportInput:
    """Turn submitted values into a :class:`ReportInput`, or raise :class:`ReportInvalid`.

    Fields are checked in a fixed order, so the messages come back in the same order each time.
    """
    _refuse_unsafe_values(data)
    errors = _Collector()
    for name in sorted(set(data) - set(FIELDS)):
        errors.add(name, N_("Unknown field."))
    client_id = _client_id(data.get("client_id"), errors)
    category, subcategory = _category(data, errors)
    occurred_at = parse_occurred_at(data.get("occurred_at"), now, errors)
    position = _position(data, errors)
    basis = _choice(data.get("basis"), "basis", BASIS_CODES, errors)
    party, confidence = _attribution(data, parties, errors)
    narrative = _narrative(data.get("narrative"), errors)
    urgent = _urgent(data.get("urgent"), errors)
    details = _details(data.get("details"), category, subcategory, errors)
    if category == "other" and not narrative:
        errors.add("narrative", N_("Describe what happened."))
    if errors.errors:
        raise ReportInvalid(errors.errors)
    assert occurred_at is not None and occurred_at.utcoffset() is not None
    return ReportInput(
        client_id=client_id or "",
        category=category or "",
        subcategory=subcategory or "",
        occurred_at=occurred_at.astimezone(UTC),
        occurred_offset_minutes=int(occurred_at.utcoffset().total_seconds() // 60),  # type: ignore[union-attr]
        latitude=position.latitude or 0.0,
        longitude=position.longitude or 0.0,
        accuracy_m=position.accuracy_m,
        position_source=position.source or "manual",
        basis=basis or "",
        attribution_party=party,
        attribution_confidence=confidence,
        narrative=narrative,
        urgent=urgent,
        details=details,
    )
