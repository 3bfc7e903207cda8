"""Train a risk model on a training table: checks, split, LightGBM, calibration, baseline, metrics.

:func:`train` is a pure function of (table, parameters): it reads nothing from disk and
writes nothing; the registry logs its :class:`TrainResult` and the CLI saves it.

Review capacity on a held-out side
----------------------------------
With entity-disjoint splits the test side holds only a share ``s`` of the entities of its
window (20 % by default). Reviewing ``k`` entities per cutoff of the whole marketplace is
as deep as reviewing ``k * s`` of the test side, so precision/recall at capacity use
``k_eff = max(1, round(k * s))`` per group, and review volumes (threshold table, bands)
are divided by ``s``. ``s`` is stored in the model metadata (``population_share``).

Evaluate on a split, deploy a refit
-----------------------------------
The split is for *measuring*: early stopping on the validation side picks the tree count
and the test side gives the honest metrics, but the booster fitted on the train side has
never seen the validation, calibration and test rows (and, entity-disjoint, the entities
held out) — 40% of the labels or more. With ``refit=True`` (default) the deployable model
is refitted on every labelled row with the tree count scaled by the row ratio, and its
calibrator, risk scale, capacity bands and threshold table come from **out-of-fold raw
scores**: the rows are cut into :data:`CROSSFIT_FOLDS` folds by entity, a booster with the
same settings (tree count scaled to its share) is fitted on the other folds and scores
the fold it never saw. Folds go by entity, not by time block alone, because an entity's
label repeats across cutoffs: a booster that saw the entity at another cutoff would score
it too confidently. The capacity bands are set on the out-of-fold scores of the newest
window (the test window's cutoffs, all entities). ``TrainResult.evaluated_model`` keeps
the fit that produced the metrics; the promotion gate compares evaluated fits.

Diagnostics
-----------
Before fitting, a feature that on its own separates the training labels almost perfectly
is refused (see :mod:`riskscore.modeling._diagnostics`); after fitting, the label rate by
window, the train → test shift per feature and the validation-vs-test stability are
measured, and every finding becomes a :class:`TrainingWarning` and a line of
``TrainResult.notes`` (and of the model card).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskscore._config import DEFAULT_SEED
from riskscore.exceptions import TrainingError
from riskscore.metrics import metric_table, slice_metrics
from riskscore.modeling._bands import (
    RiskScale,
    bands_from_capacity,
    bands_from_cost,
    threshold_table,
)
from riskscore.modeling._baseline import fit_baseline
from riskscore.modeling._calibration import Method, fit_calibrator
from riskscore.modeling._diagnostics import Diagnostics, diagnose, leak_check
from riskscore.modeling._lgbm import fit_lgbm, fit_lgbm_rounds, lgbm_params, random_search
from riskscore.modeling._model import RiskModel, encode_frame
from riskscore.modeling._split import SIDES, Split, make_split, rolling_splits

__all__ = [
    "EvaluationResult",
    "TrainResult",
    "TrainingWarning",
    "evaluate",
    "prequential",
    "train",
]

#: Minimum positives on the training side unless ``min_positives`` says otherwise.
MIN_POSITIVES = 30

#: Entity folds of the cross-fit that gives the refit model its out-of-fold raw scores.
CROSSFIT_FOLDS = 4

_FEATURE_NAME = re.compile(r"^[A-Za-z0-9]+__[A-Za-z0-9_]+$")


class TrainingWarning(UserWarning):
    """Training went ahead, but something about the data deserves a look."""


# ---------------------------------------------------------------------------- preparation
@dataclass
class _Prepared:
    frame: pd.DataFrame
    y: np.ndarray
    X: np.ndarray
    features: list[str]
    categories: dict[str, list[str]]
    id_col: str
    time_col: str | None
    label_col: str
    groups: np.ndarray | None
    group_by: str
    days_per_group: float
    dropped_features: dict[str, str]
    notes: list[str]


def _warn(notes: list[str], message: str) -> None:
    notes.append(message)
    warnings.warn(message, TrainingWarning, stacklevel=3)


def _point_in_time(table: pd.DataFrame) -> dict[str, Any] | None:
    """Return the point-in-time record ``build_training_set`` left on ``table``, if any."""
    from riskscore.features._training_set import POINT_IN_TIME_ATTR

    record = table.attrs.get(POINT_IN_TIME_ATTR)
    return dict(record) if isinstance(record, Mapping) else None


def _point_in_time_text(record: Mapping[str, Any]) -> str:
    from riskscore.features._training_set import point_in_time_text

    return point_in_time_text(record)


def _labels(frame: pd.DataFrame, label_col: str) -> np.ndarray:
    col = frame[label_col]
    if col.isna().any():
        raise TrainingError(
            f"label column '{label_col}' has {int(col.isna().sum())} missing value(s); "
            "drop those rows or label them 0/1"
        )
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=np.float64)
    values = pd.unique(col)
    if not pd.api.types.is_numeric_dtype(col) or not set(values.tolist()) <= {0, 1}:
        shown = sorted(map(str, values))[:5]
        raise TrainingError(
            f"label column '{label_col}' must hold 0/1 (or False/True); found values {shown}. "
            "Map your outcome to 1 (bad) and 0 (good) first"
        )
    return col.to_numpy(dtype=np.float64)


def _prepare(
    table: pd.DataFrame,
    *,
    id_col: str,
    time_col: str | None,
    label_col: str,
    feature_cols: Sequence[str] | None,
    segment_cols: Sequence[str],
    max_cutoffs: int,
) -> _Prepared:
    if not isinstance(table, pd.DataFrame):
        raise TrainingError(
            f"train expects a pandas DataFrame; got {type(table).__name__} "
            "(convert it with .to_pandas())"
        )
    needed = [id_col, label_col] + ([time_col] if time_col else [])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise TrainingError(
            f"column(s) {missing} are not in the table; its columns are {list(table.columns)[:20]}"
            " — pass id_col/time_col/label_col (--id/--time/--label) naming your columns"
        )
    frame = table.reset_index(drop=True)
    notes: list[str] = []
    point_in_time = _point_in_time(table)
    if point_in_time is not None and point_in_time.get("not_point_in_time"):
        notes.append(_point_in_time_text(point_in_time))
    y = _labels(frame, label_col)
    n_pos = int(y.sum())
    if n_pos == 0:
        raise TrainingError(
            f"no positive labels: all {len(y)} rows of '{label_col}' are 0. A model cannot "
            "learn a risk without examples of it; check the target, the label horizon, or "
            "the join of labels to entities"
        )
    if n_pos == len(y):
        raise TrainingError(
            f"every one of the {len(y)} rows of '{label_col}' is positive; a model needs "
            "negative examples too"
        )
    key = [id_col] + ([time_col] if time_col else [])
    dup = frame.duplicated(key, keep=False)
    if dup.any():
        examples = frame.loc[dup, key].drop_duplicates().head(3).to_dict("records")
        raise TrainingError(
            f"{int(dup.sum())} rows share their ({', '.join(key)}) with another row, e.g. "
            f"{examples}; a training table has one row per entity"
            + (" and time" if time_col else "")
            + " — deduplicate it"
        )
    exclude = {id_col, label_col, *(c for c in [time_col] if c), *segment_cols}
    if feature_cols is None:
        features = [str(c) for c in frame.columns if c not in exclude]
    else:
        features = [str(c) for c in feature_cols]
        unknown = [c for c in features if c not in frame.columns]
        if unknown:
            raise TrainingError(f"feature column(s) {unknown} are not in the table")
        clash = [c for c in features if c in {id_col, label_col, time_col}]
        if clash:
            raise TrainingError(f"column(s) {clash} cannot be both a feature and the id/time/label")
    bad_types = [
        c
        for c in features
        if pd.api.types.is_datetime64_any_dtype(frame[c])
        or pd.api.types.is_timedelta64_dtype(frame[c])
    ]
    if bad_types:
        raise TrainingError(
            f"feature column(s) {bad_types} hold dates or durations; derive numbers from them "
            "(e.g. account age in days) or leave them out with feature_cols"
        )
    categories: dict[str, list[str]] = {}
    dropped: dict[str, str] = {}
    kept: list[str] = []
    for c in features:
        col = frame[c]
        if col.isna().all():
            dropped[c] = "all values missing"
            continue
        if col.nunique(dropna=False) <= 1:
            first = col.iloc[0]
            value = first.item() if isinstance(first, np.generic) else first
            dropped[c] = f"constant ({value!r})"
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            categories[c] = [str(v) for v in col.cat.categories]
        elif not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            categories[c] = sorted(str(v) for v in col.dropna().unique())
        kept.append(c)
    if dropped:
        _warn(
            notes,
            f"dropped {len(dropped)} feature column(s) that carry no information: "
            + "; ".join(f"'{k}' {v}" for k, v in dropped.items())
            + ". Check how they are built, or leave them out",
        )
    if not kept:
        raise TrainingError(
            "no usable feature columns: "
            + (
                "every candidate is missing or constant"
                if features
                else "the table has only the id, time and label columns"
            )
        )
    X = encode_frame(frame, kept, categories)
    groups, group_by, days = None, "none", 1.0
    if time_col is not None:
        times = frame[time_col]
        distinct = pd.Series(times.unique()).sort_values()
        if pd.api.types.is_datetime64_any_dtype(times):
            if len(distinct) <= max_cutoffs:
                groups, group_by = times.to_numpy(), "cutoff"
                if len(distinct) > 1:
                    spacing = pd.Timedelta(distinct.diff().dropna().median())
                    days = max(spacing / pd.Timedelta(days=1), 1.0)
            else:
                groups, group_by = times.dt.floor("D").to_numpy(), "day"
        else:
            groups, group_by = times.to_numpy(), "cutoff"
    return _Prepared(
        frame=frame,
        y=y,
        X=X,
        features=kept,
        categories=categories,
        id_col=id_col,
        time_col=time_col,
        label_col=label_col,
        groups=groups,
        group_by=group_by,
        days_per_group=days,
        dropped_features=dropped,
        notes=notes,
    )


def _fingerprint(prep: _Prepared, split: Split) -> dict[str, Any]:
    cols = [
        prep.id_col,
        *([prep.time_col] if prep.time_col else []),
        prep.label_col,
        *prep.features,
    ]
    hashed = pd.util.hash_pandas_object(prep.frame[cols], index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes() + "\x00".join(cols).encode()).hexdigest()
    out: dict[str, Any] = {
        "rows": len(prep.frame),
        "entities": int(prep.frame[prep.id_col].nunique()),
        "positives": int(prep.y.sum()),
        "label_rate": float(prep.y.mean()),
        "features": len(prep.features),
        "sha256": digest,
    }
    if prep.time_col is not None:
        times = prep.frame[prep.time_col]
        out["time_first"] = times.min()
        out["time_last"] = times.max()
        out["n_times"] = int(times.nunique())
    for side in SIDES:
        idx = split.side(side)
        out[f"{side}_rows"] = int(idx.size)
        out[f"{side}_positives"] = int(prep.y[idx].sum())
    return out


def _check_sides(prep: _Prepared, split: Split, min_positives: int, notes: list[str]) -> None:
    for side in SIDES:
        idx = split.side(side)
        pos = int(prep.y[idx].sum())
        first, last = split.windows.get(side, (None, None))
        where = f" ({first} .. {last})" if first is not None else ""
        if pos == 0 or pos == idx.size:
            cls = "positive" if pos == 0 else "negative"
            raise TrainingError(
                f"the {side} side{where} has {idx.size} rows and no {cls} label, so it cannot "
                f"be used to {'train' if side == 'train' else 'validate, calibrate or test'}. "
                "Add entities or cutoffs, use a longer label horizon, or widen the windows "
                "(test_windows / valid_windows / fractions)"
            )
    pos_train = int(prep.y[split.train].sum())
    if pos_train < min_positives:
        raise TrainingError(
            f"only {pos_train} positive rows on the train side (of {split.train.size}); at least "
            f"min_positives={min_positives} are needed for a model and metrics that mean "
            "something. Add cutoffs or entities, use a longer label horizon, or lower "
            "min_positives knowingly"
        )
    pos_test = int(prep.y[split.test].sum())
    if pos_test < 10:
        _warn(
            notes,
            f"the test side has only {pos_test} positive rows: its metrics are noisy, read the "
            "intervals",
        )


# ---------------------------------------------------------------------------- results
@dataclass
class TrainResult:
    """Everything one training run produced.

    Attributes
    ----------
    model : RiskModel
        The deployable model.
    baseline : sklearn.pipeline.Pipeline
        The logistic-regression baseline (same train side).
    split : Split
    metrics : pandas.DataFrame
        Test-window metrics: columns ``model``, ``baseline`` with ``_lo`` / ``_hi`` bootstrap
        bounds and ``delta`` (model − baseline).
    threshold_table : pandas.DataFrame
    slices : pandas.DataFrame or None
        Metrics by segment on the test window.
    predictions : pandas.DataFrame
        Test window: id, time, label, ``raw``, ``score``, ``risk_score``, ``band``,
        ``baseline_score``, ``group``.
    test_frame : pandas.DataFrame
        Test-window rows of the input (id, time, label, features), for comparing models.
    config : dict
        The training parameters, JSON-ready (logged as run parameters).
    fingerprint : dict
        Row, entity and label counts, time range, per-side counts and a SHA-256 of the table.
    importance : pandas.DataFrame
        Gain and split importance per feature.
    search : pandas.DataFrame or None
        Trials of the hyperparameter search when one ran.
    notes : list of str
        Warnings raised during training.
    seconds : float
        Wall-clock training time.
    evaluated_model : RiskModel or None
        The fit on the train side that produced ``metrics`` and ``predictions`` (``None``
        when ``refit=False``: then ``model`` is that fit).
    diagnostics : Diagnostics or None
        Leak, label-rate, shift and stability checks.
    deployed : dict
        How the deployable model was fitted (rows, trees, where its calibration came from).
    """

    model: RiskModel
    baseline: Any
    split: Split
    metrics: pd.DataFrame
    threshold_table: pd.DataFrame
    slices: pd.DataFrame | None
    predictions: pd.DataFrame
    test_frame: pd.DataFrame
    config: dict[str, Any]
    fingerprint: dict[str, Any]
    importance: pd.DataFrame
    search: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    evaluated_model: RiskModel | None = None
    diagnostics: Diagnostics | None = None
    deployed: dict[str, Any] = field(default_factory=dict)

    @property
    def gate_model(self) -> RiskModel:
        """The model to compare on held-out rows: the evaluated fit, never a refit."""
        return self.evaluated_model if self.evaluated_model is not None else self.model

    def summary(self) -> pd.DataFrame:
        """Model vs baseline with intervals, rounded, for printing."""
        cols = [c for c in self.metrics.columns if not c.startswith("delta")]
        return self.metrics[cols].round(4)

    def save_plots(self, folder: str | Path) -> dict[str, Path]:
        """Write the evaluation plots as PNG files; returns name → path."""
        from riskscore.modeling._plots import save_plots

        return save_plots(self, folder)

    def model_card(self) -> str:
        """Return the Markdown model card."""
        from riskscore.modeling._card import model_card

        return model_card(self)


@dataclass
class EvaluationResult:
    """Metrics of a model (and optionally a second one) on a labelled table.

    Attributes
    ----------
    metrics : pandas.DataFrame
        As :func:`riskscore.metrics.metric_table`.
    threshold_table : pandas.DataFrame
    predictions : pandas.DataFrame
    k : int
        Review capacity per group that was applied.
    """

    metrics: pd.DataFrame
    threshold_table: pd.DataFrame
    predictions: pd.DataFrame
    k: int


# ---------------------------------------------------------------------------- training
def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("riskscore", "lightgbm", "numpy", "scikit-learn"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:  # pragma: no cover
            out[pkg] = "unknown"
    return out


def _catalog_for(
    features: Sequence[str], catalog: pd.DataFrame | None, entity: str
) -> pd.DataFrame | None:
    """Return the catalog rows of the model's features (``None`` when none are declared).

    Without an explicit catalog, ``riskscore.features.catalog`` is used only when it
    declares every feature of the model.
    """
    auto = catalog is None
    if catalog is None:
        if not features or not all(_FEATURE_NAME.match(f) for f in features):
            return None
        try:
            from riskscore import features as feature_module

            read = feature_module.catalog
            try:
                catalog = read(entity)  # type: ignore[arg-type]
            except Exception:
                catalog = read()
        except (ImportError, AttributeError):
            return None
        except Exception as err:  # a broken catalog should not stop training
            warnings.warn(
                f"could not read the feature catalog: {err}", TrainingWarning, stacklevel=3
            )
            return None
    if catalog is None or "name" not in catalog.columns:
        return None
    rows = catalog[catalog["name"].isin(list(features))].drop_duplicates("name")
    if auto and len(rows) < len(features):
        return None  # the features are not (all) from the riskscore catalog
    return rows.reset_index(drop=True) if len(rows) else None


def _catalog_version(catalog: pd.DataFrame | None) -> str | None:
    if catalog is None:
        return None
    try:
        from riskscore import features as feature_module

        version = getattr(feature_module, "CATALOG_VERSION", None)
        if version:
            return str(version)
    except ImportError:
        pass
    data = catalog.to_csv(index=False, lineterminator="\n").encode()
    return "sha256:" + hashlib.sha256(data).hexdigest()[:12]


def _share(prep: _Prepared, split: Split) -> float:
    """Share of the test window's rows that are on the test side."""
    if split.mode != "time" or prep.time_col is None:
        return split.test.size / max(len(prep.frame), 1)
    first, last = split.windows["test"]
    times = prep.frame[prep.time_col]
    in_window = int(((times >= first) & (times <= last)).sum())
    return split.test.size / max(in_window, 1)


