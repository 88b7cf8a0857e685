"""What the commission receives: the page, the PDF, the exports, the API and the email."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from fieldreport.accounts.models import AuditLog
from fieldreport.db import utcnow
from fieldreport.digests import pipeline, render, sending, service, tasks
from fieldreport.digests.models import DigestSend
from fieldreport.runtime import build_runtime
from tests.digest_factories import hand_counted_day
from tests.helpers import (
    ON_POSTGRESQL_ONLY,
    add_report,
    add_sector,
    api_token,
    csrf_from,
    held_at_statement,
    make_settings,
    run_together,
    utc,
)
from tests.servers import free_port

NAMES = ("Olga Observer", "Oscar Other", "obs1", "obs2")
RECIPIENTS = ("commission@example.org", "chair@example.org")


@pytest.fixture
def settings(tmp_path, database_url, smtp_sink):
    """The usual test settings, mailing the digest to the test's own SMTP server."""
    return make_settings(
        tmp_path,
        database_url,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        digest_recipients=RECIPIENTS,
    )


@pytest.fixture
def day(runtime, users):
    with runtime.db.session_scope() as session:
        return hand_counted_day(session, users)


@pytest.fixture
def built(runtime, day):
    tasks.request_build(runtime.queue, day)
    runtime.queue.drain()
    return day


def stored(runtime, day):
    with runtime.db.session_scope(write=False) as session:
        return service.get_digest(session, day)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def assert_no_names(text: str) -> None:
    for name in NAMES:
        assert name not in text


def test_pdf_opens_and_states_the_headline_figures(runtime, built):
    digest = stored(runtime, built)

    text = pdf_text(runtime.storage.get(digest.pdf_key))

    assert digest.state == "ready"
    assert "Daily digest · 2026-11-24" in text
    assert "Small-arms fire 1 0.3 2" in text  # verified, 7-day average, unverified
    assert "All reports 8" in text
    assert "T-01" in text
    assert_no_names(text)


def test_commission_reads_the_digest_but_not_observer_pages(client_for, runtime, built):
    client = client_for("comm")

    page = client.get(f"/digests/{built.isoformat()}")
    archive = client.get("/digests")

    assert page.status_code == 200 and archive.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="total-verified">8<' in html
    assert "Two men and a child killed by shelling." in html  # urgent incident, in full
    assert_no_names(html)
    assert client.get(f"/digests/{built.isoformat()}/digest.pdf").status_code == 200
    assert client.get("/reports/new").status_code == 403
    assert client.get("/home").status_code == 403


def test_observers_cannot_read_digests(client_for, built):
    client = client_for("obs1")

    assert client.get(f"/digests/{built.isoformat()}").status_code == 403
    assert client.get(f"/api/v1/digests/{built.isoformat()}").status_code == 403
    assert client.get(f"/digests/{built.isoformat()}/reports.csv").status_code == 403


def test_api_gives_figures_and_links_without_names(client_for, built):
    client = client_for("comm")

    response = client.get(f"/api/v1/digests/{built.isoformat()}")

    body = response.get_json()
    assert response.status_code == 200
    assert body["day"] == "2026-11-24" and body["time_zone"] == "Europe/Rome"
    assert body["state"] == "ready"
    assert body["figures"]["reports"]["ceasefire_violation"]["small_arms_fire"] == {
        "verified": 1,
        "unverified": 2,
    }
    assert body["figures"]["reports"]["humanitarian"]["aid_convoy"] == {
        "verified": 0,
        "unverified": 0,
    }
    assert set(body["links"]) == {"html", "pdf", "csv", "geojson"}
    assert_no_names(json.dumps(body))
    assert "/digests/{day}" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_api_answers_404_before_the_digest_is_built(client_for, day):
    assert client_for("coord").get(f"/api/v1/digests/{day.isoformat()}").status_code == 404


def test_csv_and_geojson_list_the_verified_reports_by_team(client_for, built):
    client = client_for("comm")

    csv_text = client.get(f"/digests/{built.isoformat()}/reports.csv").get_data(as_text=True)
    geojson = client.get(f"/digests/{built.isoformat()}/reports.geojson").get_json()

    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 8 and {row["team"] for row in rows} == {"T-01"}
    assert rows[0]["local_time"].startswith("2026-11-24T00:30")
    assert len(geojson["features"]) == 8
    assert geojson["features"][0]["geometry"]["type"] == "Point"
    assert_no_names(csv_text + json.dumps(geojson))


