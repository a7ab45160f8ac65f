"""RUCKUS One (R1) API client: config, auth, retries, typed errors, resources.

Public API: `R1Config`, `R1Client`, `R1ActivityBackend`, `raise_for_activity`,
the models and the error classes re-exported below.
"""

from workflows.r1.activities import R1ActivityBackend, raise_for_activity
from workflows.r1.client import R1Client
from workflows.r1.config import REGION_URLS, R1Config, Region, RetryPolicy, Timeouts
from workflows.r1.errors import (
    R1ActivityFailed,
    R1ActivityFailedTransient,
    R1AuthError,
    R1ConfigError,
    R1Error,
    R1NotFound,
    R1PermanentError,
    R1RateLimited,
    R1TransientError,
)
from workflows.r1.models import (
    Accepted,
    Ap,
    ApGroup,
    DpskPool,
    Identity,
    IdentityGroup,
    Passphrase,
    PassphraseRow,
    Venue,
    WifiNetwork,
    Wlan,
)
from workflows.r1.resources.dpsk import PASSPHRASE_CSV_COLUMNS, passphrase_csv
from workflows.r1.resources.networks import SECURITY_BY_INPUT
from workflows.r1.transport import R1Stats

__all__ = [
    "PASSPHRASE_CSV_COLUMNS",
    "REGION_URLS",
    "SECURITY_BY_INPUT",
    "Accepted",
    "Ap",
    "ApGroup",
    "DpskPool",
    "Identity",
    "IdentityGroup",
    "Passphrase",
    "PassphraseRow",
    "R1ActivityBackend",
    "R1ActivityFailed",
    "R1ActivityFailedTransient",
    "R1AuthError",
    "R1Client",
    "R1Config",
    "R1ConfigError",
    "R1Error",
    "R1NotFound",
    "R1PermanentError",
    "R1RateLimited",
    "R1Stats",
    "R1TransientError",
    "Region",
    "RetryPolicy",
    "Timeouts",
    "Venue",
    "WifiNetwork",
    "Wlan",
    "passphrase_csv",
    "raise_for_activity",
]
