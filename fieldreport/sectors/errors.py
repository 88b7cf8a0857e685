"""The error every sectors use case raises when it refuses its input."""

from __future__ import annotations

from fieldreport.i18n import N_


class SectorError(ValueError):
    """A sector, limit or assignment change was refused; ``field`` names the form field at fault.

    Raised before anything is written, so the request's "commit on return" keeps nothing of it
    (docs/architecture.md, Transactions).
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class SectorAuthorityError(PermissionError):
    """The user may not change the sector lines: only admins and coordinators of every sector.

    A coordinator limited to some sectors who could redraw one would move other sectors' reports
    into it (the re-derive job follows the lines), and change the lines for the whole mission.
    """

    MESSAGE = N_(
        "Only an admin or a coordinator of every sector may create, import or change sectors: "
        "the sector lines are the whole mission's, and they decide which reports each "
        "coordinator sees."
    )

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)
        self.message = self.MESSAGE
