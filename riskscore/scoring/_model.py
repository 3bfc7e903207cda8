"""What the scorer needs from a model, in one place: :class:`ModelParts`.

The scorer reads a trained model through this small view so that the hot path is plain
attribute access and numpy: the booster, the feature order, the catalog, the calibration,
the risk-score mapping, the bands and the reason builder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskscore.exceptions import ScoringError
from riskscore.scoring._result import Reason

__all__ = ["ModelParts", "model_parts"]

ReasonFn = Callable[[np.ndarray, np.ndarray, int, str], list[tuple[Reason, ...]]]


@dataclass(frozen=True)
class ModelParts:
    """The pieces of a trained model the scorer calls.

    Parameters
    ----------
    booster : lightgbm.Booster
    feature_names : tuple of str
    catalog : pandas.DataFrame or None
        Feature catalog snapshot (``name, fill, needs, reason_code, signal, text_*``).
    entity : str
    name, version : str
    band_names : tuple of str
        Bands from lowest to highest risk.
    calibrate : callable
        Raw log-odds (n,) -> calibrated probability (n,).
    risk_score : callable
        Raw log-odds (n,) -> float64 risk score (n,), strictly increasing.
    band : callable
        Risk score (n,) -> band name (n,) object array.
    reasons : callable or None
        ``(contrib (m, f+1), X (m, f), top_k, language) -> list of tuple of Reason``;
        ``None`` when the model cannot be explained (no feature catalog).
    categories : mapping of str to tuple of str
        Levels of categorical features; a value's position is its code.
    """

    booster: Any
    feature_names: tuple[str, ...]
    catalog: pd.DataFrame | None
    entity: str
    name: str
    version: str
    band_names: tuple[str, ...]
    calibrate: Callable[[np.ndarray], np.ndarray]
    risk_score: Callable[[np.ndarray], np.ndarray]
    band: Callable[[np.ndarray], np.ndarray]
    reasons: ReasonFn | None
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def model_parts(model: Any) -> ModelParts:
    """Return the :class:`ModelParts` of a trained model.

    Parameters
    ----------
    model : RiskModel or ModelParts
        A :class:`riskscore.modeling.RiskModel` (booster, calibrator, risk scale, bands,
        catalog snapshot), or parts built by hand.

    Raises
    ------
    ScoringError
        When ``model`` lacks something the scorer needs.
    """
    if isinstance(model, ModelParts):
        return model
    needed = ("booster", "feature_names", "calibrator", "scale", "bands")
    missing = [n for n in needed if not hasattr(model, n)]
    if missing:
        raise ScoringError(
            f"a {type(model).__name__} is not a trained riskscore model (it has no "
            f"{', '.join(missing)}); pass a riskscore.modeling.RiskModel, or load one with "
            "riskscore.scoring.load_scorer"
        )
    from riskscore.modeling import BANDS

    metadata = getattr(model, "metadata", {}) or {}
    version = metadata.get("version") or metadata.get("model_version") or "local"
    return ModelParts(
        booster=model.booster,
        feature_names=tuple(model.feature_names),
        catalog=getattr(model, "catalog", None),
        entity=str(model.entity),
        name=str(model.name),
        version=str(version),
        band_names=tuple(BANDS),
        calibrate=model.calibrator.transform,
        risk_score=model.scale.transform,
        band=model.bands.assign,
        reasons=explainer_reasons(model),
        categories={str(k): tuple(v) for k, v in (model.categories or {}).items()},
    )


def explainer_reasons(model: Any) -> ReasonFn | None:
    """Return a reason builder backed by :class:`riskscore.explain.Explainer`.

    ``None`` when the model has no feature catalog (its scores cannot be explained).
    """
    if getattr(model, "catalog", None) is None:
        return None
    from riskscore.explain import Explainer

    explainer = Explainer(model)

    def reasons(
        contrib: np.ndarray, matrix: np.ndarray, top_k: int, language: str
    ) -> list[tuple[Reason, ...]]:
        lists = explainer.reason_lists(
            matrix,
            contrib,
            top_k=top_k,
            language=language,  # type: ignore[arg-type]
        )
        return [
            tuple(
                Reason(
                    code=r["code"],
                    feature=r["feature"],
                    value=r["value"],
                    impact=int(r["impact"]),
                    contribution=float(r["contribution"]),
                    text=r["text"],
                )
                for r in row
            )
            for row in lists
        ]

    return reasons
