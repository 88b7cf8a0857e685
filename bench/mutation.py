"""How many one-line bugs in access control, idempotency and review do the tests catch?

Plants one mutant at a time in the source under ``fieldreport/``, runs the tests meant to catch
it, restores the file, and prints a table and the score "N of M caught".

    python bench/mutation.py              # every mutant (about 8-12 minutes on 2 cores)
    python bench/mutation.py --list       # the mutants, whether each snippet is found once, and
                                          # any test node id they name that does not exist
    python bench/mutation.py --only NAME  # one mutant (repeatable)
    python bench/mutation.py --whole-files  # each mutant against its tests' whole files (slower;
                                            # also works on an older suite whose names differ)

A mutant is an exact source snippet and its replacement. The snippet is looked up in every
``*.py`` file under ``fieldreport/`` (not at a fixed path: code moves between files), and must be
found exactly once: a snippet found nowhere is reported "not found", one found more than once
"ambiguous" — neither counts as caught, and both mean the mutant needs updating. A mutant counts
as caught only when its tests fail (pytest exit status 1) or time out; a run that errors
otherwise (no tests collected, usage error) is "error", not caught. Every test node id a mutant
names must exist (checked by parsing the test files): a renamed test makes the script refuse to
start. The exit status is 0 only when every mutant is caught.

Before planting anything the script refuses to start when ``git status --porcelain fieldreport``
is not clean, and it first runs every selected test on the unchanged code: a test that fails
already would make every mutant look caught. Each file is restored (bytes and timestamps) in a
``finally``; no bytecode is written while a mutant is planted.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "fieldreport"
TIMEOUT_S = 240
BASE_ARGS = ("-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--no-header")
SQLITE = "not postgresql"  # races only overlap on PostgreSQL; everything else runs on SQLite
POSTGRESQL = "postgresql"


@dataclass(frozen=True)
class Mutant:
    name: str
    area: str
    snippet: str
    replacement: str
    tests: tuple[str, ...]
    keyword: str = SQLITE
    workers: int = 0


T_ACCOUNTS = "tests/test_accounts.py"
T_ADMIN = "tests/test_account_admin.py"
T_SESSIONS = "tests/test_sessions.py"
T_LOGIN = "tests/test_login_safety.py"
T_API = "tests/test_reports_api.py"
T_CSRF = "tests/test_csrf.py"
T_COORD = "tests/test_coordinator_pages.py"
T_ASSIGN = "tests/test_sector_assignments.py"
T_SECTOR_SAFETY = "tests/test_sector_digest_security.py"
T_PHOTOS = "tests/test_photos_api.py"
T_REVIEW = "tests/test_review.py"
T_DIGEST = "tests/test_digest_outputs.py"

ANY_ROLE = '"observer", "coordinator", "commission", "admin"'
# Exempts the view below from CSRFProtect when its blueprint is registered (not at import time:
# some view modules are imported while fieldreport.web.app itself is still being imported).
CSRF_EXEMPT = (
    "@(lambda view: bp.record_once(lambda state: __import__("
    '"fieldreport.web.app", fromlist=["csrf"]).csrf.exempt(view)) or view)\n'
)

MUTANTS: tuple[Mutant, ...] = (
    # ---- roles and visibility -----------------------------------------------------------------
    Mutant(
        "roles_required-no-role-check",
        "access",
        "            if current_user.role not in roles:\n                abort(403)",
        "            if False:\n                abort(403)",
        (f"{T_ACCOUNTS}::test_each_role_opens_exactly_its_foundation_pages",),
    ),
    Mutant(
        "observer-sees-all-reports",
        "access",
        "        query = query.where(Report.observer_id == user.id)",
        "        query = query",
        (f"{T_API}::test_observer_cannot_read_another_observers_report",),
    ),
    Mutant(
        "commission-sees-unverified",
        "access",
        '        query = query.where(Report.status == "verified")',
        "        query = query",
        (f"{T_API}::test_commission_sees_only_verified_reports_and_no_names",),
    ),
    Mutant(
        "coordinator-reports-not-limited",
        "access",
        "            query = query.where(Report.sector_id.in_(sectors))",
        "            query = query",
        (f"{T_REVIEW}::test_a_limited_coordinator_gets_404_outside_their_sectors",),
    ),
    Mutant(
        "coordinator-limits-ignored",
        "access",
        "    return ids or None",
        "    return None",
        (f"{T_COORD}::test_a_limited_coordinator_cannot_delete_an_assignment_in_another_sector",),
    ),
    Mutant(
        "report-by-id-ignores-visibility",
        "access",
        "    return session.scalar(visible_reports(session, user).where(Report.id == report_id))",
        "    return session.get(Report, report_id)",
        (f"{T_COORD}::test_observers_never_get_other_observers_reports_through_these_routes",),
    ),
    Mutant(
        "report-by-client-id-ignores-visibility",
        "access",
        "    query = visible_reports(session, user).where(Report.client_id == client_id)",
        "    query = select(Report).where(Report.client_id == client_id)",
        (f"{T_API}::test_observer_cannot_read_another_observers_report",),
    ),
    Mutant(
        "visible-report-or-404-by-id-lets-all-through",
        "access",
        "        report = report_by_id_for(db, current_user, report_id)",
        '        report = db.get(__import__("fieldreport.reports.models").reports.models.Report, '
        "report_id)",
        (f"{T_REVIEW}::test_another_observer_cannot_answer",),
    ),
    Mutant(
        "photo-files-ignore-report-visibility",
        "access",
        "    if photo is None or report_by_id_for(db, current_user, photo.report_id) is None:",
        "    if photo is None:",
        (f"{T_PHOTOS}::test_photo_files_are_served_only_to_those_who_may_see_the_report",),
    ),
    Mutant(
        "original-photo-route-for-commission",
        "access",
        "@roles_required(*ORIGINAL_PHOTO_ROLES)",
        "@roles_required(*ALL_ROLES)",
        (f"{T_PHOTOS}::test_photo_files_are_served_only_to_those_who_may_see_the_report",),
    ),
    Mutant(
        "original-photo-link-for-commission",
        "access",
        "    if may_see_originals(viewer):",
        "    if True:",
        (
            f"{T_PHOTOS}::test_commission_gets_the_copies_of_a_verified_reports_photo_but_never"
            "_the_original",
        ),
    ),
    Mutant(
        "original-photo-roles-include-commission",
        "access",
        "ORIGINAL_PHOTO_ROLES: tuple[str, ...] = (OBSERVER, COORDINATOR, ADMIN)",
        "ORIGINAL_PHOTO_ROLES: tuple[str, ...] = (OBSERVER, COORDINATOR, COMMISSION, ADMIN)",
        (
            f"{T_PHOTOS}::test_photo_files_are_served_only_to_those_who_may_see_the_report",
            f"{T_PHOTOS}::test_commission_gets_the_copies_of_a_verified_reports_photo_but_never"
            "_the_original",
        ),
    ),
    # ---- coordinators' sector limits and sector authority ------------------------------------
    Mutant(
        "delete-assignment-outside-limits",
        "sectors",
        "    if assignment is None or (limits is not None and assignment.sector_id not in limits):",
        "    if assignment is None:",
        (f"{T_COORD}::test_a_limited_coordinator_cannot_delete_an_assignment_in_another_sector",),
    ),
    Mutant(
        "create-assignment-outside-limits",
        "sectors",
        "    if limits is not None and sector_id not in limits:\n"
        '        raise SectorError("sector", "choose one of your sectors")',
        '    if False:\n        raise SectorError("sector", "choose one of your sectors")',
        (f"{T_ASSIGN}::test_a_limited_coordinator_assigns_and_removes_only_in_their_sectors",),
    ),
    Mutant(
        "edit-sector-outside-limits",
        "sectors",
        "    if sector is None or (visible is not None and sector_id not in visible):",
        "    if sector is None:",
        (f"{T_COORD}::test_a_limited_coordinator_sees_and_edits_only_their_sectors",),
    ),
    Mutant(
        "limited-coordinator-changes-all-sectors",
        "sectors",
        "    return coordinates(user) and visible_sector_ids(session, user) is None",
        "    return coordinates(user)",
        (
            f"{T_SECTOR_SAFETY}::test_the_service_refuses_sector_changes_by_a_limited_coordinator",
            f"{T_COORD}::test_a_limited_coordinator_sees_and_edits_only_their_sectors",
        ),
    ),
    Mutant(
        "observer-changes-sectors",
        "sectors",
        "    return coordinates(user) and visible_sector_ids(session, user) is None",
        "    return visible_sector_ids(session, user) is None",
        (f"{T_SECTOR_SAFETY}::test_the_service_refuses_sector_changes_by_a_limited_coordinator",),
    ),
    Mutant(
        "limited-coordinator-imports-through-the-api",
        "sectors",
        "    if not may_change_sectors(session, actor):\n        raise SectorAuthorityError()",
        "    if False:\n        raise SectorAuthorityError()",
        (
            f"{T_COORD}::test_a_limited_coordinator_sees_and_edits_only_their_sectors",
            f"{T_SECTOR_SAFETY}::test_the_service_refuses_sector_changes_by_a_limited_coordinator",
        ),
    ),
    Mutant(
        "limited-coordinator-opens-the-new-sector-page",
        "sectors",
        "    if viewer_limits() is not None:\n"
        "        abort(403, description=SectorAuthorityError.MESSAGE)",
        "    if False:\n        abort(403, description=SectorAuthorityError.MESSAGE)",
        (f"{T_SECTOR_SAFETY}::test_a_limited_coordinator_sees_their_sector_without_edit_controls",),
    ),
    Mutant(
        "assignment-to-any-sector",
        "sectors",
        "        for s in all_sectors(db, active_only=True, sector_ids=viewer_limits())",
        "        for s in all_sectors(db, active_only=True, sector_ids=None)",
        (f"{T_COORD}::test_a_limited_coordinator_cannot_assign_to_another_sector",),
    ),
    Mutant(
        "assignment-list-not-limited",
        "sectors",
        "    rows = service.upcoming_assignments(request_session(), mission_today(), "
        "viewer_limits())",
        "    rows = service.upcoming_assignments(request_session(), mission_today(), None)",
        (f"{T_COORD}::test_a_limited_coordinator_sees_and_edits_only_their_sectors",),
    ),
    Mutant(
        "sector-export-not-limited",
        "sectors",
        "    sectors = service.export_sectors(request_session(), viewer_limits(), exact=True)",
        "    sectors = service.export_sectors(request_session(), None, exact=True)",
        (f"{T_COORD}::test_a_limited_coordinator_sees_and_edits_only_their_sectors",),
    ),
    Mutant(
        "api-sector-list-not-limited",
        "sectors",
        "    body = sectors.export_sectors(db, limits)",
        "    body = sectors.export_sectors(db, None)",
        (f"{T_COORD}::test_admin_limits_a_coordinator_who_then_sees_only_those_sectors",),
    ),
    # ---- CSRF --------------------------------------------------------------------------------
    Mutant(
        "csrf-exempt-photo-upload",
        "csrf",
        '@bp.post("/reports/<client_id>/photos")\n',
        '@bp.post("/reports/<client_id>/photos")\n' + CSRF_EXEMPT,
        (
            f"{T_CSRF}::test_every_state_changing_route_refuses_a_request_without_a_token",
            f"{T_PHOTOS}::test_photo_upload_without_csrf_token_is_refused_and_stores_nothing",
        ),
    ),
    Mutant(
        "csrf-exempt-review-decision",
        "csrf",
        '@bp.post("/review/<int:report_id>")\n',
        '@bp.post("/review/<int:report_id>")\n' + CSRF_EXEMPT,
        (
            f"{T_CSRF}::test_every_state_changing_route_refuses_a_request_without_a_token",
            f"{T_REVIEW}::test_review_without_csrf_token_is_refused",
        ),
    ),
    Mutant(
        "csrf-exempt-revoke-all-sessions",
        "csrf",
        '@bp.post("/users/<int:user_id>/sessions/revoke")\n',
        '@bp.post("/users/<int:user_id>/sessions/revoke")\n' + CSRF_EXEMPT,
        (
            f"{T_CSRF}::test_every_state_changing_route_refuses_a_request_without_a_token",
            f"{T_ADMIN}::test_forms_without_a_token_change_nothing",
        ),
    ),
    Mutant(
        "csrf-off",
        "csrf",
        "    csrf.init_app(app)",
        "    pass",
        (
            f"{T_CSRF}::test_every_state_changing_route_refuses_a_request_without_a_token",
            f"{T_API}::test_missing_csrf_header_is_refused",
        ),
    ),
    # ---- log-in ------------------------------------------------------------------------------
    Mutant(
        "inactive-user-logs-in",
        "login",
        "        matches = passwords.verify(user.password_hash, password) and user.active",
        "        matches = passwords.verify(user.password_hash, password)",
        (f"{T_ACCOUNTS}::test_a_deactivated_user_cannot_log_in_and_their_session_ends",),
    ),
    Mutant(
        "password-not-checked",
        "login",
        "        matches = passwords.verify(user.password_hash, password) and user.active",
        "        matches = user.active",
        (f"{T_ACCOUNTS}::test_wrong_password_is_refused_and_recorded",),
    ),
    Mutant(
        "unknown-user-skips-the-dummy-hash-check",
        "login",
        "        matches = passwords.verify_nobody(password)",
        "        matches = False",
        (f"{T_LOGIN}::test_unknown_and_known_usernames_both_cost_a_password_check",),
    ),
    # ---- the log-in throttle (atomic counters) -----------------------------------------------
    Mutant(
        "throttle-slot-not-taken",
        "throttle",
        "    return _count_one(\n"
        "        session, _account_key(username, address), now, "
        "MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS\n"
        "    )",
        "    return True",
        (
            f"{T_ACCOUNTS}::test_repeated_failures_throttle_that_account_from_that_address_only",
            f"{T_LOGIN}::test_racing_wrong_passwords_get_no_more_checks_than_the_limit",
        ),
    ),
    Mutant(
        "no-account-throttle",
        "throttle",
        "        session, _account_key(username, address), now, "
        "MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS\n",
        "        session, _account_key(username, address), now, None\n",
        (f"{T_ACCOUNTS}::test_repeated_failures_throttle_that_account_from_that_address_only",),
    ),
    Mutant(
        "account-throttle-off-by-one",
        "throttle",
        "or_(expired, LoginCounter.failures < limit)",
        "or_(expired, LoginCounter.failures <= limit)",
        (f"{T_ACCOUNTS}::test_repeated_failures_throttle_that_account_from_that_address_only",),
    ),
    Mutant(
        "throttle-slot-not-given-back",
        "throttle",
        "        .where(LoginCounter.key == _account_key(username, address), "
        "LoginCounter.failures > 0)\n"
        "        .values(failures=LoginCounter.failures - 1)",
        "        .where(LoginCounter.key == _account_key(username, address), "
        "LoginCounter.failures > 0)\n"
        "        .values(failures=LoginCounter.failures)",
        (f"{T_ACCOUNTS}::test_successful_log_ins_do_not_count_against_the_limit",),
    ),
    Mutant(
        "no-address-throttle",
        "throttle",
        "    if (address_failures or 0) >= MAX_FAILURES_PER_ADDRESS:",
        "    if False:",
        (
            f"{T_ACCOUNTS}::test_many_failures_from_one_address_over_many_accounts_lock_that"
            "_address_out",
        ),
    ),
    Mutant(
        "address-throttle-off-by-one",
        "throttle",
        "    if (address_failures or 0) >= MAX_FAILURES_PER_ADDRESS:",
        "    if (address_failures or 0) > MAX_FAILURES_PER_ADDRESS:",
        (
            f"{T_ACCOUNTS}::test_many_failures_from_one_address_over_many_accounts_lock_that"
            "_address_out",
        ),
    ),
    Mutant(
        "failure-not-counted-against-the-address",
        "throttle",
        "    _count_one(session, _address_key(address), now, None)",
        "    pass",
        (
            f"{T_ACCOUNTS}::test_many_failures_from_one_address_over_many_accounts_lock_that"
            "_address_out",
        ),
    ),
    Mutant(
        "throttle-counts-every-address",
        "throttle",
        "    return f\"account:{username}@{address or '-'}\"",
        '    return f"account:{username}"',
        (f"{T_ACCOUNTS}::test_repeated_failures_throttle_that_account_from_that_address_only",),
    ),
    Mutant(
        "address-throttle-shared-by-all-addresses",
        "throttle",
        "    return f\"address:{address or '-'}\"",
        '    return "address:-"',
        (
            f"{T_ACCOUNTS}::test_many_failures_from_one_address_over_many_accounts_lock_that"
            "_address_out",
        ),
    ),
    Mutant(
        "throttle-window-ignored",
        "throttle",
        "    expired = LoginCounter.window_start < now - THROTTLE_WINDOW",
        "    expired = LoginCounter.window_start < now - THROTTLE_WINDOW * 100",
        (f"{T_ACCOUNTS}::test_failures_older_than_the_window_do_not_count",),
    ),
    Mutant(
        "address-throttle-window-ignored",
        "throttle",
        "            LoginCounter.window_start >= now - THROTTLE_WINDOW,\n",
        "",
        (f"{T_ACCOUNTS}::test_address_failures_older_than_the_window_do_not_count",),
    ),
    # ---- sessions ----------------------------------------------------------------------------
    Mutant(
        "revoked-session-still-accepted",
        "sessions",
        "        UserSession.revoked_at.is_(None),\n",
        "",
        (
            f"{T_SESSIONS}::test_cookie_replayed_after_logout_is_refused",
            f"{T_ACCOUNTS}::test_changing_the_password_ends_existing_sessions",
        ),
    ),
    Mutant(
        "idle-session-accepted",
        "sessions",
        "        UserSession.last_seen_at > now - limits.idle,\n",
        "",
        (f"{T_SESSIONS}::test_an_idle_session_ends",),
    ),
    Mutant(
        "session-outlives-its-absolute-lifetime",
        "sessions",
        "        UserSession.created_at > now - limits.absolute,\n",
        "",
        (f"{T_SESSIONS}::test_a_session_ends_at_its_absolute_lifetime_however_busy",),
    ),
    Mutant(
        "inactive-user-keeps-session",
        "sessions",
        "    if user is None or not user.active:\n        return None\n    user.session_token",
        "    if user is None:\n        return None\n    user.session_token",
        (
            f"{T_ACCOUNTS}::test_a_session_of_a_user_made_inactive_stops_working_even_with_its"
            "_version",
        ),
    ),
    Mutant(
        "logout-does-nothing",
        "sessions",
        "    if form.validate_on_submit():\n        service.log_out(",
        "    if False:\n        service.log_out(",
        (f"{T_ACCOUNTS}::test_logout_is_a_post_with_a_token",),
    ),
    Mutant(
        "logout-does-not-revoke-the-row",
        "sessions",
        "    if user.session_token:\n"
        "        sessions.revoke(session, user.session_token, utcnow())",
        "    if False:\n        sessions.revoke(session, user.session_token, utcnow())",
        (
            f"{T_SESSIONS}::test_cookie_replayed_after_logout_is_refused",
            f"{T_ACCOUNTS}::test_logging_out_ends_the_session_for_good",
        ),
    ),
    Mutant(
        "password-change-keeps-sessions",
        "sessions",
        "    sessions.revoke_all(session, user, utcnow())\n"
        '    audit(session, "user.password", user=user)',
        '    audit(session, "user.password", user=user)',
        (
            f"{T_ACCOUNTS}::test_changing_the_password_ends_existing_sessions",
            f"{T_SESSIONS}::test_a_password_change_elsewhere_ends_every_session",
        ),
    ),
    Mutant(
        "own-password-change-keeps-other-sessions",
        "sessions",
        "    ended = sessions.revoke_all(session, user, utcnow(), keep=user.session_token)",
        "    ended = 0",
        (f"{T_SESSIONS}::test_changing_ones_own_password_keeps_this_session_and_ends_the_others",),
    ),
    Mutant(
        "own-password-change-ends-this-session-too",
        "sessions",
        "    ended = sessions.revoke_all(session, user, utcnow(), keep=user.session_token)",
        "    ended = sessions.revoke_all(session, user, utcnow(), keep=None)",
        (f"{T_SESSIONS}::test_changing_ones_own_password_keeps_this_session_and_ends_the_others",),
    ),
    Mutant(
        "own-password-change-without-the-current-one",
        "sessions",
        "    if not passwords.verify(user.password_hash, current):",
        "    if False:",
        (f"{T_SESSIONS}::test_own_password_change_needs_the_current_password",),
    ),
    # ---- account administration --------------------------------------------------------------
    Mutant(
        "coordinators-administer-accounts",
        "admin",
        "ACCOUNT_ADMINS: tuple[str, ...] = (ADMIN,)",
        "ACCOUNT_ADMINS: tuple[str, ...] = (COORDINATOR, ADMIN)",
        (f"{T_ADMIN}::test_only_admins_administer_accounts",),
    ),
    Mutant(
        "account-list-for-every-role",
        "admin",
        '@bp.get("/users")\n@roles_required(*ACCOUNT_ADMINS)',
        f'@bp.get("/users")\n@roles_required({ANY_ROLE})',
        (f"{T_ADMIN}::test_only_admins_administer_accounts",),
    ),
    Mutant(
        "account-page-for-every-role",
        "admin",
        '@bp.get("/users/<int:user_id>")\n@roles_required(*ACCOUNT_ADMINS)',
        f'@bp.get("/users/<int:user_id>")\n@roles_required({ANY_ROLE})',
        (f"{T_ADMIN}::test_only_admins_administer_accounts",),
    ),
    Mutant(
        "revoke-all-for-every-role",
        "admin",
        '@bp.post("/users/<int:user_id>/sessions/revoke")\n@roles_required(*ACCOUNT_ADMINS)',
        f'@bp.post("/users/<int:user_id>/sessions/revoke")\n@roles_required({ANY_ROLE})',
        (f"{T_ADMIN}::test_only_admins_administer_accounts",),
    ),
    Mutant(
        "password-reset-for-every-role",
        "admin",
        '@bp.post("/users/<int:user_id>/password-reset")\n@roles_required(*ACCOUNT_ADMINS)',
        f'@bp.post("/users/<int:user_id>/password-reset")\n@roles_required({ANY_ROLE})',
        (f"{T_ADMIN}::test_only_admins_administer_accounts",),
    ),
    Mutant(
        "revoke-all-ends-nothing",
        "admin",
        "    ended = sessions.revoke_all(session, user, utcnow())\n    detail = ",
        "    ended = 0\n    detail = ",
        (f"{T_ADMIN}::test_revoking_all_sessions_logs_out_every_device",),
    ),
    Mutant(
        "reset-keeps-sessions",
        "admin",
        "    ended = sessions.revoke_all(session, user, utcnow())\n    audit(",
        "    ended = 0\n    audit(",
        (f"{T_ADMIN}::test_a_reset_ends_every_session_and_shows_a_one_time_code",),
    ),
    Mutant(
        "reset-code-not-one-time",
        "admin",
        "    user.must_change_password = True\n    ended = ",
        "    user.must_change_password = False\n    ended = ",
        (f"{T_ADMIN}::test_a_reset_ends_every_session_and_shows_a_one_time_code",),
    ),
    Mutant(
        "new-account-code-not-one-time",
        "admin",
        "    user.must_change_password = True\n    return user, code",
        "    user.must_change_password = False\n    return user, code",
        (f"{T_ADMIN}::test_a_new_account_logs_in_once_with_its_code_then_chooses_a_password",),
    ),
    Mutant(
        "deactivation-keeps-sessions",
        "admin",
        "    if not active:\n        sessions.revoke_all(session, user, utcnow())",
        "    if False:\n        sessions.revoke_all(session, user, utcnow())",
        (f"{T_ADMIN}::test_deactivation_ends_sessions_and_log_ins_until_reactivated",),
    ),
    Mutant(
        "admin-deactivates-themselves",
        "admin",
        "    if user.id == actor.id and not active:",
        "    if False:",
        (f"{T_ADMIN}::test_an_admin_cannot_deactivate_their_own_account",),
    ),
    Mutant(
        "must-change-password-gate-open",
        "admin",
        "    if not current_user.must_change_password:\n        return None",
        "    if True:\n        return None",
        (f"{T_ADMIN}::test_a_new_account_logs_in_once_with_its_code_then_chooses_a_password",),
    ),
    # ---- idempotency -------------------------------------------------------------------------
    Mutant(
        "different-body-same-client-id-accepted",
        "idempotency",
        "    if same_owner and _first_submission_sha(session, existing) == data.content_sha256():",
        "    if same_owner:",
        (f"{T_API}::test_same_client_id_with_a_different_body_is_a_conflict_and_kept_in_the_log",),
    ),
    Mutant(
        "other-observers-client-id-answered",
        "idempotency",
        "    same_owner = existing.observer_id == observer.id",
        "    same_owner = True",
        (f"{T_API}::test_another_observers_client_id_is_a_conflict_not_a_leak",),
    ),
    Mutant(
        "conflict-answered-200",
        "idempotency",
        '        return jsonify({"error": "conflict", "message": str(conflict)}), 409',
        '        return jsonify({"error": "conflict", "message": str(conflict)}), 200',
        (f"{T_API}::test_same_client_id_with_a_different_body_is_a_conflict_and_kept_in_the_log",),
    ),
    Mutant(
        "report-race-loser-fails",
        "idempotency",
        "        if existing is None:\n            raise\n"
        "        return _answer_repeat(session, existing, observer, data)",
        "        if True:\n            raise\n"
        "        return _answer_repeat(session, existing, observer, data)",
        (
            f"{T_API}::test_identical_requests_racing_past_the_existence_check_make_one_report",
            "tests/test_offline_server.py::test_two_identical_reports_racing_over_http_make_one",
        ),
        keyword=POSTGRESQL,
    ),
    Mutant(
        "photo-dedupe-ignores-sha256",
        "idempotency",
        "    return session.scalar(select(Photo).where(Photo.report_id == report.id, "
        "Photo.sha256 == sha256))",
        "    return session.scalar(select(Photo).where(Photo.report_id == report.id))",
        (f"{T_PHOTOS}::test_every_accepted_corpus_photo_is_stored_with_its_hash",),
    ),
    Mutant(
        "photo-race-loser-fails",
        "idempotency",
        "        if existing is None:\n            raise\n"
        "        return PhotoOutcome(existing, created=False)",
        "        if True:\n            raise\n        return PhotoOutcome(existing, created=False)",
        (f"{T_PHOTOS}::test_same_photo_uploaded_twice_at_once_is_stored_once",),
        keyword=POSTGRESQL,
    ),
    Mutant(
        "photo-job-id-not-the-photos",
        "idempotency",
        '    return f"photo:{photo_id}"',
        "    return f\"photo:{photo_id}:{__import__('time').monotonic_ns()}\"",
        (
            "tests/test_worker_rq.py::test_same_photo_uploaded_twice_is_queued_once_under_its"
            "_photo_id",
        ),
    ),
    Mutant(
        "digest-job-id-not-the-days",
        "idempotency",
        '    return f"digest:{day.isoformat()}"',
        '    return f"digest:{day.isoformat()}:{time.monotonic_ns()}"',
        (
            "tests/test_digest_schedule.py::test_a_days_build_requested_twice_is_queued_once"
            "_under_the_days_job_id",
        ),
    ),
    Mutant(
        "digest-claim-takes-sent",
        "idempotency",
        '    return ("ready", "sent", "sending") if resend else ("ready",)',
        '    return ("ready", "sent", "sending") if resend else ("ready", "sent")',
        (f"{T_DIGEST}::test_email_arrives_with_the_pdf_and_is_sent_only_once",),
    ),
    Mutant(
        "digest-claim-always-wins",
        "idempotency",
        "    return bool(claimed)",
        "    return True",
        (f"{T_DIGEST}::test_email_arrives_with_the_pdf_and_is_sent_only_once",),
    ),
    # ---- review ------------------------------------------------------------------------------
    Mutant(
        "verified-not-final",
        "review",
        '    "verified": frozenset(),',
        '    "verified": frozenset({"in_review"}),',
        (f"{T_REVIEW}::test_only_the_transitions_of_the_lifecycle_are_allowed",),
    ),
    Mutant(
        "rejected-not-final",
        "review",
        '    "rejected": frozenset(),',
        '    "rejected": frozenset({"in_review"}),',
        (f"{T_REVIEW}::test_a_transition_the_lifecycle_forbids_is_409_and_changes_nothing",),
    ),
    Mutant(
        "needs-info-closed-without-answer",
        "review",
        '    "needs_info": frozenset(),',
        '    "needs_info": frozenset({"in_review"}),',
        (f"{T_REVIEW}::test_only_the_transitions_of_the_lifecycle_are_allowed",),
    ),
    Mutant(
        "transition-not-checked",
        "review",
        "    if to_status not in TRANSITIONS.get(report.status, frozenset()):",
        "    if False:",
        (f"{T_REVIEW}::test_a_transition_the_lifecycle_forbids_is_409_and_changes_nothing",),
    ),
    Mutant(
        "anyone-reviews-in-the-service",
        "review",
        "    if not coordinates(reviewer):",
        "    if False:",
        (f"{T_REVIEW}::test_asking_for_more_needs_the_question",),
    ),
    Mutant(
        "commission-reviews",
        "review",
        "    if not coordinates(reviewer):",
        '    if not (coordinates(reviewer) or reviewer.role == "commission"):',
        (f"{T_REVIEW}::test_only_coordinators_review_in_the_service",),
    ),
    Mutant(
        "commission-reviews-through-the-api",
        "review",
        '@bp.post("/reports/<client_id>/review")\n@roles_required(*COORDINATION)',
        '@bp.post("/reports/<client_id>/review")\n@roles_required(*COORDINATION, "commission")',
        (f"{T_REVIEW}::test_observers_and_commission_cannot_review",),
    ),
    Mutant(
        "question-without-text",
        "review",
        '    if to_status == "needs_info" and not text:',
        "    if False:",
        (f"{T_REVIEW}::test_asking_for_more_needs_the_question",),
    ),
    Mutant(
        "anyone-answers-a-question",
        "review",
        "    if report.observer_id != observer.id:",
        "    if False:",
        (f"{T_REVIEW}::test_only_the_reports_observer_answers_and_only_an_open_question",),
    ),
    Mutant(
        "answer-without-open-question",
        "review",
        '    if report.status != "needs_info":\n        raise TransitionRefused(',
        "    if False:\n        raise TransitionRefused(",
        (f"{T_REVIEW}::test_an_answer_without_an_open_question_changes_nothing",),
    ),
)


# --------------------------------------------------------------------------------------------
# The tests a mutant names must exist
# --------------------------------------------------------------------------------------------


def _test_names(path: Path) -> set[str]:
    """``name`` and ``Class::method`` of every test function defined in a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
    return names


