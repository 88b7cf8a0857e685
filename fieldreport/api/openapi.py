"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json.

Built once from the base document (``spec.py``: shared schemas and the report paths) and the
``PATHS`` each route module declares beside its routes. Importing changes nothing.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from fieldreport.api import digests, review, sectors
from fieldreport.api.spec import BASE


@functools.cache
def document() -> dict[str, Any]:
    built = copy.deepcopy(BASE)
    for paths in (sectors.PATHS, review.PATHS, digests.PATHS):
        built["paths"].update(copy.deepcopy(paths))
    return built
