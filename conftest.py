"""Repository-wide pytest hooks (tests/, doctests in riskscore/, notebooks/).

Notebooks run end to end under nbmake (minutes each): they carry the ``slow`` marker so
that ``pytest -m "not slow and not spark"`` stays a quick loop.
"""

from __future__ import annotations

import pytest

# Importing __main__ would run the CLI; doctests skip it.
collect_ignore = ["riskscore/__main__.py"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every notebook item ``slow``."""
    for item in items:
        if str(item.path).endswith(".ipynb"):
            item.add_marker(pytest.mark.slow)
