"""Forms of the digests domain: the rebuild and resend buttons carry only a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm


class RebuildForm(FlaskForm):
    """A coordinator's "Rebuild digest": a POST with nothing but the CSRF token."""


class ResendForm(FlaskForm):
    """An admin's explicit "Send again" of a digest already sent."""
