"""The ``spark`` fixture (tests/conftest.py) serves only tests marked ``spark``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import unmarked_spark_use


class _Node:
    def __init__(self, nodeid: str, *marks: str) -> None:
        self.nodeid = nodeid
        self._marks = {m: getattr(pytest.mark, m) for m in marks}

    def get_closest_marker(self, name: str):  # type: ignore[no-untyped-def]
        return self._marks.get(name)


def test_an_unmarked_test_is_refused_with_the_fix():
    problem = unmarked_spark_use(_Node("tests/x.py::test_y", "slow"))
    assert problem is not None
    assert problem.startswith("tests/x.py::test_y uses the 'spark' fixture but is not marked")
    assert "@pytest.mark.spark" in problem


def test_a_marked_test_is_served():
    assert unmarked_spark_use(_Node("tests/x.py::test_y", "spark")) is None


def _unmarked_spark_tests(source: str) -> list[str]:
    """Test functions taking a ``spark`` argument with no ``spark`` mark on them or the module."""
    tree = ast.parse(source)
    module_marked = any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
        and "mark.spark" in ast.unparse(node.value)
        for node in tree.body
    )
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if not node.name.startswith("test") or "spark" not in {a.arg for a in node.args.args}:
            continue
        marked = any("mark.spark" in ast.unparse(d) for d in node.decorator_list)
        if not (marked or module_marked):
            out.append(node.name)
    return out


def test_the_source_check_catches_a_missing_mark():
    assert _unmarked_spark_tests("def test_a(spark):\n    pass\n") == ["test_a"]
    marked = "import pytest\n@pytest.mark.spark\ndef test_a(spark):\n    pass\n"
    assert _unmarked_spark_tests(marked) == []
    module = "import pytest\npytestmark = [pytest.mark.spark]\ndef test_a(spark):\n    pass\n"
    assert _unmarked_spark_tests(module) == []


def test_every_test_that_names_the_fixture_is_marked():
    tests = Path(__file__).resolve().parent
    offenders = {
        str(path.relative_to(tests)): names
        for path in sorted(tests.rglob("test_*.py"))
        if (names := _unmarked_spark_tests(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
