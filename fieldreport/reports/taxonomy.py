"""The event taxonomy (DESIGN.md §3): categories, subcategories and each one's own fields.

Codes are stable: the API, exports and digests use them. Labels go through Flask-Babel's lazy
gettext so that a new language needs no change here or in templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

TAXONOMY_VERSION = "2026-11-1"

BASIS_CODES = ("seen", "heard", "seen_and_heard", "camera", "reported")
BASIS_LABELS = {
    "seen": _l("Seen"),
    "heard": _l("Heard"),
    "seen_and_heard": _l("Seen and heard"),
    "camera": _l("On camera"),
    "reported": _l("Reported by others"),
}
CONFIDENCE_CODES = ("confirmed", "likely", "undetermined")
CONFIDENCE_LABELS = {
    "confirmed": _l("Confirmed"),
    "likely": _l("Likely"),
    "undetermined": _l("Undetermined"),
}
COMPASS_POINTS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True)
class DetailField:
    """One structured field of a subcategory. ``kind`` is int, float, choice, text or bool."""

    name: str
    label: Any
    kind: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    max_length: int = 200

    def clean(self, raw: Any) -> Any:
        """The value in its stored type; raises ValueError with a message for the observer."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            if self.required:
                raise ValueError("This field is required.")
            return None
        if self.kind == "bool":
            return _clean_bool(raw)
        if self.kind in ("int", "float"):
            return self._clean_number(raw)
        text = str(raw).strip()
        if self.kind == "choice" and text not in self.choices:
            raise ValueError(f"Choose one of: {', '.join(self.choices)}.")
        if len(text) > self.max_length:
            raise ValueError(f"At most {self.max_length} characters.")
        return text

    def _clean_number(self, raw: Any) -> int | float:
        if isinstance(raw, bool):
            raise ValueError("Enter a number.")
        try:
            value: int | float = float(raw) if self.kind == "float" else _to_int(raw)
        except (TypeError, ValueError):
            message = "Enter a whole number." if self.kind == "int" else "Enter a number."
            raise ValueError(message) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("Enter a number.")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"Must be at least {self.minimum:g}.")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"Must be at most {self.maximum:g}.")
        return value


def _to_int(raw: Any) -> int:
    if isinstance(raw, float):
        if not raw.is_integer():
            raise ValueError
        return int(raw)
    return int(str(raw).strip())


def _clean_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on", "y"):
        return True
    if text in ("0", "false", "no", "off", "n"):
        return False
    raise ValueError("Answer yes or no.")


@dataclass(frozen=True)
class Subcategory:
    code: str
    label: Any
    fields: tuple[DetailField, ...] = ()


@dataclass(frozen=True)
class Category:
    code: str
    label: Any
    subcategories: tuple[Subcategory, ...]
    shared_fields: tuple[DetailField, ...] = field(default=())

    def subcategory(self, code: str) -> Subcategory | None:
        return next((sub for sub in self.subcategories if sub.code == code), None)

    def fields_for(self, subcategory: str) -> tuple[DetailField, ...]:
        sub = self.subcategory(subcategory)
        return self.shared_fields + (sub.fields if sub else ())


def _count(name: str = "count", label: Any = None, required: bool = False) -> DetailField:
    return DetailField(
        name, label or _l("How many"), "int", required=required, minimum=0, maximum=100000
    )


_FIRE = (
    _count(label=_l("Number of events (shots, bursts, impacts)")),
    DetailField(
        "weapon_class",
        _l("Weapon class"),
        "choice",
        choices=(
            "small_arms",
            "machine_gun",
            "mortar",
            "artillery",
            "tank",
            "rocket",
            "drone",
            "unknown",
        ),
    ),
    DetailField("direction", _l("Direction (compass point)"), "choice", choices=COMPASS_POINTS),
    DetailField("bearing_deg", _l("Bearing (degrees)"), "int", minimum=0, maximum=359),
    DetailField("distance_m", _l("Estimated distance (m)"), "int", minimum=0, maximum=100000),
    DetailField("duration_min", _l("Duration (minutes)"), "int", minimum=0, maximum=1440),
    DetailField(
        "assessment",
        _l("Incoming or outgoing"),
        "choice",
        choices=("incoming", "outgoing", "not_assessable"),
    ),
)
_WEAPONS = (
    DetailField("weapon_or_unit", _l("Weapon or unit type"), "text", required=True),
    _count(),
    DetailField(
        "relation",
        _l("Relation to the line or zone"),
        "choice",
        choices=("inside_restricted_area", "across_line", "inside_dmz", "near_line", "unknown"),
    ),
)
_MOVEMENT = (
    DetailField("checkpoint_party", _l("Party controlling the checkpoint"), "text"),
    DetailField("duration_min", _l("Duration (minutes)"), "int", minimum=0, maximum=10080),
    DetailField(
        "effect",
        _l("Effect on the patrol"),
        "choice",
        choices=("patrol_cancelled", "patrol_rerouted", "patrol_delayed", "no_effect"),
    ),
)
_PERSON_COUNTS = (
    _count("men", _l("Men")),
    _count("women", _l("Women")),
    _count("children", _l("Children")),
    _count("unknown_persons", _l("Sex or age unknown")),
)
_DAMAGE = (
    DetailField("object_damaged", _l("Object damaged"), "text", required=True),
    _count("objects", _l("Number of objects damaged")),
)
_REPATRIATION = (
    _count("persons_side_a", _l("Persons from the first side")),
    _count("persons_side_b", _l("Persons from the second side")),
    DetailField("crossing_point", _l("Crossing point"), "text", required=True),
    DetailField("third_parties", _l("Third parties present"), "text"),
    DetailField("irregularities", _l("Irregularities"), "text", max_length=1000),
)
_HUMANITARIAN = (
    DetailField("organisation", _l("Organisation"), "text", required=True),
    DetailField("what_passed", _l("What passed"), "text"),
    DetailField("delay_min", _l("Delay (minutes)"), "int", minimum=0, maximum=10080),
)