def missing_tests(mutants: list[Mutant]) -> list[str]:
    """The node ids named by ``mutants`` whose file or test does not exist (renamed or moved).

    pytest would answer such an id with "not found" (an error, never a catch), and a mutant whose
    test is gone silently stops being checked: so the script refuses to run with one.
    """
    known: dict[str, set[str] | None] = {}
    missing = []
    for test in sorted({t for m in mutants for t in m.tests}):
        file, _, name = test.partition("::")
        if file not in known:
            path = ROOT / file
            known[file] = _test_names(path) if path.is_file() else None
        names = known[file]
        if names is None or (name and re.sub(r"\[.*\]$", "", name) not in names):
            missing.append(test)
    return missing


# --------------------------------------------------------------------------------------------
# Locating, planting, restoring
# --------------------------------------------------------------------------------------------


def source_files() -> list[Path]:
    return sorted(path for path in SOURCE.rglob("*.py") if "__pycache__" not in path.parts)


def locate(mutant: Mutant) -> list[tuple[Path, int]]:
    """Every (file, count) where the snippet occurs."""
    found = []
    for path in source_files():
        occurrences = path.read_text(encoding="utf-8").count(mutant.snippet)
        if occurrences:
            found.append((path, occurrences))
    return found


def where(found: list[tuple[Path, int]]) -> str:
    return ", ".join(f"{path.relative_to(ROOT)}×{n}" for path, n in found)


