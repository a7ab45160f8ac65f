"""Run controls an operator (or an agent on their behalf) uses on a running job:
pause and resume. Declared like every operation, for both faces."""

from __future__ import annotations

from engine import Engine
from engine.models import JobView
from rpc.operation import Operation
from rpc.schemas import JobParams


async def _pause(engine: Engine, p: JobParams) -> JobView:
    return await engine.pause(p.job_id)


async def _resume(engine: Engine, p: JobParams) -> JobView:
    return await engine.resume(p.job_id)


CONTROL_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "jobs.pause", "pause_job", "Pause a job",
        "Pause a QUEUED or RUNNING job: calls already made land, nothing new starts, and "
        "the job rests PAUSED (a queued job pauses at once). Nothing is undone; resume_job "
        "continues it. Use it to look at results before going on; cancel_job ends a job.",
        JobParams, JobView, _pause, idempotent=False, open_world=False,
    ),
    Operation(
        "jobs.resume", "resume_job", "Resume a paused job",
        "Continue a PAUSED job where it stopped: the units and phases not run yet (and those "
        "the pause interrupted). Failed units stay failed: retry_job re-runs them. The job "
        "writes to the target again: ask the user first.",
        JobParams, JobView, _resume, open_world=True,
    ),
)  # fmt: skip
