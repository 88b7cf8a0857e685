"""Reviewing reports: the allowed transitions, the API's answers, questions and the queue."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from fieldreport.reports.models import STATUSES, Report
from fieldreport.review import service as review
from fieldreport.review.models import ReviewEvent
from fieldreport.sectors import limits
from fieldreport.sectors import service as sectors
from tests.helpers import EAST, WEST, collection, csrf_from, file_report, post_review

ALLOWED = {
    ("submitted", "in_review"),
    ("submitted", "verified"),
    ("submitted", "disputed"),
    ("submitted", "rejected"),
    ("submitted", "needs_info"),
    ("in_review", "verified"),
    ("in_review", "disputed"),
    ("in_review", "rejected"),
    ("in_review", "needs_info"),
}


@pytest.fixture
def setup(runtime, users):
    """Sectors W and E, and one report of obs1 in each plus one outside every sector."""
    with runtime.db.session_scope() as session:
        sectors.import_sector_collection(session, collection(WEST, EAST))
        made = {
            "west": file_report(session, users.observer, 43.47, 11.85),
            "east": file_report(session, users.observer, 43.47, 11.95),
            "outside": file_report(session, users.observer, 43.47, 14.0),
        }
        west_id = made["west"].sector_id
    return {name: report.client_id for name, report in made.items()} | {"west_id": west_id}


def _report(runtime, client_id):
    with runtime.db.session_scope(write=False) as session:
        return session.scalar(select(Report).where(Report.client_id == client_id))


def _events(runtime, report_id):
    with runtime.db.session_scope(write=False) as session:
        return list(
            session.scalars(
                select(ReviewEvent)
                .where(ReviewEvent.report_id == report_id)
                .order_by(ReviewEvent.id)
            )
        )


def test_only_the_transitions_of_the_lifecycle_are_allowed(runtime, users):
    comment = "What did you see?"
    with runtime.db.session_scope() as session:
        report = file_report(session, users.observer, 1.0, 1.0)
        for before, after in itertools.product(STATUSES, STATUSES):
            report.status = before
            if (before, after) in ALLOWED:
                event = review.review_report(session, report, users.coordinator, after, comment)
                assert (event.from_status, event.to_status, report.status) == (before, after, after)
            else:
                with pytest.raises(review.TransitionRefused):
                    review.review_report(session, report, users.coordinator, after, comment)
                assert report.status == before


def test_asking_for_more_needs_the_question(runtime, users):
    with runtime.db.session_scope() as session:
        report = file_report(session, users.observer, 1.0, 1.0)
        with pytest.raises(review.ReviewInvalid):
            review.review_report(session, report, users.coordinator, "needs_info", "  ")
        with pytest.raises(review.ReviewInvalid):
            review.review_report(session, report, users.observer, "verified", None)
        assert report.status == "submitted"


@pytest.mark.parametrize("role", ["observer", "commission"])
def test_only_coordinators_review_in_the_service(runtime, users, role):
    """The use case itself refuses a non-coordinator: page, API and scripts all keep to it."""
    with runtime.db.session_scope() as session:
        report = file_report(session, users.observer, 1.0, 1.0)
        with pytest.raises(review.ReviewInvalid):
            review.review_report(session, report, getattr(users, role), "verified", None)
        assert report.status == "submitted"
        assert session.scalars(select(ReviewEvent)).all() == []


def test_only_the_reports_observer_answers_and_only_an_open_question(runtime, users):
    with runtime.db.session_scope() as session:
        report = file_report(session, users.observer, 1.0, 1.0)
        with pytest.raises(review.TransitionRefused):
            review.answer_question(session, report, users.observer, "Nobody asked.")
        assert report.status == "submitted"
        review.review_report(session, report, users.coordinator, "needs_info", "Where?")
        with pytest.raises(review.ReviewInvalid):
            review.answer_question(session, report, users.observer2, "Not my report.")
        with pytest.raises(review.ReviewInvalid):
            review.answer_question(session, report, users.coordinator, "I decide.")
        assert report.status == "needs_info"
        review.answer_question(session, report, users.observer, "By the bridge.")
        assert report.status == "in_review"


def test_an_answer_without_an_open_question_changes_nothing(client_for, runtime, setup):
    report = _report(runtime, setup["west"])
    observer = client_for("obs1")
    page = observer.get(f"/reports/{report.id}").get_data(as_text=True)
    response = observer.post(
        f"/reports/{report.id}/answer",
        data={"answer": "Unasked.", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302
    assert _report(runtime, setup["west"]).status == "submitted"
    assert _events(runtime, report.id) == []


def test_coordinator_verifies_through_the_api_and_the_change_is_recorded(
    client_for, runtime, users, setup
):
    client = client_for("coord")
    taken = post_review(client, setup["west"], "in_review")
    assert taken.status_code == 200 and taken.get_json()["status"] == "in_review"
    verified = post_review(client, setup["west"], "verified", "Matches the crater photos.")
    assert verified.status_code == 200
    assert verified.get_json()["client_id"] == setup["west"]
    report = _report(runtime, setup["west"])
    events = _events(runtime, report.id)
    assert [(e.from_status, e.to_status, e.kind) for e in events] == [
        ("submitted", "in_review", "status"),
        ("in_review", "verified", "status"),
    ]
    assert events[1].actor_id == users.coordinator.id and events[1].at is not None
    assert events[1].comment == "Matches the crater photos."


def test_a_transition_the_lifecycle_forbids_is_409_and_changes_nothing(client_for, runtime, setup):
    client = client_for("coord")
    assert post_review(client, setup["west"], "rejected").status_code == 200
    again = post_review(client, setup["west"], "in_review")
    assert again.status_code == 409
    assert _report(runtime, setup["west"]).status == "rejected"
    assert len(_events(runtime, _report(runtime, setup["west"]).id)) == 1


def test_unknown_status_or_missing_question_is_422(client_for, setup):
    client = client_for("coord")
    assert post_review(client, setup["west"], "approved").status_code == 422
    missing = post_review(client, setup["west"], "needs_info", "")
    assert missing.status_code == 422
    assert "comment" in missing.get_json()["errors"]


def test_a_limited_coordinator_gets_404_outside_their_sectors(client_for, runtime, users, setup):
    with runtime.db.session_scope() as session:
        limits.set_coordinator_sectors(session, users.coordinator.id, [setup["west_id"]], None)
    client = client_for("coord")
    assert post_review(client, setup["east"], "verified").status_code == 404
    assert post_review(client, setup["outside"], "verified").status_code == 404
    assert post_review(client, setup["west"], "verified").status_code == 200
    assert _report(runtime, setup["east"]).status == "submitted"


@pytest.mark.parametrize("username", ["obs1", "comm"])
def test_observers_and_commission_cannot_review(client_for, runtime, setup, username):
    assert post_review(client_for(username), setup["west"], "verified").status_code == 403
    assert _report(runtime, setup["west"]).status == "submitted"


def test_review_without_csrf_token_is_refused(client_for, runtime, setup):
    client = client_for("coord")
    response = client.post(f"/api/v1/reports/{setup['west']}/review", json={"status": "verified"})
    assert response.status_code == 400
    assert _report(runtime, setup["west"]).status == "submitted"


def test_observer_sees_the_question_and_answers_it_in_the_app(client_for, runtime, users, setup):
    coordinator = client_for("coord")
    asked = post_review(coordinator, setup["west"], "needs_info", "Which direction was the fire?")
    assert asked.status_code == 200
    report = _report(runtime, setup["west"])
    observer = client_for("obs1")
    page = observer.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Which direction was the fire?" in page
    assert 'id="open-question"' in page
    response = observer.post(
        f"/reports/{report.id}/answer",
        data={"answer": "From the north-east ridge.", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302
    assert _report(runtime, setup["west"]).status == "in_review"
    events = _events(runtime, report.id)
    assert [(e.kind, e.from_status, e.to_status) for e in events] == [
        ("question", "submitted", "needs_info"),
        ("answer", "needs_info", "in_review"),
    ]
    assert events[1].actor_id == users.observer.id
    assert events[1].comment == "From the north-east ridge."
    page = observer.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'id="open-question"' not in page and "From the north-east ridge." in page


def test_another_observer_cannot_answer(client_for, runtime, setup):
    coordinator = client_for("coord")
    assert (
        post_review(coordinator, setup["west"], "needs_info", "Which direction?").status_code == 200
    )
    report = _report(runtime, setup["west"])
    other = client_for("obs2")
    token = csrf_from(other.get("/reports/new").get_data(as_text=True))
    response = other.post(f"/reports/{report.id}/answer", data={"answer": "x", "csrf_token": token})
    assert response.status_code == 404
    assert _report(runtime, setup["west"]).status == "needs_info"


def test_answer_without_csrf_token_is_refused(client_for, runtime, setup):
    assert (
        post_review(
            client_for("coord"), setup["west"], "needs_info", "Which direction?"
        ).status_code
        == 200
    )
    report = _report(runtime, setup["west"])
    response = client_for("obs1").post(f"/reports/{report.id}/answer", data={"answer": "NE"})
    assert response.status_code == 400
    assert _report(runtime, setup["west"]).status == "needs_info"


def test_report_page_shows_the_history_without_names_to_the_commission(client_for, runtime, setup):
    coordinator = client_for("coord")
    assert (
        post_review(coordinator, setup["west"], "verified", "Seen on two photos.").status_code
        == 200
    )
    report = _report(runtime, setup["west"])
    page = coordinator.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'id="review-history"' in page and "Carla Coordinator" in page
    assert "Seen on two photos." in page
    commission = client_for("comm").get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'id="review-history"' in commission
    assert "Carla Coordinator" not in commission and "Olga Observer" not in commission


def test_review_form_on_the_report_page_offers_only_allowed_decisions(client_for, runtime, setup):
    coordinator = client_for("coord")
    report = _report(runtime, setup["west"])
    page = coordinator.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'value="in_review"' in page and 'value="verified"' in page
    response = coordinator.post(
        f"/review/{report.id}",
        data={
            "status": "disputed",
            "comment": "Other team saw nothing.",
            "csrf_token": csrf_from(page),
        },
    )
    assert response.status_code == 302
    assert _report(runtime, setup["west"]).status == "disputed"
    page = coordinator.get(f"/reports/{report.id}").get_data(as_text=True)
    assert 'name="status"' not in page  # a final state: nothing left to decide


def _queue_ids(client):
    page = client.get("/review").get_data(as_text=True)
    return re.findall(r'data-client-id="([^"]+)"', page)


def test_queue_lists_urgent_first_then_newest(client_for, runtime, users, setup):
    with runtime.db.session_scope() as session:
        urgent = file_report(session, users.observer2, 43.47, 11.86, urgent=True).client_id
        newest = file_report(session, users.observer2, 43.47, 11.87).client_id
    client = client_for("coord")
    assert post_review(client, setup["east"], "verified").status_code == 200
    ids = _queue_ids(client)
    assert ids[0] == urgent
    assert ids[1] == newest
    assert setup["east"] not in ids
    assert set(ids) == {urgent, newest, setup["west"], setup["outside"]}


def test_queue_of_a_limited_coordinator_holds_only_their_sectors(client_for, runtime, users, setup):
    with runtime.db.session_scope() as session:
        limits.set_coordinator_sectors(session, users.coordinator.id, [setup["west_id"]], None)
    assert _queue_ids(client_for("coord")) == [setup["west"]]
    assert set(_queue_ids(client_for("admin"))) == {setup["west"], setup["east"], setup["outside"]}


def test_queue_filters_reports_outside_every_sector(client_for, setup):
    client = client_for("coord")
    page = client.get("/review?scope=outside").get_data(as_text=True)
    assert re.findall(r'data-client-id="([^"]+)"', page) == [setup["outside"]]