def git_dirty() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "fieldreport"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def pytest_command(tests: tuple[str, ...], keyword: str, workers: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        *BASE_ARGS,
        "-n",
        str(workers),
        "-k",
        keyword,
        *tests,
    ]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # never leave a mutant's bytecode behind
    env.pop("FIELDREPORT_ALLOW_SKIPS", None)  # a skip must not pass for a caught mutant
    return env


def run_tests(command: list[str]) -> tuple[str, float, str]:
    """(outcome, seconds, output tail): outcome is passed, failed, timeout or error:<code>."""
    began = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"")[-2000:]
        text = output.decode(errors="replace") if isinstance(output, bytes) else output
        return "timeout", time.monotonic() - began, text
    seconds = time.monotonic() - began
    tail = done.stdout[-1500:] + done.stderr[-1500:]
    # With -x, pytest-xdist reports the stop after the first failure as an interruption (2).
    stopped = done.returncode == 2 and re.search(r"\b\d+ failed\b", done.stdout[-300:])
    if done.returncode == 1 or stopped:
        # Name what failed (pytest's -ra summary), to check that it is the expected test.
        failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
        tail = failed[0][:160] if failed else tail
    if done.returncode == 0:
        return "passed", seconds, tail
    if done.returncode == 1 or stopped:
        return "failed", seconds, tail
    return f"error:{done.returncode}", seconds, tail


