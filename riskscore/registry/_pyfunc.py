r"""The MLflow pyfunc wrapper of a :class:`~riskscore.modeling.RiskModel`.

The logged model holds the RiskModel folder as the artifact ``riskmodel``;
:meth:`RiskModelPyfunc.load_context` loads it once per process and
:meth:`RiskModelPyfunc.predict` returns, per input row, ``score`` (calibrated probability),
``risk_score`` (0–1000), ``band`` and ``reasons`` (a JSON list of the top reasons).

A request riskscore cannot score (a missing or non-numeric feature, an infinite value,
duplicated ids, a bad ``top_k`` / ``lang`` / ``explain``) raises :class:`ServingError`:
riskscore's own message, with the ``INVALID_PARAMETER_VALUE`` error code, so
``mlflow models serve`` answers HTTP 400 with a body of the form::

    {"error_code": "INVALID_PARAMETER_VALUE",
     "message": "Failed to predict data '<the parsed input>'. \nError: <riskscore's message>",
     "riskscore_message": "<riskscore's message>", "sqlstate": ..., "error_class": ...}

and no ``stack_trace``. The ``message`` prefix is MLflow 3's own (its scoring server
rewrites the message of every :class:`~mlflow.exceptions.MlflowException` raised by
``predict``); ``riskscore_message`` holds ours alone. Other exceptions would be answered
with MLflow's generic text and the full server-side traceback, which is why none is let
through. Requests MLflow refuses before ``predict`` runs (malformed JSON, a frame that
breaks the logged signature) keep MLflow's text, also without a traceback; a malformed
CSV or Parquet body is the one case where MLflow's server adds a ``stack_trace`` itself.

:class:`ServingError` is also a :class:`~riskscore.exceptions.ScoringError`, so code that
loads the pyfunc in process (``mlflow.pyfunc.load_model``, ``spark_udf``) can catch it as
any other riskscore error.

This module imports mlflow at the top: import it only from inside registry functions, or
let MLflow import it when it loads a logged model.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

from riskscore.exceptions import RiskscoreError, ScoringError
from riskscore.modeling import RiskModel

__all__ = ["OUTPUT_COLUMNS", "RiskModelPyfunc", "ServingError", "reasons_for"]

#: Columns of the pyfunc output, in order.
OUTPUT_COLUMNS: tuple[str, ...] = ("score", "risk_score", "band", "reasons")

#: Prediction parameters accepted by ``predict(..., params=...)`` and their defaults.
DEFAULT_PARAMS: dict[str, Any] = {"top_k": 3, "lang": "en", "explain": "all"}


def reasons_for(
    model: RiskModel,
    X: np.ndarray,
    contributions: np.ndarray | None,
    *,
    top_k: int,
    lang: str,
    explainer: Any = None,
) -> list[str]:
    """Return the top reasons of each row as a JSON string (``"[]"`` when unavailable).

    THE HOOK for explanations (owned by the explanation layer): it uses
    :class:`riskscore.explain.Explainer` when that module and the model's feature catalog
    are available, and gives empty lists otherwise (user tables have no catalog). Change
    what a reason holds here; the pyfunc output column stays one JSON string per row.

    Parameters
    ----------
    model : RiskModel
    X : numpy.ndarray
        The encoded rows.
    contributions : numpy.ndarray, optional
        ``model.contributions(X)`` if already computed.
    top_k : int
    lang : {"en", "zh"}
    explainer : riskscore.explain.Explainer, optional
        Built once per loaded model and reused.
    """
    if explainer is None or top_k <= 0:
        return ["[]"] * X.shape[0]
    lists = explainer.reason_lists(X, contributions, top_k=top_k, lang=lang)
    return [json.dumps(row, ensure_ascii=False, default=str) for row in lists]


def make_explainer(model: RiskModel) -> Any:
    """Return an :class:`riskscore.explain.Explainer` for ``model`` (None if it cannot explain)."""
    if model.catalog is None:
        return None
    try:
        from riskscore.explain import Explainer
    except ImportError:
        return None
    try:
        return Explainer(model, model_name=model.name)
    except Exception:  # a catalog the explainer cannot use: score without reasons
        return None


class ServingError(MlflowException, ScoringError):  # type: ignore[misc]
    """A request the served model cannot score: HTTP 400, riskscore's message, no trace.

    Parameters
    ----------
    message : str
        riskscore's message (what, where, expected, got). Also sent as
        ``riskscore_message`` in the response body, untouched by the server.

    Examples
    --------
    >>> err = ServingError("frame is missing 1 feature column(s) the model needs: x")
    >>> err.get_http_status_code(), isinstance(err, ScoringError)
    (400, True)
    >>> import json
    >>> sorted(json.loads(err.serialize_as_json()))
    ['error_class', 'error_code', 'message', 'riskscore_message', 'sqlstate']
    """

    def __init__(self, message: str) -> None:
        MlflowException.__init__(
            self, message, error_code=INVALID_PARAMETER_VALUE, riskscore_message=str(message)
        )


class RiskModelPyfunc(PythonModel):  # type: ignore[misc]
    """MLflow pyfunc around a RiskModel folder (artifact ``riskmodel``)."""

    # predict has no type hints on purpose (MLflow would read pandas hints as a schema and
    # warn); the logged signature validates inputs instead
    _skip_type_hint_validation = True

    def load_context(self, context: Any) -> None:
        """Load the RiskModel (and its explainer) once."""
        self.model = RiskModel.load(context.artifacts["riskmodel"])
        self.explainer = make_explainer(self.model)

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        """Score a DataFrame of feature columns: score, risk_score, band, reasons.

        The one scoring path of riskscore (:meth:`riskscore.scoring.Scorer.score_many`),
        so the server, ``spark_udf`` and in-process scoring give the same answers.
        """
        from riskscore.scoring._pyfunc import pyfunc_predict

        try:
            return pyfunc_predict(self.model, model_input, params)
        except RiskscoreError as err:  # our message, HTTP 400, no server traceback
            raise ServingError(str(err)) from None
