"""The engine stays free of UI, HTTP-server and R1 code (Harlequin-style proof)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = (
    "textual",
    "starlette",
    "mcp",
    "httpx",
    "uvicorn",
    "jsonrpcserver",
    "workflows",
    "app",
    "rpc",
)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engine_sources_import_nothing_forbidden():
    offenders = {
        str(path.relative_to(ROOT)): sorted(imports_of(path) & set(FORBIDDEN))
        for path in sorted((ROOT / "engine").rglob("*.py"))
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert offenders == {}


def test_importing_the_engine_loads_nothing_forbidden():
    code = (
        "import sys, engine, engine.service, engine.redis_server\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == ""


def test_the_check_itself_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import textual.app\nfrom workflows.r1 import client\n")
    assert imports_of(bad) & set(FORBIDDEN) == {"textual", "workflows"}
