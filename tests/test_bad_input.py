"""Bad input never answers 500: 400 when the body is not the JSON it claims, else 422 naming
the field. Each case runs on SQLite and PostgreSQL (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from fieldreport.reports.models import Report
from fieldreport.reports.schemas import ReportInvalid, validate_report
from fieldreport.sectors.models import Sector
from tests.helpers import api_token, collection, csrf_from, feature, report_body, square

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 40 + "1" + "}" * 40


def _post(client, path, data, content_type="application/json"):
    return client.post(
        path, data=data, content_type=content_type, headers={"X-CSRFToken": api_token(client)}
    )


def _count(runtime, model):
    with runtime.db.session_scope(write=False) as session:
        return session.scalar(select(func.count(model.id)))


@pytest.mark.parametrize(
    ("user", "path", "body", "content_type"),
    [
        ("obs1", "/api/v1/reports", DEEP, "application/json"),
        ("obs1", "/api/v1/reports", DEEP_OBJECT, "application/json"),
        ("obs1", "/api/v1/reports", "[1, 2]", "application/json"),
        ("coord", "/api/v1/sectors", DEEP, "application/json"),
        ("coord", "/api/v1/sectors", DEEP, "application/geo+json"),
        ("coord", "/api/v1/sectors", "[1, 2]", "application/json"),
        ("coord", "/api/v1/sectors", '"FeatureCollection"', "application/geo+json"),
        ("coord", "/api/v1/reports/x/review", DEEP, "application/json"),
    ],
)
def test_body_that_is_not_the_json_object_it_claims_is_400(
    client_for, runtime, user, path, body, content_type
):
    response = _post(client_for(user), path, body, content_type)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"] == "Bad Request"
    assert _count(runtime, Report) == 0 and _count(runtime, Sector) == 0


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"narrative": "\ud800 lone surrogate"}, "narrative"),
        ({"narrative": "before\x00after"}, "narrative"),
        ({"attribution_party": "Party\x00A"}, "attribution_party"),
        ({"latitude": 10**399}, "latitude"),
        ({"longitude": -(10**60)}, "longitude"),
        ({"accuracy_m": 10**400}, "accuracy_m"),
        ({"details": {"count": 4, "direction": "N\x00E"}}, "details.direction"),
        ({"details": {"count": 10**400, "direction": "NE"}}, "details.count"),
        ({"details": {"count": 4, "direction": "\udfff"}}, "details.direction"),
    ],
)
def test_unstorable_value_is_422_naming_the_field(client_for, runtime, override, field):
    # json.dumps escapes the surrogate (\\ud800) and the NUL (\\u0000): valid JSON text.
    response = _post(client_for("obs1"), "/api/v1/reports", json.dumps(report_body(**override)))
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["errors"]
    assert _count(runtime, Report) == 0


def test_validate_report_names_unstorable_values_before_other_checks():
    from datetime import UTC, datetime

    bad = report_body(narrative="a\x00b", latitude=10**400, surprise="\ud800")
    with pytest.raises(ReportInvalid) as refused:
        validate_report(bad, now=datetime.now(UTC), parties=("Party A",))
    assert set(refused.value.errors) == {"narrative", "latitude", "surprise"}


def _report_form(token: str, **overrides: str) -> dict[str, str]:
    body = report_body()
    form = {
        "csrf_token": token,
        "client_id": body["client_id"],
        "category": body["category"],
        "subcategory": body["subcategory"],
        "occurred_local": "2026-01-01T10:00",
        "latitude": "43.1",
        "longitude": "11.8",
        "basis": "seen",
        "narrative": "fire",
    }
    form.update(overrides)
    return form


def test_report_form_with_a_huge_or_undecodable_value_is_shown_again_with_the_message(
    client_for, runtime
):
    client = client_for("obs1")
    token = csrf_from(client.get("/reports/new").get_data(as_text=True))
    response = client.post("/reports/new", data=_report_form(token, latitude="1" * 400))
    assert response.status_code == 422
    assert "Must be between -90 and 90." in response.get_data(as_text=True)
    # A surrogate cannot be sent as UTF-8: its bytes (ED A0 80) are decoded as U+FFFD.
    form = _report_form(token, latitude="1" * 400)
    del form["narrative"]
    response = client.post(
        "/reports/new",
        data=urlencode(form) + "&narrative=%ED%A0%80ok",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 422
    assert _count(runtime, Report) == 0


@pytest.mark.parametrize(
    ("user", "path", "field"),
    [
        (None, "/login", "username"),
        ("obs1", "/reports/new", "narrative"),
        ("coord", "/review/1", "comment"),
        ("coord", "/sectors/new", "name"),
    ],
)
def test_form_field_with_nul_is_400_naming_the_field(app, client_for, runtime, user, path, field):
    client = client_for(user) if user else app.test_client()
    token = api_token(client)
    form = {**_report_form(token), "username": "obs1", "password": "x", "status": "in_review"}
    form[field] = "before\x00after"
    response = client.post(path, data=form)
    assert response.status_code == 400
    assert f"The field &#39;{field}&#39; holds a NUL character" in response.get_data(as_text=True)
    assert _count(runtime, Report) == 0


def test_validate_report_names_nul_for_callers_other_than_the_web():
    from datetime import UTC, datetime

    with pytest.raises(ReportInvalid) as refused:
        validate_report(report_body(narrative="a\x00b"), now=datetime.now(UTC), parties=())
    assert refused.value.errors == {"narrative": ["Must not contain NUL characters."]}


@pytest.mark.parametrize("name", ["West\x00", "\ud800West"], ids=["nul", "surrogate"])
def test_sector_import_with_unstorable_name_is_refused(client_for, runtime, name):
    document = json.dumps(collection(feature("W", square(11.8, 43.5, 0.1), name=name)))
    response = _post(client_for("coord"), "/api/v1/sectors", document, "application/geo+json")
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert list(response.get_json()["errors"]) == ["features[0].properties.name"]
    assert _count(runtime, Sector) == 0


def test_sector_import_with_huge_coordinates_is_422(client_for, runtime):
    document = json.dumps(collection(feature("W", square(11.8, 43.5, 0.1))))
    document = document.replace("11.7", "1" + "0" * 400, 1)
    response = _post(client_for("coord"), "/api/v1/sectors", document, "application/geo+json")
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert list(response.get_json()["errors"]) == ["features[0].geometry.coordinates[0][0][0]"]
    assert _count(runtime, Sector) == 0


def test_review_comment_with_nul_is_refused(client_for, runtime, users):
    observer = client_for("obs1")
    created = _post(observer, "/api/v1/reports", json.dumps(report_body()))
    client_id = created.get_json()["client_id"]
    body = json.dumps({"status": "in_review", "comment": "fine\x00"})
    response = _post(client_for("coord"), f"/api/v1/reports/{client_id}/review", body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["errors"] == {"comment": ["Must not contain NUL characters."]}


@pytest.mark.parametrize("path", ["/api/v1/reports/a%00b", "/api/v1/digests/2026-01-0%00"])
def test_nul_in_a_path_value_is_404(client_for, path):
    assert client_for("admin").get(path).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/reports/x/photos", "/reports/new", "/login"])
def test_multipart_part_without_a_name_is_400_not_a_crash_of_the_csrf_check(client_for, path):
    client = client_for("obs1")
    body = b'--XX\r\nContent-Disposition: form-data; name="\r"\r\n\r\nnull\r\n--XX--\r\n'
    response = client.post(
        path,
        data=body,
        content_type="multipart/form-data; boundary=XX",
        headers={"X-CSRFToken": api_token(client)},
    )
    assert response.status_code == 400
