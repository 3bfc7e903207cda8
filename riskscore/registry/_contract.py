"""The riskscore pyfunc contract: prediction parameters, output columns, their Spark types.

One place for what the logged MLflow model takes and returns, read by everything that
builds or consumes it:

* the model signature at log time (:mod:`riskscore.registry._log`: ``params`` and output
  columns),
* the pyfunc's ``predict`` (:func:`riskscore.scoring._pyfunc.pyfunc_predict` checks the
  parameters with :func:`predict_options` and returns :data:`PYFUNC_COLUMNS`),
* ``spark_udf`` (:func:`riskscore.registry.spark_udf` declares :data:`PYFUNC_DDL` as the
  result type; :func:`riskscore.scoring.score_spark` parses ``reasons`` with
  :data:`REASONS_DDL`).

The pyfunc answers, per input row, the scoring contract every riskscore answer follows
(in process, pyfunc, HTTP): ``entity_id`` (from the input's ``<entity>_id``, else null),
``model_name``, ``model_version``, ``score`` (calibrated probability), ``risk_score``
(0–1000), ``band`` and ``reasons``: a list of reason objects with the fields
:data:`REASON_FIELDS` (empty when the row is not explained; one ``NO_STRONG_SIGNAL``
reason when nothing notable pushes the risk up). Then the decision, :data:`DECISION_TYPES`:
``action`` (``allow`` / ``review`` / ``hold`` / ``block``) and ``rules_fired`` (rule
names in precedence order), both null when the logged model has no rule set.

Plain Python, no MLflow: it sits in :mod:`riskscore.registry` because the registry owns the
logged model, and the layer above (:mod:`riskscore.scoring`) imports it from here.

Examples
--------
>>> PYFUNC_DDL.split(", band")[0]
'entity_id STRING, model_name STRING, model_version STRING, score DOUBLE, risk_score DOUBLE'
>>> PYFUNC_TYPES["reasons"].startswith("ARRAY<STRUCT<code: STRING, feature: STRING")
True
>>> predict_options({"top_k": "2"})
{'top_k': 2, 'language': 'en', 'explain': 'all'}

The parameter ``lang`` is the deprecated name of ``language`` (see :data:`RENAMED_PARAMS`):
still accepted, with a ``DeprecationWarning`` naming ``language``. A warning reaches a
caller only in process (``mlflow.pyfunc.load_model(...).predict``, with warnings shown);
over HTTP (``mlflow models serve``) and in ``spark_udf`` the alias is accepted silently,
so it is documented here and in ``docs/deploy.md`` instead. Both names are in the logged
signature (``lang`` with the default ``""``, meaning not given: :data:`SIGNATURE_PARAMS`),
because MLflow drops a parameter its signature does not declare. That is also why a
parameter unknown to the signature is MLflow's business: MLflow ignores it with a logged
warning before ``predict`` runs, while :func:`predict_options` (any direct call) refuses it
with a :class:`~riskscore.exceptions.ScoringError`. A model logged before the rename
declares only ``lang``: MLflow drops ``language`` for it, so log such a model again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from riskscore._deprecation import renamed_argument
from riskscore.exceptions import ParameterError, ScoringError

__all__ = [
    "DECISION_TYPES",
    "MAX_TOP_K",
    "PREDICT_PARAMS",
    "PYFUNC_COLUMNS",
    "PYFUNC_DDL",
    "PYFUNC_TYPES",
    "REASONS_DDL",
    "REASON_FIELDS",
    "REASON_TYPES",
    "RENAMED_PARAMS",
    "SIGNATURE_PARAMS",
    "example_output",
    "predict_options",
]

#: Parameters ``predict`` accepts, with their defaults.
PREDICT_PARAMS: dict[str, Any] = {"top_k": 3, "language": "en", "explain": "all"}

#: Deprecated parameter names still accepted (with a ``DeprecationWarning``): old → new.
RENAMED_PARAMS: dict[str, str] = {"lang": "language"}

#: The ``params`` of the logged model signature: :data:`PREDICT_PARAMS` and each deprecated
#: name with the default ``""`` ("not given"), so that MLflow passes an old caller's value on.
SIGNATURE_PARAMS: dict[str, Any] = {**PREDICT_PARAMS, **dict.fromkeys(RENAMED_PARAMS, "")}

#: Largest ``top_k`` a request may ask for.
MAX_TOP_K = 50

#: The values ``explain`` takes.
EXPLAIN_MODES: tuple[str, ...] = ("all", "flagged", "none")

#: The languages of reason texts.
LANGUAGES: tuple[str, ...] = ("en", "zh")

#: Fields of one reason object in the ``reasons`` list, in order, with their Spark SQL types.
REASON_TYPES: dict[str, str] = {
    "code": "STRING",
    "feature": "STRING",
    "value": "DOUBLE",
    "impact": "BIGINT",
    "contribution": "DOUBLE",
    "text": "STRING",
}

#: Fields of one reason (also the ``reason_<k>_<field>`` columns of ``score_many``).
REASON_FIELDS: tuple[str, ...] = tuple(REASON_TYPES)

#: The Spark type of the ``reasons`` column: an array of reason structs.
REASONS_DDL = (
    "ARRAY<STRUCT<" + ", ".join(f"{name}: {kind}" for name, kind in REASON_TYPES.items()) + ">>"
)

#: Output columns of the pyfunc, in order, with their Spark SQL types: the scoring contract
#: (the fields of :meth:`riskscore.scoring.RiskScore.to_dict` that depend on the row).
PYFUNC_TYPES: dict[str, str] = {
    "entity_id": "STRING",
    "model_name": "STRING",
    "model_version": "STRING",
    "score": "DOUBLE",
    "risk_score": "DOUBLE",
    "band": "STRING",
    "reasons": REASONS_DDL,
}

#: The decision columns (after the score's), with their Spark SQL types: null when the
#: logged model has no rule set.
DECISION_TYPES: dict[str, str] = {"action": "STRING", "rules_fired": "ARRAY<STRING>"}

PYFUNC_TYPES.update(DECISION_TYPES)

#: Columns the pyfunc returns, in order.
PYFUNC_COLUMNS: tuple[str, ...] = tuple(PYFUNC_TYPES)

#: The pyfunc's output as ``spark_udf`` returns it (its ``result_type``).
PYFUNC_DDL = ", ".join(f"{name} {kind}" for name, kind in PYFUNC_TYPES.items())


def example_output(
    n: int, score: Any, risk_score: Any, band: Any, *, name: str, version: str
) -> pd.DataFrame:
    """Return a pyfunc output frame of ``n`` rows, to infer the logged signature from.

    Every row carries one placeholder reason, so the ``reasons`` column is typed as a list
    of reason objects.

    Examples
    --------
    >>> out = example_output(1, [0.1], [42.0], ["low"], name="m", version="1")
    >>> list(out.columns) == list(PYFUNC_COLUMNS), sorted(out["reasons"][0][0])[:2]
    (True, ['code', 'contribution'])
    """
    reason = {
        "code": "NO_STRONG_SIGNAL",
        "feature": "",
        "value": 0.0,
        "impact": 0,
        "contribution": 0.0,
        "text": "No strong risk signal",
    }
    return pd.DataFrame(
        {
            "entity_id": [f"example-{i}" for i in range(n)],
            "model_name": [name] * n,
            "model_version": [version] * n,
            "score": np.asarray(score, dtype=np.float64),
            "risk_score": np.asarray(risk_score, dtype=np.float64),
            "band": [str(b) for b in band],
            "reasons": [[dict(reason)] for _ in range(n)],
            "action": ["allow"] * n,
            "rules_fired": [["example_rule"] for _ in range(n)],
        }
    )


def predict_options(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check the prediction parameters of one ``predict`` call and fill the defaults.

    Parameters
    ----------
    params : mapping or None
        ``top_k`` (int in ``[0, MAX_TOP_K]``, or its digits as text, as a request may send
        them), ``language`` (``en`` / ``zh``), ``explain`` (``all`` / ``flagged`` /
        ``none``). ``None`` values take the default. ``lang`` is the deprecated name of
        ``language`` (a ``DeprecationWarning``; ``""`` means not given, the default the
        logged signature declares for it).

    Returns
    -------
    dict
        ``{"top_k": int, "language": str, "explain": str}``.

    Raises
    ------
    ScoringError
        An unknown or bad parameter, named with what it takes and what came; both
        ``language`` and ``lang`` given with different values.

    Examples
    --------
    >>> predict_options(None)
    {'top_k': 3, 'language': 'en', 'explain': 'all'}
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     predict_options({"lang": "zh"})["language"]
    'zh'
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    prediction parameters: 'lang' is deprecated ...; use 'language' instead.
    >>> predict_options({"top_k": 99})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ScoringError: The 'top_k' parameter must be an int ... Got 99 instead.
    """
    if params is not None and not isinstance(params, Mapping):
        raise ScoringError(
            f"params must be a mapping such as {PREDICT_PARAMS}; got {type(params).__name__}"
        )
    given = {
        k: v
        for k, v in (params or {}).items()
        if v is not None and not (k in RENAMED_PARAMS and isinstance(v, str) and v == "")
    }
    unknown = sorted(str(k) for k in given if k not in PREDICT_PARAMS and k not in RENAMED_PARAMS)
    if unknown:
        raise ScoringError(
            f"unknown prediction parameter(s) {', '.join(unknown)}; the model takes "
            f"{', '.join(PREDICT_PARAMS)}"
        )
    called = {name: name for name in PREDICT_PARAMS}  # the name each value came under
    for old, new in RENAMED_PARAMS.items():
        if old in given:
            old_value = given.pop(old)
            new_value = given.get(new, PREDICT_PARAMS[new])
            if new in given and _same(new_value, old_value):
                new_value = PREDICT_PARAMS[new]  # the same value under both names is no conflict
            try:
                given[new] = renamed_argument(
                    new_value,
                    old_value,
                    new=new,
                    old=old,
                    where="prediction parameters",
                    default=PREDICT_PARAMS[new],
                )
            except ParameterError as err:
                raise ScoringError(str(err)) from None
            called[new] = old
    opts = {**PREDICT_PARAMS, **given}
    top_k = opts["top_k"]
    if isinstance(top_k, str) and top_k.strip().lstrip("-").isdigit():
        top_k = int(top_k)
    if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer):
        raise ScoringError(
            f"The 'top_k' parameter must be an int in the range [0, {MAX_TOP_K}]. "
            f"Got {str(top_k)[:40]!r} instead."
        )
    if not 0 <= top_k <= MAX_TOP_K:
        raise ScoringError(
            f"The 'top_k' parameter must be an int in the range [0, {MAX_TOP_K}]. "
            f"Got {top_k} instead."
        )
    if opts["language"] not in LANGUAGES:
        raise ScoringError(
            f"The '{called['language']}' parameter must be 'en' or 'zh'. "
            f"Got {str(opts['language'])[:40]!r} instead."
        )
    if opts["explain"] not in EXPLAIN_MODES:
        raise ScoringError(
            "The 'explain' parameter must be one of 'all', 'flagged', 'none'. "
            f"Got {str(opts['explain'])[:40]!r} instead."
        )
    return {
        "top_k": int(top_k),
        "language": str(opts["language"]),
        "explain": str(opts["explain"]),
    }


def _same(a: Any, b: Any) -> bool:
    """Whether two parameter values are equal (False when they cannot be compared)."""
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
