"""The demo mission is ready to try: every demo observer is on duty today, in a sector."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.demo import create_demo
from fieldreport.sectors.assignments import assignments_on


def test_every_demo_observer_has_an_assignment_for_today(runtime, tmp_path):
    with runtime.db.session_scope() as session:
        create_demo(session, tmp_path, ("Party A", "Party B"))
    today = datetime.now(runtime.settings.zone).date()
    with runtime.db.session_scope(write=False) as session:
        observers = session.scalars(select(User).where(User.role == "observer")).all()
        on_duty = {
            o.username: [sector.code for _, sector in assignments_on(session, o.id, today)]
            for o in observers
        }

    assert on_duty == {
        "observer1": ["S-ARZ"],
        "observer2": ["S-MAD"],
    }
