"""Run controls an operator (or an agent on their behalf) uses on a running job:
pause and resume. Declared like every operation, for both faces."""

from __future__ import annotations

from pydantic import Field

from engine import Engine
from engine.models import JobView
from rpc.operation import Operation
from rpc.principal import current
from rpc.schemas import JobId, JobParams, Params


class ResumeParams(Params):
    job_id: JobId
    digest: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        description="Only at a wave's approval gate (get_job shows wave_gate=true): the plan "
        "digest, quoted once the user has seen the wave's results and agreed to go on.",
    )


async def _pause(engine: Engine, p: JobParams) -> JobView:
    return await engine.pause(p.job_id, principal=current())


async def _resume(engine: Engine, p: ResumeParams) -> JobView:
    return await engine.resume(p.job_id, p.digest, principal=current())


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
        "writes to the target again: ask the user first. At a wave's approval gate "
        "(wave_gate=true) this is the second confirmation: pass the plan digest.",
        ResumeParams, JobView, _resume, open_world=True,
    ),
)  # fmt: skip
