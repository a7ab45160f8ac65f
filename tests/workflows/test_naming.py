"""Naming templates are checked before anything is formatted, against R1's name
limits; a name that still comes out too long for R1 is a plan conflict, not a run
failure."""

from __future__ import annotations

import tracemalloc

import pytest

from engine.codec import parse_options
from engine.errors import InputError
from tests.workflows.checks import writes
from tests.workflows.rig import rig, sim_for, units
from workflows.naming import NAME_LIMITS, check_template, names
from workflows.options import CloudpathOptions, NamingOptions, UnitOptions


def refused(naming: dict) -> str:
    with pytest.raises(InputError) as info:
        parse_options(UnitOptions, {"naming": naming})
    (detail,) = info.value.details
    return detail


@pytest.mark.parametrize(
    ("field", "template", "why"),
    [
        ("ap_group", "{venue:>20000000}", "width 20000000 is over R1's 64-character limit"),
        ("ap_group", "{venue:>999999999}", "width 99999999... is over"),
        ("pool", "{n:.999999999f}", "precision 99999999... is over R1's 255-character"),
        ("network", "{unit_number:033}", "width 33 is over R1's 32-character limit"),
        ("ssid", "{ssid_name:^40}", "width 40 is over"),
        ("identity_group", "{venue:>{n}}", "a format spec cannot contain fields"),
        ("ap_group", "{venue.__class__}", "unknown field <value>: use {unit_number}"),
        ("ap_group", "{unit_number[0]}", "unknown field <value>: use {unit_number}"),
        ("ap_group", "{0}", "unknown field <value>: use {unit_number}"),
        ("ap_group", "{unit_number!r}", "conversion !r is not allowed"),
        ("ap_group", "{unit_number", "unbalanced braces"),
        ("ap_group", "{unit_number:d}", "cannot be formatted (ValueError)"),
        ("network", "x" * 33, "names would be at least 33 characters"),
        ("network", "{unit_number:>30}-xy", "names would be at least 33 characters"),
        ("passphrase_username", "{n}" * 200, "a template has at most 512 characters"),
    ],
    ids=lambda v: v[:24],
)
def test_bad_templates_are_refused_naming_the_field(field: str, template: str, why: str) -> None:
    detail = refused({field: template})
    assert detail.startswith(f"options.naming.{field}: ") and why in detail
    assert len(detail) < 200  # never the template itself


def test_a_huge_width_is_refused_without_building_the_string() -> None:
    tracemalloc.start()
    try:
        refused({"ap_group": "{venue:>20000000}"})
        refused({"pool": "{n:.20000000f}"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # a 20,000,000-character name is 20 MB


def test_prefix_and_postfix_count_toward_the_limit() -> None:
    assert "at least 33 characters" in refused(
        {"prefix": "p" * 16, "postfix": "q" * 16, "network": "{unit_number}x"}
    )
    NamingOptions(prefix="p" * 16, postfix="q" * 16, ssid="{ssid_name:>32}")  # no prefix on SSIDs


def test_good_templates_still_render() -> None:
    naming = NamingOptions(ap_group="{venue}-{unit_number:>05}", passphrase_username="{n:03d}")
    unit = units(1)[0]
    assert names(naming, unit, "Sim")["ap_group"] == "Sim-00101"
    for field, (_, hi) in NAME_LIMITS.items():
        check_template(field, "{unit_number}" + "x" * (hi - 13))  # exactly at the limit


def test_cloudpath_names_are_bounded() -> None:
    for field, size in (("pool_name", 256), ("identity_group", 256), ("network_name", 33)):
        with pytest.raises(InputError) as info:
            parse_options(CloudpathOptions, {field: "x" * size})
        assert info.value.details[0].startswith(f"options.{field}: ")


@pytest.mark.anyio
async def test_names_too_long_for_r1_are_plan_conflicts(redis, prefix) -> None:
    unit = units(1)[0].model_copy(update={"unit_number": "1" * 32, "ssid_name": "S" * 32})
    long = "{unit_number}" * 8  # 256 characters with a 32-character unit number
    naming = {"identity_group": long, "pool": long, "passphrase_username": long + "{n}",
              "ssid": "{ssid_name}x", "network": "{unit_number}"}  # fmt: skip
    sim = sim_for([unit])
    async with rig(redis, prefix, sim) as r:
        plan = await r.plan("per_unit_dpsk", [unit], {"naming": naming})
        phases = plan.units[0].phases
        expect = {"identity_group": "1-255 characters (is 256)", "dpsk_pool": "(is 256)",
                  "network": "not a valid R1 SSID (2-32 characters",
                  "passphrases": "(is 257)"}  # fmt: skip
        for phase, why in expect.items():
            assert phases[phase].action == "conflict", phase
            assert why in (phases[phase].detail or ""), phase
        assert writes(r.stats()) == {}
