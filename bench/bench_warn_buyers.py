"""Buyer warnings: how much paid-but-undelivered money they reach in time, and at what cost.

``warn_buyers`` measures :func:`riskscore.warn.warn_buyers` on the simulator the way a
risk team would run it:

- **Flags from a trained model**, not the simulator's truth: a seller *fraud* model
  (the marketplace recipe: monthly cutoffs February-June 2024, 60-day horizon, trained
  with :func:`riskscore.modeling.train`, no refit) scores every seller at each warning time; sellers
  in band ``high`` or ``critical`` are flagged. Its training labels end by 2024-07-31,
  before the first warning time.
- **Six warning times** (2024-08-15 to 2024-11-01, every two weeks or so). At each, the
  *exposure* is the money in orders open at that time that are never delivered (not
  delivered by the end of the simulated year) at sellers whose enforcement decision
  (``labels.decided_at``) comes later. **Reach** = the share of that money on the
  warning list, i.e. reached before the decision; the lead time is the days from the
  list to the decision.
- **False warnings**: warned rows (and buyers) whose seller is never actioned in the
  data (no label by the end of the year; the simulator has no "cleared" outcome). Labels
  cover 60% of bad sellers, so this over-counts; the share whose seller is honest in the
  simulator's truth is reported beside it.
- The same lists with the simulator's truth as flags (every bad seller, the ceiling of
  what better flags could reach), and the run time of one list at a large size (100k
  sellers, ~10M orders; flags from the simulator's truth there, which spares a 100k
  feature build that ``bench_features`` already measures; ``RISKSCORE_BENCH_SCALE``
  scales both sizes).
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from bench._harness import Result, Timer, benchmark, peak_rss_mb, scale

SEED = 0
N_QUALITY = 10_000
N_LARGE = 100_000
TRAIN_CUTOFFS = ("2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01")
HORIZON = "60D"
WARN_TIMES = (
    "2024-08-15",
    "2024-09-01",
    "2024-09-15",
    "2024-10-01",
    "2024-10-15",
    "2024-11-01",
)
MIN_BAND = "high"
UNDELIVERED_DAYS = 7


def _say(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _train(tables: dict[str, pd.DataFrame]) -> Any:
    """The seller fraud model of the marketplace recipe, trained before the warning times."""
    from riskscore.modeling import marketplace_training_set, train

    frame = marketplace_training_set(
        tables, "seller", "fraud", cutoffs=list(TRAIN_CUTOFFS), horizon=HORIZON, segments=False
    )
    _say(f"training set: {len(frame)} rows, {int(frame['label'].sum())} positives")
    # no family report and no refit: the evaluated fit, trained before the warning times
    run = train(
        frame,
        entity="seller",
        target="fraud",
        seed=SEED,
        capacity=50,
        n_bootstrap=0,
        family_report=False,
        refit=False,
    )
    return run.model


def _scores(model: Any, tables: dict[str, pd.DataFrame], as_of: str) -> pd.DataFrame:
    from riskscore.features import build_features
    from riskscore.scoring import Scorer

    features = build_features(tables, "seller", as_of=as_of)
    return Scorer(model).score_many(features, explain="none", as_of=as_of)


def _exposure(tables: dict[str, pd.DataFrame], as_of: str) -> pd.DataFrame:
    """Orders open at ``as_of``, never delivered, at sellers decided after ``as_of``."""
    from riskscore.warn import orders_before

    moment = pd.Timestamp(as_of)
    orders = orders_before(tables, moment.to_pydatetime())
    never = tables["orders"].set_index("order_id")["delivered_at"].isna()
    orders = orders.loc[orders["is_open"] & orders["order_id"].map(never).to_numpy()]
    decided = tables["labels"].groupby("seller_id")["decided_at"].min()
    when = orders["seller_id"].map(decided)
    return orders.assign(decided_at=when).loc[when > moment]


def _one_time(
    tables: dict[str, pd.DataFrame], truth: pd.DataFrame, flagged: Any, as_of: str
) -> dict[str, Any]:
    """Warn at ``as_of`` and compare with what happened afterwards."""
    from riskscore.warn import warn_buyers

    with Timer() as t:
        rows = warn_buyers(
            tables, flagged, as_of=as_of, min_band=MIN_BAND, undelivered_days=UNDELIVERED_DAYS
        )
    exposed = _exposure(tables, as_of)
    reached = exposed.loc[exposed["order_id"].isin(rows["order_id"])]
    labelled = set(tables["labels"]["seller_id"])
    bad = set(truth.loc[truth["is_fraud"] | truth["is_counterfeit"], "seller_id"])
    never = ~rows["seller_id"].isin(labelled)
    honest = ~rows["seller_id"].isin(bad)
    per_buyer = rows.assign(never=never, honest=honest).groupby("buyer_id")
    lead = (reached["decided_at"] - pd.Timestamp(as_of)).dt.total_seconds() / 86400
    return {
        "seconds": t.seconds,
        "rows": len(rows),
        "buyers": rows["buyer_id"].nunique(),
        "sellers": rows["seller_id"].nunique(),
        "exposed_gmv": float(exposed["amount"].sum()),
        "reached_gmv": float(reached["amount"].sum()),
        "warned_gmv": float(rows["amount"].sum()),
        "never_rows": int(never.sum()),
        "honest_rows": int(honest.sum()),
        "never_buyers": int(per_buyer["never"].all().sum()),
        "honest_buyers": int(per_buyer["honest"].all().sum()),
        "lead_days": lead.tolist(),
        "not_delivered_rows": int(rows["reason_codes"].str.contains("NOT_DELIVERED").sum()),
    }


def _pool(runs: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    total = {k: sum(r[k] for r in runs) for k in runs[0] if k != "lead_days"}
    lead = [d for r in runs for d in r["lead_days"]]
    return {
        f"{prefix}_lists": len(runs),
        f"{prefix}_rows_per_list": round(total["rows"] / len(runs), 1),
        f"{prefix}_buyers_per_list": round(total["buyers"] / len(runs), 1),
        f"{prefix}_flagged_sellers_listed_per_list": round(total["sellers"] / len(runs), 1),
        f"{prefix}_exposed_undelivered_gmv": round(total["exposed_gmv"]),
        f"{prefix}_reached_undelivered_gmv": round(total["reached_gmv"]),
        f"{prefix}_reach_share": round(total["reached_gmv"] / max(total["exposed_gmv"], 1), 3),
        f"{prefix}_reached_lead_days_median": round(float(np.median(lead)), 1) if lead else None,
        f"{prefix}_warned_gmv": round(total["warned_gmv"]),
        f"{prefix}_false_warning_rate_rows_never_actioned": round(
            total["never_rows"] / max(total["rows"], 1), 3
        ),
        f"{prefix}_false_warning_rate_buyers_never_actioned": round(
            total["never_buyers"] / max(total["buyers"], 1), 3
        ),
        f"{prefix}_false_warning_rate_rows_honest_in_truth": round(
            total["honest_rows"] / max(total["rows"], 1), 3
        ),
        f"{prefix}_false_warning_rate_buyers_honest_in_truth": round(
            total["honest_buyers"] / max(total["buyers"], 1), 3
        ),
        f"{prefix}_not_delivered_share_of_rows": round(
            total["not_delivered_rows"] / max(total["rows"], 1), 3
        ),
        f"{prefix}_seconds_per_list": round(total["seconds"] / len(runs), 2),
    }


@benchmark("warn_buyers")
def warn_buyers_bench() -> Result:
    """Reach, lead time and false warnings over six lists; run time at a large size."""
    from riskscore.datasets import make_marketplace
    from riskscore.warn import warn_buyers

    n = max(int(N_QUALITY * scale()), 500)
    out: Result = {"flags": f"trained seller fraud model, band >= {MIN_BAND}"}
    out["quality_sellers"] = n
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = make_marketplace(n_sellers=n, seed=SEED)
        truth = tables.pop("truth")
        out["quality_orders"] = len(tables["orders"])
        with Timer() as t:
            model = _train(tables)
        out["train_s"] = round(t.seconds, 1)
        model_runs, truth_runs = [], []
        bad = truth.loc[truth["is_fraud"] | truth["is_counterfeit"], "seller_id"].tolist()
        _say(f"trained in {out['train_s']} s")
        for as_of in WARN_TIMES:
            _say(f"lists as of {as_of}")
            scores = _scores(model, tables, as_of)
            model_runs.append(_one_time(tables, truth, scores, as_of))
            truth_runs.append(_one_time(tables, truth, bad, as_of))
        out.update(_pool(model_runs, "model"))
        out.update(_pool(truth_runs, "truth"))
        out["quality_total_s"] = round(time.perf_counter() - t0, 1)

        big = max(int(N_LARGE * scale()), 1000)
        _say(f"quality done: {out}; simulating {big} sellers")
        with Timer() as t:
            large = make_marketplace(n_sellers=big, seed=SEED + 1)
            large_truth = large.pop("truth")
        out["large_sellers"] = big
        out["large_orders"] = len(large["orders"])
        out["large_simulate_s"] = round(t.seconds, 1)
        out["large_flags"] = "simulator truth (every bad seller), not model bands"
        flagged = large_truth.loc[
            large_truth["is_fraud"] | large_truth["is_counterfeit"], "seller_id"
        ].tolist()
        with Timer() as t:
            rows = warn_buyers(large, flagged, as_of=WARN_TIMES[-1])
        out["large_warn_buyers_s"] = round(t.seconds, 2)
        out["large_flagged_sellers"] = len(flagged)
        out["large_rows"] = len(rows)
    out["peak_rss_mb"] = round(peak_rss_mb())
    return out
