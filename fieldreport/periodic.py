"""Every domain's periodic tasks, collected for whichever process keeps time.

That is each ``fieldreport worker`` process with RQ, or the embedded app without it. A domain
declares its own in its ``tasks.py`` (``PERIODIC``); this list only gathers them.
"""

from __future__ import annotations

from fieldreport.alerts.tasks import PERIODIC as ALERT_PERIODIC
from fieldreport.clock import PeriodicTask
from fieldreport.digests.tasks import PERIODIC as DIGEST_PERIODIC
from fieldreport.photos.tasks import PERIODIC as PHOTO_PERIODIC

PERIODIC_TASKS: list[PeriodicTask] = [*PHOTO_PERIODIC, *DIGEST_PERIODIC, *ALERT_PERIODIC]
