"""Train, evaluate and prequentially evaluate a risk model: the public entry points.

:func:`train` is a pure function of (table, :class:`~riskscore.modeling.TrainConfig`): it
reads nothing from disk and writes nothing; the registry logs its :class:`TrainResult` and
the CLI saves it. The work is done in small modules: :mod:`._prepare` (checks and
encoding), :mod:`._fit` (one split: fit, calibrate, measure), :mod:`._refit` (the
deployable model), :mod:`._family_value` (what each feature family adds) and
:mod:`._result` (what comes back).

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

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from riskscore._progress import track
from riskscore._validation import fail
from riskscore.exceptions import TrainingError
from riskscore.metrics import metric_table
from riskscore.modeling._bands import threshold_table
from riskscore.modeling._config import MIN_POSITIVES, TrainConfig
from riskscore.modeling._fit import fit_evaluated
from riskscore.modeling._model import RiskModel
from riskscore.modeling._prepare import TrainingWarning, labels_of, n_groups, prepare
from riskscore.modeling._refit import CROSSFIT_FOLDS
from riskscore.modeling._result import EvaluationResult, TrainResult
from riskscore.modeling._split import (
    make_split,
    naming_window,
    rolling_splits,
    window_name,
)

__all__ = [
    "CROSSFIT_FOLDS",
    "MIN_POSITIVES",
    "EvaluationResult",
    "TrainConfig",
    "TrainResult",
    "TrainingWarning",
    "evaluate",
    "prequential",
    "train",
]


def train(
    table: pd.DataFrame,
    config: TrainConfig | None = None,
    *,
    catalog: pd.DataFrame | None = None,
    market: Mapping[str, Any] | None = None,
    **settings: Any,
) -> TrainResult:
    """Train, calibrate and evaluate a risk model, with a logistic baseline beside it.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per entity (and time): an id, a time, a 0/1 label and feature columns —
        the output of ``riskscore.features.build_training_set`` or any user table.
        Constant and all-missing columns are dropped with a :class:`TrainingWarning`;
        string and ``category`` columns become LightGBM categoricals.
    config : TrainConfig, optional
        The settings (default ``TrainConfig()``); see :class:`TrainConfig` for each one.
    catalog : pandas.DataFrame, optional
        Feature catalog snapshot to store; default ``riskscore.features.catalog()`` when
        the features follow its ``<family>__<feature>`` names.
    market : mapping, optional
        The marketplace's own rates at the table's cutoffs,
        ``riskscore.monitor.market_profile(tables, cutoffs)``: the diagnostics then say
        when a test cutoff's rate lies twice or more outside its range at the training
        cutoffs (a complaint kind that vanished, a fraud wave that stopped), which
        features relative to the marketplace do not show. It must hold every cutoff of
        the table.
    **settings
        Any field of :class:`TrainConfig` (``capacity=25``, ``seed=3``, ``refit=False``,
        ...), applied on top of ``config``. The most used: ``id_col`` / ``time_col`` /
        ``label_col`` (column names; ``time_col=None`` falls back to a stratified split),
        ``entity`` / ``target`` (name the model), ``capacity`` (reviews per cutoff or per
        day: sets the bands and the at-capacity metrics), ``valid_windows``,
        ``segment_cols`` (slices of the test metrics), ``refit`` (deploy a refit on every
        labelled row, calibrated out of fold — default; the metrics stay those of the
        evaluated fit, ``TrainResult.evaluated_model``), ``allow_leaky`` (features allowed
        to separate the labels on their own) and ``family_report``.

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingError
        An unknown setting, no positives, a side with a single class, fewer than
        ``min_positives`` positives, no usable feature, bad labels or duplicated rows, or a
        feature that is almost the label (see ``allow_leaky``) — each message names the fix.

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
    cfg = TrainConfig.build(config, **settings)
    prep = prepare(table, cfg)
    split = make_split(
        prep.frame,
        id_col=cfg.id_col,
        time_col=cfg.time_col,
        label_col=cfg.label_col,
        seed=cfg.seed,
        **cfg.split_options(),
    )
    if split.mode == "stratified":
        prep.notes.append(split.description)
    if market is not None:
        _check_market(market, prep.groups)
    return fit_evaluated(prep, split, cfg, catalog=catalog, market=market)


