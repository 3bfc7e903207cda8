"""Scoring: one code path from a trained model to scores, bands and reasons.

- :func:`load_scorer` loads a model once (any MLflow model URI or a local model folder)
  and returns a thread-safe :class:`Scorer`.
- :meth:`Scorer.score_one` scores one record (a dict, no pandas on the path),
  :meth:`Scorer.score_many` a frame, :meth:`Scorer.score_entities` raw marketplace tables;
  all three share one private step, so row *i* of ``score_many`` equals ``score_one`` of
  row *i*.
- :func:`score_batch` is the loss-free batch runner behind ``riskscore score``;
  :func:`score_spark` scores a Spark DataFrame through :func:`riskscore.registry.spark_udf`.

Which loader when: to score, :func:`load_scorer` (a folder or any MLflow URI); a RiskModel
with its registry identity, :func:`riskscore.registry.load_risk_model`; a RiskModel from a
folder, ``RiskModel.load``. Scoring sits above :mod:`riskscore.registry` in the layers and
loads every MLflow URI through it; the pyfunc contract (parameters, output columns, Spark
types) is :mod:`riskscore.registry._contract`.
"""

from __future__ import annotations

from riskscore.scoring._batch import BatchSummary, score_batch
from riskscore.scoring._load import load_scorer
from riskscore.scoring._online import OnlineRiskScore, OnlineScorer
from riskscore.scoring._replay import Replayed, replay
from riskscore.scoring._result import Reason, RiskScore
from riskscore.scoring._scorer import Scorer
from riskscore.scoring._spark import score_spark

__all__ = [
    "BatchSummary",
    "OnlineRiskScore",
    "OnlineScorer",
    "Reason",
    "Replayed",
    "RiskScore",
    "Scorer",
    "load_scorer",
    "replay",
    "score_batch",
    "score_spark",
]
