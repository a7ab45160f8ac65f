"""`phasegrid r1 check`: read-only preflight of a real tenant (or a simulator)
against RUCKUS's published documents. Exit 0 when every answer conforms,
1 on a mismatch, 77 when the token is refused, 69 when the tenant is unreachable."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.exits import EXIT_AUTH, EXIT_FAILED, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = subparsers.add_parser("r1", help="R1 tenant tools (check: read-only preflight)")
    sub = p.add_subparsers(dest="r1_command", metavar="R1_COMMAND", required=True)
    check = sub.add_parser(
        "check",
        help="validate a tenant's answers against R1's documents (reads only)",
        description=(
            "Token, venue, APs, AP groups, networks, identity groups and DPSK pools: one read "
            "each, every answer validated against the R1 contract. Credentials come from "
            "R1_CLIENT_ID, R1_CLIENT_SECRET, R1_TENANT_ID, R1_REGION / R1_BASE_URL "
            "(R1_MSP_TENANT_ID for a customer tenant), or --sim-url for a `phasegrid sim`."
        ),
    )
    check.add_argument("--venue", default=None, help="venue id to read as well")
    check.add_argument("--sim-url", default=None, help="check a `phasegrid sim` server instead")
    check.set_defaults(func=run_check)
    return p


def run_check(args: argparse.Namespace) -> int:
    import anyio

    from workflows.r1 import R1Config
    from workflows.r1.errors import R1ConfigError

    try:
        if args.sim_url:
            config = R1Config(
                client_id="sim-client",
                client_secret="sim-secret",
                tenant_id="sim-tenant",
                base_url=args.sim_url,
            )
        else:
            config = R1Config.from_env()
    except R1ConfigError as exc:
        print(f"phasegrid r1 check: {exc}", file=sys.stderr)
        for line in getattr(exc, "details", None) or []:
            print(f"  {line}", file=sys.stderr)
        return EXIT_USAGE
    return anyio.run(_check, config, args.venue)


async def _check(config: Any, venue: str | None) -> int:
    import httpx

    from workflows.r1.auth import R1Auth, TokenManager
    from workflows.r1.contract.validate import Contract
    from workflows.r1.preflight import ProbeResult, run_probes, table

    contract = Contract.load()
    base = config.api_base
    print(f"R1 contract check of {base} (tenant {config.tenant_id}); reads only")
    async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
        form = {
            "grant_type": "client_credentials",
            "client_id": config.client_id,
            "client_secret": config.client_secret.get_secret_value(),
        }
        path = f"/oauth2/token/{config.tenant_id}"
        try:
            answer = await client.post(path, data=form)
        except httpx.HTTPError as exc:
            print(f"token: cannot reach {base}: {type(exc).__name__}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        if answer.status_code in (400, 401, 403):
            print(f"token: refused (HTTP {answer.status_code})", file=sys.stderr)
            return EXIT_AUTH
        body = answer.json() if answer.content else None
        token_result = ProbeResult(
            name="token",
            operation="POST /oauth2/token/{tenantId}",
            status=answer.status_code,
            rows=None,
            violations=contract.check_response(
                "POST", path, answer.status_code, answer.headers.get("content-type"), body
            ),
            error=None if answer.is_success else f"HTTP {answer.status_code}",
        )
        if not token_result.ok or not isinstance(body, dict) or "access_token" not in body:
            print(table([token_result]))
            return EXIT_FAILED
        token = str(body["access_token"])

        async def issued() -> tuple[str, float]:  # the token just checked; a 401 re-asks
            return token, float(body.get("expires_in") or 3600)

        client.auth = R1Auth(TokenManager(issued), config.msp_customer_tenant)
        results = [token_result, *await run_probes(client, venue, contract=contract)]
    print(table(results))
    bad = [r for r in results if not r.ok]
    print(
        f"{len(results) - len(bad)} of {len(results)} probes conform"
        + (f"; {len(bad)} do not" if bad else "")
    )
    return EXIT_OK if not bad else EXIT_FAILED
