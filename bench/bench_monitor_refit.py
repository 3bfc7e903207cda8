"""The monitor's reference for a deployed refit: whose scores describe an unchanged market.

``train(refit=True)`` (the default) deploys a refit on every labelled row. It scores the
sellers it learnt far lower than the evaluated fit does (it has seen their rows), so a
reference whose score distribution is the evaluated fit's out-of-sample test scores
reads an unchanged marketplace as shifted. This measures, for the deployed refit scored
on the next cutoff it never saw:

- for each scenario (``default``, ``hard``) and simulator seed, a marketplace of
  ``N_SELLERS`` sellers at ``N_CUTOFFS`` monthly cutoffs (seller fraud, 60-day labels,
  capacity 25, two validation windows);
- for each of the last ``N_SCORED`` cutoffs ``t``: train on the rows whose label window
  closed by ``t``, score every seller at ``t`` with ``result.model`` (the refit), and
  compare with four references built from the same run, on every row of the test
  windows unless said: ``evaluated`` (score distribution and band shares from
  ``result.predictions``, the evaluated fit's test side: the behaviour before),
  ``deployed`` (the default now: the refit's in-sample scores, band shares from its
  out-of-fold bands), ``in_sample`` (both from the refit's in-sample scores) and
  ``out_of_fold`` (both from its out-of-fold scores);
- report the score PSI, the flagged share now over the reference's, and the monitor's
  level (0 ok, 1 watch, 2 act) on the score PSI and on any output finding (score PSI,
  band PSI, flagged share) for each; the realised calibration of the
  refit on the next cutoff (sum of scores over positives, all sellers and the sellers
  it trained on) says whether its low scores on known sellers are right; and the
  precision and recall at the flag band each reference stores (what ``matured_check``
  compares a run's matured labels with) against the refit's on the next cutoff, and
  whether the label-free precision estimate made at scoring time covered it.

The summary gives the mean and a 95 % t-interval over runs per scenario and reference.
The ``hard`` scenario includes ``drift`` (fraud stops after 40 % of the year), so fewer
flags at its later cutoffs is a true change, which the flagged-share check should report.
"""

from __future__ import annotations

import dataclasses
import os
import time
import warnings
from typing import Any

from bench._harness import Result, benchmark, scale
from bench.bench_refit import _interval

SEEDS = (0, 1, 2)
SCENARIOS = ("default", "hard")
HORIZON = "60D"
CAPACITY = 25
N_CUTOFFS = 9
N_SCORED = 2
REFERENCES = ("evaluated", "deployed", "in_sample", "out_of_fold")
LEVEL = {"ok": 0, "watch": 1, "act": 2}
#: Findings on the model's output: score distribution, band volumes, flagged share.
OUTPUT_KINDS = ("score_psi", "band_psi", "flagged")
FLAG_BANDS = ("high", "critical")


def _n_sellers() -> int:
    return int(os.environ.get("RISKSCORE_BENCH_REFIT_SELLERS", max(1000, int(4000 * scale()))))


def _run(result: Any, now: Any, past_ids: set[str]) -> dict[str, Any]:
    """Compare the refit's scores at the next cutoff with both references."""
    import numpy as np
    import pandas as pd

    from riskscore.monitor import compare, estimate_performance, reference_from_result

    model = result.model
    out = model.scores_from_raw(model.raw_score(model.to_matrix(now)))
    scores = pd.DataFrame({k: out[k] for k in ("score", "risk_score", "band")})
    y = now["label"].to_numpy()
    known = now["entity_id"].isin(past_ids).to_numpy()
    p = np.asarray(out["score"], dtype=np.float64)
    flagged = np.isin(np.asarray(out["band"]).astype(str), FLAG_BANDS)
    hits = int((flagged & (y == 1)).sum())
    estimate = estimate_performance(scores, flag_bands=FLAG_BANDS)
    realised = hits / max(int(flagged.sum()), 1)
    run: dict[str, Any] = {
        "estimate_precision": float(estimate.precision),
        "estimate_covers": int(estimate.precision_lo <= realised <= estimate.precision_hi),
        "next_precision": realised,
        "next_recall": hits / max(int(y.sum()), 1),
        "expected_over_observed": float(p.sum() / max(y.sum(), 1)),
        "expected_over_observed_known": float(p[known].sum() / max(y[known].sum(), 1)),
        "known_share": float(known.mean()),
    }
    dep = result.deployed_predictions
    oof = dep[["oof_score", "oof_risk_score", "oof_band"]]
    oof = oof.rename(columns=lambda c: c.removeprefix("oof_"))
    refs = {
        "evaluated": reference_from_result(
            dataclasses.replace(result, deployed_predictions=None), train_frame=result.train_frame
        ),
        "deployed": reference_from_result(result, train_frame=result.train_frame),
        "in_sample": reference_from_result(
            result, train_frame=result.train_frame, volumes=dep[["band"]]
        ),
        "out_of_fold": reference_from_result(result, train_frame=result.train_frame, deployed=oof),
    }
    for name, ref in refs.items():
        report = compare(ref, now, scores)
        score_level = max(
            (LEVEL[f.level] for f in report.findings if f.kind == "score_psi"), default=0
        )
        run[f"{name}_score_psi"] = float(report.outputs["score"]["psi"])
        run[f"{name}_flagged_ratio"] = float(
            report.bands["flagged_now"] / max(report.bands["flagged_ref"], 1e-12)
        )
        perf = ref.performance
        run[f"{name}_ref_precision"] = perf["flagged_positives"] / max(perf["flagged"], 1)
        run[f"{name}_ref_recall"] = perf["flagged_positives"] / max(perf["positives"], 1)
        run[f"{name}_score_level"] = score_level
        run[f"{name}_output_level"] = max(
            (LEVEL[f.level] for f in report.findings if f.kind in OUTPUT_KINDS), default=0
        )
    return run