def test_email_arrives_with_the_pdf_and_is_sent_only_once(runtime, built, smtp_sink):
    first = pipeline.send(runtime, built)
    second = pipeline.send(runtime, built)

    (message,) = smtp_sink.wait_for(1)
    assert first is True and second is False
    assert sorted(smtp_sink.envelopes[0].rcpt_tos) == sorted(RECIPIENTS)
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "digest-2026-11-24.pdf"
    assert "Daily digest" in pdf_text(attachment.get_content())
    assert "Small-arms fire: 1 / 0.3 / 2" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
    assert_no_names(message.as_string())
    with runtime.db.session_scope(write=False) as session:
        sends = session.scalars(select(DigestSend)).all()
        assert [send.state for send in sends] == ["sent"]
        assert stored(runtime, built).state == "sent"


@pytest.mark.parametrize("public_url", [None, "https://fieldreport.example.org/mission"])
def test_the_emailed_digest_points_to_its_csv_by_link_or_in_words_never_a_bare_path(
    runtime, day, smtp_sink, monkeypatch, public_url
):
    # The PDF and the email's HTML list the first rows of the annex and point to the CSV for
    # the rest: one row here, so the pointer is printed (the day has more verified reports).
    monkeypatch.setattr(render, "PDF", replace(render.PDF, annex=1))
    settings = replace(runtime.settings, public_url=public_url)
    mission = type(runtime)(settings, runtime.db, runtime.storage, runtime.queue)
    pipeline.build(mission, day)
    assert pipeline.send(mission, day) is True

    (message,) = smtp_sink.wait_for(1)
    html = " ".join(message.get_body(("html",)).get_content().split())
    pdf = " ".join(pdf_text(next(message.iter_attachments()).get_content()).split())
    csv = "/digests/2026-11-24/reports.csv"
    if public_url:
        link = f"{public_url}{csv}"
        assert f'The full list is in the CSV export: <a href="{link}">{link}</a>' in html
        assert "The full list is in the CSV export: https://fieldreport.example.org/" in pdf
    else:
        assert csv not in html and csv not in pdf
        words = (
            "The full list is in the CSV export: in fieldreport, “Digests”, the digest of "
            "2026-11-24, “Verified reports (CSV)”."
        )
        assert words in html and words in pdf


@ON_POSTGRESQL_ONLY
def test_two_workers_claiming_the_same_digest_at_once_send_one_email(runtime, built, smtp_sink):
    # Both sends are held at the claiming UPDATE until both are there: both saw the digest
    # ready, and only the conditional update decides which one sends.
    with held_at_statement(runtime.db.engine, "UPDATE digests SET state", 2) as held:
        outcomes = run_together(
            lambda: pipeline.send(runtime, built), lambda: pipeline.send(runtime, built)
        )

    assert len(held) == 2
    assert sorted(outcomes) == [False, True]
    assert len(smtp_sink.wait_for(1)) == 1  # both sends have returned: all mail is in
    with runtime.db.session_scope(write=False) as session:
        assert [send.state for send in session.scalars(select(DigestSend))] == ["sent"]


def test_rebuild_of_a_sent_digest_keeps_it_sent(runtime, built, smtp_sink):
    pipeline.send(runtime, built)

    pipeline.build(runtime, built)

    assert stored(runtime, built).state == "sent"
    assert pipeline.send(runtime, built) is False


def test_coordinator_rebuilds_with_the_button(client_for, runtime, built):
    client = client_for("coord")
    page = client.get(f"/digests/{built.isoformat()}").get_data(as_text=True)
    before = stored(runtime, built)

    response = client.post(
        f"/digests/{built.isoformat()}/rebuild", data={"csrf_token": csrf_from(page)}
    )
    runtime.queue.drain()

    after = stored(runtime, built)
    assert response.status_code == 302
    assert after.attempts == before.attempts + 1
    assert after.figures == before.figures and after.signature == before.signature


def test_commission_cannot_rebuild(client_for, built):
    client = client_for("comm")

    response = client.post(
        f"/digests/{built.isoformat()}/rebuild", headers={"X-CSRFToken": api_token(client)}
    )

    assert response.status_code == 403


