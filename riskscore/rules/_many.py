"""``decide_many``: every rule over a frame in one DuckDB query, then precedence in numpy.

The frame's needed columns go to DuckDB as an Arrow table (numbers as float64 with NaN
and infinities as NULL, strings, booleans) under positional names ``c0, c1, ...``; one
``SELECT (cond_0) IS TRUE, (cond_1) IS TRUE, ...`` gives the fired matrix. Precedence
(:func:`riskscore.rules._decision.combine`) is then applied to whole columns.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskscore.rules._decision import ACTIONS
from riskscore.rules._errors import RuleError
from riskscore.rules._expr import to_sql

if TYPE_CHECKING:
    from riskscore.rules._ruleset import Rule

__all__ = ["fired_matrix", "precedence"]

_LOCK = threading.Lock()
_CONNECTION: Any = None


def _cursor() -> Any:
    """Return a fresh cursor on one in-memory DuckDB database (a connection costs ~30 ms)."""
    global _CONNECTION
    import duckdb

    with _LOCK:
        if _CONNECTION is None:
            _CONNECTION = duckdb.connect(":memory:")
        return _CONNECTION.cursor()


def _arrow_column(values: pd.Series, kind: str, name: str) -> Any:
    import pyarrow as pa

    if kind == "number":
        try:
            x = pd.to_numeric(values, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError) as err:
            raise RuleError(
                f"column {name!r} must hold numbers (the rule set reads it as a number); "
                f"{err}; fix: convert it, or declare it as 'string' under 'columns:'"
            ) from None
        mask = ~np.isfinite(x)
        return pa.array(x, mask=mask, type=pa.float64())
    if kind == "boolean":
        return pa.array(values.astype("boolean"), type=pa.bool_(), from_pandas=True)
    objects = values.to_numpy(dtype=object)
    try:
        return pa.array(objects, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all strings: compare their text
        cleaned = [None if v is None or v is pd.NA or v != v else str(v) for v in objects]
        return pa.array(cleaned, type=pa.string())


def fired_matrix(
    rules: Sequence[Rule], frame: pd.DataFrame, schema: Mapping[str, str]
) -> np.ndarray:
    """Return an ``(n_rows, n_rules)`` boolean matrix: rule ``j`` fired on row ``i``."""
    import pyarrow as pa

    needed = sorted(set().union(*(r.columns for r in rules))) if rules else []
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise RuleError(
            f"the frame lacks {len(missing)} column(s) the rules read: {missing}; "
            "fix: add them (features from riskscore.features.build_features, risk_score / "
            "score / band from Scorer.score_many, declared columns yourself)"
        )
    n = len(frame)
    if not rules:
        return np.zeros((n, 0), dtype=bool)
    alias = {name: f"c{i}" for i, name in enumerate(needed)}
    table = pa.table(
        {alias[c]: _arrow_column(frame[c], schema[c], c) for c in needed}
        if needed
        else {"_n": pa.array(np.zeros(n, dtype=np.int8))}
    )
    selects = ", ".join(
        f"({to_sql(r.node, alias.__getitem__)}) IS TRUE AS r{j}" for j, r in enumerate(rules)
    )
    con = _cursor()
    try:
        con.register("t", table)
        result = con.execute(f"SELECT {selects} FROM t").fetchnumpy()
    finally:
        con.close()
    out = np.empty((n, len(rules)), dtype=bool)
    for j in range(len(rules)):
        out[:, j] = np.asarray(result[f"r{j}"], dtype=bool)
    return out


def precedence(
    rules: Sequence[Rule],
    fired: np.ndarray,
    bands: Any,
    band_actions: Mapping[str, str],
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`~riskscore.rules._decision.combine`: ``(action, decided_by)``.

    ``rules`` are in precedence order; ``bands`` is array-like of band names (``None`` or
    NaN: no score).
    """
    n = fired.shape[0]
    rank = np.array([ACTIONS.index(r.action) for r in rules], dtype=np.int8)
    override = np.array([r.override for r in rules], dtype=bool)
    names = np.array([r.name for r in rules] + ["default"], dtype=object)
    codes, uniques = pd.factorize(pd.Series(bands, dtype="object"), sort=True)
    words = [str(u) for u in uniques]
    unknown = [w for w in words if w not in band_actions]
    if unknown:
        raise RuleError(
            f"band(s) {unknown} have no action in the rule set's band_actions "
            f"{dict(band_actions)}; fix: add them under 'band_actions:'"
        )
    code_rank = np.array([ACTIONS.index(band_actions[w]) for w in words] + [-1], dtype=np.int8)
    base = code_rank[codes]  # code -1 (no band) takes the last entry, -1
    over_fired = fired[:, override]
    any_over = over_fired.any(axis=1)
    base = np.where(any_over, np.int8(0), base)
    plain = fired[:, ~override]
    any_plain = plain.any(axis=1)
    plain_idx = np.flatnonzero(~override)
    first_plain = plain_idx[plain.argmax(axis=1)] if plain.shape[1] else np.zeros(n, int)
    plain_rank = np.where(any_plain, rank[first_plain] if len(rank) else -1, -1)
    over_idx = np.flatnonzero(override)
    first_over = over_idx[over_fired.argmax(axis=1)] if over_fired.shape[1] else np.zeros(n, int)

    by_rule = any_plain & ((plain_rank > base) | ((plain_rank == base) & ~any_over))
    final = np.where(by_rule, plain_rank, np.maximum(base, 0)).astype(np.int8)
    action = np.asarray(ACTIONS, dtype=object)[final]
    band_words = np.array([f"band:{w}" for w in words] + ["default"], dtype=object)
    decided = band_words[codes]
    if len(names) > 1:
        decided = np.where(any_over, names[first_over], decided)
        decided = np.where(by_rule, names[first_plain], decided)
    return action, decided
