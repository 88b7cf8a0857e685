"""The digest reads at a glance: a headline in sentences, areas against the previous day, one
number format, a tagged PDF, tables that fit a phone, and the commission lands on it."""

from __future__ import annotations

import io
import re
import warnings
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.exc import SAWarning

from fieldreport.digests import headline, pipeline, service, tasks
from fieldreport.digests.figures import compute_figures
from fieldreport.digests.render import format_number
from fieldreport.i18n import translations
from fieldreport.places.gazetteer import PlaceRow
from fieldreport.places.service import load_places
from fieldreport.reports.models import Report
from tests.digest_factories import hand_counted_day
from tests.helpers import ON_POSTGRESQL_ONLY, add_report


@pytest.fixture
def day(runtime, users):
    with runtime.db.session_scope() as session:
        return hand_counted_day(session, users)


@pytest.fixture
def built(runtime, day):
    tasks.request_build(runtime.queue, day)
    runtime.queue.drain()
    return day


def figures_of(runtime, day):
    with runtime.db.session_scope(write=False) as session:
        return compute_figures(session, day, runtime.settings.zone)


def english(figures):
    return headline.sentences(figures, translations("en"), format_number)


def test_the_headline_says_the_day_in_sentences_from_the_figures(runtime, day):
    said = english(figures_of(runtime, day))

    # Two verified violations against 2 in the 7 days before (0.3 a day); S-01 and "no sector"
    # have one each, so no sector is said to have "the most".
    assert said == [
        "2 ceasefire violations were verified, 1.7 more than the 7-day average of 0.3.",
        "2 urgent incidents were reported (1 verified).",
        "Verified civilian casualties: 3 killed, 4 injured.",
        "3 more reports are not verified yet.",
    ]


def _figures(violations_by_sector, average, unverified=0):
    sectors = [
        {"sector": code, "by_category": {"ceasefire_violation": n}}
        for code, n in violations_by_sector.items()
    ]
    total = sum(violations_by_sector.values())
    return {
        "totals": {"verified": total, "unverified": unverified},
        "headline": [{"verified": total}],
        "categories": [{"category": "ceasefire_violation", "average_7d": average}],
        "sectors": sectors,
        "urgent": {"verified": 0, "unverified": 0},
        "civilian": {"killed": {"total": 0}, "injured": {"total": 0}},
    }


@pytest.mark.parametrize(
    ("by_sector", "average", "expected"),
    [
        (
            {"S-ARZ": 30, "S-BEL": 12},
            24.0,
            [
                "42 ceasefire violations were verified, 18 more than the 7-day average of 24.",
                "Most were in sector S-ARZ (30).",
            ],
        ),
        (
            {"S-ARZ": 1},
            3.4,
            [
                "1 ceasefire violation was verified, 2.4 fewer than the 7-day average of 3.4.",
                "Most were in sector S-ARZ (1).",
            ],
        ),
        (
            {"S-ARZ": 2, "—": 3},
            5.2,
            [
                "5 ceasefire violations were verified, about the 7-day average.",
                "Most were outside any sector (3).",
            ],
        ),
        ({}, 0.0, ["No reports were filed for this day."]),
    ],
)
def test_the_headline_compares_with_the_average_and_names_the_busiest_area(
    by_sector, average, expected
):
    assert english(_figures(by_sector, average)) == expected


def test_a_quiet_day_with_pending_reports_says_nothing_was_verified():
    said = english(_figures({}, 1.5, unverified=2))

    assert said == [
        "No ceasefire violations were verified (7-day average: 1.5).",
        "2 more reports are not verified yet.",
    ]


def test_one_number_format_in_the_readers_locale():
    assert [format_number(n) for n in (0, 0.0, 21.0, 22.1, 1204)] == [
        "0",
        "0",
        "21",
        "22.1",
        "1,204",
    ]
    assert format_number(1204.5, "uk") == "1\xa0204,5"


