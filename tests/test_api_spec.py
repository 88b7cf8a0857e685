"""The OpenAPI document and the answers agree (hole 11): the routes, the statuses, the content
types, the subcategory rules, the Allow header on 405 and the CSV's one charset."""

from __future__ import annotations

import io

import pytest
from jsonschema_rs import Draft202012Validator  # comes with schemathesis

from fieldreport.api.openapi import document
from fieldreport.digests import tasks
from fieldreport.digests.rows import EXPORT_COLUMNS
from fieldreport.reports.taxonomy import CATEGORIES
from tests.digest_factories import hand_counted_day
from tests.helpers import api_token, post_report, report_body

API = "/api/v1"


def _report_input_validator() -> Draft202012Validator:
    return Draft202012Validator(document()["components"]["schemas"]["ReportInput"])


def test_every_api_route_is_described_with_its_methods_and_nothing_else(app):
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/"):
            path = rule.rule[len(API) :].replace("<", "{").replace(">", "}")
            methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
            served.setdefault(path, set()).update(methods)
    described = {path: set(ops) for path, ops in document()["paths"].items()}
    assert described == served


def test_document_is_valid_openapi_and_every_operation_lists_401_unless_public():
    from schemathesis.openapi import from_dict

    from_dict(document())  # raises on an invalid document
    for path, operations in document()["paths"].items():
        for method, operation in operations.items():
            public = operation.get("security") == []
            assert ("401" in operation["responses"]) != public, (method, path)


def test_photo_upload_for_an_unknown_report_is_a_documented_404(client_for):
    client = client_for("obs1")
    response = client.post(
        f"{API}/reports/no-such-report/photos",
        data={"photo": (io.BytesIO(b"x"), "a.jpg")},
        headers={"X-CSRFToken": api_token(client)},
    )
    assert response.status_code == 404
    responses = document()["paths"]["/reports/{client_id}/photos"]["post"]["responses"]
    assert "404" in responses and "403" in responses


def test_sectors_are_answered_and_described_as_geojson(client_for):
    response = client_for("coord").get(f"{API}/sectors")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/geo+json"
    described = document()["paths"]["/sectors"]["get"]["responses"]["200"]["content"]
    assert list(described) == ["application/geo+json"]


def test_subcategory_is_an_enum_per_category_in_the_schema_as_on_the_server(client_for):
    validator = _report_input_validator()
    first, second = CATEGORIES[0], CATEGORIES[1]
    foreign = second.subcategories[0].code
    assert foreign not in {sub.code for sub in first.subcategories}
    body = report_body(category=first.code, subcategory=foreign, details={})
    assert not validator.is_valid(body)
    assert not validator.is_valid(report_body(subcategory="made_up"))
    assert validator.is_valid(report_body())
    for category in CATEGORIES:
        for sub in category.subcategories:
            assert validator.is_valid(report_body(category=category.code, subcategory=sub.code))
    response = post_report(client_for("obs1"), body)
    assert response.status_code == 422 and "subcategory" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", f"{API}/reports", {"GET", "POST"}),
        ("delete", f"{API}/sectors", {"GET", "POST"}),
        ("get", f"{API}/reports/x/review", {"POST"}),
        ("put", "/reports/new", {"GET", "POST"}),
    ],
)
def test_405_says_which_methods_are_allowed(client_for, method, path, allowed):
    response = getattr(client_for("admin"), method)(path)
    assert response.status_code == 405
    listed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= listed <= allowed | {"HEAD", "OPTIONS"}


def test_digest_csv_has_one_charset(client_for, runtime, users):
    with runtime.db.session_scope() as session:
        day = hand_counted_day(session, users)
    tasks.request_build(runtime.queue, day)
    runtime.queue.drain()
    response = client_for("comm").get(f"/digests/{day.isoformat()}/reports.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    header = response.get_data(as_text=True).splitlines()[0]
    assert header == ",".join(EXPORT_COLUMNS)
    geojson = client_for("comm").get(f"/digests/{day.isoformat()}/reports.geojson")
    assert geojson.headers["Content-Type"] == "application/geo+json"
    assert geojson.get_json()["type"] == "FeatureCollection"
