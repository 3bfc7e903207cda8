"""Fit and measure one split: LightGBM, calibration, risk scale, bands, baseline, metrics.

:func:`fit_evaluated` is the core of :func:`riskscore.modeling.train` and of every
prequential window: it fits on the train side (early stopping on validation), calibrates,
measures the test window against the logistic baseline, runs the diagnostics and the
family report, and — when the config says so — hands over to
:func:`riskscore.modeling._refit.refit` for the deployable model. :func:`assemble_model`
is the one place a :class:`~riskscore.modeling.RiskModel` is built from fitted parts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskscore._progress import step
from riskscore.metrics import metric_table, slice_metrics
from riskscore.modeling._bands import (
    Bands,
    RiskScale,
    bands_from_capacity,
    bands_from_cost,
    capacity_note,
    threshold_table,
)
from riskscore.modeling._baseline import fit_baseline
from riskscore.modeling._calibration import Calibrator, fit_calibrator
from riskscore.modeling._config import TrainConfig
from riskscore.modeling._diagnostics import diagnose, leak_check, windows_of
from riskscore.modeling._family_value import family_value, family_value_records
from riskscore.modeling._lgbm import fit_lgbm, lgbm_params, random_search
from riskscore.modeling._model import RiskModel
from riskscore.modeling._prepare import (
    Prepared,
    TrainingWarning,
    check_sides,
    fingerprint,
    n_groups,
    point_in_time,
    test_share,
    warn,
)
from riskscore.modeling._result import TrainResult
from riskscore.modeling._split import Split

__all__ = ["assemble_model", "fit_evaluated", "prediction_frame"]

_FEATURE_NAME = re.compile(r"^[A-Za-z0-9]+__[A-Za-z0-9_]+$")

#: Settings copied into the model's metadata (what a scorer needs to know of its training).
_MODEL_KEYS = ("entity", "target", "id_col", "time_col", "label_col", "seed", "capacity")


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


def prediction_frame(
    prep: Prepared, rows: np.ndarray, scored: Mapping[str, Any], **extra: Any
) -> pd.DataFrame:
    """Id, time and label of ``rows`` of the prepared table with their scores.

    ``scored`` holds ``raw``, ``score``, ``risk_score`` and ``band`` aligned with ``rows``
    (``band`` as text); ``extra`` columns follow them.
    """
    frame = prep.frame.iloc[rows]
    return pd.DataFrame(
        {
            prep.id_col: frame[prep.id_col].to_numpy(),
            **({prep.time_col: frame[prep.time_col].to_numpy()} if prep.time_col else {}),
            prep.label_col: prep.y[rows].astype(np.int64),
            "raw": scored["raw"],
            "score": scored["score"],
            "risk_score": scored["risk_score"],
            "band": np.asarray(scored["band"]).astype(str),
            **extra,
        }
    )


def fit_evaluated(
    prep: Prepared,
    split: Split,
    config: TrainConfig,
    *,
    catalog: pd.DataFrame | None = None,
    with_baseline: bool = True,
    diagnostics: bool = True,
    market: Mapping[str, Any] | None = None,
) -> TrainResult:
    """Fit, calibrate and measure on ``split``; refit for deployment when ``config.refit``."""
    c = config
    t0 = time.perf_counter()
    notes = list(prep.notes)
    check_sides(prep, split, c.min_positives, notes)
    y, X = prep.y, prep.X
    tr, va, ca, te = split.train, split.valid, split.calib, split.test
    cat_idx = [prep.features.index(c) for c in prep.categories]
    separation, leak_notes = leak_check(
        X[tr], y[tr], prep.features, categorical=list(prep.categories), allow_leaky=c.allow_leaky
    )
    n_pos = int(y[tr].sum())
    base = lgbm_params(
        c.seed,
        num_threads=c.num_threads,
        class_weight=c.class_weight,
        n_positive=n_pos,
        n_negative=int(tr.size - n_pos),
        overrides=c.params,
    )
    search_trials = None
    if c.search_iter > 1:
        with step("train", f"random search over {c.search_iter} settings"):
            found = random_search(
                X[tr],
                y[tr],
                X[va],
                y[va],
                base_params=base,
                feature_names=prep.features,
                categorical=cat_idx,
                n_iter=c.search_iter,
                budget_seconds=c.search_budget_seconds,
                seed=c.seed,
                num_boost_round=c.num_boost_round,
                early_stopping_rounds=c.early_stopping_rounds,
            )
        base, search_trials = found.best_params, found.trials
    with step("train", f"LightGBM on {tr.size:,} rows (at most {c.num_boost_round} rounds)"):
        booster = fit_lgbm(
            X[tr],
            y[tr],
            X[va],
            y[va],
            params=base,
            feature_names=prep.features,
            categorical=cat_idx,
            num_boost_round=c.num_boost_round,
            early_stopping_rounds=c.early_stopping_rounds,
        )
    threads = int(base["num_threads"])
    raw = {
        side: booster.predict(X[idx], raw_score=True, num_threads=threads)
        for side, idx in (("valid", va), ("calib", ca), ("test", te))
    }
    calibrator = fit_calibrator(raw["calib"], y[ca], c.calibration)
    negatives = np.r_[raw["valid"][y[va] == 0], raw["calib"][y[ca] == 0]]
    scale = RiskScale.fit(negatives, fpr_floor=c.fpr_floor)
    gain = booster.feature_importance("gain")
    gain_share = gain / max(gain.sum(), 1e-12)
    diag = None
    if diagnostics:
        with step("train", "diagnostics (validation vs test, drift, leaks)"):
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
                n_bootstrap=c.n_bootstrap,
                seed=c.seed,
                market=market,
            )
        for finding in diag.findings:
            warn(notes, finding)

    y_te = y[te]
    raw_te = raw["test"]
    p_te = calibrator.transform(raw_te)
    risk_te = scale.transform(raw_te)
    groups_te = None if prep.groups is None else prep.groups[te]
    share = test_share(prep, split)
    k_eff = max(1, round(c.capacity * share))
    n_groups_eff = n_groups(groups_te) * share

    scores: dict[str, tuple[Any, Any]] = {"model": (raw_te, p_te)}
    baseline = None
    base_p = None
    if with_baseline:
        with step("train", "logistic baseline"):
            baseline = fit_baseline(
                X[tr], y[tr], categorical=cat_idx, class_weight=c.class_weight, seed=c.seed
            )
        base_p = baseline.predict_proba(X[te])[:, 1]
        scores["baseline"] = (base_p, base_p)
    with step("train", f"test metrics ({c.n_bootstrap} bootstrap replicates)"):
        metrics = metric_table(
            y_te, scores, k=k_eff, groups=groups_te, n_bootstrap=c.n_bootstrap, seed=c.seed
        )

    if c.cost_ratio is not None:
        bands = bands_from_cost(calibrator, scale, cost_ratio=c.cost_ratio)
    else:
        bands = bands_from_capacity(risk_te, capacity=c.capacity, n_groups=n_groups_eff)
        covered = capacity_note(c.capacity, int(risk_te.size), n_groups_eff)
        if covered is not None:
            warn(notes, covered)
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
    predictions = prediction_frame(
        prep,
        te,
        {"raw": raw_te, "score": p_te, "risk_score": risk_te, "band": band_te},
        **({"baseline_score": base_p} if base_p is not None else {}),
    )
    slices = None
    if c.segment_cols:
        flagged = np.isin(band_te, ("high", "critical"))
        slices = slice_metrics(
            test_rows[list(c.segment_cols)].reset_index(drop=True), y_te, raw_te, flagged
        )
    importance = pd.DataFrame(
        {
            "feature": prep.features,
            "gain": gain_share,
            "splits": booster.feature_importance("split"),
        }
    ).sort_values(["gain", "feature"], ascending=[False, True], ignore_index=True)

    prints = fingerprint(prep, split)
    snapshot = _catalog_for(prep.features, catalog, c.entity)
    run_config = {**c.to_dict(), "split_mode": split.mode, "lgbm": dict(base)}
    best_iteration = int(booster.current_iteration())
    metadata = {
        **{key: run_config[key] for key in _MODEL_KEYS},
        "split": {
            "mode": split.mode,
            "description": split.description,
            "windows": {s: list(w) for s, w in split.windows.items()},
        },
        "training_window": list(split.windows.get("train", (None, None))),
        "test_window": list(split.windows.get("test", (None, None))),
        "group_by": prep.group_by,
        "days_per_group": prep.days_per_group,
        "capacity_test": k_eff,
        "population_share": share,
        "fingerprint": prints,
        "dropped_features": prep.dropped_features,
        "point_in_time": point_in_time(prep.frame),
        "params": dict(base),
        "best_iteration": best_iteration,
        "calibration": calibrator.method,
        "catalog_version": _catalog_version(snapshot),
        "metrics": {col: {m: float(metrics.loc[m, col]) for m in metrics.index} for col in scores},
        "versions": _versions(),
        "fit": "evaluated",
    }
    family = None
    if c.family_report and diagnostics:
        with step("train", "what each feature family adds (drop-one-family refits)"):
            family = family_value(
                X[tr],
                y[tr],
                X[va],
                y[va],
                prep.features,
                params=base,
                num_boost_round=best_iteration,
                categorical=cat_idx,
                full_raw=raw["valid"],
                clusters=prep.frame[prep.id_col].to_numpy()[va],
                n_bootstrap=c.n_bootstrap,
                seed=c.seed,
            )
        if family is not None and len(family):
            metadata["family_value"] = family_value_records(family)
    if diag is not None:
        metadata["diagnostics"] = diag.to_dict()
    model = assemble_model(
        prep,
        booster,
        calibrator=calibrator,
        scale=scale,
        bands=bands,
        thresholds=thresholds,
        metadata=metadata,
        catalog=snapshot,
        num_threads=c.num_threads,
    )
    keep_cols = [prep.id_col, *([prep.time_col] if prep.time_col else []), prep.label_col]
    segments = [s for s in c.segment_cols if s in test_rows.columns and s not in keep_cols]
    # the segments go along so the promotion gate can check slices on the same rows
    test_frame = test_rows[keep_cols + segments + prep.features].reset_index(drop=True)
    train_frame = prep.frame.iloc[tr][keep_cols + prep.features].reset_index(drop=True)
    # every row of the test windows: the population the monitor's reference describes
    window_rows = windows_of(prep.groups, te)
    window_frame = prep.frame.iloc[window_rows][keep_cols + segments + prep.features]
    window_frame = window_frame.reset_index(drop=True)
    evaluated, deployed = None, {"fit": "evaluated", "rows": int(tr.size), "trees": best_iteration}
    deployed_predictions = None
    if c.refit:
        from riskscore.modeling._refit import refit

        evaluated = model
        with step("train", f"refit on all {len(prep.y):,} labelled rows"):
            model, deployed, oof = refit(
                prep, split, c, evaluated=model, params=base, best_iteration=best_iteration
            )
        # what the refit hands out on the marketplace it learnt, and the out-of-fold
        # scores its bands were cut on (the monitor's reference)
        raw_window = model.raw_score(X[window_rows])
        oof_window = oof[window_rows]
        oof_scored = model.scores_from_raw(oof_window)
        deployed_predictions = prediction_frame(
            prep,
            window_rows,
            {"raw": raw_window, **model.scores_from_raw(raw_window)},
            oof_raw=oof_window,
            oof_score=oof_scored["score"],
            oof_risk_score=oof_scored["risk_score"],
            oof_band=np.asarray(oof_scored["band"]).astype(str),
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
        config=run_config,
        fingerprint=prints,
        importance=importance,
        search=search_trials,
        notes=notes,
        seconds=time.perf_counter() - t0,
        evaluated_model=evaluated,
        diagnostics=diag,
        deployed=deployed,
        train_config=c,
        family_value=family,
        train_frame=train_frame,
        window_frame=window_frame,
        deployed_predictions=deployed_predictions,
    )


def assemble_model(
    prep: Prepared,
    booster: Any,
    *,
    calibrator: Calibrator,
    scale: RiskScale,
    bands: Bands,
    thresholds: pd.DataFrame,
    metadata: Mapping[str, Any],
    catalog: pd.DataFrame | None,
    num_threads: int | None,
) -> RiskModel:
    """Return the :class:`RiskModel` of fitted parts on ``prep``'s features."""
    return RiskModel(
        booster,
        feature_names=prep.features,
        calibrator=calibrator,
        scale=scale,
        bands=bands,
        categories=prep.categories,
        metadata=dict(metadata),
        catalog=catalog,
        threshold_table=thresholds,
        num_threads=num_threads,
    )
