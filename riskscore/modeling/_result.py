"""What training and evaluation hand back: :class:`TrainResult` and :class:`EvaluationResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskscore.modeling._config import TrainConfig
from riskscore.modeling._diagnostics import Diagnostics
from riskscore.modeling._model import RiskModel
from riskscore.modeling._split import Split

__all__ = ["EvaluationResult", "TrainResult"]


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
    train_config : TrainConfig or None
        The settings of this run (``config`` is their JSON-ready form plus the split mode
        and the LightGBM parameters).
    family_value : pandas.DataFrame or None
        Validation PR-AUC lost when each feature family is left out, with intervals (see
        :func:`riskscore.modeling.family_value`); ``None`` when not measured.
    train_frame : pandas.DataFrame or None
        Train-side rows of the input (id, time, label, features), for the monitoring
        reference (:func:`riskscore.monitor.reference_from_result`).
    window_frame : pandas.DataFrame or None
        Every row of the test windows (id, time, label, features), also those an
        entity-disjoint split left off the test side: the marketplace at those cutoffs,
        for the monitoring reference's feature bins. ``test_frame`` holds a share of the
        entities seen before plus every entity first seen in the test window, so it is
        younger than the marketplace by design. Carries the ``segment_cols`` present.
    deployed_predictions : pandas.DataFrame or None
        A refit's scores on the rows of ``window_frame`` (same order; id, time, label,
        ``raw``, ``score``, ``risk_score``, ``band``), and the out-of-fold scores its
        calibration and bands were set on (``oof_raw``, ``oof_score``, ``oof_risk_score``,
        ``oof_band``); ``None`` when the deployed model is the evaluated fit. The first are
        in-sample — the refit learnt these rows — so they describe the body of what the
        refit hands out on a marketplace it knows (the monitor reference's score
        distribution), not how accurate it is: it flags about the window's positives
        there, precision near 1. Its flag volume follows the out-of-fold bands (the
        reference's band shares). ``predictions`` stays the out-of-sample evidence.
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
    train_config: TrainConfig | None = None
    family_value: pd.DataFrame | None = None
    train_frame: pd.DataFrame | None = None
    window_frame: pd.DataFrame | None = None
    deployed_predictions: pd.DataFrame | None = None

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
    in_sample : str
        Names the table's times the model was fitted on (its figures there are
        in-sample); empty when none are.
    """

    metrics: pd.DataFrame
    threshold_table: pd.DataFrame
    predictions: pd.DataFrame
    k: int
    in_sample: str = ""
