"""What each feature family adds to one training run, measured on its validation side.

:func:`family_value` is the cheap, per-run report :func:`riskscore.modeling.train` gives
in the model card, MLflow and the CLI summary: for each ``<family>__`` prefix (and the
pair ``network+buyers``, two families that overlap) a booster with the same settings and
the same tree count is fitted on the train side **without** that family, and both boosters
score the validation side. ``pr_auc_lost = PR-AUC(all) − PR-AUC(without)``; its 95 %
interval is a paired bootstrap over the validation side's **entities** (all rows of an
entity are drawn together, because its label repeats across cutoffs).

One validation side holds a few dozen positives, so most intervals span zero; the verdict
then says ``within noise``. For a decision, pool over prequential windows and seeds with
:func:`riskscore.modeling.family_ablation` — this report is a first look, not a verdict
on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskscore._progress import track
from riskscore.exceptions import TrainingError
from riskscore.metrics import pr_auc
from riskscore.modeling._ablation import _DEFAULT_PAIRS, _family, _verdict
from riskscore.modeling._lgbm import fit_lgbm_rounds
from riskscore.modeling._paired import _cluster_weights, _weighted_pr_auc

__all__ = ["FAMILY_VALUE_COLUMNS", "family_value", "family_value_records"]

#: Columns of :func:`family_value`'s table, in order.
FAMILY_VALUE_COLUMNS = (
    "family",
    "n_features",
    "pr_auc_full",
    "pr_auc_without",
    "pr_auc_lost",
    "lost_lo",
    "lost_hi",
    "verdict",
)


def family_value(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_valid: np.ndarray,
    y_valid: np.ndarray,
    features: Sequence[str],
    *,
    params: Mapping[str, Any],
    num_boost_round: int,
    categorical: Sequence[int] = (),
    full_raw: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    pairs: Sequence[Sequence[str]] = _DEFAULT_PAIRS,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> pd.DataFrame | None:
    """Return the validation PR-AUC lost when each feature family is left out.

    Parameters
    ----------
    X_train, y_train, X_valid, y_valid : numpy.ndarray
        Encoded train and validation sides.
    features : sequence of str
        Column names of the matrices; families are their ``<family>__`` prefixes.
    params : mapping
        LightGBM parameters of the full model.
    num_boost_round : int
        Trees of every fit (the full model's early-stopped count).
    categorical : sequence of int
        Positions of categorical features in ``features``.
    full_raw : numpy.ndarray, optional
        The full model's raw validation scores (fitted here when not given).
    clusters : numpy.ndarray, optional
        Entity of each validation row; the bootstrap draws whole entities (default: rows).
    pairs : sequence of (str, str)
        Families also left out together, when the table has both.
    n_bootstrap : int, default 200
        Paired bootstrap replicates (0: no interval).
    seed : int

    Returns
    -------
    pandas.DataFrame or None
        Columns :data:`FAMILY_VALUE_COLUMNS`, one row per family then per pair; ``None``
        when fewer than two families (nothing to compare) or no validation positive.

    Examples
    --------
    >>> from riskscore.modeling import lgbm_params
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1200, 3)); y = (X[:, 0] + rng.normal(size=1200) > 1.5) * 1.0
    >>> out = family_value(X[:800], y[:800], X[800:], y[800:],
    ...                    ["signal__a", "noise__b", "noise__c"],
    ...                    params=lgbm_params(0, num_threads=1), num_boost_round=30)
    >>> out[["family", "verdict"]].values.tolist()
    [['signal', 'helps'], ['noise', 'within noise']]
    """
    names = [str(f) for f in features]
    widths = {
        X_train.shape[1] if X_train.ndim == 2 else -1,
        X_valid.shape[1] if X_valid.ndim == 2 else -1,
    }
    if widths != {len(names)} or len(y_train) != len(X_train) or len(y_valid) != len(X_valid):
        raise TrainingError(
            f"family_value needs matrices with one column per feature name ({len(names)}) "
            f"and one label per row; got X_train {X_train.shape}, X_valid {X_valid.shape}, "
            f"y_train {np.shape(y_train)}, y_valid {np.shape(y_valid)}"
        )
    by_family: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        fam = _family(name)
        if fam is not None:
            by_family.setdefault(fam, []).append(j)
    if len(by_family) < 2 or not np.any(y_valid == 1):
        return None
    groups: list[tuple[str, list[int]]] = [(f, cols) for f, cols in by_family.items()]
    for pair in pairs:
        fams = [str(p) for p in pair]
        if all(f in by_family for f in fams):
            groups.append(("+".join(fams), sorted(j for f in fams for j in by_family[f])))
    cats = {int(i) for i in categorical}

    def fit_without(dropped: list[int]) -> np.ndarray:
        keep = [j for j in range(len(names)) if j not in set(dropped)]
        booster = fit_lgbm_rounds(
            X_train[:, keep],
            y_train,
            params=params,
            feature_names=[names[j] for j in keep],
            categorical=[k for k, j in enumerate(keep) if j in cats],
            num_boost_round=max(1, int(num_boost_round)),
        )
        raw: np.ndarray = booster.predict(
            X_valid[:, keep], raw_score=True, num_threads=int(params.get("num_threads", 1))
        )
        return raw

    full = fit_without([]) if full_raw is None else np.asarray(full_raw, dtype=np.float64)
    weights = None
    if n_bootstrap > 0:
        ids = np.arange(y_valid.size) if clusters is None else np.asarray(clusters)
        weights = _cluster_weights(ids, n_bootstrap, seed)
        boot_full = _weighted_pr_auc(y_valid, full, weights)
    ap_full = pr_auc(y_valid, full)
    rows = []
    for name, cols in track(groups, "family report", describe=lambda g: f"without {g[0]}"):
        if len(cols) == len(names):
            continue  # leaving it out leaves nothing to fit
        raw = fit_without(cols)
        ap_without = pr_auc(y_valid, raw)
        lo = hi = float("nan")
        if weights is not None:
            diffs = boot_full - _weighted_pr_auc(y_valid, raw, weights)
            diffs = diffs[np.isfinite(diffs)]
            if diffs.size:
                lo, hi = (float(v) for v in np.percentile(diffs, [2.5, 97.5]))
        rows.append(
            {
                "family": name,
                "n_features": len(cols),
                "pr_auc_full": ap_full,
                "pr_auc_without": ap_without,
                "pr_auc_lost": ap_full - ap_without,
                "lost_lo": lo,
                "lost_hi": hi,
                "verdict": _verdict(lo, hi) if np.isfinite(lo) else "no interval",
            }
        )
    return pd.DataFrame(rows, columns=list(FAMILY_VALUE_COLUMNS))


def family_value_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Return :func:`family_value`'s table as JSON-ready records (NaN as ``None``).

    Examples
    --------
    >>> t = pd.DataFrame({"family": ["a"], "n_features": [2], "pr_auc_full": [0.5],
    ...                   "pr_auc_without": [0.4], "pr_auc_lost": [0.1],
    ...                   "lost_lo": [float("nan")], "lost_hi": [float("nan")],
    ...                   "verdict": ["no interval"]})
    >>> family_value_records(t)[0]["lost_lo"] is None
    True
    """
    out = []
    for record in table.to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, float | np.floating):
                clean[str(key)] = None if not np.isfinite(value) else round(float(value), 6)
            elif isinstance(value, np.integer):
                clean[str(key)] = int(value)
            else:
                clean[str(key)] = value
        out.append(clean)
    return out
