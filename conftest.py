"""Repository-wide pytest hooks (tests/, doctests in riskscore/, notebooks/).

Notebooks run end to end under nbmake (minutes each): they carry the ``slow`` marker so
that ``pytest -m "not slow and not spark"`` stays a quick loop. So does every case listed
in ``tests/slow_cases.txt``: quick-loop cases measured over the threshold written there
(a slow parameter of a fast test, a slow doctest); ``tests/_slow_cases.py`` regenerates it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# Importing __main__ would run the CLI; doctests skip it.
collect_ignore = ["riskscore/__main__.py"]

_SLOW_CASES_TOOL = Path(__file__).resolve().parent / "tests" / "_slow_cases.py"


def _slow_cases() -> frozenset[str]:
    """Node ids listed in ``tests/slow_cases.txt``, read by ``tests/_slow_cases.read``."""
    spec = importlib.util.spec_from_file_location("_slow_cases", _SLOW_CASES_TOOL)
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return frozenset(tool.read())


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every notebook item and every listed slow case ``slow``."""
    listed = _slow_cases()
    for item in items:
        if str(item.path).endswith(".ipynb") or item.nodeid in listed:
            item.add_marker(pytest.mark.slow)
