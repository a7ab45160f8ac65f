"""Cleanup plans from the ledger in reverse order; audit reads the world back."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from engine import JobStatus, PhaseSpec, WorkflowSpec
from engine.errors import ConfirmationRequired, WrongState
from engine.models import AuditItem, AuditReport, CleanupRequest, CleanupSource, PhasePlan
from tests.engine.helpers import Unit, make_engine

pytestmark = pytest.mark.anyio


class Make:
    def __init__(self, world: dict, kind: str) -> None:
        self.world, self.kind = world, kind

    async def run(self, ctx):
        rid = f"{self.kind}-{ctx.unit_key}"
        self.world[rid] = ctx.unit_key
        ctx.record(self.kind, rid, name=rid)
        return {f"{self.kind}_id": rid}


class Gone(BaseModel):
    kind: str
    id: str

    @property
    def key(self) -> str:
        return self.id


class Unmake:
    def __init__(self, world: dict, order: list) -> None:
        self.world, self.order = world, order

    async def plan(self, ctx):
        return PhasePlan(action="delete", resource=ctx.unit.kind, name=ctx.unit.id, calls=1)

    async def run(self, ctx):
        self.order.append(ctx.unit.id)
        self.world.pop(ctx.unit.id, None)


def specs(world: dict, order: list) -> list[WorkflowSpec]:
    def cleanup(source: CleanupSource) -> CleanupRequest:
        units = [{"kind": e.resource, "id": e.id} for e in reversed(source.ledger)]
        return CleanupRequest(workflow="unmake", units=units, title=f"cleanup of {source.job_id}")

    async def audit(ctx) -> AuditReport:
        items = [
            AuditItem(unit=e.unit, resource=e.resource, id=e.id,
                      status="present" if e.id in world else "missing")
            for e in ctx.ledger
        ]  # fmt: skip
        return AuditReport(
            job_id=ctx.job_id, workflow=ctx.workflow, checked_at=ctx.clock(), items=items
        )

    make = WorkflowSpec(
        name="make", title="make", unit_model=Unit, cleanup=cleanup, audit=audit,
        phases=(
            PhaseSpec(id="group", title="Group", executor=Make(world, "group"),
                      outputs=("group_id",)),
            PhaseSpec(id="pool", title="Pool", executor=Make(world, "pool"), depends_on=("group",)),
        ),
    )  # fmt: skip
    unmake = WorkflowSpec(
        name="unmake", title="unmake", unit_model=Gone, destructive=True,
        confirm_text=lambda _opts: "Sim Venue", unit_key=lambda u, _i: u.id,
        phases=(PhaseSpec(id="delete", title="Delete", executor=Unmake(world, order),
                          concurrency=1),),
    )  # fmt: skip
    return [make, unmake]


async def test_cleanup_deletes_the_ledger_in_reverse_and_audit_sees_it(redis, prefix):
    world: dict = {}
    order: list = []
    engine = make_engine(redis, prefix, *specs(world, order), max_in_flight=1)
    async with engine.running():
        plan = await engine.plan("make", [{"name": "u1"}, {"name": "u2"}])
        with pytest.raises(WrongState):
            await engine.cleanup(plan.job_id)  # not finished yet
        await engine.confirm(plan.job_id, plan.digest)
        assert (await engine.wait(plan.job_id)).status == JobStatus.COMPLETED
        ledger = await engine.ledger(plan.job_id)
        assert [e.seq for e in ledger] == [1, 2, 3, 4]
        report = await engine.audit(plan.job_id)
        assert report.counts["present"] == 4
        del world["pool-u2"]  # deleted behind the job's back
        report = await engine.audit(plan.job_id)
        assert report.counts == {"present": 3, "missing": 1, "drifted": 0, "unknown": 0}
        assert [i.id for i in report.items if i.status == "missing"] == ["pool-u2"]

        cleanup = await engine.cleanup(plan.job_id)
        assert cleanup.summary.destructive and cleanup.summary.delete == 4
        assert (await engine.get(cleanup.job_id)).title == f"cleanup of {plan.job_id}"
        with pytest.raises(ConfirmationRequired):
            await engine.confirm(cleanup.job_id, cleanup.digest)
        await engine.confirm(cleanup.job_id, cleanup.digest, confirm_text="Sim Venue")
        assert (await engine.wait(cleanup.job_id)).status == JobStatus.COMPLETED
    assert order == [e.id for e in reversed(ledger)]
    assert world == {}
