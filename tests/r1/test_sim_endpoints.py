"""Every endpoint the workflows use, against the simulator in-process and over
real HTTP, waiting on activities through the engine's ActivityTracker."""

from __future__ import annotations

import httpx
import pytest

from workflows.r1 import PassphraseRow, R1ActivityFailed

from .simharness import SimTarget, tracked

pytestmark = pytest.mark.anyio


async def test_token_and_401_refresh(target: SimTarget) -> None:
    async with target.client() as r1:
        venues = await r1.list_venues()
        assert [v.id for v in venues] == [target.sim.venue_id]
        target.sim.auth.revoke_all()  # every token dies server-side
        venue = await r1.get_venue(target.sim.venue_id)
        assert venue.name == "Sim Venue"
        assert r1.auth.fetches == 2
    stats = target.sim.stats()
    assert stats["tokens_issued"] == 2


async def test_dpsk_unit_lifecycle(target: SimTarget) -> None:
    """Create, verify and tear down everything one DPSK unit needs."""
    venue_id = target.sim.venue_id
    async with tracked(target.client()) as h:
        r1 = h.client
        aps = await r1.list_aps(venue_id=venue_id, page_size=7)  # forces several pages
        assert len(aps) == 48 and len({a.serial_number for a in aps}) == 48
        serial = aps[0].serial_number
        default_group = aps[0].ap_group_id

        accepted = await h.ok(await r1.create_ap_group(venue_id, "unit-101", description="u101"))
        group = await r1.find_ap_group(venue_id, "unit-101")
        assert group is not None and group.description == "u101"
        assert accepted.id == group.id  # v1.1: EntityIdOperationResponse carries the id
        found = await r1.list_ap_groups(venue_id=venue_id)
        assert "unit-101" in {g.name for g in found}
        await h.ok(await r1.assign_ap_to_group(venue_id, group.id, serial))
        moved = await r1.list_aps(ap_group_id=group.id)
        assert [a.serial_number for a in moved] == [serial]

        ident = await h.ok(await r1.create_identity_group("ig-101", description="unit 101"))
        assert ident.id in {g.id for g in await r1.list_identity_groups()}
        pool = await h.ok(await r1.create_dpsk_pool(ident.id, "pool-101", passphrase_length=12))
        found_pool = await r1.find_dpsk_pool("pool-101")
        assert found_pool is not None and found_pool.id == pool.id
        assert found_pool.passphrase_length == 12 and found_pool.identity_group_id == ident.id

        net = await h.ok(
            await r1.create_wifi_network("net-101", "Unit 101", network_type="dpsk", vlan_id=101)
        )
        assert net.id  # from `response.id`
        await h.ok(await r1.bind_dpsk_pool(net.id, pool.id))
        await h.ok(await r1.activate_on_venue(venue_id, net.id, all_ap_groups=False))
        await h.ok(await r1.activate_on_ap_group(venue_id, net.id, group.id))
        nets = await r1.list_wifi_networks(filters={"name": "net-101"})
        assert nets[0].effective_ssid == "Unit 101" and nets[0].type == "dpsk"
        assert nets[0].model_extra["venueApGroups"] == [
            {"venueId": venue_id, "isAllApGroups": False, "apGroupIds": [group.id]}
        ]

        await h.ok(
            await r1.create_passphrase(
                pool.id,
                PassphraseRow(username="resident-1", passphrase="first-pass-1", vlan_id=101),
            )
        )
        rows = [
            PassphraseRow(
                username=f"resident-{i}",
                passphrase=f"csv-pass-{i:04d}",
                vlan_id=101,
                number_of_devices=3,
            )
            for i in range(2, 27)
        ]
        rows.append(PassphraseRow(username="generated"))  # blank: the pool generates one
        await h.ok(await r1.import_passphrases_csv(pool.id, rows))
        phrases = await r1.list_passphrases(pool.id, page_size=10)
        assert len(phrases) == 27
        by_user = {p.username: p for p in phrases}
        assert by_user["resident-5"].passphrase.get_secret_value() == "csv-pass-0005"
        assert by_user["resident-5"].number_of_devices == 3
        assert len(by_user["generated"].passphrase.get_secret_value()) == 12
        identities = await r1.list_identities(ident.id, page_size=10)  # one per passphrase
        assert sorted(i.dpsk_guid or "" for i in identities) == sorted(p.id for p in phrases)

        await h.ok(await r1.set_ap_lan_port_override(venue_id, serial))
        await h.ok(await r1.set_ap_lan_port(venue_id, serial, 2, untag_id=101))
        port = target.sim.store.aps[serial].lanPorts["2"]
        assert (port.type, port.untagId, port.vlanMembers) == ("ACCESS", 101, "101")

        # tear down in reverse dependency order
        await h.ok(await r1.delete_passphrases(pool.id, [p.id for p in phrases]))
        await h.ok(await r1.deactivate_network(venue_id, net.id))
        await h.ok(await r1.delete_wifi_network(net.id))
        await h.ok(await r1.delete_dpsk_pool(pool.id))
        await h.ok(await r1.delete_identities(ident.id, [i.id for i in identities]))
        await h.ok(await r1.delete_identity_group(ident.id))
        await h.ok(await r1.assign_ap_to_group(venue_id, default_group, serial))
        await h.ok(await r1.delete_ap_group(venue_id, group.id))
        calls = r1.stats.calls
    counts = target.sim.stats()["resources"]
    assert counts["wifiNetworks"] == counts["dpskServices"] == counts["identityGroups"] == 0
    assert counts["passphrases"] == 0 and counts["apGroups"] == 1  # the default group
    assert calls["POST /activities/query"] >= 1
    assert calls["POST /dpskServices/{poolId}/passphrases/csvFiles"] == 1


