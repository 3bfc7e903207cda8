"""One seller's score with reasons from raw tables: :class:`OnlineScorer` vs ``score_entities``.

``online_one_seller``, on a simulated 100k-seller marketplace (pandas, batch moment
2024-10-01):

* ``simulate_s``: ``make_marketplace(n_sellers=100_000)``;
* ``index_build_s``: the :class:`~riskscore.features._online_index.SellerIndex` (orders,
  listings, complaints sorted by seller then time; listing text terms);
* ``snapshot_s``: the marketplace statistics at the batch moment (market prices, category
  levels and rates, the seller network), computed once through a shared
  :class:`~riskscore.features.MarketStats`;
* ``online_p50_ms`` / ``p90`` / ``p99``: :meth:`OnlineScorer.score` of one seller with top-3
  reasons, over ``CALLS`` random sellers (each once, after a warm-up), as of one day after
  the batch (the fresh case); ``online_none_p50_ms`` the same without reasons;
  ``features_p50_ms`` the features alone;
* ``append_order_p50_ms`` / ``append_and_score_p50_ms``: the event path, a new order of
  the seller (a dict, as a service receives it) joining the index
  (:meth:`OnlineScorer.append`) and then its score with reasons, over ``EVENTS`` sellers
  (each appended order is checked counted);
* ``score_entities_p50_ms``: today's path, :meth:`Scorer.score_entities` of one seller
  (``explain="none"``) with the same ``MarketStats`` reused, over ``OLD_CALLS`` sellers;
* ``ratio_score_entities_over_online``: ``score_entities_p50_ms / online_none_p50_ms``
  (both without reasons, same size, same run).

Every online feature row of the ``OLD_CALLS`` sellers at the batch moment is checked
equal (1e-9) to ``build_features(..., ids=[seller], market=...)``'s. The model is
:func:`bench.bench_scoring.bench_model` (300 rounds on every seller feature).
``RISKSCORE_BENCH_SCALE`` scales the seller count (1.0 = 100,000).
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from bench._harness import Timer, benchmark, peak_rss_mb, scale

BATCH_AS_OF = "2024-10-01"
FRESH_AS_OF = "2024-10-02"
SELLERS = 100_000
CALLS = 300
OLD_CALLS = 10
EVENTS = 100


def _quantiles(seconds: list[float], prefix: str) -> dict[str, float]:
    ms = np.asarray(seconds) * 1e3
    return {
        f"{prefix}_p50_ms": round(float(np.percentile(ms, 50)), 2),
        f"{prefix}_p90_ms": round(float(np.percentile(ms, 90)), 2),
        f"{prefix}_p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


@benchmark("online_one_seller")
def online_one_seller() -> dict[str, Any]:
    from bench.bench_scoring import bench_model
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_features, market_stats
    from riskscore.scoring import OnlineScorer, Scorer

    warnings.simplefilter("ignore", UserWarning)
    n_sellers = max(int(SELLERS * scale()), 300)
    with Timer() as simulate:
        simulated = make_marketplace(n_sellers=n_sellers, seed=0)
    tables = {k: v for k, v in simulated.items() if k != "truth"}
    del simulated
    scorer = Scorer(bench_model())
    market = market_stats(tables, BATCH_AS_OF)
    with Timer() as build:
        online = OnlineScorer(scorer, tables, batch_as_of=BATCH_AS_OF, market=market)

    sellers = tables["sellers"]
    known = sellers.loc[sellers["registered_at"] < pd.Timestamp(BATCH_AS_OF), "seller_id"]
    rng = np.random.default_rng(0)
    picks = rng.choice(known.astype("str").to_numpy(), CALLS + 50, replace=False).tolist()
    warm, picks = picks[:50], picks[50:]
    for seller in warm:
        online.score(seller, FRESH_AS_OF)

    def timed(func: Any) -> list[float]:
        out = []
        for seller in picks:
            t0 = time.perf_counter()
            func(seller)
            out.append(time.perf_counter() - t0)
        return out

    with_reasons = timed(lambda s: online.score(s, FRESH_AS_OF))
    without = timed(lambda s: online.score(s, FRESH_AS_OF, explain="none"))
    features = timed(lambda s: online.features(s, FRESH_AS_OF))
    n_reasons = [len(online.score(s, FRESH_AS_OF).reasons) for s in picks[:20]]

    # today's path, and the equality of the rows at the batch moment
    old = []
    for seller in picks[:OLD_CALLS]:
        t0 = time.perf_counter()
        scorer.score_entities(tables, [seller], BATCH_AS_OF, explain="none", market=market)
        old.append(time.perf_counter() - t0)
        row = build_features(tables, "seller", as_of=BATCH_AS_OF, ids=[seller], market=market)
        got = online.features(seller, BATCH_AS_OF)
        want = row.loc[seller, list(got)].to_numpy(dtype=np.float64)
        if not np.allclose(list(got.values()), want, rtol=1e-9, atol=1e-9, equal_nan=True):
            raise AssertionError(f"online features of {seller} differ from build_features")
    # the event path: a new order arrives for the seller, then the seller is scored
    template = tables["orders"].iloc[0].to_dict()
    when = pd.Timestamp(FRESH_AS_OF) - pd.Timedelta(hours=1)
    appends, events = [], []
    for i, seller in enumerate(picks[:EVENTS]):
        event = {**template, "order_id": f"EV{i:06d}", "seller_id": seller, "created_at": when}
        before = online.features(seller, FRESH_AS_OF)["activity__orders_7d"]
        t0 = time.perf_counter()
        online.append("orders", event)
        t1 = time.perf_counter()
        online.score(seller, FRESH_AS_OF)
        t2 = time.perf_counter()
        appends.append(t1 - t0)
        events.append(t2 - t0)
        if online.features(seller, FRESH_AS_OF)["activity__orders_7d"] != before + 1:
            raise AssertionError(f"the appended order of {seller} is not counted")
    online_none = float(np.median(without))
    old_p50 = float(np.median(old))
    return {
        "sellers": n_sellers,
        "orders": len(tables["orders"]),
        "listings": len(tables["listings"]),
        "simulate_s": round(simulate.seconds, 1),
        "index_build_s": round(online.build_seconds["index"], 1),
        "snapshot_s": round(online.build_seconds["snapshot"], 1),
        "online_build_s": round(build.seconds, 1),
        "calls": len(picks),
        **_quantiles(with_reasons, "online"),
        "online_mean_reasons": round(float(np.mean(n_reasons)), 2),
        **_quantiles(without, "online_none"),
        **_quantiles(features, "features"),
        "events": len(events),
        **_quantiles(appends, "append_order"),
        **_quantiles(events, "append_and_score"),
        "score_entities_calls": len(old),
        "score_entities_p50_ms": round(old_p50 * 1e3, 1),
        "score_entities_p90_ms": round(float(np.quantile(old, 0.9)) * 1e3, 1),
        "ratio_score_entities_over_online": round(old_p50 / online_none, 1),
        "ratio_score_entities_over_online_with_reasons": round(
            old_p50 / float(np.median(with_reasons)), 1
        ),
        "rows_equal_build_features": True,
        "batch_age_days": 1.0,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "peak_rss_mb": round(peak_rss_mb()),
    }
