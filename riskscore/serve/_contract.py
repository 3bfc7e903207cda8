"""The HTTP scoring contract: what ``POST /score`` takes and what it answers.

Request
    One seller (or listing): a JSON object of feature name to number (``null`` where the
    model allows a missing value), with the id column (``seller_id``) when there is one.
    A batch: ``{"rows": [{...}, ...]}`` (optionally with ``explain``, ``top_k``,
    ``language``, ``as_of`` beside ``rows``) or a bare list ``[{...}, ...]``.
    Options also come as query parameters: ``/score?explain=flagged&top_k=5``.

Answer
    Every row is :meth:`riskscore.scoring.RiskScore.to_dict` — the same contract as the
    in-process call: ``entity``, ``entity_id``, ``model_name``, ``model_version``,
    ``score``, ``risk_score``, ``band``, ``reasons`` (a list of objects with ``code``,
    ``feature``, ``value``, ``impact``, ``contribution``, ``text``), ``as_of``,
    ``scored_at``. One object for one object; ``{"results": [...]}`` in input order for a
    batch. A batch is scored by :meth:`~riskscore.scoring.Scorer.score_many`, one object
    by :meth:`~riskscore.scoring.Scorer.score_one`: the two agree row for row.
    With a rule set (the model folder's ``rules.yaml``, or ``riskscore serve --rules``)
    every answer also carries the decision: ``action``, ``decided_by``, ``rules_fired``,
    ``rule_reasons`` and ``rule_set``, as the in-process call does; with
    ``--decision-log`` every answer is appended to the decision log (channel ``http``).

Every refusal is a :class:`~riskscore.serve.ServeError` with its code (see
:mod:`riskscore.serve._errors`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from riskscore.exceptions import RiskscoreError
from riskscore.scoring import RiskScore, Scorer
from riskscore.serve._errors import ServeError

__all__ = ["EXPLAIN_MODES", "PARAMS", "ScoreRequest", "parse_request", "score_request"]

#: Options a request may set, in the query string or beside ``rows``.
PARAMS: tuple[str, ...] = ("explain", "top_k", "language", "as_of")

#: Accepted ``explain`` values (``true`` / ``false`` mean ``all`` / ``none``).
EXPLAIN_MODES: tuple[str, ...] = ("all", "flagged", "none")

_FLOAT_MAX = 1.7976931348623157e308
_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "text",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class ScoreRequest:
    """A parsed ``POST /score`` request.

    Attributes
    ----------
    rows : list of dict
        The records to score.
    batch : bool
        Answer ``{"results": [...]}`` (True) or one object (False).
    explain : {"all", "flagged", "none"}
    top_k : int or None
        None: the service default.
    language : {"en", "zh"} or None
        None: the service default.
    as_of : str or None
    """

    rows: list[Any]
    batch: bool
    explain: str
    top_k: int | None = None
    language: str | None = None
    as_of: str | None = None


def _no_constants(name: str) -> Any:
    raise ServeError(
        "invalid_json",
        f"the body uses {name}, which is not JSON; send finite numbers, or null for a "
        "missing value",
    )


def _load_json(body: bytes) -> Any:
    if not body.strip():
        raise ServeError(
            "invalid_json",
            'the body is empty; send a JSON object of features, or {"rows": [...]}',
        )
    try:
        return json.loads(body, parse_constant=_no_constants)
    except ServeError:
        raise
    except json.JSONDecodeError as err:
        raise ServeError(
            "invalid_json",
            f"the body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}; "
            'send a JSON object of features, or {"rows": [...]}',
        ) from None
    except UnicodeDecodeError:
        raise ServeError(
            "invalid_json", "the body is not UTF-8 text; send JSON encoded as UTF-8"
        ) from None
    except RecursionError:
        raise ServeError(
            "invalid_json",
            "the body nests arrays or objects too deeply; a row is a flat object of features",
        ) from None


def _explain(value: Any) -> str:
    if value is True or value == "true":
        return "all"
    if value is False or value == "false":
        return "none"
    if isinstance(value, str) and value in EXPLAIN_MODES:
        return value
    raise ServeError(
        "invalid_param",
        "The 'explain' parameter must be one of 'all', 'flagged', 'none' (or true / false). "
        f"Got {_short(value)} instead.",
    )


def _top_k(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 6:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ServeError(
        "invalid_param",
        f"The 'top_k' parameter must be a positive integer. Got {_short(value)} instead.",
    )


def _language(value: Any) -> str:
    if value in ("en", "zh"):
        return str(value)
    raise ServeError(
        "invalid_param",
        f"The 'language' parameter must be 'en' or 'zh'. Got {_short(value)} instead.",
    )


def _as_of(value: Any) -> str:
    if isinstance(value, str) and len(value) <= 64:
        try:
            dt.datetime.fromisoformat(value)
            return value
        except ValueError:
            pass
    raise ServeError(
        "invalid_param",
        "The 'as_of' parameter must be an ISO 8601 date or time such as '2024-06-30'. "
        f"Got {_short(value)} instead.",
    )


_CHECKS = {"explain": _explain, "top_k": _top_k, "language": _language, "as_of": _as_of}


def _params(given: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in given.items():
        name = "language" if key == "lang" else key
        check = _CHECKS.get(name)
        if check is None:
            raise ServeError(
                "invalid_param",
                f"unknown {where} parameter {_short(key)}; the accepted ones are "
                f"{', '.join(PARAMS)}",
            )
        out[name] = check(value)
    return out


def parse_request(
    body: bytes, query: Mapping[str, str] | None = None, *, explain: str = "all"
) -> ScoreRequest:
    """Parse the body and query parameters of ``POST /score``.

    Parameters
    ----------
    body : bytes
        The request body.
    query : mapping of str to str, optional
        Query parameters (``explain``, ``top_k``, ``language``, ``as_of``).
    explain : {"all", "flagged", "none"}, default "all"
        Used when the request does not say.

    Returns
    -------
    ScoreRequest

    Raises
    ------
    ServeError
        Malformed JSON, a body of the wrong shape or a bad parameter.

    Examples
    --------
    >>> req = parse_request(b'{"rows": [{"seller_id": "S1", "x": 1}]}', {"top_k": "2"})
    >>> req.batch, req.top_k, req.explain
    (True, 2, 'all')
    >>> parse_request(b'{"x": NaN}')
    Traceback (most recent call last):
    ...
    riskscore.serve._errors.ServeError: the body uses NaN, which is not JSON; ...
    """
    data = _load_json(body)
    params = _params(query or {}, "query")
    if isinstance(data, dict) and "rows" in data:
        rows = data["rows"]
        extra = {k: v for k, v in data.items() if k != "rows"}
        params.update(_params(extra, "body"))
        batch = True
    elif isinstance(data, list):
        rows, batch = data, True
    elif isinstance(data, dict):
        rows, batch = [data], False
    else:
        raise ServeError(
            "invalid_body",
            f"the body is {_json_type(data)}; send a JSON object of features (one "
            'seller), {"rows": [...]} or a list of objects (a batch)',
        )
    if not isinstance(rows, list):
        raise ServeError(
            "invalid_body", f"'rows' must be a list of objects; got {_json_type(rows)}"
        )
    if not rows:
        raise ServeError("invalid_body", "the batch is empty; send at least one row")
    return ScoreRequest(
        rows=rows,
        batch=batch,
        explain=params.get("explain", explain),
        top_k=params.get("top_k"),
        language=params.get("language"),
        as_of=params.get("as_of"),
    )


def _where(index: int, row: Mapping[str, Any], id_col: str, batch: bool) -> str:
    entity = row.get(id_col)
    named = f" ({id_col} {_short(entity)})" if entity is not None else ""
    return f"rows[{index}]{named}" if batch else f"the record{named}"


def check_rows(rows: list[Any], scorer: Scorer, *, batch: bool) -> None:
    """Refuse rows that are not objects or have missing, mistyped or non-finite features.

    Raises
    ------
    ServeError
        ``invalid_body``, ``missing_feature``, ``wrong_type`` or ``non_finite``, naming
        the row, the feature, what came and what was expected.
    """
    layout = scorer.layout
    names = layout.names
    optional = layout.optional_fill
    categories = layout.categories
    id_col = scorer.id_col
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            where = f"rows[{i}]" if batch else "the body"
            raise ServeError(
                "invalid_body",
                f"{where} is {_json_type(row)}; each row is a JSON object of feature name "
                "to number",
            )
        missing = [n for n in names if n not in row and n not in optional]
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise ServeError(
                "missing_feature",
                f"{_where(i, row, id_col, batch)} is missing {len(missing)} of the "
                f"{len(names)} features model '{scorer.model_name}' needs: {shown}; add "
                "them (null where a value is unknown and the model allows it)",
            )
        ident = row.get(id_col)
        if ident is not None and (type(ident) not in (str, int)):
            raise ServeError(
                "wrong_type",
                f"{_where(i, {}, id_col, batch)}: '{id_col}' is {_json_type(ident)} "
                f"{_short(ident)}; ids are text or integers",
            )
        for name in names:
            value = row.get(name)
            kind = type(value)
            if value is None:
                continue
            if kind is float:
                if not math.isfinite(value):
                    raise ServeError(
                        "non_finite",
                        f"{_where(i, row, id_col, batch)}: feature '{name}' is "
                        f"{_short(value)}, beyond the float64 range; features must be "
                        "finite numbers (null for missing)",
                    )
            elif kind is int:
                if abs(value) > _FLOAT_MAX:
                    raise ServeError(
                        "non_finite",
                        f"{_where(i, row, id_col, batch)}: feature '{name}' is "
                        f"{_short(value)}, beyond the float64 range (about ±1.8e308); "
                        "features must be finite numbers",
                    )
            elif not (kind is str and name in categories):
                raise ServeError(
                    "wrong_type",
                    f"{_where(i, row, id_col, batch)}: feature '{name}' is "
                    f"{_json_type(value)} {_short(value)}; features must be numbers "
                    "(null for missing)",
                )


def score_request(request: ScoreRequest, scorer: Scorer) -> Any:
    """Score a parsed request and return the JSON-ready answer.

    ``scorer`` is the scorer of the request's ``top_k`` and ``language`` (see
    :meth:`riskscore.serve.Generation.scorer_for`).

    Returns
    -------
    dict
        One :meth:`RiskScore.to_dict`, or ``{"results": [...]}`` for a batch.

    Raises
    ------
    ServeError
        The rows or options are refused (the scorer's own message is kept).
    """
    n_features = len(scorer.layout.names)
    if request.top_k is not None and request.top_k > n_features:
        raise ServeError(
            "invalid_param",
            f"The 'top_k' parameter must be at most {n_features} (the model's features). "
            f"Got {request.top_k} instead.",
        )
    check_rows(request.rows, scorer, batch=request.batch)
    try:
        if not request.batch:
            one = scorer.score_one(
                request.rows[0],
                explain=request.explain,  # type: ignore[arg-type]
                as_of=request.as_of,
            )
            return one.to_dict()
        import pandas as pd

        frame = pd.DataFrame.from_records(request.rows)
        scored = scorer.score_many(
            frame,
            explain=request.explain,  # type: ignore[arg-type]
            as_of=request.as_of,
        )
    except RiskscoreError as err:
        raise ServeError("invalid_input", str(err)) from None
    entity = scorer.entity
    return {
        "results": [
            RiskScore.from_row({str(k): v for k, v in row.items()}, entity=entity).to_dict()
            for row in scored.to_dict("records")
        ]
    }
