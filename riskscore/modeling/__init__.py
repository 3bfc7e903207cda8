"""Training, evaluation and the deployable model of riskscore.

The public surface is exactly :data:`__all__`:

* :func:`train` → :class:`TrainResult` (model, baseline, metrics with intervals, threshold
  table, plots, model card, what each feature family adds); :func:`evaluate` and
  :func:`prequential` for honest numbers. Every setting lives in one :class:`TrainConfig`;
  :func:`marketplace_config` / :func:`marketplace_training_set` are the marketplace recipe.
* :class:`RiskModel` — the deployable unit (``save`` / ``load``, ``raw_score``,
  ``predict_proba``, ``scores_from_raw``, ``contributions``).
* Building blocks: splits (:func:`time_split`, :func:`rolling_splits`, ...), LightGBM
  defaults (:data:`DEFAULT_PARAMS`, :func:`lgbm_params`, :func:`random_search`), the
  baseline, calibration, the 0–1000 risk scale and bands.
* Comparing two models on the same rows (what the promotion gate decides on):
  :func:`paired_prequential` / :func:`paired_frame` → :func:`compare_paired` →
  :class:`PairedComparison` (paired entity bootstrap of the differences, per-slice flag
  rate and FPR via :func:`slice_comparison`, :func:`slice_rates`, :func:`wilson_interval`).
* Labels the current policy did not choose: :func:`audit_sample` (the random-audit
  reviews after each cutoff, with inverse-probability weights), :func:`audit_report`
  (precision, recall, flag rate and prevalence on it, next to the biased all-labels ones)
  and :func:`audit_paired` (the same for a champion and a challenger, for the gate).
"""

from riskscore.modeling._ablation import families_to_leave_out, family_ablation, pool_ablation
from riskscore.modeling._audit import audit_paired, audit_report, audit_sample
from riskscore.modeling._bands import (
    BANDS,
    Bands,
    RiskScale,
    bands_from_capacity,
    bands_from_cost,
    threshold_table,
)
from riskscore.modeling._baseline import fit_baseline
from riskscore.modeling._calibration import Calibrator, fit_calibrator
from riskscore.modeling._config import TrainConfig
from riskscore.modeling._demo import make_training_table
from riskscore.modeling._family_value import family_value
from riskscore.modeling._lgbm import (
    DEFAULT_PARAMS,
    SEARCH_SPACE,
    SearchResult,
    fit_lgbm,
    lgbm_params,
    random_search,
)
from riskscore.modeling._model import FORMAT_VERSION, RiskModel, column_diff
from riskscore.modeling._paired import (
    PairedComparison,
    compare_paired,
    paired_frame,
    paired_prequential,
)
from riskscore.modeling._recipe import marketplace_config, marketplace_training_set
from riskscore.modeling._slices import (
    PROTECTED_SLICES,
    slice_comparison,
    slice_rates,
    wilson_difference,
    wilson_interval,
)
from riskscore.modeling._split import (
    SIDES,
    Split,
    make_split,
    rolling_splits,
    stratified_split,
    time_split,
)
from riskscore.modeling._train import (
    EvaluationResult,
    TrainingWarning,
    TrainResult,
    evaluate,
    prequential,
    train,
)

__all__ = [
    "BANDS",
    "DEFAULT_PARAMS",
    "FORMAT_VERSION",
    "PROTECTED_SLICES",
    "SEARCH_SPACE",
    "SIDES",
    "Bands",
    "Calibrator",
    "EvaluationResult",
    "PairedComparison",
    "RiskModel",
    "RiskScale",
    "SearchResult",
    "Split",
    "TrainConfig",
    "TrainResult",
    "TrainingWarning",
    "audit_paired",
    "audit_report",
    "audit_sample",
    "bands_from_capacity",
    "bands_from_cost",
    "column_diff",
    "compare_paired",
    "evaluate",
    "families_to_leave_out",
    "family_ablation",
    "family_value",
    "fit_baseline",
    "fit_calibrator",
    "fit_lgbm",
    "lgbm_params",
    "make_split",
    "make_training_table",
    "marketplace_config",
    "marketplace_training_set",
    "paired_frame",
    "paired_prequential",
    "pool_ablation",
    "prequential",
    "random_search",
    "rolling_splits",
    "slice_comparison",
    "slice_rates",
    "stratified_split",
    "threshold_table",
    "time_split",
    "train",
    "wilson_difference",
    "wilson_interval",
]
