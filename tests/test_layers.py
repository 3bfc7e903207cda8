"""The package's layers: every import inside ``riskscore`` points down.

The graph is read from the source with :mod:`ast`, so it holds *every* ``import`` and
``from ... import`` — the lazy ones inside functions too, which is where a cycle hides
(``import riskscore`` stays cheap because heavy imports are lazy, but a lazy import from a
lower layer into a higher one is still a dependency). The unit is the top-level module or
subpackage of ``riskscore`` (``riskscore.scoring._load`` belongs to ``scoring``): importing
``riskscore.scoring._x`` runs ``riskscore/scoring/__init__.py``, so a finer unit would hide
cycles through package ``__init__`` files.

The order, lowest first:

0. ``exceptions``, ``_config``, ``_threads`` — no riskscore imports.
1. ``_validation`` — argument checks raising the exceptions; ``_deprecation``,
   ``_progress``; ``_spark`` (the local Spark session, which checks its log level).
2. ``metrics``, ``summary`` and the eager part of the root ``riskscore/__init__.py`` (the
   exceptions, ``__version__``).
3. ``schema`` — the data contract.
4. ``io``, ``datasets`` — tables in and out, the simulator.
5. ``features`` — feature builders and the catalog.
6. ``modeling`` — training, the RiskModel.
7. ``explain`` — TreeSHAP reasons.
8. ``registry`` — the only MLflow adapter: logging, loading any MLflow URI, promotion, the
   pyfunc wrapper and its contract (``registry/_contract.py``), ``spark_udf``.
9. ``scoring`` — Scorer, ``load_scorer`` (MLflow URIs through ``registry``), batch and Spark
   scoring, and ``pyfunc_predict`` (the logged pyfunc's ``predict``, handed to the registry's
   wrapper by the models-from-code entry file, which is written into each logged model
   and is not a riskscore module).
10. ``_docs`` (generated documentation pages), ``serve`` (the HTTP service over a Scorer).
11. ``cli``, then ``__main__``.

``from riskscore import Name`` is resolved through the root's lazy table (``_LAZY``) to the
module that defines ``Name``, so the facade cannot launder an upward import.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

import riskscore

ROOT = Path(riskscore.__file__).resolve().parent

#: Lowest layer first; a unit may import units of strictly lower layers only.
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer)
    for layer in (
        {"exceptions", "_config", "_threads"},
        {"_validation", "_deprecation", "_progress", "_spark"},
        {"", "metrics", "summary"},
        {"schema"},
        {"io", "datasets"},
        {"features"},
        {"modeling"},
        {"explain", "monitor"},
        {"registry"},
        {"rules"},
        {"scoring"},
        {"backtest", "case", "warn"},
        {"_docs", "serve"},
        {"cli"},
        {"__main__"},
    )
)
LEVEL = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _unit(module: str) -> str:
    """``riskscore.scoring._load`` -> ``scoring``; the root package itself -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _lazy_table(root: Path) -> dict[str, str]:
    """The root's ``_LAZY`` table (public name -> defining module), read from the source."""
    tree = ast.parse((root / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "_LAZY" and node.value is not None:
            value = ast.literal_eval(node.value)
            assert isinstance(value, dict)
            return value
    return {}


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_pkg: bool, lazy: dict[str, str]):
    """The riskscore modules one import statement loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:  # relative: resolve against the importing package
        package = module if is_pkg else module.rpartition(".")[0]
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source != "riskscore":
        return [source]
    # ``from riskscore import x``: a subpackage, a lazily exported name, or the root itself
    out = []
    for alias in node.names:
        if (ROOT / alias.name).is_dir() or (ROOT / f"{alias.name}.py").is_file():
            out.append(f"riskscore.{alias.name}")
        else:
            out.append(lazy.get(alias.name, "riskscore"))
    return out


def import_graph(root: Path = ROOT) -> dict[str, dict[str, list[str]]]:
    """Return ``{unit: {imported unit: ["file:line", ...]}}`` for every riskscore import."""
    lazy = _lazy_table(root)
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):  # every statement, inside functions and classes too
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node, module, path.name == "__init__.py", lazy):
                if target.split(".")[0] != "riskscore":
                    continue
                src, dst = _unit(module), _unit(target)
                if src != dst:
                    where = f"{path.relative_to(root.parent)}:{node.lineno}"
                    graph[src][dst].append(where)
    return graph


def upward_imports(graph: dict[str, dict[str, list[str]]]) -> list[str]:
    """Each import from a unit into a unit of the same or a higher layer, as one line."""
    bad = []
    for src, targets in sorted(graph.items()):
        for dst, places in sorted(targets.items()):
            if src not in LEVEL or dst not in LEVEL:
                bad.append(f"{src} imports {dst}: put both into LAYERS")
            elif LEVEL[dst] >= LEVEL[src]:
                bad.append(
                    f"{src} (layer {LEVEL[src]}) imports {dst} (layer {LEVEL[dst]}) at "
                    + ", ".join(places)
                )
    return bad


def test_every_module_has_a_layer():
    units = {_unit(_module_name(p, ROOT)) for p in ROOT.rglob("*.py")}
    assert units - set(LEVEL) == set(), "put new top-level modules into LAYERS"
    assert {"registry", "scoring", "cli", "modeling"} <= units  # the walk found the package


def test_imports_point_down_only():
    bad = upward_imports(import_graph())
    assert bad == [], "imports against the layer order:\n" + "\n".join(bad)


def test_the_graph_sees_lazy_and_relative_imports(tmp_path):
    """The check can fail: a planted upward import inside a function is caught."""
    pkg = tmp_path / "riskscore"
    (pkg / "registry").mkdir(parents=True)
    (pkg / "scoring").mkdir()
    (pkg / "__init__.py").write_text("_LAZY = {'Scorer': 'riskscore.scoring._scorer'}\n")
    (pkg / "registry" / "__init__.py").write_text("")
    (pkg / "registry" / "_pyfunc.py").write_text(
        "def predict():\n    from riskscore.scoring._pyfunc import pyfunc_predict\n"
    )
    (pkg / "registry" / "_other.py").write_text("from riskscore import Scorer\n")
    (pkg / "scoring" / "__init__.py").write_text("from ..registry import load\n")
    graph = import_graph(pkg)
    assert sorted(graph["registry"]["scoring"]) == [
        "riskscore/registry/_other.py:1",
        "riskscore/registry/_pyfunc.py:2",
    ]
    assert graph["scoring"]["registry"] == ["riskscore/scoring/__init__.py:1"]
    bad = upward_imports(graph)
    assert len(bad) == 1 and bad[0].startswith(
        f"registry (layer {LEVEL['registry']}) imports scoring"
    )


@pytest.mark.parametrize(
    ("src", "dst"), [("registry", "scoring"), ("scoring", "cli"), ("modeling", "registry")]
)
def test_the_order_forbids_the_old_cycle(src, dst):
    assert LEVEL[dst] > LEVEL[src]