def _subs(codes_labels: tuple[tuple[str, Any], ...], fields: tuple[DetailField, ...] = ()):
    return tuple(Subcategory(code, label, fields) for code, label in codes_labels)


CATEGORIES: tuple[Category, ...] = (
    Category(
        "ceasefire_violation",
        _l("Ceasefire violation"),
        _subs(
            (
                ("explosion", _l("Explosion")),
                ("small_arms_fire", _l("Small-arms fire")),
                ("heavy_weapon_fire", _l("Heavy-weapon fire")),
                ("rocket_fire", _l("Rocket fire")),
                ("air_or_drone_strike", _l("Air or drone strike")),
                ("other", _l("Other violation")),
            ),
        ),
        shared_fields=_FIRE,
    ),
    Category(
        "weapons_forces",
        _l("Weapons and forces"),
        _subs(
            (
                ("heavy_weapons_restricted_area", _l("Heavy weapons in a restricted area")),
                ("movement_across_line", _l("Movement across the line")),
                ("dmz_entry", _l("Entry into the demilitarized zone")),
                ("new_fortification", _l("New fortification")),
                ("mines_uxo", _l("Mines or unexploded ordnance")),
            ),
        ),
        shared_fields=_WEAPONS,
    ),
    Category(
        "freedom_of_movement",
        _l("Freedom of movement"),
        _subs(
            (
                ("denied_access", _l("Access denied")),
                ("delayed", _l("Delayed")),
                ("conditional_access", _l("Conditional access")),
                ("threatened", _l("Observers threatened")),
                ("equipment_interference", _l("Interference with equipment")),
            ),
        ),
        shared_fields=_MOVEMENT,
    ),
    Category(
        "civilian_harm",
        _l("Civilian harm"),
        (
            Subcategory("killed", _l("Civilians killed"), _PERSON_COUNTS),
            Subcategory("injured", _l("Civilians injured"), _PERSON_COUNTS),
            Subcategory("damage_homes", _l("Damage to homes"), _DAMAGE),
            Subcategory("damage_infrastructure", _l("Damage to infrastructure"), _DAMAGE),
        ),
    ),
    Category(
        "repatriation",
        _l("Repatriation"),
        _subs(
            (
                ("prisoner_exchange", _l("Prisoner exchange")),
                ("detainee_release", _l("Detainee release")),
                ("displaced_return", _l("Return of displaced people")),
                ("remains_transfer", _l("Transfer of remains")),
            ),
        ),
        shared_fields=_REPATRIATION,
    ),
    Category(
        "humanitarian",
        _l("Humanitarian"),
        _subs(
            (
                ("aid_convoy", _l("Aid convoy")),
                ("repair_access", _l("Access for repairs")),
                ("evacuation", _l("Evacuation")),
            ),
        ),
        shared_fields=_HUMANITARIAN,
    ),
    Category("other", _l("Other"), (Subcategory("other", _l("Other")),)),
)
CATEGORY_BY_CODE: Mapping[str, Category] = {category.code: category for category in CATEGORIES}
# Reports in these subcategories alert the sector's coordinators at once (DESIGN.md §4).
ALWAYS_URGENT = {
    ("civilian_harm", "killed"),
    ("civilian_harm", "injured"),
    ("freedom_of_movement", "threatened"),
}


def category_label(code: str) -> Any:
    category = CATEGORY_BY_CODE.get(code)
    return category.label if category else code


def subcategory_label(category_code: str, code: str) -> Any:
    category = CATEGORY_BY_CODE.get(category_code)
    sub = category.subcategory(code) if category else None
    return sub.label if sub else code


def clean_details(
    category_code: str, subcategory_code: str, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a subcategory's own fields: (clean values, errors by field name).

    Unknown field names are refused rather than stored, so the details stay what the taxonomy
    says they are.
    """
    category = CATEGORY_BY_CODE[category_code]
    fields = {item.name: item for item in category.fields_for(subcategory_code)}
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in raw:
        if name not in fields:
            errors[name] = "Not a field of this kind of report."
    for name, spec in fields.items():
        try:
            value = spec.clean(raw.get(name))
        except ValueError as error:
            errors[name] = str(error)
            continue
        if value is not None:
            cleaned[name] = value
    return cleaned, errors
