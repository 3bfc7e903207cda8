"""Repository-wide pytest hooks (tests/, doctests in riskscore/, notebooks/).

Notebooks run end to end under nbmake (minutes each): they carry the ``slow`` marker so
that ``pytest -m "not slow and not spark"`` stays a quick loop. So does every case listed
in ``tests/slow_cases.txt``: quick-loop cases measured over the threshold written there
(a slow parameter of a fast test, a slow doctest); ``tests/_slow_cases.py`` regenerates it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Importing __main__ would run the CLI; doctests skip it.
collect_ignore = ["riskscore/__main__.py"]

SLOW_CASES = Path(__file__).resolve().parent / "tests" / "slow_cases.txt"


def _slow_cases() -> frozenset[str]:
    """Node ids listed in ``tests/slow_cases.txt`` (second field of each line)."""
    if not SLOW_CASES.is_file():
        return frozenset()
    lines = SLOW_CASES.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.split(maxsplit=1)[1].strip()
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    )


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every notebook item and every listed slow case ``slow``."""
    listed = _slow_cases()
    for item in items:
        if str(item.path).endswith(".ipynb") or item.nodeid in listed:
            item.add_marker(pytest.mark.slow)
