"""Scoring speed, as ratios against raw LightGBM on the same model and rows.

- ``scoring_one``: ``Scorer.score_one`` from a dict, without and with top-3 reasons, vs
  ``Booster.predict`` of a 1-row numpy array (``num_threads=1``): p50 / p99.
- ``scoring_many``: ``Scorer.score_many`` (no reasons) vs ``Booster.predict`` on a
  1M-row matrix: rows/s and the ratio.
- ``scoring_pyfunc``: the logged MLflow pyfunc's ``predict`` on 100k rows with reasons vs
  ``score_many`` with reasons on the same rows.
- ``scoring_serve``: a bounded load test against ``mlflow models serve`` on 127.0.0.1 at
  concurrency 1, 8 and 32 (60 s each; ``RISKSCORE_BENCH_SCALE`` shortens it): p50 / p99
  latency, requests/s and the error count.

The model is production-shaped: LightGBM's riskscore defaults (31 leaves, depth 6), 300
rounds, on every seller feature of the catalog from a simulated 2000-seller marketplace
(features at four monthly cutoffs, labels from the simulator's ground truth).
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from bench._harness import benchmark, latency, scale

#: Rows for the throughput benchmark.
N_MANY = 1_000_000
#: Rows for the pyfunc benchmark.
N_PYFUNC = 100_000
#: Calls per latency measurement.
N_CALLS = 3000


@functools.cache
def bench_features() -> pd.DataFrame:
    """Seller features at four cutoffs of a 2000-seller marketplace, with a 0/1 ``label``."""
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_features

    market = make_marketplace(n_sellers=2000, seed=11)
    tables = {k: v for k, v in market.items() if k != "truth"}
    truth = market["truth"].set_index("seller_id")
    bad = truth[["is_counterfeit", "is_fraud"]].any(axis=1)
    frames = []
    for as_of in ("2024-04-01", "2024-06-01", "2024-08-01", "2024-10-01"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = build_features(tables, "seller", as_of=as_of).reset_index()
        f["label"] = bad.reindex(f["seller_id"]).fillna(False).to_numpy(dtype=int)
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


@functools.cache
def bench_model() -> Any:
    """A RiskModel with the riskscore default tree shape and 300 rounds."""
    import lightgbm as lgb

    from riskscore.features import catalog
    from riskscore.modeling import DEFAULT_PARAMS, Bands, RiskModel, RiskScale, fit_calibrator

    data = bench_features()
    names = [c for c in data.columns if c not in ("seller_id", "label")]
    X = data[names].to_numpy(dtype=np.float64)
    y = data["label"].to_numpy()
    params = {**DEFAULT_PARAMS, "seed": 0, "num_threads": 2}
    booster = lgb.train(params, lgb.Dataset(X, y, feature_name=names), 300)
    raw = booster.predict(X, raw_score=True)
    scale_ = RiskScale.fit(raw[y == 0])
    snapshot = catalog("seller")
    return RiskModel(
        booster,
        feature_names=names,
        calibrator=fit_calibrator(raw, y, "platt"),
        scale=scale_,
        bands=Bands({"medium": 250, "high": 500, "critical": 750}),
        metadata={"entity": "seller", "target": "fraud", "version": "bench"},
        catalog=snapshot.loc[snapshot["name"].isin(names)].reset_index(drop=True),
    )


def _rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` feature rows resampled from the bench features, with unique seller ids."""
    data = bench_features()
    names = bench_model().feature_names
    idx = np.random.default_rng(seed).integers(0, len(data), size=n)
    frame = data[names].iloc[idx].reset_index(drop=True)
    frame.insert(0, "seller_id", pd.array([f"B{i:08d}" for i in range(n)], dtype="str"))
    return frame