def test_failed_build_is_retried_then_marked_failed_with_its_reason(
    client_for, runtime, users, day, monkeypatch
):
    monkeypatch.setattr(tasks, "IN_PROCESS_BACKOFF_S", (0.0, 0.0))
    with runtime.db.session_scope() as session:
        broken = add_sector(session, "S-BAD", 11.0, 43.0)
        broken.geometry = {"type": "Point", "coordinates": [11.0, 43.0]}

    tasks.request_build(runtime.queue, day)
    runtime.queue.drain()

    digest = stored(runtime, day)
    assert digest.state == "failed" and digest.attempts == 3
    assert "S-BAD" in digest.failure_reason
    page = client_for("coord").get(f"/digests/{day.isoformat()}").get_data(as_text=True)
    assert "could not be built" in page and "S-BAD" in page
    banner = client_for("coord").get("/digests").get_data(as_text=True)
    assert "The digest of 24 Nov 2026 could not be built." in banner  # one date format
    with runtime.db.session_scope(write=False) as session:
        actions = session.scalars(select(AuditLog.action)).all()
    assert "digest_failed" in actions
    assert pipeline.send(runtime, day) is False  # never mailed half-built


def test_build_and_wait_reports_the_outcome(runtime, day):
    outcome = tasks.build_and_wait(runtime, day)

    assert outcome.startswith("digest 2026-11-24: ready, 8 verified and 3 unverified")


def test_a_day_not_over_yet_is_not_built_from_the_button(client_for, runtime, users):
    today = utcnow().astimezone(runtime.settings.zone).date()
    client = client_for("coord")
    page = client.get(f"/digests/{today.isoformat()}").get_data(as_text=True)

    response = client.post(
        f"/digests/{today.isoformat()}/rebuild", data={"csrf_token": csrf_from(page)}
    )
    assert response.status_code == 302
    runtime.queue.drain()

    assert stored(runtime, today) is None


def test_only_an_admin_sends_a_digest_again_and_only_on_purpose(
    client_for, runtime, built, smtp_sink
):
    pipeline.send(runtime, built)
    coordinator, admin = client_for("coord"), client_for("admin")
    page = admin.get(f"/digests/{built.isoformat()}").get_data(as_text=True)

    refused = coordinator.post(
        f"/digests/{built.isoformat()}/resend", headers={"X-CSRFToken": api_token(coordinator)}
    )
    resent = admin.post(
        f"/digests/{built.isoformat()}/resend", data={"csrf_token": csrf_from(page)}
    )
    runtime.queue.drain()  # the resend is a job: the request does not wait on the mail server

    assert refused.status_code == 403 and resent.status_code == 302
    assert len(smtp_sink.wait_for(2)) == 2
    with runtime.db.session_scope(write=False) as session:
        assert [s.state for s in session.scalars(select(DigestSend))] == ["sent", "sent"]
        assert "digest_sent" in session.scalars(select(AuditLog.action)).all()


def test_narratives_are_escaped_in_the_page(client_for, runtime, users):
    with runtime.db.session_scope() as session:
        add_report(
            session,
            users.observer,
            utc("2026-11-20T10:00"),
            urgent=True,
            narrative='<script src="https://evil.example/x.js"></script>Shots at dawn.',
        )
    pipeline.build(runtime, date(2026, 11, 20))

    html = client_for("comm").get("/digests/2026-11-20").get_data(as_text=True)

    assert "&lt;script src=" in html and '<script src="https://evil' not in html


def test_a_refused_send_is_recorded_and_leaves_the_digest_sendable(
    runtime, built, tmp_path, database_url
):
    closed = make_settings(
        tmp_path,
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),  # nothing listens: the connection is refused
        digest_recipients=RECIPIENTS,
    )
    refusing = build_runtime(closed)
    try:
        with pytest.raises(sending.DigestSendFailed):
            pipeline.send(refusing, built)
    finally:
        refusing.queue.shutdown()
        refusing.db.dispose()

    with runtime.db.session_scope(write=False) as session:
        assert [s.state for s in session.scalars(select(DigestSend))] == ["failed"]
        assert "digest_send_failed" in session.scalars(select(AuditLog.action)).all()
    assert stored(runtime, built).state == "ready"
    assert pipeline.send(runtime, built) is True  # the next attempt may send it


def test_resending_a_day_never_built_sends_nothing(client_for, runtime, day, smtp_sink):
    admin = client_for("admin")
    page = admin.get(f"/digests/{day.isoformat()}").get_data(as_text=True)

    resent = admin.post(
        f"/digests/{day.isoformat()}/resend",
        data={"csrf_token": csrf_from(page)},
        follow_redirects=True,
    )
    runtime.queue.drain()

    assert "Nothing to send (not built, or no recipients)." in resent.get_data(as_text=True)
    assert stored(runtime, day) is None and smtp_sink.envelopes == []
