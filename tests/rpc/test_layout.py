"""rpc/ reaches workflows only through the engine's registry, and jsonrpcserver
(fragile OSlash dependency) stays behind one module."""

from __future__ import annotations

from tests.rpc.conftest import ROOT
from tests.test_architecture import imports_of


def test_rpc_imports() -> None:
    files = sorted((ROOT / "rpc").rglob("*.py"))
    assert files
    for path in files:
        names = imports_of(path)
        assert not names & {"workflows", "app", "textual"}, path
        if path.name != "jsonrpc.py":
            assert "jsonrpcserver" not in names, path
        if path.name not in ("mcp_server.py", "http.py"):
            assert not names & {"mcp", "mcp_types"}, path


def test_every_operation_is_on_both_faces() -> None:
    from rpc.jsonrpc import JsonRpc
    from rpc.mcp_server import build_mcp
    from rpc.service import OPERATIONS

    methods = {op.method for op in OPERATIONS}
    assert {
        "workflows.list",
        "workflows.describe",
        "jobs.plan",
        "jobs.confirm",
        "jobs.discard",
        "jobs.cancel",
        "jobs.retry",
        "jobs.cleanup",
        "jobs.audit",
        "jobs.get",
        "jobs.units",
        "jobs.events",
        "jobs.wait",
        "jobs.list",
        "engine.health",
    } <= methods
    assert set(JsonRpc(engine=None, max_batch=5).methods) == methods  # type: ignore[arg-type]
    tools = set(build_mcp(lambda: None)._tool_manager._tools)  # type: ignore[arg-type]
    assert tools == {op.tool for op in OPERATIONS}
