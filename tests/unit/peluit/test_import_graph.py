"""No import cycle among production modules.

Every ``import`` and ``from … import`` in the production packages counts, the ones inside
functions too: an import deferred to run time still ties two modules together, and the rooms of
the house must stay stacked (peluit.ground ← crypto ← policies ← dropbox_app, workbench ←
peluit.cli). An import names the module it loads: ``from pkg import sub`` is an edge to
``pkg.sub`` when that is a module, else to ``pkg``; a package's ``__init__`` run as a side
effect of importing one of its modules is not an edge (a package importing its own submodules
is how packages are built)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("peluit", "crypto", "policies", "dropbox_app", "workbench", "tor")


def _modules() -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.AST) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Name | ast.Attribute)
            and (getattr(node.test, "id", None) or getattr(node.test, "attr", None))
            == "TYPE_CHECKING")


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        type_only = {id(n) for block in ast.walk(tree) if _is_type_checking(block)
                     for stmt in block.body for n in ast.walk(stmt)}
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue  # ``if TYPE_CHECKING:`` imports never run
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_package, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for t in targets:
                while t and t not in modules:  # `import a.b.c` of a non-module attribute path
                    t = t.rpartition(".")[0]
                if t and t != name:
                    graph[name].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        component.append(m)
                        if m == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def test_the_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_production_code():
    found = cycles(import_graph())
    assert found == [], "import cycles:\n" + "\n".join(" ↔ ".join(c) for c in found)


def test_the_ground_floor_imports_nothing_of_ours():
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("peluit.ground"):
            assert all(t.startswith("peluit.ground") for t in targets), (module, targets)


def test_the_server_and_the_workbench_never_import_each_other():
    graph = import_graph()
    for module, targets in graph.items():
        side = module.split(".")[0]
        if side in ("dropbox_app", "workbench"):
            other = "workbench" if side == "dropbox_app" else "dropbox_app"
            assert not any(t.split(".")[0] == other for t in targets), (module, targets)
            assert not any(t in ("peluit.cli", "peluit.demo") for t in targets), (module, targets)


def test_crypto_imports_only_the_ground_floor():
    graph = import_graph()
    for module, targets in graph.items():
        if module.startswith("crypto"):
            assert all(t.split(".")[0] == "crypto" or t.startswith("peluit.ground")
                       for t in targets), (module, targets)


def test_test_modules_import_no_other_test_module():
    """Shared test code lives in tests/fixtures/ (fixtures as plugins of tests/conftest.py):
    a test module importing a sibling test module or a conftest.py ties their fates together
    and runs the other's module-level code."""
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
                names += [f"{names[0]}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if last == "conftest" or last.startswith("test_"):
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == [], offenders
