"""The promotion gate: how often it decides right, and how fast it measures.

- ``gate_honesty``: generated paired frames (sellers × 4 cutoffs, label repeated per
  seller, a champion and a challenger score with the same or a weaker signal), at about
  15, 60 and 250 pooled positives, over 20 seeds each. For an **equal** challenger (same
  signal, independent noise) and a **worse** one, it counts what the old point-estimate
  gate (refuse unless PR-AUC and precision at capacity are at least the champion's) and
  the new :class:`riskscore.registry.Gate` decide. The old gate refuses an equal
  challenger about half the time whatever the evidence; the new one says "insufficient
  evidence" on small pools, promotes an equal challenger once the pool is large enough,
  and refuses the worse one.
- ``gate_speed``: :func:`riskscore.modeling.compare_paired` with 1 000 paired replicates
  on 40k rows (10k sellers × 4 cutoffs) with four slice columns. Target: seconds.

Timings on a shared machine are noisy: read the ratios measured within one run.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from bench._harness import Result, Timer, benchmark, peak_rss_mb


def paired(n_sellers: int, rate: float, chall_signal: float, seed: int) -> pd.DataFrame:
    """A paired frame of ``n_sellers`` × 4 cutoffs; flags are the top 8 % of each score."""
    rng = np.random.default_rng(seed)
    bad = rng.random(n_sellers) < rate
    ids = np.repeat(np.arange(n_sellers), 4)
    y = bad[ids].astype(int)
    champ = 2.0 * y + rng.normal(size=ids.size)
    chall = chall_signal * y + rng.normal(size=ids.size)
    return pd.DataFrame(
        {
            "entity_id": ids,
            "cutoff": np.tile(np.arange(4), n_sellers),
            "label": y,
            "score_champion": champ,
            "score_challenger": chall,
            "flag_champion": champ > np.quantile(champ, 0.92),
            "flag_challenger": chall > np.quantile(chall, 0.92),
            "segment__tenure": np.where(np.arange(n_sellers) % 4 == 0, "new (<90 days)", "old")[
                ids
            ],
            "segment__size": np.where(np.arange(n_sellers) % 3 == 0, "1-19 orders", "100+")[ids],
            "segment__region": (ids % 7).astype(str),
            "segment__category": (ids % 11).astype(str),
        }
    )


@benchmark("gate_honesty")
def gate_honesty() -> Result:
    """Outcome shares of the old and the new gate, equal and worse challengers."""
    from riskscore.modeling import compare_paired
    from riskscore.registry import Gate

    gate = Gate()
    out: Result = {"seeds": 20, "n_bootstrap": 300}
    # about 15, 60 and 250 pooled positives (4 rows per positive seller)
    for label, n_sellers in (("p15", 50), ("p60", 190), ("p250", 780)):
        for scenario, signal in (("equal", 2.0), ("worse", 1.0)):
            counts = {
                "promote": 0,
                "refuse": 0,
                "insufficient_evidence": 0,
                "old_refuse": 0,
                "no_positive": 0,
            }
            positives = []
            for seed in range(20):
                f = paired(n_sellers, 0.08, signal, seed)
                if not f["label"].any():
                    counts["no_positive"] += 1
                    continue
                ev = compare_paired(f, k=max(1, n_sellers // 25), n_bootstrap=300, seed=seed)
                positives.append(ev.n_positives)
                counts[gate.decide(ev).outcome] += 1
                m = ev.metrics
                if (m["delta"] < 0).any():
                    counts["old_refuse"] += 1
            prefix = f"{label}_{scenario}"
            out[f"{prefix}_mean_positives"] = round(float(np.mean(positives)), 1)
            for key, value in counts.items():
                out[f"{prefix}_{key}_share"] = round(value / 20, 3)
    return out


@benchmark("gate_speed")
def gate_speed() -> Result:
    """compare_paired on 40k paired rows with 1 000 replicates and four slice columns."""
    from riskscore.modeling import compare_paired

    f = paired(10_000, 0.05, 1.8, 0)
    cpu = time.process_time()
    with Timer() as t:
        ev = compare_paired(f, k=400, n_bootstrap=1000)
    cpu = time.process_time() - cpu
    return {
        "rows": len(f),
        "replicates": 1000,
        "slices": len(ev.slices),
        "seconds": round(t.seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
