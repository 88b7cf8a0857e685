"""The phone checks what the server checks: the rules embedded in the form page come from the
taxonomy, and static/js/field-rules.js (run in Chromium) refuses exactly the fields that
validate_report refuses, on many inputs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page

from fieldreport.reports.forms import form_rules
from fieldreport.reports.schemas import ReportInvalid, validate_report
from fieldreport.reports.taxonomy import CATEGORIES
from tests.helpers import PARTIES, browser_login, make_settings
from tests.live_server import LiveServer, live_server

RAW = {
    "int": [
        "",
        " ",
        "3",
        "+3",
        " 7 ",
        "-0",
        "3.0",
        "3.5",
        "-1",
        "0",
        "1e3",
        "1_000",
        "1__0",
        "x",
        "0x10",
        "100000",
        "100001",
        "1440",
        "1441",
        "10080",
        "10081",
        "359",
        "360",
    ],
    "choice": ["", " NE ", "ne", "small_arms", "patrol_rerouted", "unknown", "x"],
    "text": ["", "   ", "Brigade", "x" * 200, "x" * 201, "y" * 1000, "y" * 1001, "a\x00b"],
}
POSITION = {
    "latitude": [
        "",
        "43.4",
        " 43.4 ",
        "90",
        "90.0001",
        "-90",
        "-91",
        "1e1",
        "abc",
        "nan",
        "inf",
        "43,4",
        ".5",
        "5.",
        "1_0.5",
        "4_",
        "--1",
        "1e400",
    ],
    "longitude": ["11.8835", "118.835", "180", "-180", "180.5", "-180.01", "-inf", "Infinity"],
    "accuracy_m": ["", "0", "-1", "12.5", "100000", "100001", "abc"],
}
CHECKED_BY_SERVER_ONLY = {"client_id", "occurred_at"}


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    with live_server(make_settings(tmp_path, sqlite_url)) as running:
        yield running


def _valid_value(rule: dict[str, Any]) -> str:
    return {"int": "2", "float": "2.5", "choice": (rule.get("choices") or [""])[0]}.get(
        rule["kind"], "Text"
    )


def _base(category: str, sub: str, rules: dict[str, Any]) -> dict[str, Any]:
    own = rules["categories"][category]
    details = {n: _valid_value(own["fields"][n]) for n in own["subs"][sub]}
    return {
        "client_id": str(uuid.uuid4()),
        "category": category,
        "subcategory": sub,
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "latitude": "43.4675",
        "longitude": "11.8851",
        "accuracy_m": "12",
        "position_source": "gps",
        "basis": "seen",
        "attribution_party": None,
        "attribution_confidence": None,
        "narrative": "Seen from the bridge.",
        "urgent": False,
        "details": details,
    }


def _bodies(rules: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for category in CATEGORIES:
        for sub in category.subcategories:
            base = _base(category.code, sub.code, rules)
            yield base
            for name in rules["categories"][category.code]["subs"][sub.code]:
                kind = rules["categories"][category.code]["fields"][name]["kind"]
                for raw in RAW[kind]:
                    yield {**base, "details": {**base["details"], name: raw}}
            yield {**base, "narrative": ""}
            yield {**base, "narrative": "  "}
    base = _base("ceasefire_violation", "small_arms_fire", rules)
    for name, raws in POSITION.items():
        for raw in raws:
            yield {**base, name: raw}
    for category, sub in [("", ""), ("x", ""), ("other", "explosion"), ("humanitarian", "")]:
        yield {**base, "category": category, "subcategory": sub, "details": {}}
    for basis in ["", "x", "camera", "reported"]:
        yield {**base, "basis": basis}
    for party in [None, "", "Party A", "Party C", "unknown"]:
        for confidence in [None, "likely", "x"]:
            yield {**base, "attribution_party": party, "attribution_confidence": confidence}
    yield {**base, "narrative": "z" * 10_000}
    yield {**base, "narrative": "z" * 10_001}
    yield {**base, "narrative": "bad\x00text"}


def _server_verdict(body: dict[str, Any]) -> set[str]:
    try:
        validate_report(body, now=datetime.now(UTC), parties=PARTIES)
    except ReportInvalid as invalid:
        return set(invalid.errors) - CHECKED_BY_SERVER_ONLY
    return set()


def _open_form(page: Page, server: LiveServer) -> dict[str, Any]:
    browser_login(page, server.url, "obs1")
    page.goto(server.url + "/reports/new")
    return page.evaluate("() => import('/static/js/field-rules.js').then((m) => m.pageRules())")


def test_the_form_page_embeds_the_taxonomy_rules(
    server: LiveServer, phone_context: BrowserContext
) -> None:
    served = _open_form(phone_context.new_page(), server)
    with server.app.test_request_context():
        expected = form_rules(PARTIES)
    assert served == expected
    assert served["position"]["latitude"]["min"] == -90
    assert served["position"]["longitude"]["max"] == 180
    assert served["categories"]["weapons_forces"]["fields"]["weapon_or_unit"]["required"]
    assert served["categories"]["ceasefire_violation"]["fields"]["count"]["kind"] == "int"


def test_phone_and_server_refuse_the_same_fields_on_many_inputs(
    server: LiveServer, phone_context: BrowserContext
) -> None:
    page = phone_context.new_page()
    rules = _open_form(page, server)
    bodies = list(_bodies(rules))
    phone = page.evaluate(
        """(bodies) => import('/static/js/field-rules.js').then((m) =>
            bodies.map((b) => Object.keys(m.check(b, m.pageRules()))))""",
        bodies,
    )
    disagreements = [
        (body, sorted(mine), sorted(_server_verdict(body)))
        for body, mine in zip(bodies, phone, strict=True)
        if set(mine) != _server_verdict(body)
    ]
    refused = sum(1 for verdict in phone if verdict)
    print(f"\n{len(bodies)} inputs, {refused} refused, {len(disagreements)} disagreements")
    assert refused > len(bodies) / 4, "the inputs do not exercise the refusals"
    assert not disagreements[:5], disagreements[:5]


def test_every_message_is_in_words_with_its_numbers(
    server: LiveServer, phone_context: BrowserContext
) -> None:
    page = phone_context.new_page()
    _open_form(page, server)
    messages = page.evaluate(
        """() => import('/static/js/field-rules.js').then((m) => {
            const rules = m.pageRules();
            const body = {category: 'ceasefire_violation', subcategory: 'small_arms_fire',
              latitude: '95', longitude: '118.835', basis: '', narrative: '',
              details: {count: 'a dozen', bearing_deg: '400', direction: 'north'}};
            return m.check(body, rules);
        })"""
    )
    assert messages == {
        "latitude": "Must be between -90 and 90.",
        "basis": "Fill this in.",
        "details.count": "Type a whole number, such as 3.",
        "details.bearing_deg": "Too large: the highest is 359.",
        "details.direction": "Choose one of the buttons.",
    }
