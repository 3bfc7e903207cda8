"""``build_features``: every feature of an entity as known at one moment."""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore._config import DEFAULT_WINDOWS
from riskscore._progress import step
from riskscore.exceptions import FeatureError
from riskscore.features import _backend
from riskscore.features._catalog import (
    ENTITIES,
    Entity,
    Family,
    FeatureSpec,
    _catalog_order,
    families,
)
from riskscore.features._context import (
    DEFAULT_PRIOR_WEIGHT,
    KEYS,
    AsOfContext,
    FeatureParams,
    MarketStats,
    fill_expr,
    unavailable_features,
    universe,
)
from riskscore.features._schedule import run_families

__all__ = ["TimeLike", "build_features", "market_stats", "parse_time"]

TimeLike = str | datetime | date | pd.Timestamp | np.datetime64

#: Optional contract tables whose absence can make features unavailable.
_OPTIONAL_TABLES = ("products", "complaints", "labels")


def parse_time(value: Any, what: str = "as_of") -> datetime:
    """Return ``value`` as a timezone-naive UTC :class:`datetime` with microsecond precision.

    Timezone-aware values are converted to UTC; a time finer than a microsecond is rounded
    up, which keeps "strictly before" exact for microsecond timestamps.

    Examples
    --------
    >>> parse_time("2024-06-30")
    datetime.datetime(2024, 6, 30, 0, 0)
    >>> parse_time("2024-06-30T08:00+08:00")
    datetime.datetime(2024, 6, 30, 0, 0)
    """
    if value is None or isinstance(value, bool | int | float):
        raise FeatureError(
            f"{what} must be a timestamp such as '2024-06-30' or a datetime; got {value!r}"
        )
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError) as err:
        raise FeatureError(
            f"{what}={str(value)[:40]!r} is not a timestamp; use ISO 8601 such as '2024-06-30' "
            "or '2024-06-30T12:00:00'"
        ) from err
    if stamp is pd.NaT:
        raise FeatureError(f"{what} is missing (NaT); pass a timestamp such as '2024-06-30'")
    try:
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return stamp.ceil("us").to_pydatetime()
    except (ValueError, OverflowError) as err:  # OutOfBoundsDatetime is a ValueError
        raise FeatureError(
            f"{what}={str(value)[:40]!r} is outside the times pandas can hold at microsecond "
            "precision (1677-09-22 to 2262-04-11); pass a time within the data's range"
        ) from err


#: The longest look-back window in days (pandas holds time spans up to about 292 years).
MAX_WINDOW_DAYS = 36_500


def _check_params(windows: Any, prior_weight: Any, families: Any) -> None:
    """Refuse arguments the feature parameters cannot hold, before any work."""
    try:
        values = list(windows)
    except TypeError:
        raise FeatureError(
            f"windows must be a list of positive whole numbers of days, e.g. (7, 30, 90); "
            f"got {type(windows).__name__} {str(windows)[:40]}"
        ) from None
    if any(
        isinstance(w, int | np.integer) and not isinstance(w, bool) and w > MAX_WINDOW_DAYS
        for w in values
    ):
        raise FeatureError(
            f"windows must be positive whole numbers of days up to {MAX_WINDOW_DAYS:,}, e.g. "
            f"(7, 30, 90); got {str(windows)[:60]}"
        )
    if isinstance(prior_weight, int | float | np.number) and not isinstance(prior_weight, bool):
        try:
            finite = math.isfinite(float(prior_weight))
        except OverflowError:
            finite = False
        if not finite:
            raise FeatureError(
                f"prior_weight must be a finite number >= 0 (pseudo-orders), e.g. 20; got "
                f"{str(prior_weight)[:40]}"
            )
    if families is not None and not isinstance(families, str):
        try:
            names = list(families)
        except TypeError:
            names = None
        if names is None or not all(isinstance(n, str) for n in names):
            raise FeatureError(
                "families must be a family name or a list of them, e.g. ['pricing', "
                f"'buyers']; got {str(families)[:60]}"
            )


def _check_entity(entity: Any) -> Entity:
    if not isinstance(entity, str) or entity not in ENTITIES:
        raise FeatureError(f"unknown entity {entity!r}; use one of {', '.join(ENTITIES)}")
    return entity  # type: ignore[no-any-return]


def _selected(names: Iterable[str] | None) -> set[str] | None:
    if names is None:
        return None
    if isinstance(names, str):
        names = [names]
    wanted = set(names)
    known = {f.name for f in families()}
    unknown = sorted(wanted - known)
    if unknown:
        raise FeatureError(
            f"unknown feature famil(ies) {unknown}; known: {', '.join(sorted(known))}"
        )
    return wanted


