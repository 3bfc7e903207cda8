"""Checks run before and after fitting: leaky features, label rate by window, shift, stability.

A model that trains to ROC-AUC 1.000 on a copied label, or that is tested on a window
whose features have moved far from the training window, fails silently unless somebody
looks. :func:`leak_check` runs before fitting and refuses a feature that on its own
separates the classes of the training side almost perfectly; :func:`diagnose` runs after
fitting and measures what a careful reviewer would ask for:

- **single-feature separation** on the training side: ROC-AUC (direction-free:
  ``max(auc, 1 - auc)``) and PR-AUC (the better direction) of each feature alone. At
  :data:`LEAK_REFUSE` (0.99) or above (either measure) training stops unless the feature
  is named in ``allow_leaky``; it warns from ROC-AUC :data:`LEAK_WARN` (0.95) with PR-AUC
  at least 0.5, or PR-AUC 0.95 (on the default marketplace account age alone reaches
  ROC-AUC 0.96 at PR-AUC 0.11: strong, not a copy of the label). Missing values rank lowest;
  a categorical feature is scored by its categories' positive rate on the same rows.
- **label rate by window**: rows, positives and rate per cutoff (or day), so a label
  drought or a burst is visible.
- **train → test shift**: the population stability index (PSI) of each feature between
  the training windows and the test windows, over every row of those windows (not only
  the rows an entity-disjoint split kept on each side: that selection puts every entity
  first seen in the test window on the test side, and new sellers are younger by design,
  not by drift), ten quantile bins of the training windows, missing
  values a bin of their own, categories as bins), and the change in the share of
  missing values. Many marketplace features move every window on their own (account
  ages grow; before the warm-up and the relative complaint rates, 13 features of the default
  marketplace exceeded PSI 0.25 between the pooled training and the test window), so
  a feature warns when its PSI from the newest training window to the test window is
  above :data:`PSI_ACT` (0.25, the usual "act" level) **and** above twice its largest
  PSI between training windows as far apart — a shift beyond the usual — and the model
  relies on it (gain share at least 2%).
- **the marketplace itself** (when ``market``, a :func:`riskscore.monitor.market_profile`
  at the table's cutoffs, is given): each test cutoff's marketplace statistics against
  their range at the training cutoffs (:func:`~riskscore.modeling._market.market_moves`),
  a finding at 2x outside it or for a rate that vanished or appeared. Complaint features
  are relative to the marketplace, so a marketplace-wide change (a complaint kind gone, a
  fraud wave over) shows here, not in their PSI.
- **validation vs test**: the difference validation − test ROC-AUC with a 95% interval
  from bootstrapping both windows (each has its own few positives: on the demo the
  validation interval alone was 0.995–0.997 and flagged a test ROC-AUC of 0.977 that is
  within the test window's own noise); a finding when the interval excludes 0 and the
  drop is at least :data:`STABILITY_MARGIN` (0.02).

Every finding is a plain sentence in :attr:`Diagnostics.findings`; numbers are in the
frames and in :meth:`Diagnostics.metrics` (logged to MLflow).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskscore.exceptions import TrainingError
from riskscore.metrics import pr_auc, roc_auc
from riskscore.modeling._market import MARKET_ACT, market_moves, stat_label

__all__ = [
    "LEAK_REFUSE",
    "LEAK_WARN",
    "PSI_ACT",
    "PSI_WATCH",
    "Diagnostics",
    "diagnose",
    "leak_check",
    "psi",
]

#: Single-feature ROC-AUC or PR-AUC on the training side at which training refuses.
LEAK_REFUSE = 0.99
#: ... and at which it warns (ROC-AUC together with a PR-AUC of :data:`LEAK_WARN_PR_AUC`).
LEAK_WARN = 0.95
LEAK_WARN_PR_AUC = 0.5
#: Smallest drop of ROC-AUC from validation to test worth a finding.
STABILITY_MARGIN = 0.02
#: Population stability index: "watch" and "act" levels (the usual 0.1 / 0.25).
PSI_WATCH = 0.1
PSI_ACT = 0.25
#: Bins of the PSI for numeric features (quantiles of the reference side).
PSI_BINS = 10
#: Gain share from which a shifted feature is one the model relies on (and warns).
MIN_GAIN_SHARE = 0.02
_EPS = 1e-4


def _ranked(values: np.ndarray) -> np.ndarray:
    """Numeric values with missing ones ranked lowest."""
    out = values.astype(np.float64, copy=True)
    missing = np.isnan(out)
    if missing.any():
        finite = out[~missing]
        low = (finite.min() if finite.size else 0.0) - 1.0
        out[missing] = low
    return out


def _category_rate(codes: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each row's category positive rate on the same rows (missing is a category)."""
    keys = np.where(np.isnan(codes), -1.0, codes)
    frame = pd.DataFrame({"k": keys, "y": y})
    rate = frame.groupby("k")["y"].transform("mean")
    return rate.to_numpy(dtype=np.float64)


