"""Backtest: six monthly cutoffs at 100k sellers, one model and two rule sets.

``backtest_100k`` simulates 100,000 sellers (``RISKSCORE_BENCH_SCALE`` scales it), trains
a seller fraud model on a separate 3,000-seller marketplace (the recipe's training set,
no bootstrap), and backtests at six monthly cutoffs (60-day horizon):

* rule set A: ``examples/rules/marketplace.yaml`` on the model's scores;
* rule set B: A plus a new rule (a young shop with many "not received" complaints).

It reports the wall-clock and CPU seconds of the whole backtest (features as of six
cutoffs, scoring, two rule sets, metrics and a 200-replicate paired bootstrap), the
comparison alone, rows, peak memory and the headline numbers of both policies.

Run alone (writes only ``bench/results/backtest.json``)::

    python -m bench.bench_backtest
"""

from __future__ import annotations

import json
import os
import platform
import time
import warnings
from pathlib import Path
from typing import Any

from bench._harness import Result, Timer, benchmark, peak_rss_mb, scale

ROOT = Path(__file__).resolve().parents[1]
N_SELLERS = 100_000
N_TRAIN = 3_000
N_CUTOFFS = 6
HORIZON = "60D"
TARGET = "fraud"

NEW_RULE = {
    "name": "young_shop_not_received",
    "version": 1,
    "when": "account__age_days < 90 AND complaints__not_received_rate_30d >= 0.05",
    "action": "review",
    "priority": 10,
    "reason": {
        "en": "Shop under 90 days old with 5% or more orders reported not received",
        "zh": "开店不足90天且5%以上订单被投诉未收到货",
    },
}


#: What the running benchmark measured so far (written by ``main`` if a step fails).
PARTIAL: Result = {}


def _model() -> Any:
    from riskscore.datasets import make_marketplace
    from riskscore.features import default_cutoffs
    from riskscore.modeling import marketplace_training_set, train

    tables = make_marketplace(n_sellers=N_TRAIN, seed=1)
    tables.pop("truth")
    cutoffs = default_cutoffs(tables, HORIZON, N_CUTOFFS)
    frame = marketplace_training_set(
        tables, "seller", TARGET, cutoffs=cutoffs, horizon=HORIZON, segments=False
    )
    return train(
        frame,
        entity="seller",
        target=TARGET,
        seed=0,
        capacity=25,
        valid_windows=2,
        n_bootstrap=0,
    ).model


@benchmark("backtest")
def backtest_100k() -> Result:
    """Six cutoffs at 100k sellers: seconds, rows, memory and both policies' numbers."""
    from riskscore.backtest import backtest
    from riskscore.backtest._demo import main_category
    from riskscore.datasets import make_marketplace
    from riskscore.features import default_cutoffs
    from riskscore.rules import RuleSet
    from riskscore.scoring import Scorer

    n = max(1_000, int(N_SELLERS * scale()))
    out: Result = PARTIAL
    out |= {"n_sellers": n, "cutoffs": N_CUTOFFS, "horizon": HORIZON, "target": TARGET}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Timer() as t:
            model = _model()
        out["train_model_3k_s"] = round(t.seconds, 1)
        with Timer() as t:
            tables = make_marketplace(n_sellers=n, seed=0)
            tables.pop("truth")
        out["simulate_s"] = round(t.seconds, 1)
        out["orders"] = len(tables["orders"])
        rules_a = RuleSet.load(ROOT / "examples" / "rules" / "marketplace.yaml")
        data_b = rules_a.to_dict()
        data_b["version"] = f"{rules_a.version}+new"
        data_b["rules"] = [*data_b["rules"], NEW_RULE]
        rules_b = RuleSet.from_dict(data_b)
        cutoffs = default_cutoffs(tables, HORIZON, N_CUTOFFS)
        scorer = Scorer(model, model_name="bench-seller-fraud", model_version="3k")
        cpu0 = time.process_time()
        with Timer() as t:
            result = backtest(
                tables,
                cutoffs,
                target=TARGET,
                horizon=HORIZON,
                models=[scorer],
                rulesets=[rules_a, rules_b],
                columns=main_category,
                n_bootstrap=200,
            )
        out["backtest_s"] = round(t.seconds, 1)
        out["backtest_cpu_s"] = round(time.process_time() - cpu0, 1)
        out["backtest_s_per_cutoff"] = round(t.seconds / N_CUTOFFS, 1)
        with Timer() as t:
            result.compare(result.policies[0], result.policies[1], n_bootstrap=200)
        out["compare_200_bootstrap_s"] = round(t.seconds, 2)
    out["rows"] = len(result.rows)
    out["first_cutoff"] = str(cutoffs[0].date())
    out["last_cutoff"] = str(cutoffs[-1].date())
    for label, row in zip(("a", "b"), result.overall.itertuples(index=False), strict=False):
        out[f"{label}_policy"] = row.policy
        out[f"{label}_alerts_per_day"] = round(row.alerts_per_day, 2)
        out[f"{label}_precision"] = round(row.precision, 4)
        out[f"{label}_recall"] = round(row.recall, 4)
        out[f"{label}_value_recall"] = round(row.value_recall, 4)
        out[f"{label}_lead_days_median"] = round(row.lead_days_median, 1)
    if result.comparison is not None:
        for metric, cmp in result.comparison.iterrows():
            out[f"delta_{metric}"] = (
                f"{cmp['delta']:+.4f} [{cmp['delta_lo']:+.4f}, {cmp['delta_hi']:+.4f}]"
            )
    alone = result.rules[result.rules["alerts_alone"] > 0]
    out["new_rule_alerts_alone"] = int(
        alone.loc[alone["rule"] == NEW_RULE["name"], "alerts_alone"].sum()
    )
    out["peak_rss_mb"] = round(peak_rss_mb())
    out["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    """Run the benchmark and write ``bench/results/backtest.json`` only."""
    try:
        metrics = backtest_100k()
    except Exception as exc:  # keep what was measured, and say what failed
        metrics = {**PARTIAL, "error": f"{type(exc).__name__}: {exc}"}
    record = {
        "name": "backtest",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()} {platform.python_version()}",
        "metrics": metrics,
    }
    path = Path(__file__).parent / "results" / "backtest.json"
    path.write_text(json.dumps(record, indent=2, default=str))
    print(json.dumps(record, indent=2, default=str), flush=True)


if __name__ == "__main__":
    main()
