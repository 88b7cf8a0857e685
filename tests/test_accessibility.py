"""Every observer page and state on a 360x740 phone, checked by axe-core in Chromium: no
violation of any impact (contrast included), touch targets of at least 44 px, and a header that
leaves the phone's screen to the page. axe is vendored for tests only (tests/vendor/) and put
into the pages by the browser (an init script), never served by the app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from fieldreport.accounts.models import User
from fieldreport.review.service import review_report
from tests.helpers import browser_login, file_report, fill_report_form, make_settings, make_user
from tests.live_server import LiveServer, live_server

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
PHOTO = Path(__file__).parent / "corpus" / "photos" / "accept" / "gps_DSCN0010.jpg"
QUESTION = "Which direction did the fire come from?"
HEADER_MAX_PX = 120
TARGET_MIN_PX = 44
# Interactive elements a thumb must hit; a radio's or checkbox's target is its label. Links
# inline in a sentence are exempt (WCAG 2.5.8), nothing else.
TARGETS = """() => [...document.querySelectorAll(
    'header a, header button, main a, main button, main select, main textarea, main summary,'
    + ' main input:not([type=hidden]):not([type=radio]):not([type=checkbox]),'
    + ' label.pick, label.check')]
  .filter((el) => el.offsetParent !== null && getComputedStyle(el).display !== 'inline')
  .map((el) => ({what: el.outerHTML.slice(0, 80), h: el.getBoundingClientRect().height,
                 w: el.getBoundingClientRect().width}))
  .filter((box) => box.h < 44 || box.w < 44)"""


@pytest.fixture
def server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    with live_server(make_settings(tmp_path, sqlite_url)) as running:
        with running.runtime.db.session_scope() as session:
            observer = session.scalar(select(User).where(User.username == "obs1"))
            coordinator = make_user(session, "coord1", "coordinator")
            asked = file_report(session, observer, 43.4675, 11.8851)
            file_report(
                session,
                observer,
                43.4675,
                11.8851,
                details={"count": 3, "weapon_class": "small_arms", "bearing_deg": 40},
            )
            review_report(session, asked, coordinator, "needs_info", QUESTION)
        yield running


@pytest.fixture
def phone(phone_context: BrowserContext) -> Page:
    phone_context.add_init_script(path=str(AXE))
    return phone_context.new_page()


AXE_RUN = """(scope) => {
  const options = {...axe._audit.checks['color-contrast'].options, ignoreLength: true};
  axe.configure({checks: [{id: 'color-contrast', options}]});
  return axe.run(scope || document).then((result) => {
    for (const v of result.incomplete) {
      v.nodes = v.nodes.filter((n) => !document.querySelector(n.target[0])?.closest('header'));
    }
    return result;
  });
}"""


def _violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations, and the contrasts it could not decide (single characters included: the
    outbox badge is one digit). The header's menu scrolls sideways on a phone: the items out of
    view are checked once more with the menu scrolled to its end."""
    result = page.evaluate(AXE_RUN, None)
    found = result["violations"] + [v for v in result["incomplete"] if v["id"] == "color-contrast"]
    if page.evaluate("() => Boolean(document.querySelector('header nav'))"):
        page.evaluate("() => { document.querySelector('header nav').scrollLeft = 1e6; }")
        found += page.evaluate(AXE_RUN, "header")["violations"]
        page.evaluate("() => { document.querySelector('header nav').scrollLeft = 0; }")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "nodes": [n["target"] for n in v["nodes"]][:4],
            "summary": v["nodes"][0].get("failureSummary", "")[:300],
        }
        for v in found
        if v["nodes"]
    ]


def _check(page: Page, state: str, results: dict[str, Any]) -> None:
    header = page.locator("header.bar").bounding_box()
    results[state] = {
        "axe": _violations(page),
        "small_targets": page.evaluate(TARGETS),
        "header_px": round(header["height"]) if header else 0,
        "wider_than_phone_px": page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        ),
    }


