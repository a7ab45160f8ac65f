"""phasegrid's engine: plans, runs and records bulk rollouts on Redis.

It knows nothing of RUCKUS One and nothing of any user interface; workflows
register with a `Registry`, faces talk to the `Engine`.
"""

from engine.activities import ActivityBackend, ActivityResult, ActivityTracker
from engine.context import PhaseContext, PlanContext
from engine.errors import (
    PermanentError,
    PhaseError,
    PhasegridError,
    RateLimitedError,
    TransientError,
)
from engine.events import Event, EventRecord
from engine.limits import KeyedLimiter, NoRateLimit, RateLimiter, TokenBucket
from engine.models import JobStatus, JobView, PhasePlan, Plan
from engine.registry import Registry
from engine.service import Engine, EngineConfig
from engine.spec import PhaseSpec, RetryPolicy, WorkflowSpec
from engine.states import CellState

__all__ = [
    "ActivityBackend",
    "ActivityResult",
    "ActivityTracker",
    "CellState",
    "Engine",
    "EngineConfig",
    "Event",
    "EventRecord",
    "JobStatus",
    "JobView",
    "KeyedLimiter",
    "NoRateLimit",
    "PermanentError",
    "PhaseContext",
    "PhaseError",
    "PhasePlan",
    "PhaseSpec",
    "PhasegridError",
    "Plan",
    "PlanContext",
    "RateLimitedError",
    "RateLimiter",
    "Registry",
    "RetryPolicy",
    "TokenBucket",
    "TransientError",
    "WorkflowSpec",
]
