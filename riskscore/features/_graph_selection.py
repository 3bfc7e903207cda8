"""Keep graph features only when they help on validation.

Graph features can hurt: on one real review graph adding :func:`neighbour_features` to
LightGBM lowered ROC-AUC from 0.979 to 0.965, on another it lifted it from 0.750 to 0.849
(issue 12). Whether a graph carries signal (homophily) or noise (hubs linking anyone) is a
property of the user's data, so :func:`select_graph_features` measures it: it fits the
same LightGBM with and without the graph columns on the training rows, compares
validation PR-AUC, and keeps the graph columns only when the gain is larger than its
paired-bootstrap noise (the one-sided lower bound of the gain is above zero).

The recipe, end to end (``docs/modelling.md``, "Graph label features: no self-label")::

    feats = neighbour_features(nodes, edges, label_col="bad", feature_cols=[...],
                               known_labels_mask=is_train)   # hide validation labels
    X = nodes[base_cols].join(feats, on="node_id")           # or aligned by position
    choice = select_graph_features(X, y, graph_columns=list(feats.columns),
                                   valid=is_valid)
    columns = choice.columns                                  # what to train on
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskscore._deprecation import renamed_argument
from riskscore.exceptions import FeatureError
from riskscore.metrics import pr_auc

__all__ = ["GraphFeatureChoice", "select_graph_features"]

#: LightGBM settings of the two comparison fits: small trees, a fixed number of rounds
#: (no early stopping on the validation rows that decide), one thread, deterministic.
SELECTION_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.05,
    "num_leaves": 15,
    "max_depth": 5,
    "min_data_in_leaf": 20,
    "lambda_l2": 1.0,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "verbosity": -1,
}


@dataclass(frozen=True)
class GraphFeatureChoice:
    """The outcome of :func:`select_graph_features`.

    Parameters
    ----------
    keep : bool
        Whether the graph columns earned their place.
    columns : tuple of str
        The columns to train on: every column with ``keep``, the others without.
    graph_columns : tuple of str
        The graph columns that were tested.
    pr_auc_without, pr_auc_with : float
        Validation PR-AUC of the fit without and with the graph columns.
    delta : float
        ``pr_auc_with - pr_auc_without``.
    delta_low : float
        One-sided lower bound of ``delta`` at the chosen level (paired bootstrap over
        validation rows, positives and negatives resampled apart).
    share_better : float
        Share of bootstrap replicates in which the fit with graph columns did better.
    n_valid, n_valid_positives : int
        Validation rows and positives.
    """

    keep: bool
    columns: tuple[str, ...]
    graph_columns: tuple[str, ...]
    pr_auc_without: float
    pr_auc_with: float
    delta: float
    delta_low: float
    share_better: float
    n_valid: int
    n_valid_positives: int

    def summary(self) -> str:
        """One line in plain words."""
        verdict = "kept" if self.keep else "left out"
        return (
            f"graph features {verdict}: validation PR-AUC {self.pr_auc_with:.3f} with vs "
            f"{self.pr_auc_without:.3f} without (gain {self.delta:+.3f}, lower bound "
            f"{self.delta_low:+.3f}; {self.n_valid_positives} positives in "
            f"{self.n_valid} validation rows)"
        )


def select_graph_features(
    X: pd.DataFrame,
    y: Any,
    graph_columns: Sequence[str],
    *,
    valid: float | Any = 0.3,
    level: float = 0.95,
    n_bootstrap: int = 500,
    num_boost_round: int = 200,
    seed: int = 0,
    n_boot: int | None = None,
) -> GraphFeatureChoice:
    """Keep graph feature columns only when they raise validation PR-AUC beyond noise.

    Fits LightGBM (:data:`SELECTION_PARAMS`, ``num_boost_round`` rounds) on the training
    rows once without and once with ``graph_columns``, scores the validation rows, and
    keeps the graph columns when the one-sided ``level`` lower bound of the PR-AUC gain,
    from a paired bootstrap of the validation rows, is above zero.

    Compute the graph label features with the validation rows' labels hidden
    (``neighbour_features(..., known_labels_mask=is_train)``), as they are for rows to
    score.

    Parameters
    ----------
    X : pandas.DataFrame
        Numeric features, one row per entity: the base columns plus ``graph_columns``.
    y : array-like of {0, 1}
        Labels, one per row of ``X``.
    graph_columns : sequence of str
        The columns under test (e.g. the columns of :func:`neighbour_features`).
    valid : float or array-like of bool
        Validation rows: a fraction drawn at random within each class (with ``seed``),
        or a boolean mask (e.g. a later time window); the other rows train.
    level : float
        Confidence of the one-sided lower bound, in ``(0.5, 1)``.
    n_bootstrap : int
        Bootstrap replicates.
    num_boost_round : int
        Boosting rounds of each fit.
    seed : int
        Seed of the split, the bootstrap and LightGBM.
    n_boot : int, optional
        Deprecated name of ``n_bootstrap`` (warns ``DeprecationWarning``).

    Returns
    -------
    GraphFeatureChoice

    Raises
    ------
    FeatureError
        Unknown or missing columns, no base column left, labels that are not 0/1, or a
        side without positives and negatives.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(2000) < 0.1).astype(int)
    >>> X = pd.DataFrame({"x": y + rng.normal(size=2000), "g": rng.normal(size=2000)})
    >>> choice = select_graph_features(X, y, ["g"], n_bootstrap=100)
    >>> choice.keep, choice.columns
    (False, ('x',))
    """
    import lightgbm as lgb

    n_bootstrap = renamed_argument(
        n_bootstrap,
        n_boot,
        new="n_bootstrap",
        old="n_boot",
        where="select_graph_features",
        default=500,
    )
    graph = list(dict.fromkeys(graph_columns))
    missing = [c for c in graph if c not in X.columns]
    if missing:
        raise FeatureError(
            f"select_graph_features: graph column(s) {missing} not in X; columns are "
            f"{', '.join(map(str, X.columns))}"
        )
    base = [c for c in X.columns if c not in graph]
    if not base or not graph:
        raise FeatureError(
            "select_graph_features needs at least one base column and one graph column; "
            f"got {len(base)} base and {len(graph)} graph column(s)"
        )
    if not 0.5 < level < 1.0:
        raise FeatureError(f"level must be in (0.5, 1); got {level!r}")
    labels = np.asarray(y)
    if labels.shape != (len(X),) or not np.isin(labels, (0, 1)).all():
        raise FeatureError(
            f"y must hold one 0/1 label per row of X ({len(X)}); got shape {labels.shape} "
            f"with values {sorted(set(np.unique(labels).tolist()))[:5]}"
        )
    labels = labels.astype(np.int64)
    rng = np.random.default_rng(seed)
    is_valid = _valid_mask(valid, labels, rng)
    for side, rows in (("training", ~is_valid), ("validation", is_valid)):
        n_pos = int(labels[rows].sum())
        if n_pos == 0 or n_pos == int(rows.sum()):
            raise FeatureError(
                f"select_graph_features: the {side} rows hold {n_pos} positive(s) out of "
                f"{int(rows.sum())}; both classes are needed on each side"
            )
    params = {**SELECTION_PARAMS, "seed": seed}
    scores = {}
    for name, cols in (("without", base), ("with", [*base, *graph])):
        data = X.loc[~is_valid, cols].to_numpy(dtype=np.float64)
        booster = lgb.train(
            params, lgb.Dataset(data, labels[~is_valid]), num_boost_round=num_boost_round
        )
        scores[name] = np.asarray(booster.predict(X.loc[is_valid, cols].to_numpy(np.float64)))
    yv = labels[is_valid]
    without, with_ = pr_auc(yv, scores["without"]), pr_auc(yv, scores["with"])
    deltas = _paired_bootstrap(yv, scores["with"], scores["without"], n_bootstrap, rng)
    low = float(np.quantile(deltas, 1.0 - level))
    keep = low > 0.0
    return GraphFeatureChoice(
        keep=keep,
        columns=tuple(str(c) for c in (X.columns if keep else base)),
        graph_columns=tuple(graph),
        pr_auc_without=float(without),
        pr_auc_with=float(with_),
        delta=float(with_ - without),
        delta_low=low,
        share_better=float((deltas > 0).mean()),
        n_valid=int(is_valid.sum()),
        n_valid_positives=int(yv.sum()),
    )


def _valid_mask(valid: float | Any, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if isinstance(valid, float):
        if not 0.0 < valid < 1.0:
            raise FeatureError(f"valid must be a fraction in (0, 1) or a mask; got {valid!r}")
        mask = np.zeros(len(labels), dtype=bool)
        for cls in (0, 1):
            rows = np.flatnonzero(labels == cls)
            take = round(valid * rows.size)
            mask[rng.choice(rows, size=take, replace=False)] = True
        return mask
    mask = np.asarray(valid)
    if mask.shape != labels.shape or mask.dtype != bool:
        raise FeatureError(
            f"valid must be a fraction or a boolean mask with one value per row "
            f"({len(labels)}); got dtype {mask.dtype} and shape {mask.shape}"
        )
    return mask


def _paired_bootstrap(
    y: np.ndarray, a: np.ndarray, b: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """PR-AUC(a) - PR-AUC(b) on shared resamples, positives and negatives apart."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    out = np.empty(n_boot)
    for i in range(n_boot):
        rows = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        out[i] = pr_auc(y[rows], a[rows]) - pr_auc(y[rows], b[rows])
    return out
