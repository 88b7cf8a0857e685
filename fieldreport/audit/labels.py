"""Audit actions in words: the codes services write (``accounts.service.audit``) and the English
message ids shown for them (translated at the edge, docs/architecture.md "Words for people")."""

from __future__ import annotations

from fieldreport.i18n import N_

# Every code a service writes has a row (tests/test_audit_log.py finds them in the source).
ACTION_LABELS: dict[str, str] = {
    "login": N_("Logged in"),
    "login.failed": N_("Failed log-in"),
    "logout": N_("Logged out"),
    "two_factor.enrolment_started": N_("Two-step log-in: setting up"),
    "two_factor.enrolled": N_("Two-step log-in turned on"),
    "two_factor.verified": N_("Two-step log-in: code accepted"),
    "two_factor.failed": N_("Two-step log-in: wrong code"),
    "two_factor.password_failed": N_("Two-step log-in: wrong password"),
    "two_factor.recovery_used": N_("Two-step log-in: recovery code used"),
    "two_factor.throttled": N_("Two-step log-in: too many wrong codes"),
    "two_factor.reset": N_("Two-step log-in reset by an admin"),
    "two_factor.secret_unreadable": N_("Two-step log-in: the stored secret does not open"),
    "user.create": N_("Account created"),
    "user.password": N_("Password changed"),
    "user.password_reset": N_("Password reset by an admin"),
    "user.language": N_("Language changed"),
    "user.deactivate": N_("Account deactivated"),
    "user.reactivate": N_("Account reactivated"),
    "user.sessions_revoked": N_("All sessions ended"),
    "device_key.register": N_("Phone key registered for signing reports"),
    "sectors.create": N_("Sector created"),
    "sectors.edit": N_("Sector changed"),
    "sectors.activate": N_("Sector activated"),
    "sectors.deactivate": N_("Sector deactivated"),
    "sectors.import": N_("Sector imported"),
    "sectors.save": N_("Sector saved"),  # written before sector changes were itemised
    "sectors.coordinator_limits": N_("Coordinator's sectors changed"),
    "report.conflict": N_("Report refused: its id was used for other content"),
    "digest_rebuild": N_("Digest rebuild requested"),
    "digest_failed": N_("Digest build failed"),
    "digest_sent": N_("Digest sent"),
    "digest_send_failed": N_("Digest could not be sent"),
    "alert.acknowledged": N_("Urgent report alert acknowledged"),
    "alert.escalated": N_("Urgent report alert passed to the admins"),
    "alert.address": N_("Alert email address changed"),
    "review.reopened": N_("Review decision reopened"),
    "places.load": N_("Place names loaded"),
    "map.area_load": N_("Offline map extract loaded"),
}
UNKNOWN_ACTION = N_("Other event")


def action_label(code: str) -> str:
    """The message id for ``code``; one without a row yet is an "Other event" (the page shows
    its code beside it, so nothing is hidden)."""
    return ACTION_LABELS.get(code, UNKNOWN_ACTION)


def detail_text(detail: dict[str, object] | None) -> str:
    """The event's details as "key: value" pairs, in a stable order, for reading and CSV."""
    if not detail:
        return ""
    return "; ".join(f"{key}: {_plain(value)}" for key, value in sorted(detail.items()))


def _plain(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "-"
    return str(value)