def test_the_page_opens_with_the_headline_and_areas_against_the_previous_day(client_for, built):
    html = client_for("comm").get(f"/digests/{built.isoformat()}").get_data(as_text=True)

    first_sentence = "2 ceasefire violations were verified, 1.7 more than the 7-day average of 0.3."
    assert html.index(first_sentence) < html.index("Ceasefire violations</h2>")
    assert "By area, against the previous day" in html
    s01 = re.search(r"<th scope=\"row\">S-01</th>(.*?)</tr>", html, re.S).group(1)
    # verified 5, previous day 1, change +4
    assert re.findall(r'data-label="(?:Verified|Previous day|Change)">([^<]*)<', s01) == [
        "5",
        "1",
        "+4",
    ]
    assert "0.0" not in html  # no average is written "0.0" beside a count written "0"


def test_every_wide_table_labels_its_cells_for_a_phone(client_for, built):
    html = client_for("comm").get(f"/digests/{built.isoformat()}").get_data(as_text=True)

    for table in re.findall(r'<table class="figures[^"]*stack">(.*?)</table>', html, re.S):
        for row in re.findall(r"<tbody>.*</tbody>", table, re.S):
            cells = re.findall(r"<td[^>]*>", row)
            assert cells and all("data-label=" in cell for cell in cells)
    assert html.count('class="figures stack"') + html.count("annex stack") >= 4


def test_the_pdf_is_tagged_for_screen_readers(runtime, built):
    with runtime.db.session_scope(write=False) as session:
        digest = service.get_digest(session, built)
    reader = PdfReader(io.BytesIO(runtime.storage.get(digest.pdf_key)))
    catalog = reader.trailer["/Root"]

    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in catalog
    assert catalog["/Lang"] == "en"


def test_the_commission_lands_on_the_latest_digest(client_for, built):
    client = client_for("comm")

    landing = client.get("/")
    assert landing.headers["Location"].endswith("/digests/latest")
    latest = client.get("/digests/latest")
    assert latest.headers["Location"].endswith(f"/digests/{built.isoformat()}")


def test_with_no_digest_yet_the_landing_is_the_archive(client_for, users):
    response = client_for("comm").get("/digests/latest")

    assert response.status_code == 302 and response.headers["Location"].endswith("/digests")


def test_the_archive_is_a_list_of_days_in_words_with_older_pages(client_for, runtime, built):
    with runtime.db.session_scope() as session:
        for n in range(1, 64):
            service.start_build(session, date.fromordinal(built.toordinal() - n), "Europe/Rome")
    client = client_for("comm")

    first = client.get("/digests").get_data(as_text=True)
    assert "24 Nov 2026" in first
    assert "8 verified reports, 3 not verified yet." in first
    assert first.count("<li>") == 60
    older = re.search(r'href="(/digests\?before=[0-9-]+)"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    assert second.count("<li>") == 4 and "Older digests" not in second


def test_incidents_are_placed_by_distance_and_direction_from_a_named_town(
    client_for, runtime, users
):
    with runtime.db.session_scope() as session:
        load_places(session, [PlaceRow("Testville", 43.47, 11.80, "IT", "16", 900)])
        day = hand_counted_day(session, users)
    tasks.request_build(runtime.queue, day)
    runtime.queue.drain()

    html = client_for("comm").get(f"/digests/{day.isoformat()}").get_data(as_text=True)
    urgent = re.findall(r'<article class="incident">\s*<h3>([^<]*)', html)
    # Every report lies at 43.47 N 11.85 E: 0.05 degrees of longitude east of the town.
    assert urgent and all("4 km east of Testville" in heading for heading in urgent)
    assert "S-02, 4 km east of Testville</td>" in html  # the patrol stopped, in the table


@ON_POSTGRESQL_ONLY
def test_a_build_reads_one_snapshot_from_its_first_query(runtime, users, day):
    with runtime.db.session_scope(write=False) as session:
        service.begin_snapshot(session)
        before = session.scalar(select(func.count(Report.id)))
        with runtime.db.session_scope() as other:  # filed while the build reads
            add_report(other, users.observer, datetime(2026, 11, 24, 12, tzinfo=UTC))
        assert session.scalar(select(func.count(Report.id))) == before
    # The whole build begins its snapshot before any query, or SQLAlchemy would warn that the
    # isolation level came too late (and PostgreSQL would read each query afresh).
    with warnings.catch_warnings():
        warnings.simplefilter("error", SAWarning)
        pipeline.build(runtime, day)
