r"""The MLflow pyfunc wrapper of a :class:`~riskscore.modeling.RiskModel`.

The logged model holds the RiskModel folder as the artifact ``riskmodel``;
:meth:`RiskModelPyfunc.load_context` loads it once per process and
:meth:`RiskModelPyfunc.predict` hands every call to the scoring function the wrapper was
built with — :func:`riskscore.scoring._pyfunc.pyfunc_predict`, given by the
models-from-code entry file (:data:`riskscore.registry._log.PYFUNC_ENTRY`), so this module
never imports the scoring layer above it. What ``predict`` takes and returns is the
contract in :mod:`riskscore.registry._contract`: per input row ``score`` (calibrated
probability), ``risk_score`` (0–1000), ``band`` and ``reasons`` (a JSON list of the top
reasons).

A request riskscore cannot score (a missing or non-numeric feature, an infinite value,
duplicated ids, a bad ``top_k`` / ``language`` / ``explain``) raises :class:`ServingError`:
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

from collections.abc import Callable
from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel

from riskscore.exceptions import RegistryError, RiskscoreError, ScoringError
from riskscore.modeling import RiskModel

__all__ = ["PredictFunction", "RiskModelPyfunc", "ServingError"]

#: What the wrapper calls per ``predict``: ``(model, model_input, params) -> frame``, with
#: ``rules=<YAML text>`` too when the logged model carries a rule set (artifact ``rules``).
PredictFunction = Callable[..., pd.DataFrame]


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
    """MLflow pyfunc around a RiskModel folder (artifact ``riskmodel``).

    Parameters
    ----------
    predict : callable, optional
        ``predict(model, model_input, params) -> DataFrame``, the scoring path
        (:func:`riskscore.scoring._pyfunc.pyfunc_predict` in every model riskscore logs).
        ``None`` only for models logged before the wrapper took it: loading one fails with
        a :class:`~riskscore.exceptions.RegistryError` that says to log it again.

    Examples
    --------
    >>> from riskscore.scoring._pyfunc import pyfunc_predict
    >>> RiskModelPyfunc(pyfunc_predict).predict_function is pyfunc_predict
    True
    """

    # predict has no type hints on purpose (MLflow would read pandas hints as a schema and
    # warn); the logged signature validates inputs instead
    _skip_type_hint_validation = True

    def __init__(self, predict: PredictFunction | None = None) -> None:
        self.predict_function = predict

    def load_context(self, context: Any) -> None:
        """Load the RiskModel once."""
        if self.predict_function is None:
            raise RegistryError(
                "this riskscore pyfunc was logged by an older riskscore whose entry file builds "
                "RiskModelPyfunc() without the scoring function; expected "
                "RiskModelPyfunc(pyfunc_predict). Log the model again with "
                "riskscore.registry.log_training, or score it in process with "
                "riskscore.scoring.load_scorer(uri), which reads only its riskmodel artifact"
            )
        self.model = RiskModel.load(context.artifacts["riskmodel"])
        rules = (context.artifacts or {}).get("rules")
        self.rules_text = None
        if rules is not None:  # logged with a rule set: answers carry the decision
            with open(rules, encoding="utf-8") as fh:
                self.rules_text = fh.read()

    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        """Score a DataFrame of feature columns: score, risk_score, band, reasons.

        The one scoring path of riskscore (:meth:`riskscore.scoring.Scorer.score_many`),
        so the server, ``spark_udf`` and in-process scoring give the same answers.
        """
        try:
            rules = getattr(self, "rules_text", None)
            if rules is not None:
                return self.predict_function(self.model, model_input, params, rules=rules)
            return self.predict_function(self.model, model_input, params)
        except RiskscoreError as err:  # our message, HTTP 400, no server traceback
            raise ServingError(str(err)) from None
