"""The notebooks in notebooks/: stripped, parameterised, named by step, consuming the package.

Running them is the job of nbmake (``--nbmake`` in the pytest options, ``notebooks`` in
``testpaths``); these tests check what a reviewer would check in the files themselves.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

#: ``<step>-<slug>.ipynb``: a step such as ``1.0`` and a lower-case, hyphenated slug.
NAME = re.compile(r"^\d+\.\d+-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb$")

#: Names every parameters cell sets (CI and users change these).
PARAMETERS = {"N_SELLERS", "SEED", "DATA_DIR", "WORK"}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _python(source: str) -> str:
    """Cell source without IPython magics and shell escapes, which are not Python."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def _parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"expected one cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def test_the_issue_notebooks_are_there():
    names = [p.name for p in PATHS]
    assert names[:3] == [
        "1.0-explore-marketplace.ipynb",
        "2.0-train-and-compare.ipynb",
        "3.0-explain-and-review.ipynb",
    ], names


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_named_step_dash_slug(path):
    assert NAME.match(path.name), f"{path.name} is not named <step>-<slug>.ipynb (e.g. 1.0-explore)"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_valid_and_run_by_the_python3_kernel(path):
    nb = _read(path)
    nbformat.validate(nb)
    # nbmake starts the kernel the notebook names; "python3" is the venv's own python.
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    dirty = [
        i
        for i, cell in enumerate(_read(path).cells)
        if cell.cell_type == "code"
        and (cell.outputs or cell.execution_count is not None or "execution" in cell.metadata)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} carry outputs, execution counts or timings; "
        f"strip them with `.venv/bin/nbstripout notebooks/{path.name}`"
    )


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_parameters_cell_comes_first_and_only_assigns(path):
    nb = _read(path)
    cell = _parameters_cell(nb)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert cell is first_code, "the parameters cell must be the first code cell"
    body = ast.parse(cell.source).body
    assert all(isinstance(node, ast.Assign) for node in body), (
        "the parameters cell holds plain assignments only (so tools can override them)"
    )
    names = {t.id for node in body for t in node.targets if isinstance(t, ast.Name)}
    assert names >= PARAMETERS, f"missing parameters: {sorted(PARAMETERS - names)}"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_ci_runs_in_a_temporary_work_folder(path):
    metadata = _parameters_cell(_read(path)).metadata
    overrides = metadata.get("nbmake", {}).get("post_cell_execute", [])
    code = "\n".join(overrides)
    ast.parse(code)
    assert "WORK = tempfile.mkdtemp(" in code, (
        "CI must not write into the repository: set WORK to a temporary folder in the "
        "parameters cell's nbmake.post_cell_execute metadata"
    )


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_no_reusable_code_defined(path):
    defined = [
        f"cell {i}: {node.name}"
        for i, cell in enumerate(_read(path).cells)
        if cell.cell_type == "code"
        for node in ast.walk(ast.parse(_python(cell.source)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]
    assert not defined, f"move these into the package and import them: {defined}"
