"""The deployable model: a refit on every labelled row, calibrated on out-of-fold scores.

The split is for *measuring*; :func:`refit` fits the model that ships. The tree count is
the evaluated fit's, scaled by the row ratio. The calibrator, risk scale, capacity bands
and threshold table come from out-of-fold raw scores over :data:`CROSSFIT_FOLDS` entity
folds (all rows of an entity in one fold, because its label repeats across cutoffs), so
they match what the refit produces on rows it never saw.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from riskscore._progress import track
from riskscore.exceptions import TrainingError
from riskscore.modeling._bands import (
    RiskScale,
    bands_from_capacity,
    bands_from_cost,
    threshold_table,
)
from riskscore.modeling._calibration import fit_calibrator
from riskscore.modeling._config import TrainConfig
from riskscore.modeling._fit import assemble_model
from riskscore.modeling._lgbm import fit_lgbm_rounds
from riskscore.modeling._model import RiskModel
from riskscore.modeling._prepare import Prepared, n_groups
from riskscore.modeling._split import Split

__all__ = ["CROSSFIT_FOLDS", "entity_folds", "refit"]

#: Entity folds of the cross-fit that gives the refit model its out-of-fold raw scores.
CROSSFIT_FOLDS = 4


def entity_folds(ids: pd.Series, n_folds: int, seed: int) -> np.ndarray:
    """Fold number of each row, all rows of one entity in one fold (seeded, stable)."""
    codes, uniques = pd.factorize(ids, sort=True)
    order = np.random.default_rng(seed).permutation(len(uniques))
    fold_of_entity = np.empty(len(uniques), dtype=np.int64)
    fold_of_entity[order] = np.arange(len(uniques)) % n_folds
    out: np.ndarray = fold_of_entity[codes]
    return out


def refit(
    prep: Prepared,
    split: Split,
    config: TrainConfig,
    *,
    evaluated: RiskModel,
    params: Mapping[str, Any],
    best_iteration: int,
) -> tuple[RiskModel, dict[str, Any], np.ndarray]:
    """Refit on every labelled row; calibrate, scale and band on out-of-fold raw scores.

    Returns the model, what was deployed (``TrainResult.deployed``) and the out-of-fold
    raw score of every row of ``prep``.
    """
    y, X = prep.y, prep.X
    n_all, n_train = len(y), max(int(split.train.size), 1)
    cat_idx = [prep.features.index(c) for c in prep.categories]
    n_entities = int(prep.frame[prep.id_col].nunique())
    n_folds = int(min(CROSSFIT_FOLDS, n_entities))
    folds = entity_folds(prep.frame[prep.id_col], n_folds, config.seed)
    threads = int(params["num_threads"])
    oof = np.empty(n_all, dtype=np.float64)
    for f in track(range(n_folds), "cross-fit", describe=lambda f: f"fold {f + 1}"):
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
    calibrator = fit_calibrator(oof, y, config.calibration)
    scale = RiskScale.fit(oof[y == 0], fpr_floor=config.fpr_floor)
    risk = scale.transform(oof)
    # the newest window (the test window's cutoffs or days), every entity
    if prep.time_col is not None and split.mode == "time":
        first, last = split.windows["test"]
        times = prep.frame[prep.time_col]
        recent = ((times >= first) & (times <= last)).to_numpy()
    else:
        recent = np.ones(n_all, dtype=bool)
    groups = None if prep.groups is None else prep.groups[recent]
    groups_recent = n_groups(groups)
    if config.cost_ratio is not None:
        bands = bands_from_cost(calibrator, scale, cost_ratio=config.cost_ratio)
    else:
        bands = bands_from_capacity(risk[recent], capacity=config.capacity, n_groups=groups_recent)
    thresholds = threshold_table(
        y[recent],
        risk[recent],
        scale=scale,
        calibrator=calibrator,
        n_groups=groups_recent,
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
            "capacity_test": int(config.capacity),
        }
    )
    model = assemble_model(
        prep,
        booster,
        calibrator=calibrator,
        scale=scale,
        bands=bands,
        thresholds=thresholds,
        metadata=metadata,
        catalog=evaluated.catalog,
        num_threads=config.num_threads,
    )
    return model, deployed, oof
