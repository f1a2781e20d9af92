"""The package layering of docs/architecture.md §1, enforced: allowed imports per package, no import
circles between packages or between files, and the packages that must import without torch.

Imports are read statically (``ast``) from every module of the package, including imports inside
functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "surnn_neuro"
DOC = ROOT / "docs" / "architecture.md"


def _table():
    """``{package: (floor, allowed set, without_torch)}`` from the doc's table."""
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`(\w+)`\s*\|\s*(\d+)\s*\|([^|]*)\|\s*(yes|no)\s*\|", line)
        if m:
            allowed = {a.strip() for a in m.group(3).replace("–", "").split(",") if a.strip()}
            rows[m.group(1)] = (int(m.group(2)), allowed, m.group(4) == "yes")
    return rows


TABLE = _table()


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The project module an imported dotted name refers to (the longest existing prefix)."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in MODULES:
            return cand
        parts.pop()
    return None


def _imports(mod: str) -> set:
    """Project modules imported anywhere in ``mod`` (module level or inside functions)."""
    tree = ast.parse(MODULES[mod].read_text(encoding="utf-8"))
    out = set()
    is_pkg = MODULES[mod].name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = mod.split(".") if is_pkg else mod.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import submodule`` depends on the submodule; any other name on ``pkg`` itself
            subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
            names = subs + ([base] if len(subs) < len(node.names) else [])
        else:
            continue
        for n in names:
            if n.startswith("surnn_neuro"):
                target = _resolve(n)
                if target is not None and target != mod:
                    out.add(target)
    return out


GRAPH = {m: _imports(m) for m in MODULES}


def _package(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else "surnn_neuro"


def test_table_covers_every_package():
    # derivation: every top-level package/module of surnn_neuro/ has a row, and every row exists
    found = {_package(m) for m in MODULES} - {"surnn_neuro"}
    assert found == set(TABLE), f"missing rows: {found - set(TABLE)}, stale rows: {set(TABLE) - found}"
    for pkg, (floor, allowed, _) in TABLE.items():
        for dep in allowed:
            assert dep in TABLE, f"{pkg}: unknown package {dep!r} in the table"
            assert TABLE[dep][0] < floor, f"{pkg} (floor {floor}) may import {dep} (floor {TABLE[dep][0]})"


@pytest.mark.parametrize("pkg", sorted(TABLE))
def test_imports_follow_the_table(pkg):
    allowed = TABLE[pkg][1] | {pkg}
    bad = sorted(f"{m} imports {t}" for m in GRAPH if _package(m) == pkg
                 for t in GRAPH[m] if _package(t) not in allowed and _package(t) != "surnn_neuro")
    assert bad == []


def test_package_init_imports_only_errors():
    assert {_package(t) for t in GRAPH["surnn_neuro"]} <= {"errors"}


def _cycle(graph: dict):
    """One cycle of ``graph`` as a list of nodes, or None (iterative DFS, three colours)."""
    colour = dict.fromkeys(graph, 0)
    for root in graph:
        if colour[root]:
            continue
        stack = [(root, iter(sorted(graph[root])))]
        path = [root]
        colour[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif colour.get(nxt) == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(sorted(graph.get(nxt, ())))))
                path.append(nxt)
    return None


def test_no_import_circle_between_files():
    assert _cycle(GRAPH) is None


def test_no_import_circle_between_packages():
    pkgs = {}
    for m, targets in GRAPH.items():
        pkgs.setdefault(_package(m), set()).update(_package(t) for t in targets if _package(t) != _package(m))
    assert _cycle(pkgs) is None


def test_cycle_finder_finds_a_cycle():
    # a → b → c → a is a circle; d → a is not part of it
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


NO_TORCH = sorted(p for p, (_, _, ok) in TABLE.items() if ok)
#: modules of torch packages that are numpy-only (docs/architecture.md §1)
NO_TORCH_MODULES = ("surnn_neuro.converters.nir_io",)
#: modules that import Lava (or numba) at module level on purpose: the Lava target imports Lava
#: when a network is built or run, not when the package is imported
LAVA_MODULES = (".lava.network", ".lava.runner", "._kernels")


@pytest.mark.parametrize("pkg", NO_TORCH + ["torch-free modules"])
def test_imports_without_torch(pkg):
    # every module of the package, imported in a fresh interpreter, leaves torch unimported (and
    # Lava, snnTorch, Norse: they all pull torch or are heavy optional backends)
    if pkg == "torch-free modules":
        mods = list(NO_TORCH_MODULES)
    else:
        mods = [m for m in MODULES if _package(m) == pkg and ".lava.processes" not in m
                and not m.endswith(LAVA_MODULES)]
    code = (f"import sys, importlib\nfor m in {mods!r}:\n    importlib.import_module(m)\n"
            "bad = [m for m in ('torch', 'lava', 'snntorch', 'norse') if m in sys.modules]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
