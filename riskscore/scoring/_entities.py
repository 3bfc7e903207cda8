"""Features of just some entities: cut the tables down, build, account for every id.

:func:`entity_features` is what :meth:`Scorer.score_entities` and the batch runner call.
It returns the feature rows of the ids that can be scored, in the order given, and one
reject row (id, reason, detail) for each id that cannot:

- ``unknown id``: not in the sellers (listings) table;
- ``no activity before as_of``: the seller registered (the listing was created) at or
  after ``as_of``, so no feature can be computed for it yet;
- ``invalid value``: a feature came out infinite, or NaN where the catalog forbids it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskscore.exceptions import ScoringError
from riskscore.scoring._checks import N_EXAMPLES, FeatureLayout

__all__ = ["REJECT_REASONS", "check_ids", "entity_features", "rejects_frame"]

#: Why an id was not scored.
REJECT_REASONS: tuple[str, ...] = ("unknown id", "no activity before as_of", "invalid value")

_TIME = {"seller": ("sellers", "registered_at"), "listing": ("listings", "created_at")}


def check_ids(ids: Sequence[Any], what: str = "ids") -> list[str]:
    """Return ``ids`` as a list of str; raise on empty lists, missing or duplicated ids.

    Examples
    --------
    >>> check_ids(["S1", "S2"])
    ['S1', 'S2']
    >>> check_ids(["S1", "S1"])
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ScoringError: ids has 1 duplicated id(s), e.g. S1; ...
    """
    values = list(ids)
    if not values:
        raise ScoringError(f"{what} is empty; give at least one id to score")
    blank = [i for i, v in enumerate(values) if v is None or v != v or str(v).strip() == ""]
    if blank:
        raise ScoringError(
            f"{what} has {len(blank)} empty id(s), e.g. at position(s) "
            f"{', '.join(map(str, blank[:N_EXAMPLES]))}; remove the empty rows"
        )
    out = [str(v) for v in values]
    seen: set[str] = set()
    dups: dict[str, None] = {}
    for v in out:
        if v in seen:
            dups[v] = None
        seen.add(v)
    if dups:
        raise ScoringError(
            f"{what} has {len(dups)} duplicated id(s), e.g. "
            f"{', '.join(list(dups)[:N_EXAMPLES])}; list each id once"
        )
    return out


def rejects_frame(
    id_column: str, ids: Sequence[str], reasons: Sequence[str], details: Sequence[str]
) -> pd.DataFrame:
    """Return the reject rows: ``<id column>, reason, detail``."""
    return pd.DataFrame(
        {
            id_column: pd.array(list(ids), dtype="str"),
            "reason": pd.array(list(reasons), dtype="str"),
            "detail": pd.array(list(details), dtype="str"),
        }
    )


def entity_features(
    tables: Mapping[str, Any],
    ids: Sequence[str],
    as_of: Any,
    *,
    entity: str,
    layout: FeatureLayout,
    backend: str = "pandas",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the features of ``ids`` as of ``as_of`` from tables cut down to what they need.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Validated marketplace tables.
    ids : sequence of str
        Unique entity ids.
    as_of : timestamp-like
    entity : {"seller", "listing"}
    layout : FeatureLayout
        The model's features (decides the invalid-value rejects).
    backend : str, default "pandas"

    Returns
    -------
    features : pandas.DataFrame
        ``<entity>_id`` and the feature columns, one row per scorable id, in input order.
    rejects : pandas.DataFrame
        ``<entity>_id, reason, detail`` for every other id, in input order.
    """
    from riskscore.features import build_features

    ids = check_ids(ids)
    key = f"{entity}_id"
    cutoff = pd.Timestamp(as_of)
    table_name, time_col = _TIME[entity]
    known = tables[table_name]
    known = known.loc[known[key].isin(ids), [key, time_col]]
    known_time = dict(zip(known[key].astype("str"), known[time_col], strict=True))
    reason: dict[str, tuple[str, str]] = {}
    for i in ids:
        if i not in known_time:
            reason[i] = ("unknown id", f"no {entity} with this id in the {table_name} table")
        elif not known_time[i] < cutoff:
            reason[i] = (
                "no activity before as_of",
                f"{time_col} {pd.Timestamp(known_time[i]).isoformat()} is not before "
                f"as_of {cutoff.isoformat()}",
            )
    live = [i for i in ids if i not in reason]
    features = pd.DataFrame({key: pd.array([], dtype="str")})
    if live:
        sub = subset_tables(tables, entity, live)
        built = build_features(sub, entity=entity, as_of=cutoff, backend=backend)
        features = _to_pandas(built)
        features[key] = features[key].astype("str")
        features = features.set_index(key).reindex(pd.Index(live, name=key)).reset_index()
        absent = features.drop(columns=[key]).isna().all(axis=1).to_numpy() & ~_in_output(
            built, key, live
        )
        for i in np.asarray(live, dtype=object)[absent]:
            reason[str(i)] = ("no activity before as_of", "no rows before as_of")
        features = features.loc[~absent].reset_index(drop=True)
        if len(features):
            matrix = layout.matrix_from_frame(features)
            problems = layout.problems(matrix)
            bad = np.array([bool(p) for p in problems], dtype=bool)
            for i, p in zip(features[key].to_numpy()[bad], np.asarray(problems)[bad], strict=True):
                reason[str(i)] = ("invalid value", str(p).removeprefix("invalid value: "))
            features = features.loc[~bad].reset_index(drop=True)
    rejected = [i for i in ids if i in reason]
    rejects = rejects_frame(
        key, rejected, [reason[i][0] for i in rejected], [reason[i][1] for i in rejected]
    )
    return features, rejects


def _in_output(built: Any, key: str, live: Sequence[str]) -> np.ndarray:
    frame = _to_pandas(built)
    return (
        pd.Index(live).isin(frame[key].astype("str"))
        if len(frame)
        else np.zeros(len(live), dtype=bool)
    )


def _to_pandas(frame: Any) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    import narwhals as nw

    native = nw.from_native(frame)
    if isinstance(native, nw.LazyFrame):
        native = native.collect()
    return native.to_pandas()


def subset_tables(
    tables: Mapping[str, pd.DataFrame], entity: str, ids: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """Return the tables cut down to the rows the features of ``ids`` read."""
    ids_index = pd.Index(list(ids))
    out = dict(tables)
    if entity == "listing":
        listings = tables["listings"]
        own = listings["listing_id"].isin(ids_index)
        sellers = pd.Index(listings.loc[own, "seller_id"].unique())
    else:
        sellers = ids_index
    for name, frame in tables.items():
        if name != "products" and "seller_id" in frame.columns:
            out[name] = frame.loc[frame["seller_id"].isin(sellers)]
    return out