def selection(mutant: Mutant, whole_files: bool) -> tuple[str, ...]:
    """The mutant's tests, or (``whole_files``) the files they are in, those that exist."""
    if not whole_files:
        return mutant.tests
    files = dict.fromkeys(test.split("::", 1)[0] for test in mutant.tests)
    return tuple(file for file in files if (ROOT / file).is_file())


@dataclass
class Result:
    mutant: Mutant
    status: str  # caught, survived, not found, ambiguous, error, invalid
    file: str
    seconds: float
    note: str = ""

    @property
    def caught(self) -> bool:
        return self.status == "caught"


def run_mutant(mutant: Mutant, verbose: bool = False, whole_files: bool = False) -> Result:
    tests = selection(mutant, whole_files)
    if not tests:
        return Result(mutant, "no tests", "-", 0.0, "none of its test files exists")
    found = locate(mutant)
    if not found:
        return Result(mutant, "not found", "-", 0.0, "snippet is in no file under fieldreport/")
    if len(found) > 1 or found[0][1] > 1:
        return Result(mutant, "ambiguous", where(found), 0.0, "snippet found more than once")
    path = found[0][0]
    relative = str(path.relative_to(ROOT))
    original = path.read_bytes()
    stat = path.stat()
    text = original.decode("utf-8")
    mutated = text.replace(mutant.snippet, mutant.replacement, 1)
    try:
        compile(mutated, str(path), "exec")
    except SyntaxError as error:
        return Result(mutant, "invalid", relative, 0.0, f"the mutant does not compile: {error}")
    try:
        path.write_text(mutated, encoding="utf-8")
        workers = 2 if whole_files else mutant.workers
        outcome, seconds, tail = run_tests(pytest_command(tests, mutant.keyword, workers))
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if outcome == "failed":
        return Result(mutant, "caught", relative, seconds, tail if verbose else "")
    if outcome == "timeout":
        return Result(mutant, "caught", relative, seconds, f"timed out after {TIMEOUT_S} s")
    if outcome == "passed":
        return Result(mutant, "survived", relative, seconds)
    last = tail.strip().splitlines()[-1:] or [""]
    return Result(mutant, "error", relative, seconds, f"pytest {outcome}: {last[0]}")


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def list_mutants(mutants: list[Mutant]) -> None:
    width = max(len(m.name) for m in mutants)
    for mutant in mutants:
        found = locate(mutant)
        if not found:
            state = "NOT FOUND"
        elif len(found) > 1 or found[0][1] > 1:
            state = f"AMBIGUOUS ({where(found)})"
        else:
            state = str(found[0][0].relative_to(ROOT))
        print(f"{mutant.name:<{width}}  {mutant.area:<11}  {state}")
    print(f"{len(mutants)} mutants")
    for test in missing_tests(mutants):
        print(f"MISSING TEST: {test}")