def _with_dependencies(all_families: list[Family], wanted: set[str] | None) -> list[Family]:
    if wanted is None:
        return all_families
    by_name = {f.name: f for f in all_families}
    needed: set[str] = set()
    stack = [n for n in wanted if n in by_name]
    while stack:
        name = stack.pop()
        if name not in needed:
            needed.add(name)
            stack.extend(by_name[name].after)
    return [f for f in all_families if f.name in needed]


def build_features(
    tables: Mapping[str, Any],
    entity: Entity = "seller",
    *,
    as_of: TimeLike,
    backend: str | None = None,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    families: Iterable[str] | None = None,
    ids: Iterable[str] | None = None,
    market: MarketStats | None = None,
) -> Any:
    """Build every feature of ``entity`` as known at ``as_of``.

    Only rows with timestamps strictly before ``as_of`` are used: sellers by
    ``registered_at``, listings, orders and complaints by ``created_at``, labels by
    ``decided_at``. Adding, removing or changing any event at or after ``as_of`` never
    changes a feature at ``as_of``.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables following the contract (:data:`riskscore.CONTRACT`):
        ``sellers``, ``listings``, ``orders`` required; ``products``, ``complaints``,
        ``labels`` optional; other tables are ignored. pandas, Polars, DuckDB relations
        or PySpark DataFrames, all from one library unless ``backend`` is given.
    entity : {"seller", "listing"}
        One row per seller registered before ``as_of``, or per listing created before it.
    as_of : str, datetime or Timestamp
        The cutoff (naive times are UTC).
    backend : {"pandas", "polars", "duckdb", "spark"}, optional
        Convert the tables to this library and compute there; the result comes back in
        it. Default: the tables' own library.
    windows : sequence of int, default (7, 30, 90)
        Look-back windows in days for windowed features.
    prior_weight : float, default 20
        Pseudo-orders at the marketplace rate added to each seller's complaint, refund
        and cancel rates.
    families : iterable of str, optional
        Compute only these families (e.g. ``["pricing", "buyers"]``); default all.
    ids : iterable of str, optional
        Build only these sellers (listings): the result holds exactly their rows of the
        full build, those known before ``as_of`` (unknown ids get no row). What compares
        an entity with the marketplace (market prices, category price levels,
        marketplace complaint rates, category order values, the seller network) comes
        from ``market``; everything else is aggregated over the entities' own rows,
        found first. Cheap per call once ``market`` holds its statistics.
    market : MarketStats, optional
        Marketplace statistics at ``as_of`` (:func:`market_stats`) shared by calls with
        ``ids``. Default: one kept per tables and ``as_of`` in a small cache of the two
        most recent (tables are told apart by the identity of the mapping and of each
        table; do not change a table in place between calls).

    Returns
    -------
    DataFrame
        In the caller's library. pandas: indexed by ``seller_id`` / ``listing_id``;
        Polars, DuckDB, Spark: that key as the first column. Feature columns follow
        ``catalog(entity)`` order, all float64. A listing row holds the listing's own
        features followed by its seller's.

    Raises
    ------
    FeatureError
        For an unknown entity or family, an ``as_of`` before all data, missing required
        tables or columns, or tables from several libraries without ``backend``.
    BackendNotAvailable
        When ``backend`` names a library that is not installed.

    Warns
    -----
    UserWarning
        Once, naming the features that cannot be computed because an optional table
        (``complaints``, ...) was not given; they are filled per the catalog.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=30, seed=0)
    >>> feats = build_features(tables, "seller", as_of="2024-06-30")
    >>> feats.index.name
    'seller_id'
    >>> feats["pricing__median_price_ratio"].dtype
    dtype('float64')
    >>> few = build_features(tables, "seller", as_of="2024-06-30", ids=["S000003", "S000001"])
    >>> few.index.tolist()
    ['S000001', 'S000003']
    >>> few.equals(feats.loc[few.index])  # missing values in the same places
    True
    """
    entity = _check_entity(entity)
    moment = parse_time(as_of)
    _check_params(windows, prior_weight, families)
    params = FeatureParams(windows=tuple(windows), prior_weight=prior_weight)
    wanted = _selected(families)
    if ids is None:
        frames, output = _backend.prepare(tables, backend)
        ctx = AsOfContext(frames, moment, entity, params, aware_time=output.aware_time_literals)
        _check_as_of(ctx, lambda table, column: _first(ctx.frames[table], column))
    else:
        keep = _check_ids(ids)
        if market is None:
            market = _cached_market(tables, moment, backend, params)
        else:
            _check_market(market, moment, params, backend)
        output = market.output
        ctx = market.scoped(entity, keep)
        _check_as_of(ctx, market.first_time)
    plan = _plan(ctx, wanted)
    _warn_unavailable(ctx, plan)
    result = _compute(ctx, plan, wanted)
    return _backend.to_native(result, output, KEYS[entity])


