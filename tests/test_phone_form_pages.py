"""The observer's pages in people's words, without a browser: the form without JavaScript ties
the server's messages to their fields, the report page shows labels in the form's order, and a
coordinator's question waits at the top of the home page with its answer box."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldreport.reports.models import Report
from fieldreport.reports.taxonomy import CATEGORIES, CHOICE_LABELS
from fieldreport.review.service import review_report
from tests.helpers import csrf_from, file_report


def _post_form(client: Any, **overrides: str) -> Any:
    page = client.get("/reports/new").get_data(as_text=True)
    values = {
        "csrf_token": csrf_from(page),
        "client_id": re.search(r'name="client_id" value="([^"]+)"', page).group(1),
        "category": "ceasefire_violation",
        "subcategory": "small_arms_fire",
        "occurred_local": (datetime.now(ZoneInfo("Europe/Rome")) - timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "latitude": "43.4675",
        "longitude": "11.8851",
        "basis": "seen",
        "d-ceasefire_violation-count": "12",
        "d-ceasefire_violation-weapon_class": "small_arms",
        "d-ceasefire_violation-bearing_deg": "45",
        "d-ceasefire_violation-distance_m": "1500",
    }
    values.update(overrides)
    return client.post("/reports/new", data=values)


def test_without_javascript_each_refusal_is_tied_to_its_field(client_for: Any) -> None:
    client = client_for("obs1")
    page = _post_form(client, **{"d-ceasefire_violation-count": "a dozen", "latitude": "95"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    count = re.search(r'<input name="d-ceasefire_violation-count"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in count and 'aria-describedby="err-details-count"' in count
    assert re.search(r'id="err-details-count">Enter a whole number\.<', html)
    latitude = re.search(r'<input name="latitude"[^>]*>', html).group(0)
    assert 'aria-describedby="err-latitude"' in latitude
    assert 'value="a dozen"' in count, "what was typed is kept"
    assert re.search(r'value="small_arms" checked', html), "the choice is kept"


def test_the_report_page_shows_labels_in_form_order_never_codes(
    client_for: Any, runtime: Any
) -> None:
    client = client_for("obs1")
    detail = client.get(_post_form(client).headers["Location"]).get_data(as_text=True)
    facts = re.search(r'<dl class="facts">(.*?)</dl>', detail, re.S).group(1)
    labels = re.findall(r"<dt>(.*?)</dt>", facts)
    assert labels[-4:] == [
        "Number of events (shots, bursts, impacts)",
        "Weapon class",
        "Bearing (degrees)",
        "Estimated distance (m)",
    ]
    assert "<dd>Small arms</dd>" in facts and "<dd>1,500</dd>" in facts
    for code in ("small_arms", "bearing_deg", "Bearing deg", "distance_m"):
        assert code not in facts
    with runtime.db.session_scope(write=False) as session:
        assert session.scalar(select(Report)).details["weapon_class"] == "small_arms"


def test_a_question_waits_at_the_top_of_home_with_its_answer_box(
    client_for: Any, runtime: Any, users: Any
) -> None:
    question = "Was the fire incoming or outgoing?"
    with runtime.db.session_scope() as session:
        report = file_report(session, users.observer, 43.4675, 11.8851)
        review_report(session, report, users.coordinator, "needs_info", question)
        report_id = report.id
    home = client_for("obs1").get("/home").get_data(as_text=True)
    main = home.split("<main>", 1)[1]
    assert main.index(question) < main.index("Today’s assignment")
    assert f'action="/reports/{report_id}/answer"' in main
    assert f'<textarea id="answer-{report_id}" name="answer"' in main
    other = client_for("obs2").get("/home").get_data(as_text=True)
    assert question not in other


def test_every_choice_has_words_and_every_field_name_one_rule_per_category() -> None:
    """A new choice without a label would reach the observer as a code; a field name reused in
    one category with other limits would be checked on the phone with the wrong ones."""
    for category in CATEGORIES:
        seen: dict[str, Any] = {}
        for sub in category.subcategories:
            for spec in category.fields_for(sub.code):
                assert seen.setdefault(spec.name, spec) == spec, (category.code, spec.name)
                for choice in spec.choices:
                    assert choice in CHOICE_LABELS, (category.code, spec.name, choice)
