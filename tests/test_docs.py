"""Generated reference pages must match the code they are generated from."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskscore._docs import PAGES

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_generated_page_is_fresh(page):
    committed = (ROOT / page).read_text(encoding="utf-8")
    assert committed == PAGES[page](), (
        f"{page} is stale; regenerate it with `.venv/bin/python -m riskscore._docs`"
    )
