"""Reports are never overwritten in place: an amendment is a new version in the ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.reports.models import Report
from fieldreport.reports.schemas import validate_report
from fieldreport.reports.service import amend_report, submit_report, versions_of
from tests.helpers import report_body


def _input(**overrides):
    return validate_report(
        report_body(**overrides), now=datetime.now(UTC), parties=("Party A", "Party B")
    )


def test_amendment_adds_a_version_and_keeps_the_first_unchanged(runtime, users):
    first = _input(narrative="Three bursts.")
    with runtime.db.session_scope() as session:
        observer = session.scalar(select(User).where(User.username == "obs1"))
        report = submit_report(session, observer, first).report
        fixed = _input(client_id=first.client_id, narrative="Three bursts, then a fourth.")
        amend_report(session, report, observer, fixed, queue=runtime.queue)
    with runtime.db.session_scope(write=False) as session:
        report = session.scalar(select(Report))
        versions = versions_of(session, report)
    assert report.version == 2
    assert report.narrative == "Three bursts, then a fourth."
    assert [json.loads(v.content)["narrative"] for v in versions] == [
        "Three bursts.",
        "Three bursts, then a fourth.",
    ]
    assert versions[1].prev_sha256 == versions[0].entry_sha256
    assert versions[0].content_sha256 == first.content_sha256()


def test_amendment_with_the_same_content_adds_nothing(runtime, users):
    data = _input()
    with runtime.db.session_scope() as session:
        observer = session.scalar(select(User).where(User.username == "obs1"))
        report = submit_report(session, observer, data).report
        amend_report(session, report, observer, data, queue=runtime.queue)
        assert len(versions_of(session, report)) == 1
