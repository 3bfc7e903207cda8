"""The decision log's cost: ``score_one`` (and ``score_many``) with logging off and on.

``decision_log`` measures, on the production-shaped scoring bench model (300 rounds of
31 leaves on every seller feature, see :mod:`bench.bench_scoring`) with top-3 reasons
and a 3-rule set:

- ``score_one`` p50 / p99 / mean with no rule set and no log (the baseline), with the
  rule set, with the rule set and the log (``fsync`` after every append, the default),
  and with the log without ``fsync``, the four taking turns call by call; the ratios
  against the baseline;
- the log's own cost timed alone: building one record and appending it (with and
  without ``fsync``);
- ``score_many`` on 5k rows with and without the log (rows/s and the ratio);
- the bytes one record takes in the log, and a replay of the first record (same bytes).

The log is written to a temporary folder on the machine's disk (``TMPDIR``); the fsync
cost depends on that disk.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._harness import Result, benchmark, latency, scale
from bench.bench_scoring import _rows, bench_model

#: Calls per latency measurement.
N_CALLS = 2000
#: Rows of the score_many measurement.
N_MANY = 5_000

RULES: dict[str, Any] = {
    "name": "bench",
    "version": "1",
    "rules": [
        {
            "name": "very_high_score",
            "when": "risk_score >= 900",
            "action": "block",
            "reason": {"en": "Risk score 900 or more", "zh": "风险分不低于900"},
        },
        {
            "name": "cheap_new",
            "when": "account__age_days < 30 AND pricing__median_price_ratio < 0.5",
            "action": "review",
            "reason": {"en": "New shop selling far below market", "zh": "新店低价"},
        },
        {
            "name": "banned_links",
            "when": "network__bad_neighbours >= 3",
            "action": "hold",
            "reason": {"en": "Linked to 3 or more banned shops", "zh": "关联3家以上被处置店铺"},
        },
    ],
}


def _interleaved(
    variants: dict[str, Any], records: list[dict[str, Any]], n: int
) -> dict[str, dict[str, float]]:
    """p50 / p99 / mean (µs) of ``score_one`` per variant, the variants taking turns.

    Taking turns call by call spreads the load of a shared machine evenly over the
    variants, so their ratios hold even when the absolute times do not.
    """
    names = list(variants)
    for r in records[:50]:  # warm-up
        for name in names:
            variants[name].score_one(r)
    times = {name: np.empty(n) for name in names}
    for i in range(n):
        r = records[i % len(records)]
        for name in names:
            t0 = time.perf_counter_ns()
            variants[name].score_one(r)
            times[name][i] = time.perf_counter_ns() - t0
    return {
        name: {
            "p50_us": round(float(np.percentile(t, 50)) / 1e3, 1),
            "p99_us": round(float(np.percentile(t, 99)) / 1e3, 1),
            "mean_us": round(float(t.mean()) / 1e3, 1),
        }
        for name, t in times.items()
    }


@benchmark("decision_log")
def bench_decision_log() -> Result:
    """score_one / score_many with the decision log off and on (ratios)."""
    from riskscore.rules import RuleSet
    from riskscore.rules._log import DecisionLog
    from riskscore.scoring import Scorer
    from riskscore.scoring._folder import export_model
    from riskscore.scoring._load import clear_cache, load_scorer
    from riskscore.scoring._replay import replay

    model = bench_model()
    rules = RuleSet.from_dict(RULES)
    n = max(200, int(N_CALLS * scale()))
    frame = _rows(500, seed=3)
    records = frame.to_dict("records")
    out: Result = {"calls": n, "rules": len(rules), "trees": model.booster.num_trees()}
    with tempfile.TemporaryDirectory(prefix="bench-decision-log-") as tmp:
        root = Path(tmp)
        folder = export_model(
            model, root / "model", version="1", rules=rules.save(root / "rules.yaml")
        )
        clear_cache()
        base = Scorer(model, num_threads=1)
        decided = load_scorer(folder, rules=rules, num_threads=1)
        synced = decided.with_options()
        synced.decision_log = DecisionLog(root / "synced.jsonl")
        unsynced = decided.with_options()
        unsynced.decision_log = DecisionLog(root / "unsynced.jsonl", fsync=False)
        variants = {
            "off": base,
            "rules": decided,
            "rules_log_fsync": synced,
            "rules_log_no_fsync": unsynced,
        }
        measured = _interleaved(variants, records, n)
        for name, stats in measured.items():
            out.update({f"score_one_{name}_{k}": v for k, v in stats.items()})
        for name in ("rules", "rules_log_fsync", "rules_log_no_fsync"):
            for stat in ("p50_us", "p99_us", "mean_us"):
                ratio = measured[name][stat] / measured["off"][stat]
                out[f"ratio_{name}_vs_off_{stat[:-3]}"] = round(ratio, 2)
        # the log's own cost, timed alone: build the record, append it (fsync / not)
        result = decided.score_one(records[0])
        for name, log in (
            ("fsync", DecisionLog(root / "alone.jsonl")),
            ("no_fsync", DecisionLog(root / "alone-nosync.jsonl", fsync=False)),
        ):
            alone = latency(
                lambda r, g=log: g.write([decided.log_record(r, result, "all")]), records, n
            )
            out.update({f"log_append_{name}_{k}": v for k, v in alone.items()})
        log_file = root / "synced.jsonl"
        lines = log_file.read_bytes().splitlines()
        out["bytes_per_record"] = round(sum(len(x) + 1 for x in lines) / len(lines))
        first = replay(log_file, folder, line=1)[0]
        out["replay_first_record_same_bytes"] = first.same

        many = _rows(max(1000, int(N_MANY * scale())), seed=4)
        many_log = decided.with_options()
        many_log.decision_log = DecisionLog(root / "many.jsonl")
        timings = {}
        for name, scorer in (("rules", decided), ("rules_log", many_log)):
            t0 = time.perf_counter()
            scorer.score_many(many, explain="flagged")
            timings[name] = time.perf_counter() - t0
        out["score_many_rows"] = len(many)
        out["score_many_rules_rows_per_s"] = round(len(many) / timings["rules"])
        out["score_many_rules_log_rows_per_s"] = round(len(many) / timings["rules_log"])
        out["ratio_score_many_log_vs_rules"] = round(timings["rules_log"] / timings["rules"], 2)
        clear_cache()
    return out
