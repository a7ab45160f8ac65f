"""Typed errors shared by the engine, the workflows and every face.

Executors raise `TransientError` / `PermanentError` so the engine can decide
between retrying with backoff and failing the unit now. Facade errors carry a
stable `kind` that the RPC and MCP faces map to error codes without parsing
text.
"""

from __future__ import annotations


class PhasegridError(Exception):
    """Base of every error phasegrid raises on purpose; `str()` is safe to show."""

    kind: str = "error"

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: list[str] = list(details or [])

    def __str__(self) -> str:
        if self.details:
            return f"{self.message}: {'; '.join(self.details)}"
        return self.message


# --- raised by phase executors (and the clients they use) -------------------


class PhaseError(PhasegridError):
    """A phase attempt failed; `transient` decides retry vs fail-now."""

    kind = "phase_error"
    transient: bool = False


class TransientError(PhaseError):
    """Worth retrying: network, timeout, 5xx, 429, activity-status timeout."""

    kind = "transient"
    transient = True

    def __init__(
        self,
        message: str,
        *,
        details: list[str] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class RateLimitedError(TransientError):
    """The API said 429; `retry_after` holds its Retry-After when it sent one."""

    kind = "rate_limited"


class ActivityTimeoutError(TransientError):
    """An asynchronous activity did not finish within its timeout."""

    kind = "activity_timeout"


class PermanentError(PhaseError):
    """Retrying cannot help: validation errors, 4xx, activity FAIL with a reason."""

    kind = "permanent"
    transient = False


class OutcomeUnknownError(PhaseError):
    """Work was in flight when a hard cancel hit; cleanup/audit reconcile it."""

    kind = "outcome_unknown"


# --- raised by the engine facade --------------------------------------------


class SpecError(PhasegridError):
    """A workflow definition that could leave a job unable to finish."""

    kind = "invalid_workflow"


class WorkflowNotFound(PhasegridError):
    kind = "workflow_not_found"


class InputError(PhasegridError):
    """Bad units or options; `details` name the field (and line) at fault."""

    kind = "invalid_input"


class JobNotFound(PhasegridError):
    kind = "not_found"


class WrongState(PhasegridError):
    kind = "wrong_state"


class DigestMismatch(PhasegridError):
    kind = "digest_mismatch"


class PlanExpired(PhasegridError):
    kind = "plan_expired"


class ConflictsPresent(PhasegridError):
    kind = "conflicts_present"


class RedisUnavailable(PhasegridError):
    kind = "redis_unavailable"


class ConfirmationRequired(PhasegridError):
    """A destructive plan needs the user to type what it names (e.g. the venue)."""

    kind = "confirmation_required"
