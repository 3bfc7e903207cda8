"""Spark scoring through MLflow's ``spark_udf``: :func:`score_spark`."""

from __future__ import annotations

from typing import Any

__all__ = ["score_spark"]


def score_spark(spark_df: Any, model_uri: str, **kwargs: Any) -> Any:
    """Score a Spark DataFrame of features with the model at ``model_uri``."""
    raise NotImplementedError