def _check_market(market: Mapping[str, Any], groups: np.ndarray | None) -> None:
    """Refuse a market profile that is not one or does not cover the table's cutoffs."""
    fix = "pass riskscore.monitor.market_profile(tables, the table's cutoffs)"
    if not isinstance(market, Mapping) or not isinstance(market.get("stats"), Mapping):
        raise TrainingError(
            f"train: market must be a marketplace profile (as_of and stats); got "
            f"{type(market).__name__}: {fix}"
        )
    if groups is None:
        raise TrainingError(
            f"train: market needs the table's time column to match its cutoffs: {fix}"
        )
    try:
        held = {pd.Timestamp(t) for t in market.get("as_of") or []}
    except (TypeError, ValueError) as err:
        raise TrainingError(f"train: market's as_of must be times ({err}): {fix}") from None
    missing = [pd.Timestamp(t) for t in np.unique(groups) if pd.Timestamp(t) not in held]
    if missing:
        shown = ", ".join(str(t.date()) for t in missing[:5])
        raise TrainingError(
            f"train: market holds no statistics at {len(missing)} of the table's cutoffs "
            f"(e.g. {shown}): {fix}"
        )
    n = len(market.get("as_of") or [])
    ragged = [k for k, v in market["stats"].items() if not hasattr(v, "__len__") or len(v) != n]
    if ragged:
        raise TrainingError(
            f"train: market's stats need one value per as_of ({n}); {len(ragged)} do not "
            f"(e.g. {', '.join(map(repr, ragged[:3]))}): {fix}"
        )