def _separation(values: np.ndarray, y: np.ndarray, categorical: bool) -> tuple[float, float]:
    s = _category_rate(values, y) if categorical else _ranked(values)
    auc = roc_auc(y, s)
    if np.isnan(auc):
        return float("nan"), float("nan")
    direction = s if auc >= 0.5 else -s
    return float(max(auc, 1 - auc)), float(pr_auc(y, direction))


def leak_check(
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    *,
    categorical: Sequence[str] = (),
    allow_leaky: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[str]]:
    """Single-feature ROC-AUC / PR-AUC on the training side; refuse near-perfect ones.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Encoded features of the training side (categoricals as codes, NaN missing).
    y : ndarray of {0, 1}
    features : sequence of str
        Column names of ``X``.
    categorical : sequence of str
        Features that are categories (scored by their positive rate).
    allow_leaky : sequence of str
        Features known to be this strong and allowed anyway.

    Returns
    -------
    table : pandas.DataFrame
        ``feature``, ``roc_auc``, ``pr_auc``, ``status`` (``ok`` / ``warn`` / ``allowed``),
        strongest first.
    findings : list of str
        One sentence per feature at or above :data:`LEAK_WARN`.

    Raises
    ------
    TrainingError
        When a feature not in ``allow_leaky`` reaches :data:`LEAK_REFUSE`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(500) < 0.1).astype(float)
    >>> X = np.column_stack([rng.normal(size=500), y * 3.0])
    >>> leak_check(X, y, ["noise", "copied_label"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.TrainingError: feature 'copied_label' separates the training labels ...
    >>> table, notes = leak_check(X, y, ["noise", "copied_label"], allow_leaky=["copied_label"])
    >>> table["status"].tolist()
    ['allowed', 'ok']
    """
    allowed = set(allow_leaky)
    unknown = sorted(allowed - set(features))
    if unknown:
        raise TrainingError(
            f"allow_leaky names {unknown}, which are not features of this training table"
        )
    cats = set(categorical)
    rows = []
    for j, name in enumerate(features):
        auc, ap = _separation(X[:, j], y, name in cats)
        rows.append({"feature": name, "roc_auc": auc, "pr_auc": ap})
    table = pd.DataFrame(rows, columns=["feature", "roc_auc", "pr_auc"])
    strength = table[["roc_auc", "pr_auc"]].max(axis=1).fillna(0.0)
    # warn when a feature both ranks (ROC-AUC) and isolates the positives (PR-AUC) like a
    # near copy of the label; a ROC-AUC of 0.95 alone is what account age reaches on the
    # default marketplace (PR-AUC 0.1), a strong feature, not a leak
    near_copy = ((table["roc_auc"] >= LEAK_WARN) & (table["pr_auc"] >= LEAK_WARN_PR_AUC)) | (
        table["pr_auc"] >= LEAK_WARN
    )
    table["status"] = np.where(
        table["feature"].isin(allowed),
        "allowed",
        np.where(near_copy.fillna(False), "warn", "ok"),
    )
    refused = table[(strength >= LEAK_REFUSE) & ~table["feature"].isin(allowed)]
    if len(refused):
        first = refused.iloc[0]
        names = refused["feature"].tolist()
        others = f" (and {len(names) - 1} more: {names[1:6]})" if len(names) > 1 else ""
        raise TrainingError(
            f"feature '{first['feature']}'{others} separates the training labels almost "
            f"perfectly on its own (ROC-AUC {first['roc_auc']:.3f}, PR-AUC "
            f"{first['pr_auc']:.3f}, refuse at {LEAK_REFUSE}): it is probably the label or "
            "derived from it (a leak). Remove it, fix how it is built, or pass "
            f"allow_leaky={names!r} if it is genuinely this strong"
        )
    findings = [
        f"feature '{r.feature}' alone separates the training labels very well (ROC-AUC "
        f"{r.roc_auc:.3f}, PR-AUC {r.pr_auc:.3f}; warn at {LEAK_WARN}): check that it is "
        "known before the cutoff and not derived from the label"
        for r in table[table["status"] == "warn"].itertuples()
    ]
    order = strength.sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True), findings


