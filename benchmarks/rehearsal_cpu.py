"""CPU seconds per 1,000 calls of a rehearsal's in-process path: the R1 client
(`R1Client`, its auth, meter and retries) over `httpx.ASGITransport` into the
`Simulator`, no network, no rate limiter, the `instant` profile (no sleeps): what
remains is the CPU a scaled rehearsal spends per call.

    python -m benchmarks.rehearsal_cpu [--calls 3000] [--profile]

The call mix is a unit's of `per_unit_dpsk` as the W500 baseline makes them (40
calls: a find before each create, 20 passphrases one call each, the unit's 2 APs
moved and their LAN ports set, one bulk activity poll); 16 units at a time.
Measured twice, each in a fresh subprocess:
"before" with `import sniffio` failing as on an install without it (`NoSniffio`:
httpx's ASGI transport and httpcore then retry the import on every request)
and "after" as installed (`--baseline DIR`: "before" on the code in DIR, e.g. main
before the rehearsal fixes). Prints both and, last, `cpu_ratio=<before/after>`.
`--profile` prints the top of a cProfile of the "after" run instead.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PASSPHRASES = 20
UNIT_CALLS = 14 + PASSPHRASES + 6
"""Calls of one unit (`_workload.unit`)."""
CONCURRENCY = 16
WARMUP_UNITS = 5


async def _workload(calls: int) -> dict[str, Any]:
    import anyio
    import httpx
    from pydantic import SecretStr

    from workflows.r1 import R1Client, R1Config
    from workflows.r1.activities import R1ActivityBackend
    from workflows.r1.models import PassphraseRow
    from workflows.sim import SimConfig, Simulator

    units_needed = WARMUP_UNITS + max(1, calls // UNIT_CALLS)
    sim = Simulator(
        SimConfig(
            profile="instant", seed=1, aps=2 * units_needed,
            rate_limit_per_second=1e9, rate_limit_burst=10**9,
        )
    )  # fmt: skip
    cfg = R1Config(
        client_id=sim.config.client_id, client_secret=sim.config.client_secret,
        tenant_id=sim.config.tenant_id, base_url="http://sim",
    )  # fmt: skip
    async with R1Client(cfg, transport=httpx.ASGITransport(app=sim.app), seed=1) as client:
        backend = R1ActivityBackend(client)
        venue_id = (await client.list_venues())[0].id
        serials = [ap.serial_number for ap in await client.list_aps(venue_id=venue_id)]

        async def unit(i: int) -> None:
            """Today's `per_unit_dpsk` unit: find before each create, 20 passphrases one
            call each, its 2 APs moved and their LAN ports set, one activity poll."""
            name = f"bench-{i}"
            await client.find_identity_group(name)
            idg = await client.create_identity_group(name)
            await client.find_dpsk_pool(name)
            pool = await client.create_dpsk_pool(str(idg.id), name)
            await client.find_wifi_network(name)
            net = await client.create_wifi_network(
                name, f"Bench-{i}", network_type="dpsk", security="WPA2Personal", vlan_id=100
            )
            await client.bind_dpsk_pool(str(net.id), str(pool.id))
            await client.activate_on_venue(venue_id, str(net.id), all_ap_groups=False)
            await client.find_ap_group(venue_id, name)
            await client.create_ap_group(venue_id, name)
            group = await client.find_ap_group(venue_id, name)
            assert group is not None
            activate = await client.activate_on_ap_group(venue_id, str(net.id), group.id)
            for k in range(PASSPHRASES):
                row = PassphraseRow(username=f"{name}-{k}", passphrase=SecretStr(f"pass-{i}-{k}x"))
                await client.create_passphrase(str(pool.id), row)
            await client.list_passphrases(str(pool.id))
            for serial in serials[2 * i : 2 * i + 2]:
                await client.assign_ap_to_group(venue_id, group.id, serial)
                await client.set_ap_lan_port_override(venue_id, serial)
                await client.set_ap_lan_port(venue_id, serial, 2, untag_id=100)
            await backend.query([str(activate.request_id)])

        async def units(first: int, count: int) -> None:
            limit = anyio.Semaphore(CONCURRENCY)

            async def one(i: int) -> None:
                async with limit:
                    await unit(i)

            async with anyio.create_task_group() as tg:
                for i in range(first, first + count):
                    tg.start_soon(one, i)

        await units(0, WARMUP_UNITS)  # imports, the token, first-call caches
        before = client.stats.total_calls
        cpu = time.process_time()
        await units(WARMUP_UNITS, units_needed - WARMUP_UNITS)
        cpu = time.process_time() - cpu
        made_calls = client.stats.total_calls - before
        failures = client.stats.failures
        violations = len(sim.contract_violations)
    return {"calls": made_calls, "cpu_s": cpu, "failures": failures, "violations": violations}


def measure(calls: int) -> dict[str, Any]:
    import anyio

    return anyio.run(_workload, calls)


class NoSniffio:
    """A meta-path finder for `before`: `import sniffio` fails as on an install
    without it, after the same search by every other finder (a bare
    `sys.modules["sniffio"] = None` would fail at once and cost nothing)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "sniffio":
            return None
        import sys

        for finder in sys.meta_path:  # what a missing module costs: every finder asked
            if finder is not self and hasattr(finder, "find_spec"):
                finder.find_spec("sniffio_not_installed", path, target)
        raise ModuleNotFoundError("No module named 'sniffio'", name="sniffio")


def child(mode: str, calls: int, root: Path = ROOT) -> dict[str, Any]:
    """One measurement in a fresh interpreter on the code under `root` (`before`:
    sniffio not importable)."""
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('rehearsal_cpu', {str(Path(__file__))!r})\n"
        "b = importlib.util.module_from_spec(spec); spec.loader.exec_module(b)\n"
        + (
            "sys.modules.pop('sniffio', None); sys.meta_path.insert(0, b.NoSniffio())\n"
            if mode == "before"
            else ""
        )
        + f"print(json.dumps(b.measure({calls})))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def per_1000(result: dict[str, Any]) -> float:
    return result["cpu_s"] / max(1, result["calls"]) * 1000


def profile(calls: int, top: int = 25) -> None:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    result = measure(calls)
    prof.disable()
    print(f"{result['calls']} calls profiled")
    pstats.Stats(prof).sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument(
        "--baseline", type=Path, default=ROOT,
        help="run `before` on the code in this tree (e.g. `git archive main` extracted)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    if args.profile:
        profile(args.calls)
        return 0
    results = {
        "before": child("before", args.calls, args.baseline),
        "after": child("after", args.calls),
    }
    for mode, r in results.items():
        note = "  (sniffio unimportable" + (
            f", code in {args.baseline})" if args.baseline != ROOT else ")"
        )
        note = note if mode == "before" else ""
        print(
            f"{mode:>6}: {r['calls']} calls, {r['cpu_s']:.2f} CPU s, "
            f"{per_1000(r):.3f} CPU s / 1,000 calls, {r['failures']} failures{note}"
        )
    print(f"cpu_ratio={per_1000(results['before']) / per_1000(results['after']):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
