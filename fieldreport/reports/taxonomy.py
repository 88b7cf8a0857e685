"""The event taxonomy: categories, subcategories, each one's own fields, and their colours.

The one vocabulary of events (docs/architecture.md, "Domain model"). Codes are stable: the API,
exports and digests use them. Labels are English message ids marked with ``N_``; the edge that
shows them translates them (web pages, or the worker rendering a digest), so a new language needs
no change here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fieldreport.i18n import N_

TAXONOMY_VERSION = "2026-11-1"

BASIS_CODES = ("seen", "heard", "seen_and_heard", "camera", "reported")
BASIS_LABELS = {
    "seen": N_("Seen"),
    "heard": N_("Heard"),
    "seen_and_heard": N_("Seen and heard"),
    "camera": N_("On camera"),
    "reported": N_("Reported by others"),
}
CONFIDENCE_CODES = ("confirmed", "likely", "undetermined")
CONFIDENCE_LABELS = {
    "confirmed": N_("Confirmed"),
    "likely": N_("Likely"),
    "undetermined": N_("Undetermined"),
}
COMPASS_POINTS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
# The words for the codes of the detail fields' choices (the codes stay stable for the API).
CHOICE_LABELS = {
    "small_arms": N_("Small arms"),
    "machine_gun": N_("Machine gun"),
    "mortar": N_("Mortar"),
    "artillery": N_("Artillery"),
    "tank": N_("Tank"),
    "rocket": N_("Rocket"),
    "drone": N_("Drone"),
    "unknown": N_("Unknown"),
    "N": N_("N"),
    "NE": N_("NE"),
    "E": N_("E"),
    "SE": N_("SE"),
    "S": N_("S"),
    "SW": N_("SW"),
    "W": N_("W"),
    "NW": N_("NW"),
    "incoming": N_("Incoming"),
    "outgoing": N_("Outgoing"),
    "not_assessable": N_("Cannot tell"),
    "inside_restricted_area": N_("Inside a restricted area"),
    "across_line": N_("Across the line"),
    "inside_dmz": N_("Inside the demilitarized zone"),
    "near_line": N_("Near the line"),
    "patrol_cancelled": N_("Patrol cancelled"),
    "patrol_rerouted": N_("Patrol rerouted"),
    "patrol_delayed": N_("Patrol delayed"),
    "no_effect": N_("No effect"),
}


@dataclass(frozen=True)
class DetailField:
    """One structured field of a subcategory. ``kind`` is int, float, choice, text or bool."""

    name: str
    label: str
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
                raise ValueError(N_("This field is required."))
            return None
        if self.kind == "bool":
            return _clean_bool(raw)
        if self.kind in ("int", "float"):
            return self._clean_number(raw)
        text = str(raw).strip()
        if self.kind == "choice" and text not in self.choices:
            raise ValueError(N_("Choose one of the offered values."))
        if len(text) > self.max_length:
            raise ValueError(N_("At most %(n)s characters.", n=self.max_length))
        return text

    def _clean_number(self, raw: Any) -> int | float:
        if isinstance(raw, bool):
            raise ValueError(N_("Enter a number."))
        try:
            value: int | float = float(raw) if self.kind == "float" else _to_int(raw)
        except (TypeError, ValueError):
            message = N_("Enter a whole number.") if self.kind == "int" else N_("Enter a number.")
            raise ValueError(message) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(N_("Enter a number."))
        if self.minimum is not None and value < self.minimum:
            raise ValueError(N_("Must be at least %(n)s.", n=f"{self.minimum:g}"))
        if self.maximum is not None and value > self.maximum:
            raise ValueError(N_("Must be at most %(n)s.", n=f"{self.maximum:g}"))
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
    raise ValueError(N_("Answer yes or no."))


@dataclass(frozen=True)
class Subcategory:
    code: str
    label: str
    fields: tuple[DetailField, ...] = ()


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    subcategories: tuple[Subcategory, ...]
    shared_fields: tuple[DetailField, ...] = field(default=())

    def subcategory(self, code: str) -> Subcategory | None:
        return next((sub for sub in self.subcategories if sub.code == code), None)

    def fields_for(self, subcategory: str) -> tuple[DetailField, ...]:
        sub = self.subcategory(subcategory)
        return self.shared_fields + (sub.fields if sub else ())


def _count(name: str = "count", label: str = "", required: bool = False) -> DetailField:
    return DetailField(
        name, label or N_("How many"), "int", required=required, minimum=0, maximum=100000
    )


_FIRE = (
    _count(label=N_("Number of events (shots, bursts, impacts)")),
    DetailField(
        "weapon_class",
        N_("Weapon class"),
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
    DetailField("direction", N_("Direction (compass point)"), "choice", choices=COMPASS_POINTS),
    DetailField("bearing_deg", N_("Bearing (degrees)"), "int", minimum=0, maximum=359),
    DetailField("distance_m", N_("Estimated distance (m)"), "int", minimum=0, maximum=100000),
    DetailField("duration_min", N_("Duration (minutes)"), "int", minimum=0, maximum=1440),
    DetailField(
        "assessment",
        N_("Incoming or outgoing"),
        "choice",
        choices=("incoming", "outgoing", "not_assessable"),
    ),
)
_WEAPONS = (
    DetailField("weapon_or_unit", N_("Weapon or unit type"), "text", required=True),
    _count(),
    DetailField(
        "relation",
        N_("Relation to the line or zone"),
        "choice",
        choices=("inside_restricted_area", "across_line", "inside_dmz", "near_line", "unknown"),
    ),
)
_MOVEMENT = (
    DetailField("checkpoint_party", N_("Party controlling the checkpoint"), "text"),
    DetailField("duration_min", N_("Duration (minutes)"), "int", minimum=0, maximum=10080),
    DetailField(
        "effect",
        N_("Effect on the patrol"),
        "choice",
        choices=("patrol_cancelled", "patrol_rerouted", "patrol_delayed", "no_effect"),
    ),
)
_PERSON_COUNTS = (
    _count("men", N_("Men")),
    _count("women", N_("Women")),
    _count("children", N_("Children")),
    _count("unknown_persons", N_("Sex or age unknown")),
)
_DAMAGE = (
    DetailField("object_damaged", N_("Object damaged"), "text", required=True),
    _count("objects", N_("Number of objects damaged")),
)
_REPATRIATION = (
    _count("persons_side_a", N_("Persons from the first side")),
    _count("persons_side_b", N_("Persons from the second side")),
    DetailField("crossing_point", N_("Crossing point"), "text", required=True),
    DetailField("third_parties", N_("Third parties present"), "text"),
    DetailField("irregularities", N_("Irregularities"), "text", max_length=1000),
)
_HUMANITARIAN = (
    DetailField("organisation", N_("Organisation"), "text", required=True),
    DetailField("what_passed", N_("What passed"), "text"),
    DetailField("delay_min", N_("Delay (minutes)"), "int", minimum=0, maximum=10080),
)


def _subs(codes_labels: tuple[tuple[str, Any], ...], fields: tuple[DetailField, ...] = ()):
    return tuple(Subcategory(code, label, fields) for code, label in codes_labels)


CATEGORIES: tuple[Category, ...] = (
    Category(
        "ceasefire_violation",
        N_("Ceasefire violation"),
        _subs(
            (
                ("explosion", N_("Explosion")),
                ("small_arms_fire", N_("Small-arms fire")),
                ("heavy_weapon_fire", N_("Heavy-weapon fire")),
                ("rocket_fire", N_("Rocket fire")),
                ("air_or_drone_strike", N_("Air or drone strike")),
                ("other", N_("Other violation")),
            ),
        ),
        shared_fields=_FIRE,
    ),
    Category(
        "weapons_forces",
        N_("Weapons and forces"),
        _subs(
            (
                ("heavy_weapons_restricted_area", N_("Heavy weapons in a restricted area")),
                ("movement_across_line", N_("Movement across the line")),
                ("dmz_entry", N_("Entry into the demilitarized zone")),
                ("new_fortification", N_("New fortification")),
                ("mines_uxo", N_("Mines or unexploded ordnance")),
            ),
        ),
        shared_fields=_WEAPONS,
    ),
    Category(
        "freedom_of_movement",
        N_("Freedom of movement"),
        _subs(
            (
                ("denied_access", N_("Access denied")),
                ("delayed", N_("Delayed")),
                ("conditional_access", N_("Conditional access")),
                ("threatened", N_("Observers threatened")),
                ("equipment_interference", N_("Interference with equipment")),
            ),
        ),
        shared_fields=_MOVEMENT,
    ),
    Category(
        "civilian_harm",
        N_("Civilian harm"),
        (
            Subcategory("killed", N_("Civilians killed"), _PERSON_COUNTS),
            Subcategory("injured", N_("Civilians injured"), _PERSON_COUNTS),
            Subcategory("damage_homes", N_("Damage to homes"), _DAMAGE),
            Subcategory("damage_infrastructure", N_("Damage to infrastructure"), _DAMAGE),
        ),
    ),
    Category(
        "repatriation",
        N_("Repatriation"),
        _subs(
            (
                ("prisoner_exchange", N_("Prisoner exchange")),
                ("detainee_release", N_("Detainee release")),
                ("displaced_return", N_("Return of displaced people")),
                ("remains_transfer", N_("Transfer of remains")),
            ),
        ),
        shared_fields=_REPATRIATION,
    ),
    Category(
        "humanitarian",
        N_("Humanitarian"),
        _subs(
            (
                ("aid_convoy", N_("Aid convoy")),
                ("repair_access", N_("Access for repairs")),
                ("evacuation", N_("Evacuation")),
            ),
        ),
        shared_fields=_HUMANITARIAN,
    ),
    Category("other", N_("Other"), (Subcategory("other", N_("Other")),)),
)
CATEGORY_BY_CODE: Mapping[str, Category] = {category.code: category for category in CATEGORIES}
# Reports in these subcategories alert the sector's coordinators at once.
ALWAYS_URGENT = {
    ("civilian_harm", "killed"),
    ("civilian_harm", "injured"),
    ("freedom_of_movement", "threatened"),
}


# Okabe & Ito's palette ("Color Universal Design", 2008): distinguishable with the common
# colour-vision deficiencies. Its yellow is too faint on a light map, so "other" is a grey.
CATEGORY_COLOURS: Mapping[str, tuple[int, int, int]] = {
    "ceasefire_violation": (213, 94, 0),  # vermillion
    "weapons_forces": (0, 114, 178),  # blue
    "freedom_of_movement": (230, 159, 0),  # orange
    "civilian_harm": (204, 121, 167),  # reddish purple
    "repatriation": (0, 158, 115),  # bluish green
    "humanitarian": (86, 180, 233),  # sky blue
    "other": (120, 120, 120),  # neutral grey
}

# A shape per category as well as a colour, so that no reader depends on colour alone (WCAG
# 1.4.1): the web map draws these (static/js/map.js).
CATEGORY_SHAPES = {
    "ceasefire_violation": "circle",
    "weapons_forces": "square",
    "freedom_of_movement": "diamond",
    "civilian_harm": "triangle",
    "repatriation": "hexagon",
    "humanitarian": "cross",
    "other": "triangle-down",
}


def category_label(code: str) -> str:
    """The English message id of a category's label (the code itself when unknown)."""
    category = CATEGORY_BY_CODE.get(code)
    return category.label if category else code