def prequential(
    table: pd.DataFrame,
    config: TrainConfig | None = None,
    *,
    n_windows: int = 3,
    catalog: pd.DataFrame | None = None,
    **settings: Any,
) -> pd.DataFrame:
    """Evaluate prequentially (rolling): retrain as of each of the last ``n_windows`` windows.

    Split ``i`` tests on the window ``i`` steps before the newest and trains only on what
    came before it (see :func:`riskscore.modeling.rolling_splits`). Every window is an
    evaluated fit with the settings of ``config`` / ``settings`` (as :func:`train`), without
    bootstrap, refit, diagnostics or family report.

    Parameters
    ----------
    table : pandas.DataFrame
    config : TrainConfig, optional
    n_windows : int, default 3
    catalog : pandas.DataFrame, optional
    **settings
        Fields of :class:`TrainConfig`, as for :func:`train`.

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
    cfg = TrainConfig.build(config, **settings)
    time_col = cfg.time_col
    if time_col is None:
        raise TrainingError(
            "prequential evaluation needs a time column: pass time_col (--time) naming it"
        )
    cfg = cfg.replace(n_bootstrap=0, refit=False, family_report=False)
    prep = prepare(table, cfg)
    split_options = {k: v for k, v in cfg.split_options().items() if v is not None}
    rows = {}
    splits = rolling_splits(
        prep.frame,
        id_col=cfg.id_col,
        time_col=time_col,
        n_windows=n_windows,
        **split_options,
    )
    for i, split in enumerate(
        track(splits, "prequential", total=n_windows, describe=window_name), start=1
    ):
        with warnings.catch_warnings(), naming_window("prequential", split, i, n_windows):
            warnings.simplefilter("ignore", TrainingWarning)
            result = fit_evaluated(
                prep, split, cfg.replace(segment_cols=()), catalog=catalog, diagnostics=False
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


def _horizon(horizon: str | pd.Timedelta | None) -> pd.Timedelta | None:
    """Return the label horizon of ``evaluate``, checked."""
    if horizon is None:
        return None
    try:
        return pd.Timedelta(horizon)
    except (TypeError, ValueError):
        raise fail(
            "horizon", "evaluate", "a duration such as '60D'", horizon, error=TrainingError
        ) from None


def _in_sample(
    models: list[RiskModel],
    table: pd.DataFrame,
    time_col: str | None,
    horizon: pd.Timedelta | None,
) -> str:
    """Name the table's times each model was fitted on, warn once per model; join them."""
    from riskscore.modeling._in_sample import in_sample_note

    if not time_col or time_col not in table.columns:
        return ""
    times = pd.unique(table[time_col])
    notes = []
    for m in models:
        note = in_sample_note(
            m.metadata,
            times,
            name=str(m.metadata.get("name") or m.name),
            what="an evaluation",
            instead="evaluate later cutoffs, or read the evaluated fit's test metrics "
            "(the model card)",
            horizon=horizon,
        )
        if note:
            warnings.warn(note, TrainingWarning, stacklevel=3)
            notes.append(note)
    return " ".join(notes)


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
    n_bootstrap: int | None = None,
    seed: int | None = None,
    names: tuple[str, str] = ("model", "other"),
    horizon: str | pd.Timedelta | None = None,
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
    n_bootstrap, seed : int, optional
        Default: those of :class:`TrainConfig`.
    names : (str, str)
        Column names for ``model`` and ``other`` in the metric table.
    horizon : str or Timedelta, optional
        The label horizon of the table. Rows at times a model (or ``other``) was fitted
        on are in-sample (a refit evaluated on its own training cutoffs scored ROC-AUC
        0.9998): ``EvaluationResult.in_sample`` names them, with a
        :class:`TrainingWarning` per model. Up to the end of the model's fitted windows;
        with the horizon, before that end plus the horizon (the label windows overlap).

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
    >>> ev.in_sample
    ''
    """
    if not isinstance(model, RiskModel):
        raise TrainingError(
            f"evaluate expects a RiskModel; got {type(model).__name__}. Load one with "
            "RiskModel.load(folder) or riskscore.registry.load(uri)"
        )
    if not isinstance(table, pd.DataFrame):
        raise TrainingError(f"evaluate expects a pandas DataFrame; got {type(table).__name__}")
    defaults = TrainConfig()
    n_bootstrap = defaults.n_bootstrap if n_bootstrap is None else n_bootstrap
    seed = defaults.seed if seed is None else seed
    meta = model.metadata
    id_col = id_col or meta.get("id_col", "entity_id")
    time_col = time_col if time_col is not None else meta.get("time_col")
    label_col = label_col or meta.get("label_col", "label")
    capacity = int(capacity or meta.get("capacity", 100))
    if label_col not in table.columns:
        raise TrainingError(f"label column '{label_col}' is not in the table; pass label_col")
    y = labels_of(table, label_col)
    if time_col and time_col in table.columns:
        times = table[time_col]
        if meta.get("group_by") == "day" and pd.api.types.is_datetime64_any_dtype(times):
            groups = times.dt.floor("D").to_numpy()
        else:
            groups = times.to_numpy()
    else:
        groups = None
    note = _in_sample(
        [m for m in (model, other) if m is not None], table, time_col, _horizon(horizon)
    )
    k_eff = max(1, round(capacity * population_share))
    X = model.to_matrix(table)
    raw = model.raw_score(X)
    scores: dict[str, tuple[Any, Any]] = {names[0]: (raw, model.calibrator.transform(raw))}
    if other is not None:
        raw_o = other.raw_score(other.to_matrix(table))
        scores[names[1]] = (raw_o, other.calibrator.transform(raw_o))
    metrics = metric_table(y, scores, k=k_eff, groups=groups, n_bootstrap=n_bootstrap, seed=seed)
    risk = model.scale.transform(raw)
    thresholds = threshold_table(
        y,
        risk,
        scale=model.scale,
        calibrator=model.calibrator,
        n_groups=n_groups(groups) * population_share,
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
        metrics=metrics,
        threshold_table=thresholds,
        predictions=predictions,
        k=k_eff,
        in_sample=note,
    )
