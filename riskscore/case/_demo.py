"""Inputs for the case examples: a small simulated marketplace, the demo model, a seller."""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["demo_case_inputs"]


@functools.cache
def demo_case_inputs(n_sellers: int = 300, seed: int = 0) -> tuple[dict[str, Any], Any, str]:
    """Return ``(tables, scorer, seller_id)`` for the examples and tests.

    A simulated marketplace, a :class:`~riskscore.scoring.Scorer` of the demo model, and
    the seller with the most replica titles (it has orders and linked sellers before
    2024-10-01).

    Examples
    --------
    >>> tables, scorer, seller = demo_case_inputs()
    >>> seller in set(tables["sellers"]["seller_id"]), scorer.entity
    (True, 'seller')
    """
    from riskscore.datasets import make_marketplace
    from riskscore.scoring import Scorer
    from riskscore.scoring._demo import demo_model

    tables = make_marketplace(n_sellers=n_sellers, seed=seed)
    tables.pop("truth")
    listings = tables["listings"]
    replica = listings[listings["title"].str.contains("1:1|高仿", regex=True)]
    seller = str(replica["seller_id"].value_counts().index[0])
    return tables, Scorer(demo_model()), seller