def market_stats(
    tables: Mapping[str, Any],
    as_of: TimeLike,
    *,
    backend: str | None = None,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
) -> MarketStats:
    """Return the marketplace statistics at ``as_of`` that builds with ``ids=`` share.

    Nothing is computed yet: each statistic (market prices, category price levels,
    marketplace rates, category order values, the seller network) is computed the first
    time a :func:`build_features` call with ``ids=`` and ``market=`` needs it, then kept.
    Compute one per ``as_of`` and pass it to every call at that time, e.g. a scoring
    service or a batch cut into chunks.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables, as for :func:`build_features`.
    as_of : str, datetime or Timestamp
        The cutoff.
    backend : {"pandas", "polars", "duckdb", "spark"}, optional
        As for :func:`build_features`.
    windows : sequence of int, default (7, 30, 90)
        Look-back windows; builds using this object must use the same.
    prior_weight : float, default 20
        Complaint-rate prior; builds using this object must use the same.

    Returns
    -------
    MarketStats

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=30, seed=0)
    >>> market = market_stats(tables, "2024-06-30")
    >>> market.as_of, market.backend, market.computed
    (datetime.datetime(2024, 6, 30, 0, 0), 'pandas', [])
    >>> feats = build_features(tables, "listing", as_of="2024-06-30", ids=["L00000001"],
    ...                        market=market)
    >>> feats.index.tolist()
    ['L00000001']
    """
    moment = parse_time(as_of)
    params = FeatureParams(windows=tuple(windows), prior_weight=prior_weight)
    frames, output = _backend.prepare(tables, backend)
    return MarketStats(frames, moment, params, output)


def _check_ids(ids: Iterable[str]) -> list[str]:
    if isinstance(ids, str):
        ids = [ids]
    try:
        values = list(ids)
    except TypeError:
        raise FeatureError(
            f"ids must be a list of entity ids such as ['S000001']; got {type(ids).__name__}"
        ) from None
    return list(dict.fromkeys(str(i) for i in values if i is not None))


def _check_market(
    market: MarketStats, moment: Any, params: FeatureParams, backend: str | None
) -> None:
    if not isinstance(market, MarketStats):
        raise FeatureError(
            f"market must be a MarketStats from riskscore.features.market_stats; got "
            f"{type(market).__name__}"
        )
    problems = []
    if market.as_of != moment:
        problems.append(
            f"as_of {market.as_of:%Y-%m-%d %H:%M:%S} (asked: {moment:%Y-%m-%d %H:%M:%S})"
        )
    if market.params != params:
        problems.append(f"parameters {market.params} (asked: {params})")
    if backend is not None and market.backend != backend:
        problems.append(f"backend {market.backend!r} (asked: {backend!r})")
    if problems:
        raise FeatureError(
            "market was computed for another build: " + "; ".join(problems) + "; compute "
            "market_stats(tables, as_of, ...) with the same arguments"
        )


#: Marketplace statistics of the most recent builds with ``ids=`` and no ``market=``.
_MARKETS: OrderedDict[tuple[Any, ...], tuple[tuple[Any, ...], MarketStats]] = OrderedDict()
_MARKETS_LOCK = threading.Lock()
_MARKETS_KEPT = 2


def _cached_market(
    tables: Mapping[str, Any], moment: Any, backend: str | None, params: FeatureParams
) -> MarketStats:
    """Return the statistics of these tables at ``moment``, from the cache or new.

    Entries hold the tables they were computed from, so an ``id`` is never reused by a
    different table while its entry lives.
    """
    names = sorted(tables, key=str)
    held = (tables, *(tables[name] for name in names))
    key = (
        id(tables),
        tuple((str(n), id(tables[n])) for n in names),
        moment,
        backend,
        params,
    )
    with _MARKETS_LOCK:
        entry = _MARKETS.get(key)
        if entry is not None and all(a is b for a, b in zip(entry[0], held, strict=True)):
            _MARKETS.move_to_end(key)
            return entry[1]
    with step("features", f"marketplace statistics as of {moment:%Y-%m-%d}"):
        market = market_stats(
            tables,
            moment,
            backend=backend,
            windows=params.windows,
            prior_weight=params.prior_weight,
        )
    with _MARKETS_LOCK:
        _MARKETS[key] = (held, market)
        while len(_MARKETS) > _MARKETS_KEPT:
            _MARKETS.popitem(last=False)
    return market


