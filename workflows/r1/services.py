"""Which R1 service (rate-limit family) each call belongs to.

R1 limits calls per tenant and per service: the Wi-Fi API 17.3.3 and Venue API
0.2.8 overviews document a bucket of 200 calls with 100 returned each second.
The other services (view model, DPSK, identity, activities) document none: we
assume the same figure for each (the stated default, `DEFAULT_LIMIT`) and let
the adaptive limiter find out otherwise from their 429s. The family of a call
is the document that defines its operation (`contract.operations`).
"""

from __future__ import annotations

import re
from functools import cache

from workflows.r1.contract.operations import EXTRA_OPERATIONS, IDENTITY, OPERATIONS

DOCUMENTED_LIMIT = (100.0, 200.0)
"""(calls returned per second, burst) documented for Wi-Fi and Venue."""
DEFAULT_LIMIT = DOCUMENTED_LIMIT
"""Our stated assumption for the services whose documents say nothing."""
AUTH = "auth"
OTHER = "other"
_PARAM = re.compile(r"\{[^}]*\}")


def _shape(key: str) -> str:
    """'GET /activities/{requestId}' and '.../{activityId}' are one operation."""
    return _PARAM.sub("{}", key)


@cache
def _families() -> dict[str, str]:
    out = {_shape(k): doc.split("-", 1)[0] for k, doc in OPERATIONS.items()}
    for key in EXTRA_OPERATIONS:
        out[_shape(key)] = AUTH if "/oauth2/" in key else IDENTITY.split("-", 1)[0]
    return out


def family_of(key: str) -> str:
    """The service family of "METHOD /route/{template}" (e.g. 'wifi_api')."""
    return _families().get(_shape(key), OTHER)