@benchmark("scoring_one")
def scoring_one() -> dict[str, Any]:
    """score_one from a dict without / with top-3 reasons vs raw Booster.predict of one row."""
    from riskscore.scoring import Scorer

    model = bench_model()
    scorer = Scorer(model)
    n = max(200, int(N_CALLS * scale()))
    frame = _rows(500, seed=1)
    records = frame.to_dict("records")
    arrays = [
        np.ascontiguousarray(frame[model.feature_names].to_numpy(dtype=np.float64)[i : i + 1])
        for i in range(len(frame))
    ]
    booster = model.booster
    raw = latency(lambda x: booster.predict(x, raw_score=True, num_threads=1), arrays, n)
    plain = latency(lambda r: scorer.score_one(r, explain=False), records, n)
    reasons = latency(lambda r: scorer.score_one(r, explain=True), records, n)
    pandas_row = latency(
        lambda i: booster.predict(frame[model.feature_names].iloc[i : i + 1], num_threads=1),
        list(range(len(frame))),
        max(100, n // 5),
    )
    return {
        "trees": booster.num_trees(),
        "features": len(model.feature_names),
        "calls": n,
        **{f"raw_predict_{k}": v for k, v in raw.items()},
        **{f"score_one_{k}": v for k, v in plain.items()},
        **{f"score_one_reasons_{k}": v for k, v in reasons.items()},
        **{f"raw_predict_pandas_row_{k}": v for k, v in pandas_row.items()},
        "p99_ratio_score_one_vs_raw": round(plain["p99_us"] / raw["p99_us"], 2),
        "p99_under_1ms": plain["p99_us"] < 1000,
        "p99_reasons_under_5ms": reasons["p99_us"] < 5000,
    }


@benchmark("scoring_many")
def scoring_many() -> dict[str, Any]:
    """score_many (no reasons) vs raw Booster.predict on a 1M-row matrix, rows/s."""
    from riskscore.scoring import Scorer

    model = bench_model()
    n = max(10_000, int(N_MANY * scale()))
    frame = _rows(n, seed=2)
    X = np.ascontiguousarray(frame[model.feature_names].to_numpy(dtype=np.float64))
    scorer = Scorer(model, num_threads=2)
    booster = model.booster
    booster.predict(X[:1000], raw_score=True, num_threads=2)

    def timed(func: Any, repeat: int = 2) -> float:
        best = np.inf
        for _ in range(repeat):
            t0 = time.perf_counter()
            func()
            best = min(best, time.perf_counter() - t0)
        return float(best)

    raw_s = timed(lambda: booster.predict(X, raw_score=True, num_threads=2))
    many_s = timed(lambda: scorer.score_many(frame, explain="none"))
    flagged_s = timed(lambda: scorer.score_many(frame, explain="flagged"), repeat=1)
    flagged = scorer.score_many(frame.head(20_000), explain="none")["band"].isin(
        ["high", "critical"]
    )
    return {
        "rows": n,
        "trees": booster.num_trees(),
        "raw_predict_rows_per_s": round(n / raw_s),
        "score_many_rows_per_s": round(n / many_s),
        "throughput_ratio": round(raw_s / many_s, 3),
        "at_least_80pct": raw_s / many_s >= 0.8,
        "score_many_flagged_rows_per_s": round(n / flagged_s),
        "flagged_share": round(float(flagged.mean()), 4),
    }


def _save_pyfunc(model: Any, path: str) -> str:
    """Save ``model`` as the riskscore pyfunc, exactly as the registry logs it."""
    from riskscore.registry._log import save_pyfunc

    return save_pyfunc(model, path, _rows(5, seed=9)[model.feature_names])


@benchmark("scoring_pyfunc")
def scoring_pyfunc() -> dict[str, Any]:
    """The saved pyfunc's predict with reasons vs score_many with reasons, 100k rows."""
    import tempfile

    import mlflow.pyfunc

    from riskscore.scoring import Scorer

    model = bench_model()
    n = max(5_000, int(N_PYFUNC * scale()))
    frame = _rows(n, seed=3)[model.feature_names]
    scorer = Scorer(model, num_threads=2)
    with tempfile.TemporaryDirectory() as tmp:
        pyfunc = mlflow.pyfunc.load_model(_save_pyfunc(model, os.path.join(tmp, "pyfunc")))
        pyfunc.predict(frame.head(100), params={"explain": "all"})
        t0 = time.perf_counter()
        pyfunc.predict(frame, params={"explain": "all"})
        pyfunc_s = time.perf_counter() - t0
    scorer.score_many(frame.head(100), explain="all")
    t0 = time.perf_counter()
    scorer.score_many(frame, explain="all")
    many_s = time.perf_counter() - t0
    return {
        "rows": n,
        "pyfunc_s": round(pyfunc_s, 2),
        "score_many_s": round(many_s, 2),
        "ratio_pyfunc_vs_score_many": round(pyfunc_s / many_s, 3),
        "within_1_2x": pyfunc_s / many_s <= 1.2,
    }


def _load(port: int, body: bytes, concurrency: int, seconds: float) -> dict[str, Any]:
    """``concurrency`` threads POST ``body`` to /invocations for ``seconds`` (bounded)."""
    import http.client
    import threading

    stop = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    max_requests = 1_000_000  # a bound on every loop, whatever the clock says

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Content-Type": "application/json"}
        for _ in range(max_requests):
            if time.monotonic() >= stop:
                break
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/invocations", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            if ok:
                latencies[k].append(time.perf_counter() - t0)
            else:
                errors[k] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    all_ms = np.array([x for lst in latencies for x in lst]) * 1e3
    return {
        "requests": int(all_ms.size),
        "errors": int(sum(errors)),
        "rps": round(all_ms.size / wall, 1),
        "p50_ms": round(float(np.percentile(all_ms, 50)), 2) if all_ms.size else None,
        "p99_ms": round(float(np.percentile(all_ms, 99)), 2) if all_ms.size else None,
    }


@benchmark("scoring_serve")
def scoring_serve() -> dict[str, Any]:
    """Bounded load test of ``mlflow models serve`` on loopback: 1 seller per request."""
    import json
    import tempfile
    from pathlib import Path

    from bench._servers import model_server

    model = bench_model()
    seconds = max(5.0, 60.0 * scale())
    row = _rows(1, seed=5)[model.feature_names]
    record = [None if v != v else float(v) for v in row.iloc[0]]
    body = json.dumps(
        {"dataframe_split": {"columns": list(row.columns), "data": [record]}}
    ).encode()
    out: dict[str, Any] = {"seconds_per_level": seconds, "workers": 2}
    with tempfile.TemporaryDirectory() as tmp:
        path = _save_pyfunc(model, os.path.join(tmp, "pyfunc"))
        with model_server(path, log=Path(tmp, "server.log"), workers=2, timeout=300) as url:
            port = int(url.rsplit(":", 1)[1])
            _load(port, body, 1, 2.0)  # warm-up
            for concurrency in (1, 8, 32):
                for key, value in _load(port, body, concurrency, seconds).items():
                    out[f"c{concurrency}_{key}"] = value
    out["zero_errors"] = all(out[f"c{c}_errors"] == 0 for c in (1, 8, 32))
    return out
