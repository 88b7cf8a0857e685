"""The accounts domain's errors: what cannot be done, for which field, and why."""

from __future__ import annotations


class AccountError(ValueError):
    """A request about an account that cannot be done; the message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class LoginThrottled(AccountError):
    """Too many failed log-ins for this account from this address, or from this address."""
