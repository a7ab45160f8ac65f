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


# -- the engine's shape: small modules, no import cycles, one state declaration --

MAX_LINES = 400


def test_no_engine_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in sorted((ROOT / "engine").rglob("*.py"))
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of `package` it imports at run time (a package's own
    `__init__` counts as the package's name)."""
    modules: dict[str, Path] = {}
    for path in (root / package).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")[: len(name.split(".")) - node.level + is_pkg]
                    base = ".".join([*anchor, *([base] if base else [])])
                # `from pkg import sub` imports the submodule; `from mod import name` the module
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            deps |= {t for t in targets if t in modules and t != name}
        graph[name] = deps
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return cycles


def test_the_engine_has_no_import_cycle():
    graph = import_graph(ROOT, "engine")
    assert "engine.brain" in graph and "engine.cellbook" in graph["engine.brain"]
    assert import_cycles(graph) == []


def test_the_cycle_check_itself_can_fail(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.b import f\n")
    (pkg / "b.py").write_text("def f():\n    from pkg import c\n")  # a function-local import
    (pkg / "c.py").write_text("from . import a\n")
    (pkg / "sub" / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub import e\n"
    )
    (pkg / "sub" / "e.py").write_text("from .d import x\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.c"] == {"pkg.a"} and graph["pkg.sub.e"] == {"pkg.sub.d"}
    assert graph["pkg.sub.d"] == set()  # type-only: not a cycle
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]


STATE_NAMES = {
    "pending",
    "running",
    "waiting",
    "succeeded",
    "failed",
    "skipped",
    "blocked",
    "cancelled",
}


def state_declarations(path: Path) -> list[int]:
    """Lines of literal collections that name all eight cell states: a declaration."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple | ast.List | ast.Set)
        and {e.value for e in node.elts if isinstance(e, ast.Constant)} >= STATE_NAMES
    ]


def test_the_cell_states_are_declared_once():
    """engine/states.py declares them (a class); the engine and the TUI import them."""
    found = {
        str(path.relative_to(ROOT)): lines
        for folder in ("engine", "app")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (lines := state_declarations(path))
    }
    assert found == {}
    from app.tui import style
    from engine import states

    assert style.CODE is states.STATE_CODES


def test_the_declaration_check_itself_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(f"STATES = {tuple(sorted(STATE_NAMES))!r}\n")
    assert state_declarations(bad) == [1]