def _states(page: Page, server: LiveServer) -> dict[str, Any]:
    results: dict[str, Any] = {}
    page.goto(server.url + "/login")
    _check(page, "login", results)
    browser_login(page, None, "obs1")
    page.goto(server.url + "/home")
    expect(page.locator(".question")).to_contain_text(QUESTION)
    _check(page, "home with a question", results)
    page.goto(server.url + "/reports")
    _check(page, "my reports", results)
    page.locator("ul.list a").first.click()
    _check(page, "report detail", results)
    page.goto(server.url + "/reports/new")
    _check(page, "form empty", results)
    page.check("input[name=category][value=ceasefire_violation]")
    page.check("input[name=subcategory][value=small_arms_fire]")
    page.fill("input[name=d-ceasefire_violation-count]", "a dozen")
    page.set_input_files("input[name=photos]", str(PHOTO))
    page.wait_for_selector("#previews button")
    page.click("#report-form button[type=submit]")
    expect(page.locator("#form-problems")).to_be_visible()
    _check(page, "form with errors and a photo", results)
    page.evaluate("() => document.getElementById('report-form').submit()")  # as without JS
    expect(page.locator("main > p.error-text[role=alert]")).to_be_visible()
    expect(page.locator("input[name=d-ceasefire_violation-count]")).to_have_attribute(
        "aria-describedby", "err-details-count"
    )
    _check(page, "form refused by the server", results)
    page.goto(server.url + "/outbox")
    _check(page, "outbox empty", results)
    _outbox_with_a_waiting_report(page, server)
    _check(page, "outbox with a waiting report", results)
    return results


def _outbox_with_a_waiting_report(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/reports/new")
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    page.context.set_offline(True)
    try:
        fill_report_form(page, "Bursts from the ridge.")
        page.click("#report-form button[type=submit]")
        expect(page.locator("#form-status.notice")).to_be_visible()
        page.goto(server.url + "/outbox")
        expect(page.locator("#outbox-count")).to_have_text("1")
        expect(page.locator("#outbox-list li")).to_have_count(1)
    finally:
        page.context.set_offline(False)


def _axe_catches_a_planted_fault(page: Page) -> bool:
    """A check that cannot fail proves nothing: axe must see a low-contrast, unlabelled input."""
    page.evaluate(
        """() => { const i = document.createElement('input');
          i.style.cssText = 'color:#aaa;background:#fff'; i.value = 'x';
          document.querySelector('main').append(i); }"""
    )
    return {"label"} <= {v["id"] for v in _violations(page)}


def test_every_observer_page_and_state_passes_axe_with_big_targets_and_a_short_header(
    server: LiveServer, phone: Page
) -> None:
    results = _states(phone, server)
    print("\n" + json.dumps(results, indent=1))
    assert {state: r["axe"] for state, r in results.items() if r["axe"]} == {}
    assert {state: r["small_targets"] for state, r in results.items() if r["small_targets"]} == {}
    assert all(r["header_px"] <= HEADER_MAX_PX for r in results.values()), results
    assert all(r["wider_than_phone_px"] <= 0 for r in results.values()), results
    assert _axe_catches_a_planted_fault(phone)


def test_the_question_is_answered_from_the_top_of_the_report_page(
    server: LiveServer, phone: Page
) -> None:
    browser_login(phone, server.url, "obs1")
    phone.goto(server.url + "/home")
    phone.locator(".question a").click()
    question = phone.locator("main > .question")
    expect(question).to_contain_text(QUESTION)
    above = phone.evaluate(
        "() => document.querySelector('main .question').getBoundingClientRect().top"
        " < document.querySelector('dl.facts').getBoundingClientRect().top"
    )
    assert above, "the question is not above the report's facts"
    expect(phone.locator("main .question")).to_have_count(1)
    question.locator("textarea").fill("From the north-east, about 800 m.")
    question.locator("button").click()
    expect(phone.locator("main")).to_contain_text("Answer sent to the coordinators.")
    expect(phone.locator("main .question")).to_have_count(0)