def _n_groups(groups: np.ndarray | None) -> int:
    return 1 if groups is None else int(pd.Series(groups).nunique())


def _fit(
    prep: _Prepared,
    split: Split,
    *,
    entity: str,
    target: str,
    seed: int,
    params: Mapping[str, Any] | None,
    class_weight: str | float | None,
    calibration: Method,
    capacity: int,
    cost_ratio: float | None,
    search_iter: int,
    search_budget_seconds: float | None,
    num_threads: int | None,
    num_boost_round: int,
    early_stopping_rounds: int,
    n_bootstrap: int,
    min_positives: int,
    segment_cols: Sequence[str],
    catalog: pd.DataFrame | None,
    fpr_floor: float,
    with_baseline: bool = True,
    refit: bool = False,
    allow_leaky: Sequence[str] = (),
    diagnostics: bool = True,
) -> TrainResult:
    t0 = time.perf_counter()
    notes = list(prep.notes)
    _check_sides(prep, split, min_positives, notes)
    y, X = prep.y, prep.X
    tr, va, ca, te = split.train, split.valid, split.calib, split.test
    cat_idx = [prep.features.index(c) for c in prep.categories]
    separation, leak_notes = leak_check(
        X[tr], y[tr], prep.features, categorical=list(prep.categories), allow_leaky=allow_leaky
    )
    n_pos = int(y[tr].sum())
    base = lgbm_params(
        seed,
        num_threads=num_threads,
        class_weight=class_weight,
        n_positive=n_pos,
        n_negative=int(tr.size - n_pos),
        overrides=params,
    )
    search_trials = None
    if search_iter > 1:
        found = random_search(
            X[tr],
            y[tr],
            X[va],
            y[va],
            base_params=base,
            feature_names=prep.features,
            categorical=cat_idx,
            n_iter=search_iter,
            budget_seconds=search_budget_seconds,
            seed=seed,
            num_boost_round=num_boost_round,
            early_stopping_rounds=early_stopping_rounds,
        )
        base, search_trials = found.best_params, found.trials
    booster = fit_lgbm(
        X[tr],
        y[tr],
        X[va],
        y[va],
        params=base,
        feature_names=prep.features,
        categorical=cat_idx,
        num_boost_round=num_boost_round,
        early_stopping_rounds=early_stopping_rounds,
    )
    threads = int(base["num_threads"])
    raw = {
        side: booster.predict(X[idx], raw_score=True, num_threads=threads)
        for side, idx in (("valid", va), ("calib", ca), ("test", te))
    }
    calibrator = fit_calibrator(raw["calib"], y[ca], calibration)
    negatives = np.r_[raw["valid"][y[va] == 0], raw["calib"][y[ca] == 0]]
    scale = RiskScale.fit(negatives, fpr_floor=fpr_floor)
    gain = booster.feature_importance("gain")
    gain_share = gain / max(gain.sum(), 1e-12)
    diag = None
    if diagnostics:
        diag = diagnose(
            X=X,
            y=y,
            features=prep.features,
            categorical=list(prep.categories),
            sides={"train": tr, "valid": va, "test": te},
            raw=raw,
            groups=prep.groups,
            separation=separation,
            findings=leak_notes,
            importance=dict(zip(prep.features, gain_share, strict=True)),
            n_boot=n_bootstrap,
            seed=seed,
        )
        for finding in diag.findings:
            _warn(notes, finding)

    y_te = y[te]
    raw_te = raw["test"]
    p_te = calibrator.transform(raw_te)
    risk_te = scale.transform(raw_te)
    groups_te = None if prep.groups is None else prep.groups[te]
    share = _share(prep, split)
    k_eff = max(1, round(capacity * share))
    n_groups_eff = _n_groups(groups_te) * share

    scores: dict[str, tuple[Any, Any]] = {"model": (raw_te, p_te)}
    baseline = None
    base_p = None
    if with_baseline:
        baseline = fit_baseline(
            X[tr], y[tr], categorical=cat_idx, class_weight=class_weight, seed=seed
        )
        base_p = baseline.predict_proba(X[te])[:, 1]
        scores["baseline"] = (base_p, base_p)
    metrics = metric_table(y_te, scores, k=k_eff, groups=groups_te, n_boot=n_bootstrap, seed=seed)

    if cost_ratio is not None:
        bands = bands_from_cost(calibrator, scale, cost_ratio=cost_ratio)
    else:
        bands = bands_from_capacity(risk_te, capacity=capacity, n_groups=n_groups_eff)
    thresholds = threshold_table(
        y_te,
        risk_te,
        scale=scale,
        calibrator=calibrator,
        n_groups=n_groups_eff,
        days_per_group=prep.days_per_group,
    )
    test_rows = prep.frame.iloc[te]
    band_te = bands.assign(risk_te)
    predictions = pd.DataFrame(
        {
            prep.id_col: test_rows[prep.id_col].to_numpy(),
            **({prep.time_col: test_rows[prep.time_col].to_numpy()} if prep.time_col else {}),
            prep.label_col: y_te.astype(np.int64),
            "raw": raw_te,
            "score": p_te,
            "risk_score": risk_te,
            "band": band_te.astype(str),
            **({"baseline_score": base_p} if base_p is not None else {}),
        }
    )
    slices = None
    if segment_cols:
        flagged = np.isin(band_te, ("high", "critical"))
        slices = slice_metrics(
            test_rows[list(segment_cols)].reset_index(drop=True), y_te, raw_te, flagged
        )
    importance = pd.DataFrame(
        {
            "feature": prep.features,
            "gain": gain_share,
            "splits": booster.feature_importance("split"),
        }
    ).sort_values(["gain", "feature"], ascending=[False, True], ignore_index=True)

    fingerprint = _fingerprint(prep, split)
    snapshot = _catalog_for(prep.features, catalog, entity)
    config = {
        "entity": entity,
        "target": target,
        "seed": seed,
        "id_col": prep.id_col,
        "time_col": prep.time_col,
        "label_col": prep.label_col,
        "class_weight": class_weight,
        "calibration": calibration,
        "capacity": capacity,
        "cost_ratio": cost_ratio,
        "search_iter": search_iter,
        "num_boost_round": num_boost_round,
        "early_stopping_rounds": early_stopping_rounds,
        "n_bootstrap": n_bootstrap,
        "min_positives": min_positives,
        "split_mode": split.mode,
        "lgbm": {k: v for k, v in base.items()},
    }
    best_iteration = int(booster.current_iteration())
    metadata = {
        "entity": entity,
        "target": target,
        "id_col": prep.id_col,
        "time_col": prep.time_col,
        "label_col": prep.label_col,
        "seed": seed,
        "split": {
            "mode": split.mode,
            "description": split.description,
            "windows": {s: list(w) for s, w in split.windows.items()},
        },
        "training_window": list(split.windows.get("train", (None, None))),
        "test_window": list(split.windows.get("test", (None, None))),
        "group_by": prep.group_by,
        "days_per_group": prep.days_per_group,
        "capacity": capacity,
        "capacity_test": k_eff,
        "population_share": share,
        "fingerprint": fingerprint,
        "dropped_features": prep.dropped_features,
        "point_in_time": _point_in_time(prep.frame),
        "params": dict(base),
        "best_iteration": best_iteration,
        "calibration": calibrator.method,
        "catalog_version": _catalog_version(snapshot),
        "metrics": {col: {m: float(metrics.loc[m, col]) for m in metrics.index} for col in scores},
        "versions": _versions(),
        "fit": "evaluated",
    }
    if diag is not None:
        metadata["diagnostics"] = diag.to_dict()
    model = RiskModel(
        booster,
        feature_names=prep.features,
        calibrator=calibrator,
        scale=scale,
        bands=bands,
        categories=prep.categories,
        metadata=metadata,
        catalog=snapshot,
        threshold_table=thresholds,
        num_threads=num_threads,
    )
    keep_cols = [prep.id_col, *([prep.time_col] if prep.time_col else []), prep.label_col]
    test_frame = test_rows[keep_cols + prep.features].reset_index(drop=True)
    evaluated, deployed = None, {"fit": "evaluated", "rows": int(tr.size), "trees": best_iteration}
    if refit:
        evaluated = model
        model, deployed = _refit(
            prep,
            split,
            evaluated=model,
            params=base,
            best_iteration=best_iteration,
            calibration=calibration,
            capacity=capacity,
            cost_ratio=cost_ratio,
            fpr_floor=fpr_floor,
            seed=seed,
            num_threads=num_threads,
        )
    return TrainResult(
        model=model,
        baseline=baseline,
        split=split,
        metrics=metrics,
        threshold_table=thresholds,
        slices=slices,
        predictions=predictions,
        test_frame=test_frame,
        config=config,
        fingerprint=fingerprint,
        importance=importance,
        search=search_trials,
        notes=notes,
        seconds=time.perf_counter() - t0,
        evaluated_model=evaluated,
        diagnostics=diag,
        deployed=deployed,
    )


