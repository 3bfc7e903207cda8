"""Scoring one seller from raw tables vs building the whole marketplace's features.

``score_entities_one_seller``, on a simulated 20k-seller marketplace (pandas, as of
2024-10-01):

* ``whole_build_s``: ``build_features(tables, "seller", as_of=...)`` for every seller,
  what ``score_entities`` cost per call before it could build just its ids;
* ``market_first_call_s``: the first ``Scorer.score_entities`` call for one seller with a
  fresh :class:`~riskscore.features.MarketStats`, which pays the one-off marketplace
  statistics (market prices, category levels and rates, the seller network, row indexes);
* ``one_seller_p50_ms`` / ``one_seller_p90_ms``: later calls for one seller each (20
  different sellers), the statistics reused; ``features_one_p50_ms`` the feature build
  alone;
* ``ratio_whole_over_one``: ``whole_build_s`` / ``one_seller_p50``: how many single-seller
  calls fit in one whole build.

Every single-seller feature row is checked equal to its row of the whole build. The model
is :func:`bench.bench_scoring.bench_model` (300 rounds on every seller feature).
``RISKSCORE_BENCH_SCALE`` scales the seller count (1.0 = 20,000).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from bench._harness import Timer, benchmark, scale

AS_OF = "2024-10-01"
SELLERS = 20_000
CALLS = 20


@benchmark("score_entities_one_seller")
def score_entities_one_seller() -> dict[str, Any]:
    from bench.bench_scoring import bench_model
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_features, market_stats
    from riskscore.scoring import Scorer

    n_sellers = max(int(SELLERS * scale()), 200)
    market_tables = make_marketplace(n_sellers=n_sellers, seed=0)
    tables = {k: v for k, v in market_tables.items() if k != "truth"}
    scorer = Scorer(bench_model())
    warnings.simplefilter("ignore", UserWarning)

    with Timer() as whole:
        full = build_features(tables, "seller", as_of=AS_OF)
    rng = np.random.default_rng(0)
    picks = rng.choice(full.index.to_numpy(), CALLS + 1, replace=False).tolist()

    market = market_stats(tables, AS_OF)
    with Timer() as first:
        scorer.score_entities(tables, [picks[0]], AS_OF, explain="none", market=market)

    scoring, building = [], []
    for seller in picks[1:]:
        t0 = time.perf_counter()
        scorer.score_entities(tables, [seller], AS_OF, explain="none", market=market)
        scoring.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        row = build_features(tables, "seller", as_of=AS_OF, ids=[seller], market=market)
        building.append(time.perf_counter() - t0)
        pd.testing.assert_frame_equal(
            row, full.loc[[seller]], check_exact=False, rtol=1e-12, atol=0.0
        )
    p50 = float(np.median(scoring))
    return {
        "sellers": n_sellers,
        "orders": len(tables["orders"]),
        "whole_build_s": round(whole.seconds, 2),
        "market_first_call_s": round(first.seconds, 2),
        "one_seller_p50_ms": round(p50 * 1e3, 1),
        "one_seller_p90_ms": round(float(np.quantile(scoring, 0.9)) * 1e3, 1),
        "features_one_p50_ms": round(float(np.median(building)) * 1e3, 1),
        "ratio_whole_over_one": round(whole.seconds / p50, 1),
        "ratio_first_call_over_whole": round(first.seconds / whole.seconds, 2),
        "rows_equal_whole_build": True,
    }