def _first(frame: nw.LazyFrame, column: str) -> Any:
    return frame.select(nw.col(column).min()).collect().item()


def _plan(ctx: AsOfContext, wanted: set[str] | None) -> dict[str, list[Family]]:
    entities: list[Entity] = ["seller"] if ctx.entity == "seller" else ["listing", "seller"]
    return {e: _with_dependencies(families(e), wanted) for e in entities}


def _check_as_of(ctx: AsOfContext, earliest: Any) -> None:
    checks = [("sellers", "registered_at", "seller registered")]
    if ctx.entity == "listing":
        checks.append(("listings", "created_at", "listing was created"))
    for table, column, what in checks:
        first = earliest(table, column)
        first_time = None if first is None else pd.Timestamp(first)
        if first_time is not None and first_time.tzinfo is not None:
            first_time = first_time.tz_convert("UTC").tz_localize(None)
        if first_time is None or pd.isna(first_time) or first_time >= pd.Timestamp(ctx.as_of):
            when = "no rows" if first_time is None or pd.isna(first_time) else first_time
            raise FeatureError(
                f"as_of {ctx.as_of:%Y-%m-%d %H:%M:%S} is before all data: the first "
                f"{what} at {when}, and features only use rows strictly before as_of; "
                "pass a later as_of"
            )


def _warn_unavailable(ctx: AsOfContext, plan: Mapping[str, list[Family]]) -> None:
    specs = [s for fams in plan.values() for f in fams for s in f.feature_specs(ctx.params.windows)]
    missing = unavailable_features(ctx, specs)
    if not missing:
        return
    parts = []
    for table, names in missing.items():
        fills = {"NaN" if math.isnan(s.fill) else f"{s.fill:g}" for s in specs if s.name in names}
        parts.append(
            f"no '{table}' table was given, so {len(names)} feature(s) are filled with "
            f"{' / '.join(sorted(fills))} per the catalog: {', '.join(names)}; pass the "
            f"'{table}' table to compute them"
        )
    warnings.warn("; ".join(parts), UserWarning, stacklevel=3)


def _entity_frame(
    ctx: AsOfContext, entity: Entity, plan: list[Family], wanted: set[str] | None
) -> nw.LazyFrame:
    """Compute the families of ``plan``; return the ``wanted`` ones joined and filled."""
    key = KEYS[entity]
    # progress per family of full builds only: scoped builds (scoring a few ids) are quick
    outputs = run_families(ctx, plan, f"features {ctx.as_of:%Y-%m-%d}")
    kept = [
        filled
        for family, filled in zip(plan, outputs, strict=True)
        if wanted is None or family.name in wanted
    ]
    if not kept:
        return universe(ctx, entity)
    # every output already holds exactly the universe's rows (run_family joins it to
    # them), so the first is the start: one join fewer (on Spark, two shuffles fewer)
    result = kept[0]
    for filled in kept[1:]:
        result = result.join(filled, on=key, how="left")
    return result


def _outputs(
    plan: list[Family], wanted: set[str] | None, windows: Sequence[int]
) -> list[FeatureSpec]:
    """Specs of the wanted families of ``plan``, in catalog order."""
    entity = plan[0].entity if plan else "seller"
    names = {f.name for f in plan if wanted is None or f.name in wanted}
    return [s for f in _catalog_order(entity) if f.name in names for s in f.feature_specs(windows)]


def _compute(
    ctx: AsOfContext, plan: Mapping[str, list[Family]], wanted: set[str] | None
) -> nw.LazyFrame:
    windows = ctx.params.windows
    sellers = _entity_frame(ctx, "seller", plan["seller"], wanted)
    seller_cols = _outputs(plan["seller"], wanted, windows)
    if ctx.entity == "seller":
        return sellers.select("seller_id", *[s.name for s in seller_cols]).sort("seller_id")
    listings = _entity_frame(ctx, "listing", plan["listing"], wanted)
    listing_cols = _outputs(plan["listing"], wanted, windows)
    owners = (
        ctx.table("listings", ["listing_id", "seller_id"])
        if ctx.listing_ids is None
        else ctx.rows_where("listings", "listing_id", ctx.listing_ids, ["listing_id", "seller_id"])
    )
    joined = (
        listings.join(owners, on="listing_id", how="left")
        .join(sellers, on="seller_id", how="left")
        .select(
            "listing_id",
            *[s.name for s in listing_cols],
            *[fill_expr(s, True) for s in seller_cols],
        )
    )
    return joined.sort("listing_id")
