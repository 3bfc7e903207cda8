"""Graph features on simulated graphs: when do they help, and what did the self-label leak cost.

``graph_scenarios``: for each scenario (homophily, noisy hubs) and five seeds, a graph of
5,000 nodes from :func:`bench.graphs.make_graph_scenario` (5% positives, six node
features of which three carry a weak signal, average degree 6) is split at random into
train / validation / test (60 / 20 / 20, within each class). Graph features come from
:func:`riskscore.features.neighbour_features` with the labels of the training nodes
only (validation and test labels hidden, as for rows to score), neighbour means and
maxima of ``x0..x2``. LightGBM (:data:`riskscore.features._graph_selection.SELECTION_PARAMS`,
200 rounds) is fitted on the training nodes

- ``base``: node features only;
- ``new``: plus the graph features (leave-one-out ``label_pagerank``, issue 12);
- ``old``: plus the graph features with the old ``label_pagerank`` (walks returning to
  a labelled node count for it);
- ``selected``: :func:`riskscore.features.select_graph_features` decides on the
  validation nodes whether to keep the graph columns (``new`` if kept, else ``base``).

Reported per scenario: test ROC-AUC and PR-AUC of each (mean over seeds and a normal 95%
interval of the mean), the paired differences, how often the graph columns were kept,
and the single-feature ROC-AUC of ``label_pagerank`` on training vs test nodes (the
leak shows as a gap). ``RISKSCORE_BENCH_SCALE`` scales the number of nodes.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from bench._harness import Result, benchmark, scale, single_thread
from bench.graphs import edge_homophily, make_graph_scenario, old_label_pagerank

SEEDS = (0, 1, 2, 3, 4)
#: name -> make_graph_scenario keyword arguments
SCENARIOS: dict[str, dict[str, float]] = {
    "random_h0.0": {"homophily": 0.0},
    "noisy_hubs_h0.1": {"homophily": 0.1, "hub_share": 0.5},
    "weak_h0.3": {"homophily": 0.3},
    "medium_h0.6": {"homophily": 0.6},
    "strong_h0.9": {"homophily": 0.9},
}
BASE = [f"x{j}" for j in range(6)]
ROUNDS = 200


def _split(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """0 = train, 1 = validation, 2 = test; 60 / 20 / 20 within each class."""
    side = np.zeros(len(y), dtype=np.int64)
    for c in (0, 1):
        rows = rng.permutation(np.flatnonzero(y == c))
        a, b = int(0.6 * rows.size), int(0.8 * rows.size)
        side[rows[a:b]], side[rows[b:]] = 1, 2
    return side


def _fit_predict(X: pd.DataFrame, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    import lightgbm as lgb

    from riskscore.features._graph_selection import SELECTION_PARAMS

    booster = lgb.train(
        {**SELECTION_PARAMS, "seed": 0},
        lgb.Dataset(X.loc[train].to_numpy(np.float64), y[train]),
        num_boost_round=ROUNDS,
    )
    return np.asarray(booster.predict(X.loc[test].to_numpy(np.float64)))


def _one(kwargs: dict[str, float], seed: int) -> dict[str, Any]:
    from riskscore.features import neighbour_features, select_graph_features
    from riskscore.features._graph import Graph
    from riskscore.metrics import pr_auc, roc_auc

    n = max(500, int(5000 * scale()))
    nodes, edges = make_graph_scenario(n, seed=seed, **kwargs)  # type: ignore[arg-type]
    y = nodes["y"].to_numpy()
    side = _split(y, np.random.default_rng(1000 + seed))
    train, valid, test = side == 0, side == 1, side == 2
    t0 = time.perf_counter()
    graph = neighbour_features(
        nodes, edges, label_col="y", feature_cols=["x0", "x1", "x2"], known_labels_mask=train
    ).reset_index(drop=True)
    seconds = time.perf_counter() - t0
    old = graph.copy()
    g = Graph.from_edges(n, edges["src"].to_numpy(), edges["dst"].to_numpy())
    old["label_pagerank"] = old_label_pagerank(g, (y == 1) & train)
    frames = {
        "base": nodes[BASE],
        "new": pd.concat([nodes[BASE], graph], axis=1),
        "old": pd.concat([nodes[BASE], old], axis=1),
    }
    out: dict[str, Any] = {"edge_homophily": edge_homophily(nodes, edges), "features_s": seconds}
    for name, X in frames.items():
        p = _fit_predict(X, y, train, test)
        out[f"{name}_roc_auc"], out[f"{name}_pr_auc"] = roc_auc(y[test], p), pr_auc(y[test], p)
    seen = train | valid
    choice = select_graph_features(
        frames["new"].loc[seen].reset_index(drop=True),
        y[seen],
        list(graph.columns),
        valid=valid[seen],
        num_boost_round=ROUNDS,
        n_bootstrap=300,
        seed=seed,
    )
    out["kept"] = float(choice.keep)
    picked = "new" if choice.keep else "base"
    out["selected_roc_auc"] = out[f"{picked}_roc_auc"]
    out["selected_pr_auc"] = out[f"{picked}_pr_auc"]
    for name, frame in (("new", graph), ("old", old)):
        for part, rows in (("train", train), ("test", test)):
            out[f"{name}_pagerank_alone_auc_{part}"] = roc_auc(
                y[rows], frame["label_pagerank"].to_numpy()[rows]
            )
    return out


def _interval(values: Any) -> str:
    v = np.asarray(values, dtype=np.float64)
    half = 1.96 * v.std(ddof=1) / np.sqrt(v.size) if v.size > 1 else 0.0
    return f"{v.mean():.3f} [{v.mean() - half:.3f}, {v.mean() + half:.3f}]"


@benchmark("graph_scenarios")
def graph_scenarios() -> Result:
    """Test ROC-AUC / PR-AUC with and without graph features, old vs new label features."""
    result: Result = {"nodes": max(500, int(5000 * scale())), "seeds": ",".join(map(str, SEEDS))}
    t0 = time.perf_counter()
    with single_thread():
        for name, kwargs in SCENARIOS.items():
            runs = [_one(kwargs, seed) for seed in SEEDS]
            table = pd.DataFrame(runs)
            result[f"{name}_edge_homophily"] = round(float(table["edge_homophily"].mean()), 3)
            for metric in ("roc_auc", "pr_auc"):
                for model in ("base", "new", "old", "selected"):
                    result[f"{name}_{model}_{metric}"] = _interval(table[f"{model}_{metric}"])
                result[f"{name}_new_minus_base_{metric}"] = _interval(
                    table[f"new_{metric}"] - table[f"base_{metric}"]
                )
                result[f"{name}_new_minus_old_{metric}"] = _interval(
                    table[f"new_{metric}"] - table[f"old_{metric}"]
                )
                result[f"{name}_selected_minus_base_{metric}"] = _interval(
                    table[f"selected_{metric}"] - table[f"base_{metric}"]
                )
            result[f"{name}_kept_share"] = round(float(table["kept"].mean()), 2)
            for model in ("new", "old"):
                for part in ("train", "test"):
                    col = f"{model}_pagerank_alone_auc_{part}"
                    result[f"{name}_{col}"] = round(float(table[col].mean()), 3)
            result[f"{name}_features_s"] = round(float(table["features_s"].mean()), 2)
            print(name, "done", round(time.perf_counter() - t0, 1), flush=True)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result
