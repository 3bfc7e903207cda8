"""The MLflow pyfunc's ``predict``: :meth:`Scorer.score_many`, nothing else.

The registry's pyfunc wrapper (:mod:`riskscore.registry`) loads a
:class:`~riskscore.modeling.RiskModel` once and hands every ``predict`` call to
:func:`pyfunc_predict`, so the MLflow server, ``spark_udf`` and in-process scoring run the
same code and return the same columns (:attr:`Scorer.columns`).

Prediction parameters (``params=`` of ``predict``, or ``"params"`` in a request to
``/invocations``): ``explain`` (``flagged`` / ``all`` / ``none``), ``top_k``, ``lang``
(``en`` / ``zh``) and ``as_of``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from typing import Any

import pandas as pd

from riskscore.exceptions import ScoringError
from riskscore.scoring._scorer import Scorer

__all__ = ["PREDICT_PARAMS", "output_example", "pyfunc_predict", "scorer_for"]

#: Parameters ``predict`` accepts, with their defaults (for the model signature).
PREDICT_PARAMS: dict[str, Any] = {"explain": "flagged", "top_k": 3, "lang": "en", "as_of": ""}

_LOCK = threading.Lock()
_SCORERS: weakref.WeakKeyDictionary[Any, dict[tuple[int, str], Scorer]] = (
    weakref.WeakKeyDictionary()
)


def scorer_for(model: Any, *, top_k: int = 3, lang: str = "en") -> Scorer:
    """Return the (cached) :class:`Scorer` of ``model`` for these reason options."""
    key = (int(top_k), str(lang))
    with _LOCK:
        per_model = _SCORERS.setdefault(model, {})
        if key not in per_model:
            per_model[key] = Scorer(model, top_k=key[0], language=key[1])  # type: ignore[arg-type]
        return per_model[key]


def pyfunc_predict(
    model: Any, model_input: Any, params: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """Score ``model_input`` (feature rows) with ``model``; the pyfunc's ``predict``.

    Parameters
    ----------
    model : RiskModel
    model_input : pandas.DataFrame or mapping or list of records
        Feature columns (and optionally the id column); as MLflow passes them after
        checking the signature.
    params : mapping, optional
        See :data:`PREDICT_PARAMS`.

    Returns
    -------
    pandas.DataFrame
        The columns of :meth:`Scorer.score_many`, one row per input row.

    Examples
    --------
    >>> from riskscore.scoring._demo import demo_model
    >>> model = demo_model()
    >>> rows = pd.DataFrame([dict.fromkeys(model.feature_names, 1.0)])
    >>> pyfunc_predict(model, rows, {"explain": "none"})[["risk_score", "band"]].shape
    (1, 2)
    """
    opts = {**PREDICT_PARAMS, **(params or {})}
    unknown = sorted(set(opts) - set(PREDICT_PARAMS))
    if unknown:
        raise ScoringError(f"unknown parameter(s) {unknown}; known: {sorted(PREDICT_PARAMS)}")
    frame = model_input
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    scorer = scorer_for(model, top_k=int(opts["top_k"]), lang=str(opts["lang"]))
    as_of = opts["as_of"] or None
    return scorer.score_many(frame, explain=opts["explain"], as_of=as_of)


def output_example(model: Any, example: pd.DataFrame) -> pd.DataFrame:
    """Return what ``predict`` gives for ``example`` (for the model signature)."""
    return scorer_for(model).score_many(example, explain="all")
