"""The digest's first lines: the day's figures said in sentences, so that a commission member
knows the day from the first screen ("42 ceasefire violations were verified, 18 more than the
7-day average. Sector S-ARZ had the most (12).").

Whole sentences are message ids (no sentence is glued from fragments), so each language can
order its words; counts go through ``ngettext`` for the plural forms of Ukrainian and Russian.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fieldreport.digests.day_range import NO_SECTOR

# Below this difference from the 7-day average a day is "about the average".
ABOUT_AVERAGE = 0.5


class Words(Protocol):
    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


def _violations(f: Mapping[str, Any], words: Words, number: Callable[[float], str]) -> str:
    count = sum(row["verified"] for row in f["headline"])
    average = next(
        r["average_7d"] for r in f["categories"] if r["category"] == "ceasefire_violation"
    )
    difference = count - average
    params = {"n": number(count), "average": number(average), "difference": number(abs(difference))}
    if count == 0:
        return (
            words.gettext("No ceasefire violations were verified (7-day average: %(average)s).")
            % params
        )
    if abs(difference) < ABOUT_AVERAGE:
        text = words.ngettext(
            "%(n)s ceasefire violation was verified, about the 7-day average.",
            "%(n)s ceasefire violations were verified, about the 7-day average.",
            count,
        )
    elif difference > 0:
        text = words.ngettext(
            "%(n)s ceasefire violation was verified, "
            "%(difference)s more than the 7-day average of %(average)s.",
            "%(n)s ceasefire violations were verified, "
            "%(difference)s more than the 7-day average of %(average)s.",
            count,
        )
    else:
        text = words.ngettext(
            "%(n)s ceasefire violation was verified, "
            "%(difference)s fewer than the 7-day average of %(average)s.",
            "%(n)s ceasefire violations were verified, "
            "%(difference)s fewer than the 7-day average of %(average)s.",
            count,
        )
    return text % params


def _busiest(f: Mapping[str, Any], words: Words, number: Callable[[float], str]) -> str | None:
    ranked = [
        (row["by_category"].get("ceasefire_violation", 0), row["sector"])
        for row in f["sectors"]
        if row["by_category"].get("ceasefire_violation", 0) > 0
    ]
    if not ranked:
        return None
    ranked.sort(key=lambda pair: (-pair[0], pair[1]))
    count, sector = ranked[0]
    if len(ranked) > 1 and ranked[1][0] == count:
        return None  # a tie at the top: no sector had "the most"
    if sector == NO_SECTOR:
        return words.gettext("Most were outside any sector (%(n)s).") % {"n": number(count)}
    return words.gettext("Most were in sector %(sector)s (%(n)s).") % {
        "sector": sector,
        "n": number(count),
    }


def _urgent(f: Mapping[str, Any], words: Words, number: Callable[[float], str]) -> str | None:
    verified, unverified = f["urgent"]["verified"], f["urgent"]["unverified"]
    total = verified + unverified
    if total == 0:
        return None
    text = words.ngettext(
        "%(n)s urgent incident was reported (%(verified)s verified).",
        "%(n)s urgent incidents were reported (%(verified)s verified).",
        total,
    )
    return text % {"n": number(total), "verified": number(verified)}


def _civilians(f: Mapping[str, Any], words: Words, number: Callable[[float], str]) -> str | None:
    killed, injured = f["civilian"]["killed"]["total"], f["civilian"]["injured"]["total"]
    if killed == 0 and injured == 0:
        return None
    text = words.gettext("Verified civilian casualties: %(killed)s killed, %(injured)s injured.")
    return text % {"killed": number(killed), "injured": number(injured)}


def _waiting(f: Mapping[str, Any], words: Words, number: Callable[[float], str]) -> str | None:
    waiting = f["totals"]["unverified"]
    if waiting == 0:
        return None
    text = words.ngettext(
        "%(n)s more report is not verified yet.",
        "%(n)s more reports are not verified yet.",
        waiting,
    )
    return text % {"n": number(waiting)}


def sentences(f: Mapping[str, Any], words: Words, number: Callable[[float], str]) -> list[str]:
    """The headline of digest figures ``f`` as sentences in the language of ``words``."""
    if f["totals"]["verified"] == 0 and f["totals"]["unverified"] == 0:
        return [words.gettext("No reports were filed for this day.")]
    parts = [_violations(f, words, number)]
    for sentence in (_busiest, _urgent, _civilians, _waiting):
        said = sentence(f, words, number)
        if said:
            parts.append(said)
    return parts