async def test_sim_stats_route_counts_calls(target: SimTarget) -> None:
    async with target.client() as r1:
        await r1.list_venues()
        stats = r1.stats.snapshot()
    transport = httpx.ASGITransport(app=target.sim.app) if target.mode == "asgi" else None
    async with httpx.AsyncClient(base_url=target.base_url, transport=transport) as raw:
        sim_stats = (await raw.get("/_sim/stats")).json()
    assert stats["total_calls"] == 2 and stats["rate_limited"] == 0
    assert sim_stats["rate_limited"] == 0
    assert "POST /venues/query" in str(sim_stats)


async def test_duplicate_name_fails_the_activity(target: SimTarget) -> None:
    async with tracked(target.client()) as h:
        await h.ok(await h.client.create_identity_group("dup"))
        err = await h.fails(await h.client.create_identity_group("dup"))
    assert isinstance(err, R1ActivityFailed)
    assert "Name must be unique" in str(err) and err.details == ["name: Name must be unique"]
    assert target.sim.stats()["duplicate_create_attempts"]


async def test_deletion_constraints_are_permanent(target: SimTarget) -> None:
    venue_id = target.sim.venue_id
    async with tracked(target.client()) as h:
        r1 = h.client
        ident = await h.ok(await r1.create_identity_group("ig-c"))
        pool = await h.ok(await r1.create_dpsk_pool(ident.id, "pool-c"))
        await h.ok(await r1.create_passphrase(pool.id, PassphraseRow(username="u")))
        await h.ok(await r1.create_ap_group(venue_id, "grp-c"))
        group = await r1.find_ap_group(venue_id, "grp-c")
        serial = (await r1.list_aps(venue_id=venue_id))[0].serial_number
        await h.ok(await r1.assign_ap_to_group(venue_id, group.id, serial))
        net = await h.ok(await r1.create_wifi_network("net-c", "ssid-c", passphrase="12345678"))
        await h.ok(await r1.activate_network(venue_id, net.id))
        errors = [
            await h.fails(await r1.delete_dpsk_pool(pool.id)),
            await h.fails(await r1.delete_identity_group(ident.id)),
            await h.fails(await r1.delete_wifi_network(net.id)),
            await h.fails(await r1.delete_ap_group(venue_id, group.id)),
        ]
    assert all(isinstance(e, R1ActivityFailed) and not e.transient for e in errors)
    text = " | ".join(str(e) for e in errors)
    for phrase in (
        "still has passphrases",
        "has a DPSK service",
        "still activated",
        "still has APs",
    ):
        assert phrase in text


async def test_ap_group_created_with_its_aps_as_r1_documents(target: SimTarget) -> None:
    """VenueApGroup (v1.1): the listed APs move into the new group (from another group
    of the venue too) and the answer carries its id; an AP of another venue FAILs the
    create, which makes nothing; a group activation needs the network on the venue."""
    from workflows.sim.model import Ap, Venue

    sim = target.sim
    venue_id = sim.venue_id
    other = Venue("venue-2", "Other Venue", {}, "")
    sim.store.add_venue(other, "venue-2-default")
    sim.store.add_ap(Ap.new("900000000001", "AP-OTHER", "R550", other.id, ""))
    async with tracked(target.client()) as h:
        r1 = h.client
        a, b = [ap.serial_number for ap in (await r1.list_aps(venue_id=venue_id))[:2]]
        first = await h.ok(await r1.create_ap_group(venue_id, "grp-first", ap_serials=[b]))
        made = await h.ok(await r1.create_ap_group(venue_id, "grp-aps", ap_serials=[a, b]))
        group = await r1.find_ap_group(venue_id, "grp-aps")
        assert group is not None and made.id == group.id and first.id != group.id
        moved = await r1.list_aps(ap_group_id=group.id)
        assert sorted(x.serial_number for x in moved) == sorted([a, b])  # b left grp-first
        assert await r1.list_aps(ap_group_id=first.id) == []

        bad = await r1.create_ap_group(venue_id, "grp-bad", ap_serials=[a, "900000000001"])
        assert "not in venue" in str(await h.fails(bad))
        assert await r1.find_ap_group(venue_id, "grp-bad") is None
        assert sim.store.aps[a].apGroupId == group.id  # nothing moved

        net = await h.ok(await r1.create_wifi_network("net-g", "ssid-g", passphrase="12345678"))
        refused = await r1.activate_on_ap_group(venue_id, net.id, group.id)
        assert "not activated on this venue" in str(await h.fails(refused))
        await h.ok(await r1.activate_on_venue(venue_id, net.id, all_ap_groups=False))
        await h.ok(await r1.activate_on_ap_group(venue_id, net.id, group.id))