def _entity_folds(ids: pd.Series, n_folds: int, seed: int) -> np.ndarray:
    """Fold number of each row, all rows of one entity in one fold (seeded, stable)."""
    codes, uniques = pd.factorize(ids, sort=True)
    order = np.random.default_rng(seed).permutation(len(uniques))
    fold_of_entity = np.empty(len(uniques), dtype=np.int64)
    fold_of_entity[order] = np.arange(len(uniques)) % n_folds
    out: np.ndarray = fold_of_entity[codes]
    return out


def _refit(
    prep: _Prepared,
    split: Split,
    *,
    evaluated: RiskModel,
    params: Mapping[str, Any],
    best_iteration: int,
    calibration: Method,
    capacity: int,
    cost_ratio: float | None,
    fpr_floor: float,
    seed: int,
    num_threads: int | None,
) -> tuple[RiskModel, dict[str, Any]]:
    """Refit on every labelled row; calibrate, scale and band on out-of-fold raw scores."""
    y, X = prep.y, prep.X
    n_all, n_train = len(y), max(int(split.train.size), 1)
    cat_idx = [prep.features.index(c) for c in prep.categories]
    n_entities = int(prep.frame[prep.id_col].nunique())
    n_folds = int(min(CROSSFIT_FOLDS, n_entities))
    folds = _entity_folds(prep.frame[prep.id_col], n_folds, seed)
    threads = int(params["num_threads"])
    oof = np.empty(n_all, dtype=np.float64)
    for f in range(n_folds):
        inside = folds == f
        rest = ~inside
        if y[rest].min(initial=1) == y[rest].max(initial=0):
            raise TrainingError(
                f"cross-fit fold {f + 1} of {n_folds} leaves one class only on its training "
                "rows; too few positive entities to refit. Pass refit=False"
            )
        rounds = max(1, round(best_iteration * rest.sum() / n_train))
        booster = fit_lgbm_rounds(
            X[rest],
            y[rest],
            params=params,
            feature_names=prep.features,
            categorical=cat_idx,
            num_boost_round=rounds,
        )
        oof[inside] = booster.predict(X[inside], raw_score=True, num_threads=threads)
    rounds_all = max(1, round(best_iteration * n_all / n_train))
    booster = fit_lgbm_rounds(
        X,
        y,
        params=params,
        feature_names=prep.features,
        categorical=cat_idx,
        num_boost_round=rounds_all,
    )
    calibrator = fit_calibrator(oof, y, calibration)
    scale = RiskScale.fit(oof[y == 0], fpr_floor=fpr_floor)
    risk = scale.transform(oof)
    # the newest window (the test window's cutoffs or days), every entity
    if prep.time_col is not None and split.mode == "time":
        first, last = split.windows["test"]
        times = prep.frame[prep.time_col]
        recent = ((times >= first) & (times <= last)).to_numpy()
    else:
        recent = np.ones(n_all, dtype=bool)
    groups = None if prep.groups is None else prep.groups[recent]
    n_groups = _n_groups(groups)
    if cost_ratio is not None:
        bands = bands_from_cost(calibrator, scale, cost_ratio=cost_ratio)
    else:
        bands = bands_from_capacity(risk[recent], capacity=capacity, n_groups=n_groups)
    thresholds = threshold_table(
        y[recent],
        risk[recent],
        scale=scale,
        calibrator=calibrator,
        n_groups=n_groups,
        days_per_group=prep.days_per_group,
    )
    deployed = {
        "fit": "refit",
        "rows": int(n_all),
        "positives": int(y.sum()),
        "trees": int(booster.current_iteration()),
        "evaluated_rows": int(n_train),
        "evaluated_trees": int(best_iteration),
        "crossfit_folds": n_folds,
        "calibration_rows": int(n_all),
        "calibration": calibrator.method,
        "bands_window_rows": int(recent.sum()),
    }
    metadata = dict(evaluated.metadata)
    metadata.update(
        {
            "fit": "refit",
            "deployed": deployed,
            "best_iteration": int(booster.current_iteration()),
            "calibration": calibrator.method,
            "population_share": 1.0,
            "capacity_test": int(capacity),
        }
    )
    model = RiskModel(
        booster,
        feature_names=prep.features,
        calibrator=calibrator,
        scale=scale,
        bands=bands,
        categories=prep.categories,
        metadata=metadata,
        catalog=evaluated.catalog,
        threshold_table=thresholds,
        num_threads=num_threads,
    )
    return model, deployed


