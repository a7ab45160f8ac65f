"""`cloudpath_dpsk`: migrate a Cloudpath DPSK export into one R1 DPSK pool.

    venue -> identity_group -> dpsk_pool -> passphrase (per exported passphrase)
             network (optional) ---------> bind_pool (optional)

Units are the export's passphrases (key: their name, the R1 username); the
export's pool settings travel in the options (`cloudpath_job` builds both).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from engine.context import PlanContext
from engine.spec import PhaseSpec, WorkflowSpec
from workflows.audit import audit_job
from workflows.cleanup import cleanup_from_ledger
from workflows.inputs import CloudpathExport, CloudpathPassphrase, CloudpathPool
from workflows.inventory import Inventory, load_inventory
from workflows.loaders import load_cloudpath, parse_cloudpath
from workflows.options import CloudpathOptions
from workflows.phases.cloudpath import (
    CpBind,
    CpIdentityGroup,
    CpNetwork,
    CpPassphrase,
    CpPool,
    no_network,
    pool_name,
    skip_revoked,
)
from workflows.r1ctx import client_of, metering
from workflows.specs.per_unit import venue_phase


class CloudpathJobOptions(CloudpathOptions):
    pool: CloudpathPool | None = Field(
        None, description="The export's pool settings (name, length, device limit)."
    )


async def inventory(ctx: PlanContext) -> Inventory:
    opts = ctx.options
    inv = await load_inventory(
        ctx.resources, opts.venue, ("venues", "networks", "identity_groups", "pools")
    )
    pool = inv.pool_by_name(pool_name(opts))
    phrases: dict[str, str] = {}
    if pool is not None:  # one paged read of the target pool: what is there already
        client = client_of(ctx.resources)
        with metering():
            found = await client.list_passphrases(pool.id, page_size=5000)
        phrases = {p.username or "": p.id for p in found}
    inv.passphrases = phrases  # type: ignore[attr-defined]
    return inv


def cloudpath_job(export: CloudpathExport, **options: Any) -> tuple[list[Any], dict[str, Any]]:
    """Units and options of a `cloudpath_dpsk` job for an export."""
    opts: dict[str, Any] = dict(options)
    if export.pool is not None and "pool" not in opts:
        opts["pool"] = export.pool.model_dump(by_alias=False)
    return list(export.dpsks), opts


def cloudpath_dpsk() -> WorkflowSpec:
    phases = (
        venue_phase(),
        PhaseSpec(id="identity_group", title="Identity group", executor=CpIdentityGroup(),
                  per_unit=False, depends_on=("venue",), outputs=("identity_group_id",)),
        PhaseSpec(id="dpsk_pool", title="DPSK pool", executor=CpPool(), per_unit=False,
                  depends_on=("identity_group",), inputs=("identity_group_id",),
                  outputs=("pool_id",)),
        PhaseSpec(id="network", title="Network", executor=CpNetwork(), per_unit=False,
                  depends_on=("venue",), skip_if=no_network, outputs=("network_id",)),
        PhaseSpec(id="bind_pool", title="Bind pool", executor=CpBind(), per_unit=False,
                  depends_on=("network", "dpsk_pool"), skip_if=no_network,
                  inputs=("network_id", "pool_id"), critical=False),
        PhaseSpec(id="passphrase", title="Passphrase", executor=CpPassphrase(),
                  depends_on=("dpsk_pool",), inputs=("pool_id",), skip_if=skip_revoked),
    )  # fmt: skip
    return WorkflowSpec(
        name="cloudpath_dpsk",
        title="Cloudpath DPSK migration",
        description="A Cloudpath DPSK export into one R1 identity group and DPSK pool; "
        "passphrases go through chunked CSV imports (about 1 call per 1,000).",
        phases=phases,
        unit_model=CloudpathPassphrase,
        options_model=CloudpathJobOptions,
        inventory=inventory,
        unit_key=lambda u, _i: u.name,
        cleanup=cleanup_from_ledger,
        audit=audit_job,
        seconds_per_call=0.5,
        parse_text=parse_cloudpath,
        extra={"load_input": load_cloudpath},
    )
