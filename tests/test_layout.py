"""The package's import graph: no circles (imports inside functions count) and the allowed directions.

Layers, lowest first: the foundation modules (errors, logs, ...), ``io`` (file formats),
``genetics`` (statistics), ``cohort`` (may use genetics), the other building blocks, and on top
``recipes`` and the command line. A recipe kind is named only by its own package and by the
registry line that makes it known.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import alignome

PACKAGE = Path(alignome.__file__).resolve().parent
FOUNDATION = {"alignome.errors", "alignome._native", "alignome._lazy", "alignome.strict_model", "alignome.diagnoses",
              "alignome.logs", "alignome.checkpoint"}
BLOCKS = ("io", "cohort", "genetics", "gwas", "simulate", "imaging", "models", "objectives", "training", "evaluation",
          "analysis", "report")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _known(name: str) -> str | None:
    """The alignome module ``name`` refers to (a name imported from a module maps to the module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):  # every import, also inside functions
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names = [base, *(f"{base}.{a.name}" for a in node.names)]
        else:
            continue
        found.update(t for n in names if n.startswith("alignome") and (t := _known(n)) not in (None, module))
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
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


def _edges(source: callable, target: callable) -> list[str]:
    return sorted(f"{a} -> {b}" for a, bs in GRAPH.items() for b in bs if source(a) and target(b))


def test_the_walk_sees_imports_inside_functions():
    inside = "def f():\n    from alignome.errors import DataError\n"
    assert "alignome.errors" in {t for n in ast.walk(ast.parse(inside)) if isinstance(n, ast.ImportFrom)
                                 for t in [_known(n.module)]}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle():
    assert _cycles(GRAPH) == []


def test_no_circle_between_packages():
    packages = defaultdict(set)
    for a, bs in GRAPH.items():
        packages[_layer(a)].update(_layer(b) for b in bs if _layer(b) != _layer(a))
    assert _cycles(packages) == []


def test_io_uses_only_the_foundation():
    assert _edges(lambda a: _layer(a) == "io", lambda b: _layer(b) != "io" and b not in FOUNDATION) == []


def test_genetics_does_not_use_cohort():
    assert _edges(lambda a: _layer(a) == "genetics", lambda b: _layer(b) == "cohort") == []


def test_foundation_uses_no_block():
    assert _edges(lambda a: a in FOUNDATION, lambda b: b not in FOUNDATION) == []


def test_blocks_use_neither_recipes_nor_the_command_line():
    upper = lambda b: _layer(b) == "recipes" or _layer(b).startswith("cli") or b == "alignome.__main__"  # noqa: E731
    assert _edges(lambda a: _layer(a) in BLOCKS, upper) == []


def test_recipes_core_names_no_kind_package():
    kinds = {"ad_gated_fusion", "longitudinal_mri", "gemcont", "mm_dim"}
    core = lambda a: _layer(a) == "recipes" and (a.split(".") + [""])[2] not in kinds  # noqa: E731
    assert _edges(core, lambda b: (b.split(".") + ["", ""])[2] in kinds) == []


def test_a_kind_name_is_written_only_in_its_package_and_the_registry():
    from alignome.recipes.registry import KINDS

    offenders = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and node.value in KINDS:
                own = KINDS[node.value].rpartition(".")[0]
                if not (module.startswith(own) or module == "alignome.recipes.registry"):
                    offenders.append(f"{module}: {node.value!r}")
    assert offenders == []
