"""What the scorer needs from a model, in one place: :class:`ModelParts`.

The scorer reads a trained model through this small view so that the hot path is plain
attribute access and numpy: the booster, the feature order, the catalog, the calibration,
the risk-score mapping, the bands and the reason builder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
        Raw log-odds (n,) -> int64 risk score 0-1000 (n,).
    band : callable
        Risk score (n,) -> band name (n,) object array.
    reasons : callable
        ``(contrib (m, f+1), X (m, f), top_k, language) -> list of tuple of Reason``.
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
    reasons: ReasonFn


def model_parts(model: Any) -> ModelParts:
    """Return the :class:`ModelParts` of a trained model.

    Raises
    ------
    ScoringError
        When ``model`` lacks something the scorer needs.
    """
    if isinstance(model, ModelParts):
        return model
    if hasattr(model, "scoring_parts"):
        parts = model.scoring_parts()
        if isinstance(parts, ModelParts):
            return parts
    needed = ("booster", "feature_names", "entity")
    missing = [n for n in needed if not hasattr(model, n)]
    if missing:
        raise ScoringError(
            f"{type(model).__name__} is not a trained riskscore model (it has no "
            f"{', '.join(missing)}); load one with riskscore.scoring.load_scorer"
        )
    raise ScoringError(f"cannot read a {type(model).__name__} as a scoring model")


def simple_reasons(names: Sequence[str], catalog: pd.DataFrame | None) -> ReasonFn:
    """Return a reason builder: top positive contributions, one per signal.

    Impact bands 0-5 cut the contribution (log-odds) at 0.05, 0.15, 0.3, 0.6 and 1.2.
    """
    names = list(names)
    info: dict[str, dict[str, Any]] = {}
    if catalog is not None:
        info = {
            str(r["name"]): {str(k): v for k, v in r.items()} for r in catalog.to_dict("records")
        }
    codes = [str(info.get(n, {}).get("reason_code", n.upper())) for n in names]
    signals = [str(info.get(n, {}).get("signal", n)) for n in names]
    text_en = [str(info.get(n, {}).get("text_en", n + " is {value}")) for n in names]
    text_zh = [str(info.get(n, {}).get("text_zh", n + " 为 {value}")) for n in names]
    cuts = np.array([0.05, 0.15, 0.3, 0.6, 1.2])

    def reasons(
        contrib: np.ndarray, matrix: np.ndarray, top_k: int, language: str
    ) -> list[tuple[Reason, ...]]:
        texts = text_zh if language == "zh" else text_en
        feat = contrib[:, :-1]
        order = np.argsort(-feat, axis=1, kind="stable")
        out: list[tuple[Reason, ...]] = []
        for i in range(len(feat)):
            found: list[Reason] = []
            seen: set[str] = set()
            for j in order[i]:
                c = float(feat[i, j])
                if c <= 0 or len(found) == top_k:
                    break
                if signals[j] in seen:
                    continue
                seen.add(signals[j])
                v = float(matrix[i, j])
                missing = v != v
                found.append(
                    Reason(
                        code=codes[j],
                        feature=names[j],
                        value=None if missing else v,
                        impact=int(np.searchsorted(cuts, c, side="right")),
                        contribution=c,
                        text="value missing" if missing else texts[j].format(value=v),
                    )
                )
            out.append(tuple(found))
        return out

    return reasons