def baseline(mutants: list[Mutant], whole_files: bool) -> bool:
    """Every selected test passes on the unchanged code (else every mutant looks caught)."""
    ok = True
    for keyword in sorted({m.keyword for m in mutants}):
        chosen = [m for m in mutants if m.keyword == keyword]
        tests = tuple(sorted({t for m in chosen for t in selection(m, whole_files)}))
        if not tests:
            continue
        command = pytest_command(tests, keyword, 2)
        command.remove("-x")
        print(f"baseline: {len(tests)} test(s) with -k '{keyword}' on the unchanged code ...")
        outcome, seconds, tail = run_tests(command)
        print(f"baseline: {outcome} in {seconds:.0f} s")
        if outcome != "passed":
            print(tail, file=sys.stderr)
            ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only this mutant")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the run on the unchanged code"
    )
    parser.add_argument(
        "--whole-files", action="store_true", help="run the whole files of each mutant's tests"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="name the failing test of each caught mutant"
    )
    args = parser.parse_args(argv)

    mutants = list(MUTANTS)
    names = {m.name for m in mutants}
    assert len(names) == len(mutants), "two mutants share a name"
    if args.only:
        unknown = sorted(set(args.only) - names)
        if unknown:
            parser.error(f"unknown mutant(s): {', '.join(unknown)} (see --list)")
        mutants = [m for m in mutants if m.name in args.only]
    if args.list:
        list_mutants(mutants)
        return 1 if missing_tests(mutants) else 0

    missing = missing_tests(mutants)
    if missing:
        lines = "\n".join(f"  {test}" for test in missing)
        if not args.whole_files:
            print(
                f"refusing to start: no such test(s), update the mutants:\n{lines}", file=sys.stderr
            )
            return 2
        print(f"WARNING: no such test(s) (whole files are run instead):\n{lines}", file=sys.stderr)

    dirty = git_dirty()
    if dirty:
        print(f"refusing to start: fieldreport/ has uncommitted changes:\n{dirty}", file=sys.stderr)
        return 2
    began = time.monotonic()
    if not args.no_baseline and not baseline(mutants, args.whole_files):
        print("refusing to plant mutants: the tests fail on the unchanged code", file=sys.stderr)
        return 2

    results: list[Result] = []
    width = max(len(m.name) for m in mutants)
    print(f"\n{'mutant':<{width}}  {'status':<9}  {'seconds':>7}  file")
    for mutant in mutants:
        result = run_mutant(mutant, args.verbose, args.whole_files)
        results.append(result)
        note = f"  ({result.note})" if result.note else ""
        print(
            f"{mutant.name:<{width}}  {result.status:<9}  {result.seconds:7.1f}  {result.file}"
            f"{note}",
            flush=True,
        )
    if git_dirty():
        print("WARNING: fieldreport/ is not clean after the run", file=sys.stderr)

    caught = sum(r.caught for r in results)
    by_status: dict[str, int] = {}
    for result in results:
        by_status[result.status] = by_status.get(result.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items()))
    print(f"\n{caught} of {len(results)} caught ({summary}); {time.monotonic() - began:.0f} s")
    for result in results:
        if not result.caught:
            print(f"  {result.status}: {result.mutant.name} in {result.file} {result.note}")
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