def _runs(n: int) -> list[dict[str, Any]]:
    import pandas as pd

    from riskscore.datasets import make_marketplace
    from riskscore.features import build_training_set, default_cutoffs
    from riskscore.modeling import train
    from riskscore.modeling._recipe import VALID_WINDOWS

    runs: list[dict[str, Any]] = []
    for scenario in SCENARIOS:
        for seed in SEEDS:
            tables = make_marketplace(
                n_sellers=n, seed=seed, scenario=None if scenario == "default" else scenario
            )
            tables.pop("truth")
            cutoffs = default_cutoffs(tables, HORIZON, N_CUTOFFS)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = build_training_set(
                    tables, "seller", target="fraud", cutoffs=cutoffs, horizon=HORIZON
                )
            for t in cutoffs[-N_SCORED:]:
                past = frame[frame["cutoff"] + pd.Timedelta(HORIZON) <= t]
                now = frame[frame["cutoff"] == t].reset_index(drop=True)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = train(
                        past,
                        entity="seller",
                        target="fraud",
                        seed=seed,
                        capacity=CAPACITY,
                        valid_windows=VALID_WINDOWS,
                        n_bootstrap=0,
                        family_report=False,
                    )
                    run = {"scenario": scenario, "seed": seed, "cutoff": str(t.date())}
                    run.update(_run(result, now, set(past["entity_id"])))
                runs.append(run)
                print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in run.items()})
    return runs


def _fmt(mean: float, lo: float, hi: float) -> str:
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


@benchmark("monitor_refit")
def monitor_refit_reference() -> Result:
    """Score PSI of an unchanged next cutoff against each reference of the deployed refit."""
    n = _n_sellers()
    t0 = time.perf_counter()
    runs = _runs(n)
    result: Result = {
        "n_sellers": n,
        "seeds": ", ".join(map(str, SEEDS)),
        "scenarios": ", ".join(SCENARIOS),
        "model": "seller fraud, refit=True",
        "capacity": CAPACITY,
        "scored_cutoffs": N_SCORED,
        "runs": len(runs),
    }
    for scenario in SCENARIOS:
        mine = [r for r in runs if r["scenario"] == scenario]
        for metric in (
            "expected_over_observed",
            "expected_over_observed_known",
            "known_share",
            "next_precision",
            "next_recall",
            "estimate_precision",
        ):
            result[f"{scenario}_{metric}"] = _fmt(*_interval([r[metric] for r in mine]))
        result[f"{scenario}_estimate_covers_runs"] = sum(r["estimate_covers"] for r in mine)
        for ref in REFERENCES:
            for metric in ("score_psi", "flagged_ratio", "ref_precision", "ref_recall"):
                values = [r[f"{ref}_{metric}"] for r in mine]
                result[f"{scenario}_{ref}_{metric}"] = _fmt(*_interval(values))
                result[f"{scenario}_{ref}_{metric}_max"] = round(max(values), 3)
            for what in ("score", "output"):
                levels = [r[f"{ref}_{what}_level"] for r in mine]
                result[f"{scenario}_{ref}_runs_{what}_act"] = sum(1 for v in levels if v == 2)
                result[f"{scenario}_{ref}_runs_{what}_watch"] = sum(1 for v in levels if v == 1)
    for r in runs:
        key = f"{r['scenario']}_s{r['seed']}_{r['cutoff']}"
        for k, v in r.items():
            if k not in ("scenario", "seed", "cutoff"):
                result[f"{key}_{k}"] = round(v, 4) if isinstance(v, float) else v
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    return result