def train(
    table: pd.DataFrame,
    *,
    id_col: str = "entity_id",
    time_col: str | None = "cutoff",
    label_col: str = "label",
    feature_cols: Sequence[str] | None = None,
    entity: str = "custom",
    target: str = "label",
    seed: int = DEFAULT_SEED,
    params: Mapping[str, Any] | None = None,
    class_weight: str | float | None = None,
    calibration: Method = "auto",
    capacity: int = 100,
    cost_ratio: float | None = None,
    search_iter: int = 0,
    search_budget_seconds: float | None = 600.0,
    test_windows: int = 1,
    valid_windows: int = 1,
    fractions: Sequence[float] | None = None,
    gap: pd.Timedelta | str | None = None,
    entity_disjoint: bool = True,
    num_threads: int | None = None,
    num_boost_round: int = 2000,
    early_stopping_rounds: int = 50,
    n_bootstrap: int = 200,
    min_positives: int = MIN_POSITIVES,
    segment_cols: Sequence[str] = (),
    catalog: pd.DataFrame | None = None,
    fpr_floor: float = 1e-4,
    refit: bool = True,
    allow_leaky: Sequence[str] = (),
) -> TrainResult:
    """Train, calibrate and evaluate a risk model, with a logistic baseline beside it.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per entity (and time): an id, a time, a 0/1 label and feature columns —
        the output of ``riskscore.features.build_training_set`` or any user table.
    id_col, time_col, label_col : str
        Column names. ``time_col=None`` falls back to a stratified split (with a warning).
    feature_cols : sequence of str, optional
        Features in model order; default every other column (minus ``segment_cols``).
        Constant and all-missing columns are dropped with a :class:`TrainingWarning`;
        string and ``category`` columns become LightGBM categoricals.
    entity, target : str
        What is scored and predicted (``seller`` / ``fraud``); names the model.
    seed : int
        Seeds the split, LightGBM, the search and the bootstrap.
    params : mapping, optional
        LightGBM parameter overrides (see :data:`riskscore.modeling.DEFAULT_PARAMS`).
    class_weight : {"balanced"} or float, optional
        Positive class weight; default none (the calibrator fixes probabilities anyway).
    calibration : {"auto", "platt", "isotonic", "none"}
    capacity : int, default 100
        Reviews per cutoff (training sets) or per day (event tables); sets the bands and
        the ``precision_at_k`` / ``recall_at_k`` metrics.
    cost_ratio : float, optional
        Cost of a missed positive over the cost of a wasted review; when given the bands
        come from it instead of ``capacity``.
    search_iter : int, default 0
        Trials of the random hyperparameter search (0 or 1: no search).
    search_budget_seconds : float, optional
        Stop the search after this long.
    test_windows, valid_windows, fractions, gap, entity_disjoint
        Passed to :func:`riskscore.modeling.time_split`.
    num_threads : int, optional
        LightGBM threads (default ``RISKSCORE_NUM_THREADS`` or 2).
    num_boost_round, early_stopping_rounds : int
    n_bootstrap : int, default 200
        Bootstrap replicates for the metric intervals (0: none).
    min_positives : int, default 30
        Fewest positive rows on the train side.
    segment_cols : sequence of str
        Columns to slice the test metrics by (account age, region, category, size).
    catalog : pandas.DataFrame, optional
        Feature catalog snapshot to store; default ``riskscore.features.catalog()`` when
        the features follow its ``<family>__<feature>`` names.
    fpr_floor : float, default 1e-4
        FPR at risk score 1000.
    refit : bool, default True
        Deploy a model refitted on every labelled row, calibrated on out-of-fold raw
        scores (see the module docstring); the metrics stay those of the evaluated fit
        (``TrainResult.evaluated_model``). ``False`` deploys the evaluated fit itself.
    allow_leaky : sequence of str
        Features allowed to separate the training labels almost perfectly on their own
        (otherwise training refuses them as a likely leak).

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingError
        No positives, a side with a single class, fewer than ``min_positives`` positives,
        no usable feature, bad labels or duplicated rows, or a feature that is almost the
        label (see ``allow_leaky``) — each message names the fix.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(1500, 6, positive_rate=0.08, seed=0)
    >>> r = train(t, entity="seller", target="fraud", capacity=20, n_bootstrap=0)
    >>> bool(r.metrics.loc["pr_auc", "model"] > r.metrics.loc["pr_auc", "baseline"] - 0.1)
    True
    >>> r.model.feature_names[:2]
    ['profile__account_age_days', 'orders__n_orders_30d']
    """
    prep = _prepare(
        table,
        id_col=id_col,
        time_col=time_col,
        label_col=label_col,
        feature_cols=feature_cols,
        segment_cols=segment_cols,
        max_cutoffs=24,
    )
    split_kwargs: dict[str, Any] = {"fractions": fractions} if fractions is not None else {}
    if time_col is not None:
        split_kwargs.update(
            test_windows=test_windows,
            valid_windows=valid_windows,
            gap=gap,
            entity_disjoint=entity_disjoint,
        )
    split = make_split(
        prep.frame, id_col=id_col, time_col=time_col, label_col=label_col, seed=seed, **split_kwargs
    )
    if split.mode == "stratified":
        prep.notes.append(split.description)
    return _fit(
        prep,
        split,
        entity=entity,
        target=target,
        seed=seed,
        params=params,
        class_weight=class_weight,
        calibration=calibration,
        capacity=capacity,
        cost_ratio=cost_ratio,
        search_iter=search_iter,
        search_budget_seconds=search_budget_seconds,
        num_threads=num_threads,
        num_boost_round=num_boost_round,
        early_stopping_rounds=early_stopping_rounds,
        n_bootstrap=n_bootstrap,
        min_positives=min_positives,
        segment_cols=segment_cols,
        catalog=catalog,
        fpr_floor=fpr_floor,
        refit=refit,
        allow_leaky=allow_leaky,
    )