def psi(reference: np.ndarray, current: np.ndarray, *, categorical: bool = False) -> float:
    """Return the population stability index of ``current`` against ``reference``.

    Numeric values are cut at the deciles of ``reference`` (fewer bins where values tie);
    missing values (NaN) are a bin of their own; a categorical feature uses its codes as
    bins. ``sum((c - r) * ln(c / r))`` over bins, with shares floored at 1e-4.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=5000), rng.normal(size=5000)
    >>> round(psi(a, b), 3) < 0.01, round(psi(a, b + 1.0), 1) > 0.25
    (True, True)
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    if categorical:
        ref_keys = np.where(np.isnan(ref), -1.0, ref)
        cur_keys = np.where(np.isnan(cur), -1.0, cur)
        bins = np.union1d(ref_keys, cur_keys)
        r = np.searchsorted(bins, ref_keys)
        c = np.searchsorted(bins, cur_keys)
        n_bins = bins.size
    else:
        finite = ref[~np.isnan(ref)]
        edges = (
            np.unique(np.quantile(finite, np.linspace(0, 1, PSI_BINS + 1)[1:-1]))
            if finite.size
            else np.array([])
        )
        n_bins = edges.size + 2  # value bins plus one for missing

        def binned(v: np.ndarray) -> np.ndarray:
            out = np.searchsorted(edges, v, side="right")
            return np.where(np.isnan(v), edges.size + 1, out)

        r, c = binned(ref), binned(cur)
    r_share = np.maximum(np.bincount(r, minlength=n_bins) / ref.size, _EPS)
    c_share = np.maximum(np.bincount(c, minlength=n_bins) / cur.size, _EPS)
    return float(np.sum((c_share - r_share) * np.log(c_share / r_share)))


@dataclass
class Diagnostics:
    """What the checks around one training run found.

    Attributes
    ----------
    separation : pandas.DataFrame
        Single-feature ROC-AUC / PR-AUC on the training side (see :func:`leak_check`).
    label_rate : pandas.DataFrame
        ``rows``, ``positives``, ``rate`` per window (cutoff or day), oldest first.
    shift : pandas.DataFrame
        Per feature: ``psi`` train → test, missing share on each side and its change,
        largest PSI first.
    stability : dict
        Validation ROC-AUC with its 95% bootstrap interval and the test ROC-AUC.
    findings : list of str
        Plain sentences, one per finding (empty when nothing is worth a look).
    market : pandas.DataFrame
        The marketplace statistics at each test cutoff against their range at the
        training cutoffs (:func:`~riskscore.modeling._market.market_moves`); empty when
        training was given no ``market`` profile.
    """

    separation: pd.DataFrame
    label_rate: pd.DataFrame
    shift: pd.DataFrame
    stability: dict[str, float] = field(default_factory=dict)
    findings: list[str] = field(default_factory=list)
    market: pd.DataFrame = field(default_factory=lambda: market_moves({}, [], []))

    def metrics(self) -> dict[str, float]:
        """Flat numbers for MLflow: ``diagnostics.<name>``."""
        out: dict[str, float] = {
            "diagnostics.max_single_feature_roc_auc": float(
                self.separation["roc_auc"].max() if len(self.separation) else np.nan
            ),
            "diagnostics.max_feature_psi": float(
                self.shift["psi"].max() if len(self.shift) else np.nan
            ),
            "diagnostics.n_features_shifted": float(self.shift["unusual"].sum()),
            "diagnostics.n_findings": float(len(self.findings)),
            "diagnostics.n_market_moved": float(self.market["moved"].sum())
            if len(self.market)
            else np.nan,
        }
        for key, value in self.stability.items():
            out[f"diagnostics.{key}"] = float(value)
        return {k: v for k, v in out.items() if np.isfinite(v)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (stored in the model metadata)."""
        top_shift = self.shift.head(10)
        return {
            "findings": list(self.findings),
            "stability": {k: float(v) for k, v in self.stability.items()},
            "label_rate": [
                {"window": str(w), **{k: float(v) for k, v in row.items()}}
                for w, row in self.label_rate.iterrows()
            ],
            "top_shift": [
                {
                    "feature": str(r["feature"]),
                    "psi": float(r["psi"]),
                    "psi_last": float(r["psi_last"]),
                    "psi_usual": float(r["psi_usual"]),
                    "unusual": bool(r["unusual"]),
                }
                for r in _records(top_shift)
            ],
            "market_moved": [
                {
                    "stat": str(r["stat"]),
                    "as_of": str(pd.Timestamp(r["as_of"]).date()),
                    "now": float(r["now"]),
                    "ref_min": float(r["ref_min"]),
                    "ref_max": float(r["ref_max"]),
                    "ratio": float(r["ratio"]) if np.isfinite(r["ratio"]) else None,
                    "direction": str(r["direction"]),
                }
                for r in _records(self.market[self.market["moved"]])
            ],
            "top_separation": [
                {
                    "feature": str(r["feature"]),
                    "roc_auc": float(r["roc_auc"]),
                    "pr_auc": float(r["pr_auc"]),
                }
                for r in _records(self.separation.head(5))
            ],
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _window_name(w: Any) -> str:
    if isinstance(w, np.datetime64 | pd.Timestamp):
        return str(pd.Timestamp(w).date())
    return str(w)


def label_rate_by_window(y: np.ndarray, groups: np.ndarray | None) -> pd.DataFrame:
    """Rows, positives and positive rate per window (one row ``all`` without windows)."""
    keys = np.zeros(y.size) if groups is None else groups
    frame = pd.DataFrame({"window": keys, "y": y})
    grouped = frame.groupby("window", sort=True)["y"]
    out = pd.DataFrame({"rows": grouped.size(), "positives": grouped.sum(), "rate": grouped.mean()})
    if groups is None:
        out.index = pd.Index(["all"], name="window")
    else:
        out.index = pd.Index([_window_name(w) for w in out.index], name="window")
    return out


def feature_shift(
    X_ref: np.ndarray,
    X_cur: np.ndarray,
    features: Sequence[str],
    categorical: Sequence[str] = (),
    *,
    ref_groups: np.ndarray | None = None,
    lag: int = 1,
) -> pd.DataFrame:
    """PSI and missing-share change of each feature from ``X_ref`` to ``X_cur``.

    With ``ref_groups`` (the window of each reference row) two more columns say how
    unusual the shift is: ``psi_last`` is the PSI from the newest reference window to
    ``X_cur``, ``psi_usual`` the largest PSI between reference windows ``lag`` windows
    apart (``lag``: how many windows lie from the newest reference window to ``X_cur``'s;
    how much the feature moves over that distance anyway: account ages grow, smoothed
    rates follow the market's prior). ``unusual`` is true when ``psi_last`` is
    above :data:`PSI_ACT` and above twice ``psi_usual``; without windows, when ``psi`` is
    above :data:`PSI_ACT`.
    """
    cats = set(categorical)
    windows: list[np.ndarray] = []
    if ref_groups is not None:
        keys = pd.unique(pd.Series(ref_groups)).tolist()
        keys = sorted(keys)
        windows = [np.flatnonzero(ref_groups == k) for k in keys]
    rows = []
    for j, name in enumerate(features):
        ref, cur = X_ref[:, j], X_cur[:, j]
        is_cat = name in cats
        miss_ref = float(np.isnan(ref).mean()) if ref.size else np.nan
        miss_cur = float(np.isnan(cur).mean()) if cur.size else np.nan
        value = psi(ref, cur, categorical=is_cat)
        row = {
            "feature": name,
            "psi": value,
            "missing_train": miss_ref,
            "missing_test": miss_cur,
            "missing_change": miss_cur - miss_ref,
        }
        if len(windows) >= 2:
            last = psi(ref[windows[-1]], cur, categorical=is_cat)
            step = int(min(max(lag, 1), len(windows) - 1))
            usual = max(
                psi(ref[windows[i]], ref[windows[i + step]], categorical=is_cat)
                for i in range(len(windows) - step)
            )
            row.update(psi_last=last, psi_usual=usual, unusual=bool(last > max(PSI_ACT, 2 * usual)))
        else:
            row.update(psi_last=np.nan, psi_usual=np.nan, unusual=bool(value > PSI_ACT))
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.sort_values(["psi", "feature"], ascending=[False, True], ignore_index=True)


def windows_of(groups: np.ndarray | None, side: np.ndarray) -> np.ndarray:
    """Every row of the windows ``side`` holds rows of (the side itself without windows).

    Drift is a property of the population, not of the split: an entity-disjoint test side
    holds a share of the entities seen before plus every entity first seen in the test
    window, so new entities are over-represented on it by design, and on a steady
    marketplace that alone moved account ages by PSI 0.26-0.28 against a usual 0.02.
    """
    if groups is None or side.size == 0:
        return side
    return np.flatnonzero(np.isin(groups, np.unique(groups[side])))


def _lag(groups: np.ndarray | None, train: np.ndarray, test: np.ndarray) -> int:
    """Windows from the newest training window to the oldest test window."""
    if groups is None or train.size == 0 or test.size == 0:
        return 1
    order = np.sort(np.asarray(pd.unique(pd.Series(groups))))
    last = np.searchsorted(order, groups[train].max())
    first = np.searchsorted(order, groups[test].min())
    return int(max(first - last, 1))


def _bootstrap_auc(
    y: np.ndarray, s: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """ROC-AUC of ``n_boot`` resamples, stratified by class."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    out = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.r_[rng.choice(pos, pos.size), rng.choice(neg, neg.size)]
        out[b] = roc_auc(y[idx], s[idx])
    return out


def diagnose(
    *,
    X: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    categorical: Sequence[str],
    sides: Mapping[str, np.ndarray],
    raw: Mapping[str, np.ndarray],
    groups: np.ndarray | None,
    separation: pd.DataFrame,
    findings: Sequence[str] = (),
    importance: Mapping[str, float] | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    market: Mapping[str, Any] | None = None,
) -> Diagnostics:
    """Label rate by window, train → test shift and validation-vs-test stability.

    Parameters
    ----------
    X, y : arrays of the whole training table (encoded features, labels)
    features, categorical : feature names and the categorical ones
    sides : mapping of ``train`` / ``valid`` / ``test`` to row positions
    raw : mapping of ``valid`` / ``test`` to the booster's raw scores on those rows
    groups : per-row window (cutoff or day), or None
    separation, findings : from :func:`leak_check`
    importance : mapping of feature to gain share, optional
        Shifted features warn only when the model uses them (gain share at least
        :data:`MIN_GAIN_SHARE`); all are in :attr:`Diagnostics.shift`.
    n_bootstrap, seed : bootstrap of the validation ROC-AUC
    market : mapping, optional
        :func:`riskscore.monitor.market_profile` at the table's cutoffs: each test cutoff's
        marketplace statistics are compared with their range at the training cutoffs, and
        a statistic :data:`~riskscore.modeling._market.MARKET_ACT` times outside it (or
        one that vanished or appeared) is a finding.
    """
    notes = list(findings)
    rates = label_rate_by_window(y, groups)
    if len(rates) > 1:
        empty = rates.index[rates["positives"] == 0].tolist()
        if empty:
            notes.append(
                f"{len(empty)} window(s) have no positive label ({', '.join(empty[:5])}): "
                "labels may not have arrived yet for them (label delay), or the horizon is "
                "too short"
            )
    tr, te = windows_of(groups, sides["train"]), windows_of(groups, sides["test"])
    shift = feature_shift(
        X[tr],
        X[te],
        features,
        categorical,
        ref_groups=None if groups is None or len(rates) > 60 else groups[tr],
        lag=_lag(groups, tr, te),
    )
    if importance is not None:
        shift["gain_share"] = shift["feature"].map(dict(importance)).fillna(0.0)
        used = shift["gain_share"] >= MIN_GAIN_SHARE
    else:
        used = pd.Series(True, index=shift.index)
    moved = shift[shift["unusual"] & used].sort_values("psi_last", ascending=False)
    if len(moved):
        listed = ", ".join(
            f"'{r['feature']}' (PSI "
            f"{r['psi_last'] if np.isfinite(r['psi_last']) else r['psi']:.2f}"
            + (f", usually up to {r['psi_usual']:.2f}" if np.isfinite(r["psi_usual"]) else "")
            + ")"
            for r in _records(moved.head(5))
        )
        more = f" and {len(moved) - 5} more" if len(moved) > 5 else ""
        notes.append(
            f"{len(moved)} feature(s) moved between the training and the test window far "
            f"beyond their usual change from one window to the next (PSI above {PSI_ACT} "
            f"and twice the usual): {listed}{more}. The test window is not like the "
            "training data: expect the model to do worse on it, and check for drift or a "
            "change in how these features are built"
        )
    moves = market_moves({}, [], [])
    if market is not None and groups is not None:
        moves = market_moves(
            market, np.unique(groups[sides["train"]]), np.unique(groups[sides["test"]])
        )
        note = _market_note(moves)
        if note:
            notes.append(note)
    jumps = shift[shift["missing_change"].abs() > 0.2]
    if len(jumps):
        listed = ", ".join(
            f"'{r.feature}' ({r.missing_train:.0%} → {r.missing_test:.0%})"
            for r in jumps.head(5).itertuples()
        )
        notes.append(f"the share of missing values jumps between train and test for {listed}")
    stability: dict[str, float] = {}
    y_va, y_te = y[sides["valid"]], y[sides["test"]]
    if 0 < y_va.sum() < y_va.size and 0 < y_te.sum() < y_te.size:
        valid_auc = roc_auc(y_va, raw["valid"])
        test_auc = roc_auc(y_te, raw["test"])
        stability = {"valid_roc_auc": valid_auc, "test_roc_auc": test_auc}
        if n_bootstrap > 0:
            rng = np.random.default_rng(seed)
            va_b = _bootstrap_auc(y_va, raw["valid"], n_bootstrap, rng)
            te_b = _bootstrap_auc(y_te, raw["test"], n_bootstrap, rng)
            lo, hi = np.percentile(va_b, [2.5, 97.5])
            d_lo, d_hi = np.percentile(va_b - te_b, [2.5, 97.5])
            stability.update(
                valid_roc_auc_lo=float(lo),
                valid_roc_auc_hi=float(hi),
                drop_lo=float(d_lo),
                drop_hi=float(d_hi),
            )
            drop = valid_auc - test_auc
            if d_lo > 0 and drop >= STABILITY_MARGIN:
                notes.append(
                    f"the test ROC-AUC ({test_auc:.3f}) is below the validation ROC-AUC "
                    f"({valid_auc:.3f}) by {drop:.3f} (95% interval of the drop "
                    f"{d_lo:.3f}–{d_hi:.3f}, both windows resampled): the model ranks the "
                    "newest window worse than the one it was chosen on — a sign of drift; "
                    "retrain on recent data or find the shifted features"
                )
    return Diagnostics(
        separation=separation,
        label_rate=rates,
        shift=shift,
        stability=stability,
        findings=notes,
        market=moves,
    )


def _market_note(moves: pd.DataFrame) -> str:
    """One finding naming the marketplace statistics that moved (largest first), or ''."""
    moved = moves[moves["moved"]].sort_values("ratio", ascending=False, kind="stable")
    moved = moved.drop_duplicates("stat")
    if not len(moved):
        return ""
    parts = []
    for r in _records(moved.head(4)):
        if np.isinf(r["ratio"]):
            size = "none at all now" if r["direction"] == "fell" else "none at training"
        else:
            edge = "below the lowest" if r["direction"] == "fell" else "above the highest"
            size = f"{r['ratio']:.1f}x {edge}"
        parts.append(
            f"{stat_label(r['stat'])} {r['direction']} to {r['now']:.3g} by "
            f"{pd.Timestamp(r['as_of']).date()}, from {r['ref_min']:.3g}–{r['ref_max']:.3g} "
            f"at the training cutoffs ({size})"
        )
    more = f" and {len(moved) - 4} more" if len(moved) > 4 else ""
    return (
        f"the marketplace itself moved between the training and the test windows "
        f"({MARKET_ACT:g}x outside its range at training or more): {'; '.join(parts)}{more}. "
        "Features relative to the marketplace do not show such a move: the test window is "
        "not the marketplace the model learnt, so expect it to do worse there and find "
        "what changed (a complaint form, a fraud wave, a policy)"
    )
