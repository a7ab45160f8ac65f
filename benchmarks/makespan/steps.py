"""The unit-phases as R1 needs them, for the usual designs (phase barrier, sequential).

Each step issues a unit's writes of one phase in the target shape (issue 12):
AP group created with its APs; identity group; pool; network then its venue
relation; the pool binding; the passphrases (one CSV import, or one call each);
the AP group's activation; per AP the LAN port override, then the port setting.
Each activity is waited for the usual way: `GET /activities/{id}` every 3 R1
seconds, one activity at a time per waiter (no bulk poll).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from benchmarks.makespan.workload import UnitWants
from workflows.r1 import Accepted, R1Client, raise_for_activity

POLL_SECONDS = 3.0
"""R1 seconds between two polls of one activity."""

PHASES = (
    "ap_group", "identity_group", "dpsk_pool", "network", "bind_pool", "passphrases",
    "activate", "lan_ports",
)  # fmt: skip


@dataclass
class Runner:
    """How a design runs a unit's step: the client, the venue, and whether the
    writes of one step go out together (barrier) or one at a time (sequential)."""

    client: R1Client
    venue_id: str
    together: bool = True
    csv_passphrases: bool = True

    async def wait(self, accepted: Accepted) -> None:
        """Poll this one activity until it is done (a FAIL raises)."""
        if not accepted.request_id:
            return
        pause = self.client.config.scaled(POLL_SECONDS)
        while True:
            await anyio.sleep(pause)
            result = await self.client.get_activity(accepted.request_id)
            if result is not None and result.done:
                raise_for_activity(result)
                return

    async def each(self, writes: list[Callable[[], Awaitable[Accepted]]]) -> None:
        """Issue `writes` and wait for their activities: all sent, then all waited
        (each by its own poller) when `together`; else one write, one wait."""
        if not self.together:
            for write in writes:
                await self.wait(await write())
            return
        sent = [await write() for write in writes]
        async with anyio.create_task_group() as tg:
            for accepted in sent:
                tg.start_soon(self.wait, accepted)

    async def step(self, phase: str, u: UnitWants) -> None:
        await STEPS[phase](self, u)


async def ap_group(r: Runner, u: UnitWants) -> None:
    c = r.client
    await r.wait(await c.create_ap_group(r.venue_id, u.ap_group, ap_serials=u.serials))
    if not r.together:  # the barrier reads every new group's id once after the phase
        group = await c.find_ap_group(r.venue_id, u.ap_group)
        if group is None:
            raise RuntimeError(f"AP group {u.ap_group} not found after its create")
        u.ids["ap_group"] = group.id


async def identity_group(r: Runner, u: UnitWants) -> None:
    accepted = await r.client.create_identity_group(u.identity_group)
    u.ids["identity_group"] = str(accepted.id)
    await r.wait(accepted)


async def dpsk_pool(r: Runner, u: UnitWants) -> None:
    accepted = await r.client.create_dpsk_pool(u.ids["identity_group"], u.pool, **u.pool_settings)
    u.ids["pool"] = str(accepted.id)
    await r.wait(accepted)


async def network(r: Runner, u: UnitWants) -> None:
    c = r.client
    accepted = await c.create_wifi_network(
        u.network, u.ssid, network_type="dpsk", security=u.security,  # type: ignore[arg-type]
        vlan_id=u.vlan,
    )  # fmt: skip
    u.ids["network"] = str(accepted.id)
    await r.wait(accepted)
    await r.wait(await c.activate_on_venue(r.venue_id, u.ids["network"], all_ap_groups=False))


async def bind_pool(r: Runner, u: UnitWants) -> None:
    await r.wait(await r.client.bind_dpsk_pool(u.ids["network"], u.ids["pool"]))


async def passphrases(r: Runner, u: UnitWants) -> None:
    c, pool = r.client, u.ids["pool"]
    if r.csv_passphrases:
        await r.wait(await c.import_passphrases_csv(pool, u.rows))
        return
    await r.each([lambda row=row: c.create_passphrase(pool, row) for row in u.rows])


async def activate(r: Runner, u: UnitWants) -> None:
    c = r.client
    await r.wait(await c.activate_on_ap_group(r.venue_id, u.ids["network"], u.ids["ap_group"]))


async def lan_ports(r: Runner, u: UnitWants) -> None:
    c, venue = r.client, r.venue_id
    if not u.ports:
        return
    await r.each([lambda s=s: c.set_ap_lan_port_override(venue, s) for s in u.serials])
    writes = []
    for serial in u.serials:
        for p in u.ports:
            untag = p.untag_id or u.vlan
            members = p.vlan_members if p.type == "TRUNK" and p.vlan_members else str(untag)
            writes.append(
                lambda s=serial, p=p, untag=untag, members=members: c.set_ap_lan_port(
                    venue, s, p.port_id, untag_id=untag, vlan_members=members
                )
            )
    await r.each(writes)


STEPS: dict[str, Callable[[Runner, UnitWants], Awaitable[None]]] = {
    "ap_group": ap_group,
    "identity_group": identity_group,
    "dpsk_pool": dpsk_pool,
    "network": network,
    "bind_pool": bind_pool,
    "passphrases": passphrases,
    "activate": activate,
    "lan_ports": lan_ports,
}
