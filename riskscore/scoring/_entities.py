"""Features of some entities as of a time, with every id accounted for.

:func:`entity_features` is what :meth:`Scorer.score_entities` and the batch runner call.
It returns the feature rows of the ids that can be scored, in the order given, and one
reject row (id, reason, detail) for each id that cannot:

- ``unknown id``: not in the sellers (listings) table;
- ``no activity before as_of``: the seller registered (the listing was created) at or
  after ``as_of``, so no feature can be computed for it yet;
- ``invalid value``: a feature came out infinite, or NaN where the catalog forbids it.

Features are built for the ids only: ``build_features(..., ids=..., market=...)`` finds
the ids' own rows (orders, complaints, buyers, listings) and aggregates just those, and
takes what compares a seller with the marketplace (market prices of the same product,
category price levels, marketplace complaint rates used as a prior, category order
values, the shared-identifier network and its random walk) from a
:class:`~riskscore.features.MarketStats` computed once per tables and ``as_of``. The rows
equal those of a whole-marketplace build (a property test holds the builders to it), so
the answer is the same as the batch's and ``build_features``'s; a service pays for the
marketplace statistics once (pass ``market=``, or let the builders' small cache keep
them) and then only for its ids' rows.

When the ids cover at least a quarter of the entities known to a pandas table (a full
batch), one whole-marketplace build and a cut is cheaper than statistics plus a cut
build, and gives the same rows; that is what happens then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskscore.exceptions import ScoringError
from riskscore.modeling._encoding import N_EXAMPLES, FeatureLayout

__all__ = ["REJECT_REASONS", "check_ids", "entity_features", "rejects_frame"]

#: Why an id was not scored.
REJECT_REASONS: tuple[str, ...] = ("unknown id", "no activity before as_of", "invalid value")

_TIME = {"seller": ("sellers", "registered_at"), "listing": ("listings", "created_at")}

#: Build the whole marketplace and cut when the ids are at least 1/4 of a pandas table.
_WHOLE_BUILD_SHARE = 4


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
    id_col: str, ids: Sequence[str], reasons: Sequence[str], details: Sequence[str]
) -> pd.DataFrame:
    """Return the reject rows: ``<id column>, reason, detail``."""
    return pd.DataFrame(
        {
            id_col: pd.array(list(ids), dtype="str"),
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
    backend: str | None = None,
    market: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the features of ``ids`` as of ``as_of``; account for every id.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables (pandas, or any library :func:`riskscore.build_features`
        reads).
    ids : sequence of str
        Unique entity ids.
    as_of : timestamp-like
    entity : {"seller", "listing"}
    layout : FeatureLayout
        The model's features (decides the invalid-value rejects).
    backend : str, optional
        Dataframe backend for the feature builders (default: the tables' own).
    market : MarketStats, optional
        Marketplace statistics at ``as_of`` shared by several calls (see
        :func:`riskscore.features.market_stats`); default: the builders' cache.

    Returns
    -------
    features : pandas.DataFrame
        ``<entity>_id`` and the feature columns, one row per scorable id, in input order.
    rejects : pandas.DataFrame
        ``<entity>_id, reason, detail`` for every other id, in input order.
    """
    ids = check_ids(ids)
    key = f"{entity}_id"
    cutoff = _cutoff(as_of)
    table_name, time_col = _TIME[entity]
    known = _to_pandas(_select(tables[table_name], key, time_col, ids))
    known_time = dict(zip(known[key].astype("str"), known[time_col], strict=True))
    reason: dict[str, tuple[str, str]] = {}
    for i in ids:
        if i not in known_time:
            reason[i] = ("unknown id", f"no {entity} with this id in the {table_name} table")
        elif pd.isna(known_time[i]) or not _naive_utc(known_time[i]) < cutoff:
            reason[i] = (
                "no activity before as_of",
                f"{time_col} {pd.Timestamp(known_time[i]).isoformat()} is not before "
                f"as_of {cutoff.isoformat()}",
            )
    live = [i for i in ids if i not in reason]
    features = pd.DataFrame({key: pd.array([], dtype="str")})
    if live:
        n_known = _n_rows(tables[table_name])
        whole = n_known is not None and len(live) * _WHOLE_BUILD_SHARE >= n_known
        built = _features_of(
            tables, entity, cutoff, backend, key, ids=None if whole else live, market=market
        )
        built = built.loc[built[key].isin(pd.Index(live))]
        features = built.set_index(key).reindex(pd.Index(live, name=key)).reset_index()
        absent = ~pd.Index(live).isin(built[key])
        for i in np.asarray(live, dtype=object)[absent]:
            reason[str(i)] = ("no activity before as_of", "no feature row as of as_of")
        features = features.loc[~absent].reset_index(drop=True)
        if len(features):
            matrix = layout.matrix_from_frame(features)
            bad = layout.invalid_rows(matrix)
            for i, row in zip(features[key].to_numpy()[bad], matrix[bad], strict=True):
                reason[str(i)] = ("invalid value", layout.describe_invalid(row))
            features = features.loc[~bad].reset_index(drop=True)
    rejected = [i for i in ids if i in reason]
    rejects = rejects_frame(
        key, rejected, [reason[i][0] for i in rejected], [reason[i][1] for i in rejected]
    )
    return features, rejects


def _cutoff(as_of: Any) -> pd.Timestamp:
    """``as_of`` as a naive UTC timestamp; :class:`ScoringError` when it is not a time."""
    from riskscore.exceptions import FeatureError
    from riskscore.features._build import parse_time

    try:
        return pd.Timestamp(parse_time(as_of))
    except FeatureError as err:
        raise ScoringError(str(err)) from None


def _naive_utc(value: Any) -> pd.Timestamp:
    """Return a table's time as naive UTC, as the feature builders compare times."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _select(frame: Any, key: str, time_col: str, ids: Sequence[str]) -> Any:
    if isinstance(frame, pd.DataFrame):
        return frame.loc[frame[key].astype("str").isin(pd.Index(ids)), [key, time_col]]
    import narwhals as nw

    nwf = nw.from_native(frame)
    return nw.to_native(nwf.select(key, time_col).filter(nw.col(key).is_in(list(ids))))


def _n_rows(frame: Any) -> int | None:
    """Rows of a pandas table (``None`` for other libraries: counting may cost a job)."""
    return len(frame) if isinstance(frame, pd.DataFrame) else None


def _features_of(
    tables: Mapping[str, Any],
    entity: str,
    as_of: pd.Timestamp,
    backend: str | None,
    key: str,
    *,
    ids: Sequence[str] | None = None,
    market: Any = None,
) -> pd.DataFrame:
    """Build the features of ``ids`` (all entities when ``None``) as pandas with a key column."""
    from riskscore.features import build_features

    built = _to_pandas(
        build_features(
            tables,
            entity,  # type: ignore[arg-type]
            as_of=as_of,
            backend=backend,
            ids=ids,
            market=market if ids is not None else None,
        )
    )
    if key not in built.columns and built.index.name == key:
        built = built.reset_index()
    built[key] = built[key].astype("str")
    return built


def _to_pandas(frame: Any) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    import narwhals as nw

    native = nw.from_native(frame)
    if isinstance(native, nw.LazyFrame):
        native = native.collect()
    return native.to_pandas()
