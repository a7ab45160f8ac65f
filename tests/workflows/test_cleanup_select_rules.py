"""Cleanup selection (workflows.cleanup_select) on hand-made ledgers: only what the
job proved it created is deleted; whatever holds a kept resource is kept too; shared
resources go last, units in input order."""

from __future__ import annotations

from typing import Any

from engine.models import CleanupSource, LedgerEntry
from workflows.cleanup_select import cleanup_from_ledger, kept_line


def entry(resource: str, id_: str, action: str, unit: str | None = "u1", **parent: str) -> Any:
    return LedgerEntry(unit=unit, phase="p", resource=resource, id=id_, action=action,
                       parent=parent)  # fmt: skip


def plan(*ledger: LedgerEntry, unit_keys: list[str] | None = None, **options: Any) -> Any:
    source = CleanupSource(job_id="job-1", workflow="w", options=options,
                           unit_keys=unit_keys or ["u1"], ledger=list(ledger))  # fmt: skip
    req = cleanup_from_ledger(source)
    items = {(i["kind"], i["id"], i["parent"].get("ap_group_id")): i for u in req.units
             for i in u["items"]}  # fmt: skip
    items.update({(i["kind"], i["id"], i["parent"].get("ap_group_id")): i
                  for i in req.options["global_items"]})  # fmt: skip
    return req, items


def test_same_ap_in_two_groups_is_two_resources() -> None:
    _, items = plan(entry("ap", "ap1", "reused", ap_group_id="g1"),
                    entry("ap", "ap1", "created", ap_group_id="g2"))  # fmt: skip
    assert items[("ap", "ap1", "g1")]["keep"]
    assert items[("ap", "ap1", "g2")]["keep"] is None


def test_non_ledger_actions_are_skipped_not_the_end() -> None:
    _, items = plan(entry("network", "n0", "deleted"), entry("network", "n1", "created"))
    assert items[("network", "n1", None)]["keep"] is None
    assert ("network", "n0", None) not in items


def test_group_holding_a_kept_ap_is_kept() -> None:
    _, items = plan(entry("ap_group", "g1", "created"),
                    entry("ap", "ap1", "unknown", ap_group_id="g1"))  # fmt: skip
    assert "still holds ap" in items[("ap_group", "g1", None)]["keep"]
    _, items = plan(entry("ap_group", "g1", "created"),
                    entry("ap", "ap1", "created", ap_group_id="g1"))  # fmt: skip
    assert items[("ap_group", "g1", None)]["keep"] is None


def test_only_named_kinds_hold_their_parents() -> None:
    _, items = plan(
        entry("dpsk_pool", "P", "created"),
        entry("identity_group", "IG", "created"),
        entry("network", "n1", "reused", pool_id="P", identity_group_id="IG"),
    )
    assert items[("dpsk_pool", "P", None)]["keep"] is None
    assert items[("identity_group", "IG", None)]["keep"] is None


def test_binding_keeps_its_pool_while_its_network_stays() -> None:
    for network in ("reused", "unknown"):  # kept, or deleted only after verification
        _, items = plan(entry("dpsk_pool", "P", "created"), entry("network", "N", network),
                        entry("binding", "N", "created", pool_id="P"))  # fmt: skip
        assert "still holds binding" in items[("dpsk_pool", "P", None)]["keep"], network
    _, items = plan(entry("dpsk_pool", "P", "created"), entry("binding", "N", "created",
                    pool_id="P"))  # fmt: skip  # network not in the ledger: it stays
    assert "still holds binding" in items[("dpsk_pool", "P", None)]["keep"]
    _, items = plan(entry("dpsk_pool", "P", "created"), entry("network", "N", "created"),
                    entry("binding", "N", "created", pool_id="P"))  # fmt: skip
    assert items[("dpsk_pool", "P", None)]["keep"] is None


def test_request_options() -> None:
    req, _ = plan(
        entry("passphrase", "pp1", "created"),
        entry("passphrase", "pp2", "created", pool_id="P"),
        entry("passphrase", "pp3", "reused", pool_id="P"),
        entry("network", "n1", "created", unit="a", venue_id="V1"),
        entry("network", "n2", "created", unit="b"),
        entry("network", "n3", "created", unit="z"),
        entry("dpsk_pool", "P", "created", unit="a"),
        entry("dpsk_pool", "P", "created", unit="b"),
        unit_keys=["b", "a"],
        venue="My Venue",
    )
    opts = req.options
    assert opts["venue"] == "My Venue" and opts["venue_id"] == "V1"
    assert opts["passphrases"] == {"": ["pp1"], "P": ["pp2"]}
    assert [i["id"] for i in opts["global_items"]] == ["P"]  # two units use it
    assert [u["unit"] for u in req.units] == ["b", "a", "z"]  # input order, strays last
    assert opts["kept"] == {"passphrase": 1, "dpsk_pool": 1}
    assert kept_line(opts["kept"]) == (
        "2 kept, never deleted (not proven created by this job): 1 dpsk_pool, 1 passphrase"
    )
    assert kept_line({}) is None
