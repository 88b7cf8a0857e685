"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Built once from the base document (``spec.py``: shared schemas, the API's own paths) and the
``PATHS`` each route module declares beside its routes, with the answers every operation shares
(401, and 400/413 where there is a body). Importing changes nothing.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from fieldreport.api import digests, ledger, reports, review, sectors
from fieldreport.api.spec import BASE, with_shared_answers


@functools.cache
def document() -> dict[str, Any]:
    built = copy.deepcopy(BASE)
    for paths in (reports.PATHS, sectors.PATHS, review.PATHS, digests.PATHS, ledger.PATHS):
        built["paths"].update(copy.deepcopy(paths))
    with_shared_answers(built["paths"])
    return built
