"""The shape of the package, read from its source with ``ast``: no import circles, no private
names imported across modules. Every import counts, also one inside a function: a lazy import
hides a circle from Python's loader but not from a reader."""

from __future__ import annotations

import ast
from pathlib import Path

import aslo

ROOT = Path(aslo.__file__).parent


def module_name(path: Path) -> str:
    parts = ("aslo", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]):
    """(imported module, imported names, line) for every aslo import in a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("aslo"):
                    yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("aslo"):
                continue
            names = [a.name for a in node.names]
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in known]
            yield from ((s, [], node.lineno) for s in submodules)
            rest = [n for n in names if f"{target}.{n}" not in known]
            if rest or not submodules:
                yield target, rest, node.lineno


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {target for target, _, _ in imports(name, path, set(known)) if target in known and target != name}
            for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "aslo.attacks.algorithm" in graph["aslo.attacks.api"]  # relative, at module level
    assert "aslo.experiments.distributed" in graph["aslo.experiments.runner"]  # inside a function


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_no_private_names_imported_across_modules():
    known = modules()
    offences = [f"{name}:{line} imports {n} from {target}"
                for name, path in known.items()
                for target, names, line in imports(name, path, set(known))
                for n in names if n.startswith("_") and not n.startswith("__")]
    assert offences == []