def subcategory_label(category_code: str, code: str) -> str:
    category = CATEGORY_BY_CODE.get(category_code)
    sub = category.subcategory(code) if category else None
    return sub.label if sub else code


def detail_label(category_code: str, subcategory_code: str, name: str) -> str:
    """The English message id of a detail field's label (the field name when unknown)."""
    category = CATEGORY_BY_CODE.get(category_code)
    fields = {f.name: f for f in category.fields_for(subcategory_code)} if category else {}
    return fields[name].label if name in fields else name


def choice_label(code: str) -> str:
    """The English message id for a detail field's choice (the code itself when unknown)."""
    return CHOICE_LABELS.get(code, code)


def ordered_details(
    category_code: str, subcategory_code: str, details: Mapping[str, Any]
) -> list[tuple[DetailField | None, Any]]:
    """A report's detail values in the form's order, each with its field (None when unknown).

    Pages show details as the observer filled them in, not in alphabetical order of codes.
    """
    category = CATEGORY_BY_CODE.get(category_code)
    fields = category.fields_for(subcategory_code) if category else ()
    known = [(spec, details[spec.name]) for spec in fields if spec.name in details]
    names = {spec.name for spec in fields}
    return known + [(None, value) for name, value in details.items() if name not in names]


def _field_rule(spec: DetailField) -> dict[str, Any]:
    rule: dict[str, Any] = {"kind": spec.kind}
    if spec.required:
        rule["required"] = True
    if spec.kind in ("int", "float"):
        bounds = {"min": spec.minimum, "max": spec.maximum}
        rule.update({key: value for key, value in bounds.items() if value is not None})
    elif spec.kind == "choice":
        rule["choices"] = list(spec.choices)
    elif spec.kind == "text":
        rule["max_length"] = spec.max_length
    return rule


def detail_rules() -> dict[str, Any]:
    """Every category's detail fields as plain data, for the phone to check what the server checks.

    ``subs`` maps each subcategory to the names of its fields (in form order); ``fields`` holds
    each name's rule once. The phone runs these through static/js/field-rules.js; a test compares
    its verdicts with :func:`clean_details` on many inputs, so the two cannot drift.
    """
    rules: dict[str, Any] = {}
    for category in CATEGORIES:
        fields: dict[str, Any] = {}
        subs: dict[str, list[str]] = {}
        for sub in category.subcategories:
            specs = category.fields_for(sub.code)
            subs[sub.code] = [spec.name for spec in specs]
            for spec in specs:
                fields.setdefault(spec.name, _field_rule(spec))
        rules[category.code] = {"subs": subs, "fields": fields}
    return rules


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
            errors[name] = N_("Not a field of this kind of report.")
    for name, spec in fields.items():
        try:
            value = spec.clean(raw.get(name))
        except ValueError as error:
            errors[name] = error.args[0]  # a message id (N_), kept for the edge
            continue
        if value is not None:
            cleaned[name] = value
    return cleaned, errors
