"""The error every sectors use case raises when it refuses its input."""

from __future__ import annotations


class SectorError(ValueError):
    """A sector, limit or assignment change was refused; ``field`` names the form field at fault.

    Raised before anything is written, so the request's "commit on return" keeps nothing of it
    (docs/architecture.md, Transactions).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
