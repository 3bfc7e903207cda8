"""Fixtures of the scoring tests: a small trained model and its scorer."""

from __future__ import annotations

import pytest

from riskscore.scoring import Scorer
from riskscore.scoring._demo import demo_model

#: A fixed scored_at, so outputs of different calls compare equal.
SCORED_AT = "2024-07-01T08:00:00"


@pytest.fixture(scope="session")
def scorer() -> Scorer:
    """A scorer of the five-feature demo seller model (20 trees, bands low..critical)."""
    return Scorer(demo_model())
