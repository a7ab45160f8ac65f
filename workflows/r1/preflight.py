"""`phasegrid r1 check`: a read-only preflight of a tenant against R1's documents.

Before a first rollout, an operator wants to know that the token works, the
venue and its APs are where the plan will look for them, and that every answer
the tenant gives is what the documents (and therefore phasegrid) expect. Each
probe is one read; each answer is validated against the compact contract; a
probe that answers but does not conform is a mismatch, listed with the field
and rule at fault. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from pydantic import BaseModel

from workflows.r1.contract.validate import Contract, Violation


class Probe(BaseModel):
    """One read: what it asks, and the page query it sends (Spring or body style)."""

    name: str
    method: str
    path: str
    params: dict[str, Any] = {}
    body: Any = None


class ProbeResult(BaseModel):
    name: str
    operation: str
    status: int | None
    rows: int | None = None
    violations: list[Violation] = []
    error: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.error is None
            and not self.violations
            and self.status is not None
            and (200 <= self.status < 300)
        )


def probes(venue_id: str | None) -> list[Probe]:
    page = {"page": 1, "pageSize": 10}
    out = [
        Probe(name="venues", method="POST", path="/venues/query", body=page),
        Probe(name="APs", method="POST", path="/venues/aps/query", body=page),
        Probe(name="AP groups", method="POST", path="/venues/apGroups/query", body=page),
        Probe(name="Wi-Fi networks", method="POST", path="/wifiNetworks/query", body=page),
        Probe(
            name="identity groups",
            method="POST",
            path="/identityGroups/query",
            params={"page": 0, "size": 10},
            body={},
        ),
        Probe(name="DPSK pools", method="POST", path="/dpskServices/query", body=page),
    ]
    if venue_id:
        out.insert(0, Probe(name="venue", method="GET", path=f"/venues/{venue_id}"))
    return out


def _rows(body: Any) -> int | None:
    if isinstance(body, dict):
        for key in ("data", "content"):
            if isinstance(body.get(key), list):
                return len(body[key])
        return 1
    return None


async def run_probes(
    client: httpx.AsyncClient,
    venue_id: str | None = None,
    *,
    contract: Contract | None = None,
    progress: Callable[[ProbeResult], Awaitable[None] | None] | None = None,
) -> list[ProbeResult]:
    """Run every probe on an authenticated client; never raises for an answer."""
    contract = contract or Contract.load()
    results = []
    for probe in probes(venue_id):
        operation = contract.operation(probe.method, probe.path) or f"{probe.method} {probe.path}"
        query = {k: [str(v)] for k, v in probe.params.items()}
        found = contract.check_request(
            probe.method, probe.path, query, "application/json", probe.body
        )
        try:
            answer = await client.request(
                probe.method,
                probe.path,
                params=probe.params or None,
                json=probe.body if probe.body is not None else None,
            )
        except httpx.HTTPError as exc:
            result = ProbeResult(
                name=probe.name,
                operation=operation,
                status=None,
                error=f"{type(exc).__name__}: {exc}",
            )
        else:
            try:
                body = answer.json() if answer.content else None
            except ValueError:
                body = None
            error = None
            if not 200 <= answer.status_code < 300:
                error = f"HTTP {answer.status_code}"
            else:
                found += contract.check_response(
                    probe.method,
                    probe.path,
                    answer.status_code,
                    answer.headers.get("content-type"),
                    body,
                )
            result = ProbeResult(
                name=probe.name,
                operation=operation,
                status=answer.status_code,
                rows=_rows(body) if error is None else None,
                violations=found,
                error=error,
            )
        results.append(result)
        if progress is not None:
            maybe = progress(result)
            if maybe is not None:
                await maybe
    return results


def table(results: list[ProbeResult]) -> str:
    """The report an operator reads: one line per probe, then each mismatch."""
    lines = [f"{'probe':<16} {'operation':<34} {'status':>6} {'rows':>5}  verdict"]
    for r in results:
        verdict = "conforms" if r.ok else (r.error or f"{len(r.violations)} mismatch(es)")
        lines.append(
            f"{r.name:<16} {r.operation:<34} {r.status if r.status is not None else '-':>6} "
            f"{r.rows if r.rows is not None else '-':>5}  {verdict}"
        )
    for r in results:
        for v in r.violations[:10]:
            lines.append(f"  {v.text()}")
    return "\n".join(lines)
