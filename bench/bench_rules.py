"""Rules: ``decide_one`` latency and ``decide_many`` throughput for 20 rules; engine choice.

``rules`` measures, for a 20-rule set over catalog features and model outputs:

- ``decide_one``: p50 / p99 of one record (Python closures compiled from the rules);
- ``decide_many`` over 1M rows (``RISKSCORE_BENCH_SCALE`` scales it): total seconds and
  the split between the DuckDB query (all 20 conditions in one SELECT), the vectorised
  precedence and building the per-row lists;
- the alternatives the engine was chosen against, measured in the same run: the same
  conditions evaluated row by row in Python (what a per-record interpreter such as
  ``rule-engine`` or ``cel-python`` does, and those add their own interpreter overhead
  on top), and DuckDB for one record (why ``decide_one`` does not use it).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from bench._harness import Result, Timer, benchmark, peak_rss_mb, scale

#: 20 rules in the shapes risk teams write: thresholds, conjunctions, bands, ratios.
RULES: list[tuple[str, str, str]] = [
    ("very_high_score", "risk_score >= 900", "block"),
    ("high_score_new", "risk_score >= 700 AND account__age_days < 30", "hold"),
    ("banned_links", "network__bad_neighbours >= 3", "hold"),
    ("cheap_new", "account__age_days < 30 AND pricing__median_price_ratio < 0.5", "review"),
    ("below_market", "pricing__share_below_market > 0.8 AND activity__orders_30d >= 20", "review"),
    ("complaint_spike", "complaints__acceleration > 3 AND complaints__rate_7d > 0.1", "review"),
    ("counterfeit_compl", "complaints__counterfeit_rate_30d >= 0.05", "hold"),
    ("not_received", "complaints__not_received_rate_30d BETWEEN 0.1 AND 1", "review"),
    ("replica_titles", "text__replica_share > 0.2 OR text__replica_listings >= 5", "hold"),
    ("one_buyer", "buyers__top1_share > 0.6 AND buyers__distinct_buyers < 5", "review"),
    ("shared_addr", "buyers__shared_address_share > 0.5", "review"),
    (
        "gmv_jump",
        "activity__gmv_7d / 7 > 3 * (activity__gmv_30d - activity__gmv_7d) / 23",
        "review",
    ),
    ("burst_listings", "account__new_listings_7d >= 50", "review"),
    ("pagerank", "network__bad_pagerank > 0.2 AND band IN ('high', 'critical')", "hold"),
    ("device_ring", "network__device_links >= 5 OR network__payment_links >= 5", "review"),
    ("no_orders_yet", "account__days_since_first_order IS NULL AND risk_score > 500", "review"),
    ("refunds", "complaints__refund_rate > 0.3", "review"),
    ("cancels", "COALESCE(complaints__cancel_rate, 0) > 0.4", "review"),
    (
        "trusted_old",
        "account__age_days > 1000 AND complaints__rate_90d < 0.01 AND score < 0.2",
        "allow",
    ),
    (
        "branded_cheap",
        "pricing__share_branded_high_risk > 0.5 AND pricing__min_price_ratio < 0.3",
        "hold",
    ),
]


def _rule_set() -> Any:
    from riskscore.rules import RuleSet

    return RuleSet.from_dict(
        {
            "name": "bench",
            "version": "1",
            "rules": [
                {
                    "name": name,
                    "when": when,
                    "action": action,
                    "priority": i,
                    "override": name == "trusted_old",
                    "reason": {"en": f"{name} fired", "zh": f"{name} 触发"},
                }
                for i, (name, when, action) in enumerate(RULES)
            ],
        }
    )


def _frame(n: int, columns: list[str], seed: int = 0) -> pd.DataFrame:
    """``n`` rows bootstrapped from a simulated marketplace's seller features.

    Features come from ``make_marketplace(n_sellers=2000, seed=0)`` as of 2024-10-01
    (so the rules fire as often as they would on a marketplace); the model outputs are
    drawn with about 1% of rows at ``risk_score >= 900``; the flagged 10% get a model
    reason text.
    """
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_features

    rng = np.random.default_rng(seed)
    tables = make_marketplace(n_sellers=2000, seed=0)
    tables = {k: v for k, v in tables.items() if k != "truth"}
    features = build_features(tables, "seller", as_of="2024-10-01").reset_index()
    take = rng.integers(0, len(features), size=n)
    wanted = [c for c in columns if c in features.columns]
    frame = features[wanted].iloc[take].reset_index(drop=True)
    frame.insert(0, "seller_id", np.arange(n).astype(str))
    risk = 1000 * rng.beta(1.0, 2.0, size=n)
    frame["risk_score"] = risk
    frame["score"] = risk / 1000
    frame["band"] = np.select(
        [risk >= 800, risk >= 600, risk >= 300], ["critical", "high", "medium"], "low"
    ).astype(object)
    frame["reason_1_text"] = np.where(risk >= 700, "Many complaints", None)
    return frame


@benchmark("rules")
def bench_rules() -> Result:
    """decide_one p99 and decide_many over 1M rows × 20 rules; alternatives measured."""
    from riskscore.rules._many import fired_matrix, precedence

    rules = _rule_set()
    assert len(rules) == 20
    n = max(int(1_000_000 * scale()), 1000)
    frame = _frame(n, rules.needed_columns)
    out: Result = {"n_rules": len(rules), "n_rows": n}

    # decide_one: a record of the needed features plus the model output
    records = frame.head(2000).to_dict("records")
    scored = [
        {"risk_score": r["risk_score"], "score": r["score"], "band": r["band"]} for r in records
    ]
    for r, s in zip(records[:200], scored[:200], strict=True):  # warm up
        rules.decide_one(r, scored=s)
    times, cpu = [], []
    for _ in range(3):
        for r, s in zip(records, scored, strict=True):
            t0, c0 = time.perf_counter(), time.thread_time()
            rules.decide_one(r, scored=s)
            cpu.append(time.thread_time() - c0)
            times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1000
    out["decide_one_p50_ms"] = round(float(np.percentile(ms, 50)), 4)
    out["decide_one_p99_ms"] = round(float(np.percentile(ms, 99)), 4)
    out["decide_one_max_ms"] = round(float(ms.max()), 4)
    # CPU time of the calling thread: what the call costs without the waits for a core
    # that a loaded machine adds to the wall-clock tail
    cpu_ms = np.array(cpu) * 1000
    out["decide_one_cpu_p99_ms"] = round(float(np.percentile(cpu_ms, 99)), 4)
    out["decide_one_target_p99_ms"] = 1.0

    # decide_many: total, then its parts
    rules.decide_many(frame.head(1000))  # warm up DuckDB
    cpu0 = time.process_time()
    with Timer() as total:
        decided = rules.decide_many(frame)
    out["decide_many_seconds"] = round(total.seconds, 3)
    out["decide_many_cpu_seconds_all_threads"] = round(time.process_time() - cpu0, 3)
    out["decide_many_rows_per_s"] = round(n / total.seconds)
    with Timer() as query:
        fired = fired_matrix(rules.rules, frame, rules.schema)
    out["duckdb_query_seconds"] = round(query.seconds, 3)
    bands = frame["band"].to_numpy(dtype=object)
    with Timer() as prec:
        precedence(rules.rules, fired, bands, rules.band_actions)
    out["precedence_seconds"] = round(prec.seconds, 3)
    out["share_rows_any_rule_fired"] = round(float(fired.any(axis=1).mean()), 4)
    out["mean_rules_fired_per_row"] = round(float(fired.sum(axis=1).mean()), 3)
    out["actions"] = decided["action"].value_counts().to_dict()

    # alternative 1: per-record evaluation (closures; a per-record interpreter is slower)
    sample = frame.head(20_000).to_dict("records")
    pairs = [
        (r, {"risk_score": r["risk_score"], "score": r["score"], "band": r["band"]}) for r in sample
    ]
    with Timer() as rowwise:
        for r, s in pairs:
            rules.decide_one(r, scored=s)
    per_row = rowwise.seconds / len(pairs)
    out["rowwise_python_seconds_per_1m_rows"] = round(per_row * 1_000_000, 2)
    out["duckdb_speedup_vs_rowwise"] = round(per_row * n / total.seconds, 1)

    # alternative 2: DuckDB for one record
    one = frame.head(1)
    rules.decide_many(one)
    lat = []
    for _ in range(200):
        t0 = time.perf_counter()
        rules.decide_many(one)
        lat.append(time.perf_counter() - t0)
    out["duckdb_one_record_p50_ms"] = round(float(np.percentile(np.array(lat) * 1000, 50)), 3)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    import duckdb

    out["duckdb_version"] = duckdb.__version__
    return out