def prequential(
    table: pd.DataFrame,
    *,
    id_col: str = "entity_id",
    time_col: str = "cutoff",
    label_col: str = "label",
    n_windows: int = 3,
    feature_cols: Sequence[str] | None = None,
    seed: int = DEFAULT_SEED,
    capacity: int = 100,
    min_positives: int = MIN_POSITIVES,
    **kwargs: Any,
) -> pd.DataFrame:
    """Evaluate prequentially (rolling): retrain as of each of the last ``n_windows`` windows.

    Split ``i`` tests on the window ``i`` steps before the newest and trains only on what
    came before it (see :func:`riskscore.modeling.rolling_splits`). No bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per window (``test_window``, model and baseline metrics as
        ``<metric>`` and ``baseline_<metric>``), then rows ``mean`` and ``std``.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(1500, 6, positive_rate=0.08, seed=0)
    >>> out = prequential(t, n_windows=2, capacity=20)
    >>> out.index.tolist()
    ['2024-06-01', '2024-05-01', 'mean', 'std']
    """
    split_keys = ("test_windows", "valid_windows", "fractions", "gap", "entity_disjoint")
    split_kwargs = {k: kwargs.pop(k) for k in split_keys if k in kwargs and kwargs[k] is not None}
    prep = _prepare(
        table,
        id_col=id_col,
        time_col=time_col,
        label_col=label_col,
        feature_cols=feature_cols,
        segment_cols=kwargs.pop("segment_cols", ()),
        max_cutoffs=24,
    )
    defaults: dict[str, Any] = {
        "entity": "custom",
        "target": "label",
        "params": None,
        "class_weight": None,
        "calibration": "auto",
        "cost_ratio": None,
        "search_iter": 0,
        "search_budget_seconds": None,
        "num_threads": None,
        "num_boost_round": 2000,
        "early_stopping_rounds": 50,
        "catalog": None,
        "fpr_floor": 1e-4,
        "allow_leaky": (),
    }
    defaults.pop("refit", None)
    kwargs.pop("refit", None)  # prequential measures evaluated fits only
    defaults.update(kwargs)
    rows = {}
    for split in rolling_splits(
        prep.frame, id_col=id_col, time_col=time_col, n_windows=n_windows, seed=seed, **split_kwargs
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrainingWarning)
            result = _fit(
                prep,
                split,
                seed=seed,
                capacity=capacity,
                n_bootstrap=0,
                min_positives=min_positives,
                segment_cols=(),
                diagnostics=False,
                **defaults,
            )
        first = split.windows["test"][0]
        label = str(first.date()) if isinstance(first, pd.Timestamp) else str(first)
        m = result.metrics
        rows[label] = {
            **{name: m.loc[name, "model"] for name in m.index},
            **{f"baseline_{name}": m.loc[name, "baseline"] for name in m.index},
            "test_rows": split.test.size,
            "test_positives": int(prep.y[split.test].sum()),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    summary = pd.DataFrame({"mean": out.mean(), "std": out.std(ddof=1)}).T
    return pd.concat([out, summary])


def evaluate(
    model: RiskModel,
    table: pd.DataFrame,
    *,
    other: RiskModel | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    label_col: str | None = None,
    capacity: int | None = None,
    population_share: float = 1.0,
    n_bootstrap: int = 200,
    seed: int = DEFAULT_SEED,
    names: tuple[str, str] = ("model", "other"),
) -> EvaluationResult:
    """Score a labelled table with ``model`` (and ``other``) and compute the metrics.

    Column names and capacity default to what the model was trained with. With ``other``,
    both models are scored on exactly the same rows and their metrics are bootstrapped
    together (the ``delta`` columns are ``model − other``): this is how a candidate is
    compared with the champion.

    Parameters
    ----------
    model : RiskModel
    table : pandas.DataFrame
        Rows with the model's feature columns, the id, (time) and label.
    other : RiskModel, optional
    id_col, time_col, label_col : str, optional
    capacity : int, optional
        Reviews per group of the whole population.
    population_share : float, default 1.0
        Share of the population the table covers (e.g. the test side of a split); the
        capacity is scaled by it.
    n_bootstrap, seed : int
    names : (str, str)
        Column names for ``model`` and ``other`` in the metric table.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(1500, 6, positive_rate=0.08, seed=0)
    >>> r = train(t, capacity=20, n_bootstrap=0)
    >>> m = r.gate_model   # the evaluated fit (r.model is the refit on every label)
    >>> ev = evaluate(m, r.test_frame, population_share=m.metadata["population_share"],
    ...               n_bootstrap=0)
    >>> bool(np.isclose(ev.metrics.loc["pr_auc", "model"], r.metrics.loc["pr_auc", "model"]))
    True
    """
    meta = model.metadata
    id_col = id_col or meta.get("id_col", "entity_id")
    time_col = time_col if time_col is not None else meta.get("time_col")
    label_col = label_col or meta.get("label_col", "label")
    capacity = int(capacity or meta.get("capacity", 100))
    if label_col not in table.columns:
        raise TrainingError(f"label column '{label_col}' is not in the table; pass label_col")
    y = _labels(table, label_col)
    if time_col and time_col in table.columns:
        times = table[time_col]
        if meta.get("group_by") == "day" and pd.api.types.is_datetime64_any_dtype(times):
            groups = times.dt.floor("D").to_numpy()
        else:
            groups = times.to_numpy()
    else:
        groups = None
    k_eff = max(1, round(capacity * population_share))
    X = model.to_matrix(table)
    raw = model.raw_score(X)
    scores: dict[str, tuple[Any, Any]] = {names[0]: (raw, model.calibrator.transform(raw))}
    if other is not None:
        raw_o = other.raw_score(other.to_matrix(table))
        scores[names[1]] = (raw_o, other.calibrator.transform(raw_o))
    metrics = metric_table(y, scores, k=k_eff, groups=groups, n_boot=n_bootstrap, seed=seed)
    risk = model.scale.transform(raw)
    thresholds = threshold_table(
        y,
        risk,
        scale=model.scale,
        calibrator=model.calibrator,
        n_groups=_n_groups(groups) * population_share,
        days_per_group=float(meta.get("days_per_group", 1.0)),
    )
    out = model.scores_from_raw(raw)
    predictions = pd.DataFrame(
        {
            **({id_col: table[id_col].to_numpy()} if id_col in table.columns else {}),
            **(
                {time_col: table[time_col].to_numpy()}
                if time_col and time_col in table.columns
                else {}
            ),
            label_col: y.astype(np.int64),
            "raw": raw,
            "score": out["score"],
            "risk_score": out["risk_score"],
            "band": out["band"].astype(str),
        }
    )
    return EvaluationResult(
        metrics=metrics, threshold_table=thresholds, predictions=predictions, k=k_eff
    )
