"""The MLflow pyfunc's ``predict``: :meth:`Scorer.score_many`, in the pyfunc's layout.

The registry's pyfunc wrapper (:mod:`riskscore.registry`) loads a
:class:`~riskscore.modeling.RiskModel` once and hands every ``predict`` call to
:func:`pyfunc_predict`, so the MLflow server, ``spark_udf`` and in-process scoring run the
same code. The pyfunc answers the scoring contract per row — ``entity_id``,
``model_name``, ``model_version``, ``score``, ``risk_score``, ``band`` and ``reasons`` (a
list of reason objects, empty when not explained), the fields of
:meth:`riskscore.scoring.RiskScore.to_dict` — so in-process scoring, the pyfunc (MLflow's
server, ``spark_udf``) and ``riskscore serve`` answer alike. :func:`to_pyfunc_frame` and
:func:`from_pyfunc_frame` convert between that layout and the flat columns of
``score_many``.

Prediction parameters (``params=`` of ``predict``, or ``"params"`` in a request to
``/invocations``): ``explain`` (``all`` / ``flagged`` / ``none``; default ``all``),
``top_k`` (0 means no reasons) and ``language`` (``en`` / ``zh``; ``lang`` is its deprecated
name, still accepted with a ``DeprecationWarning``). They, the output columns and
their Spark types are the pyfunc contract, declared once in
:mod:`riskscore.registry._contract` (the layer below) and re-exported here. A bad
parameter or input is a :class:`~riskscore.exceptions.ScoringError` naming it; the
registry's wrapper turns it into the HTTP 400 body the server returns (see
:mod:`riskscore.registry._pyfunc`).

The entity id, when the input has one, is read from the ``<entity>_id`` column or an
index of that name, and duplicated ids are refused, as in ``score_many``.

Decisions: a model logged with a rule set (``log_training(..., rules=)`` /
``save_pyfunc(..., rules=)``, the pyfunc artifact ``rules``) is handed its YAML text as
``rules=``; the answer's ``action`` and ``rules_fired`` are then the rule set's decision
(null otherwise). With ``RISKSCORE_DECISION_LOG`` set when the model is first used, every
answer is appended to that decision log (channel ``pyfunc``; see
:mod:`riskscore.rules._log`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from riskscore._config import env_str
from riskscore.exceptions import ScoringError
from riskscore.registry._contract import (
    MAX_TOP_K,
    PREDICT_PARAMS,
    PYFUNC_COLUMNS,
    REASON_FIELDS,
    predict_options,
)
from riskscore.scoring._scorer import Scorer

__all__ = [
    "MAX_TOP_K",
    "PREDICT_PARAMS",
    "PYFUNC_COLUMNS",
    "from_pyfunc_frame",
    "pyfunc_predict",
    "scorer_for",
    "to_pyfunc_frame",
]

_LOCK = threading.Lock()
_SCORERS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], Scorer]] = (
    weakref.WeakKeyDictionary()
)
_RULES: dict[str, Any] = {}


def _rules_from_text(text: str) -> Any:
    """Parse (once per text) the rule set a logged pyfunc carries."""
    from riskscore.rules import RuleSet

    key = hashlib.sha256(text.encode()).hexdigest()
    with _LOCK:
        found = _RULES.get(key)
    if found is None:
        found = RuleSet.from_text(text, source="the logged model's rule set")
        with _LOCK:
            _RULES[key] = found
    return found


def scorer_for(
    model: Any, *, top_k: int = 3, language: str = "en", rules: str | None = None
) -> Scorer:
    """Return the (cached) :class:`Scorer` of ``model`` for these reason options.

    ``rules``: the YAML text of the rule set the logged model carries, if any.
    """
    log = env_str("DECISION_LOG", "") or None
    key = (max(int(top_k), 1), str(language), rules, log)
    rule_set = None if rules is None else _rules_from_text(rules)
    with _LOCK:
        per_model = _SCORERS.setdefault(model, {})
        if key not in per_model:
            decision_log = None
            if log is not None:
                from riskscore.rules._log import DecisionLog

                decision_log = DecisionLog(log, channel="pyfunc")
            per_model[key] = Scorer(
                model,
                top_k=key[0],
                language=key[1],  # type: ignore[arg-type]
                rules=rule_set,
                decision_log=decision_log,
            )
        return per_model[key]


def pyfunc_predict(
    model: Any,
    model_input: Any,
    params: Mapping[str, Any] | None = None,
    *,
    rules: str | None = None,
) -> pd.DataFrame:
    """Score ``model_input`` with ``model``: the pyfunc's ``predict``.

    Parameters
    ----------
    model : RiskModel
    model_input : pandas.DataFrame or mapping or list of records
        Feature columns, as MLflow passes them after checking the signature.
    params : mapping, optional
        ``top_k``, ``language``, ``explain`` (see :data:`PREDICT_PARAMS`; ``lang`` is the
        deprecated name of ``language``). A model without a feature catalog scores
        without reasons.
    rules : str, optional
        YAML text of the rule set the logged model carries: fills ``action`` and
        ``rules_fired``.

    Returns
    -------
    pandas.DataFrame
        :data:`PYFUNC_COLUMNS`, one row per input row, on the input's index.

    Examples
    --------
    >>> from riskscore.scoring._demo import demo_model
    >>> model = demo_model()
    >>> rows = pd.DataFrame([dict.fromkeys(model.feature_names, 1.0)])
    >>> list(pyfunc_predict(model, rows).columns)  # doctest: +NORMALIZE_WHITESPACE
    ['entity_id', 'model_name', 'model_version', 'score', 'risk_score', 'band', 'reasons',
     'action', 'rules_fired']
    """
    opts = predict_options(params)
    frame = _input_frame(model_input)
    top_k = opts["top_k"]
    scorer = scorer_for(model, top_k=top_k, language=opts["language"], rules=rules)
    explain = opts["explain"]
    if top_k <= 0 or scorer._parts.reasons is None:
        explain = "none"
    scored = scorer.score_many(frame, explain=explain)  # type: ignore[arg-type]
    out = to_pyfunc_frame(scored, scorer.top_k, id_col=scorer.id_col)
    out = out[list(PYFUNC_COLUMNS)]
    out.index = frame.index
    return out


def _input_frame(model_input: Any) -> pd.DataFrame:
    """Return the input as a pandas frame; :class:`ScoringError` when it cannot be one."""
    if isinstance(model_input, pd.DataFrame):
        return model_input
    try:
        return pd.DataFrame(model_input)
    except (TypeError, ValueError) as err:
        raise ScoringError(
            "the model takes a table of feature columns (a DataFrame, a mapping of column to "
            f"values, or a list of records); got {type(model_input).__name__} ({err})"
        ) from None


def to_pyfunc_frame(scored: pd.DataFrame, top_k: int, *, id_col: str | None = None) -> pd.DataFrame:
    """Return the pyfunc layout of ``score_many`` output (reasons as a list of objects).

    ``id_col`` (default: the first column ending in ``_id``) becomes ``entity_id``.

    Examples
    --------
    >>> scored = pd.DataFrame({"seller_id": ["S1"], "model_name": ["m"],
    ...     "model_version": ["1"], "score": [0.9], "risk_score": [950], "band": ["critical"],
    ...     "reason_1_code": ["X"], "reason_1_feature": ["f"], "reason_1_value": [1.0],
    ...     "reason_1_impact": [3], "reason_1_contribution": [0.5], "reason_1_text": ["t"]})
    >>> row = to_pyfunc_frame(scored, 1).iloc[0]
    >>> row["entity_id"], row["reasons"][0]["code"], row["reasons"][0]["impact"]
    ('S1', 'X', 3)
    """
    n = len(scored)
    reasons: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for k in range(1, top_k + 1):
        codes = scored[f"reason_{k}_code"]
        present = np.flatnonzero(codes.notna().to_numpy())
        if not len(present):
            continue
        cols = {f: scored[f"reason_{k}_{f}"].to_numpy(dtype=object)[present] for f in REASON_FIELDS}
        for j, i in enumerate(present):
            reasons[i].append({f: _plain(f, cols[f][j]) for f in REASON_FIELDS})
    if id_col is None:
        id_col = next((c for c in scored.columns if str(c).endswith("_id")), None)
    ids = (
        [None if _missing(v) else str(v) for v in scored[id_col].to_numpy(dtype=object)]
        if id_col is not None and id_col in scored.columns
        else [None] * n
    )
    return pd.DataFrame(
        {
            "entity_id": pd.Series(ids, dtype=object),
            "model_name": _text(scored, "model_name", n),
            "model_version": _text(scored, "model_version", n),
            "score": scored["score"].to_numpy(dtype=np.float64),
            "risk_score": scored["risk_score"].to_numpy(dtype=np.float64),
            "band": scored["band"].astype("str").to_numpy(dtype=object),
            "reasons": pd.Series(reasons, dtype=object),
            "action": _text(scored, "action", n),
            "rules_fired": pd.Series(_fired_lists(scored, n), dtype=object),
        }
    )


def _fired_lists(scored: pd.DataFrame, n: int) -> list[Any]:
    """``rules_fired`` as lists of names (``;``-joined in frames); None without rules."""
    if "rules_fired" not in scored.columns:
        return [None] * n
    return [
        None if _missing(v) else [x for x in str(v).split(";") if x]
        for v in scored["rules_fired"].to_numpy(dtype=object)
    ]


def _text(scored: pd.DataFrame, column: str, n: int) -> Any:
    if column not in scored.columns:
        return pd.Series([None] * n, dtype=object)
    return pd.Series([None if _missing(v) else str(v) for v in scored[column]], dtype=object)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def from_pyfunc_frame(frame: pd.DataFrame, top_k: int) -> pd.DataFrame:
    """Return the flat reason columns (``reason_<k>_<field>``) of pyfunc output.

    ``reasons`` holds lists of reason objects (or, from models logged before the contract
    carried lists, their JSON text).
    """
    n = len(frame)
    parsed = [
        json.loads(r) if isinstance(r, str) else list(r) if _is_list(r) else []
        for r in frame["reasons"]
    ]
    data: dict[str, Any] = {}
    for k in range(top_k):
        slots = [p[k] if k < len(p) else None for p in parsed]
        for f in REASON_FIELDS:
            values = [None if s is None else s.get(f) for s in slots]
            if f in ("code", "feature", "text"):
                data[f"reason_{k + 1}_{f}"] = pd.array(values, dtype="str")
            elif f == "impact":
                data[f"reason_{k + 1}_{f}"] = pd.array(values, dtype="Int64")
            else:
                data[f"reason_{k + 1}_{f}"] = np.array(
                    [np.nan if v is None else v for v in values], dtype=np.float64
                )
    return pd.DataFrame(data, index=range(n))


def _is_list(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def _plain(field: str, value: Any) -> Any:
    """Return a JSON-ready value for one reason field (missing becomes None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if field == "impact":
        return int(value)
    if field in ("value", "contribution"):
        return float(value)
    return str(value)
