"""``build_features``: every feature of an entity as known at one moment."""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore._config import DEFAULT_WINDOWS
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
)

__all__ = ["TimeLike", "build_features", "parse_time"]

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
    except (TypeError, ValueError) as err:
        raise FeatureError(
            f"{what}={value!r} is not a timestamp; use ISO 8601 such as '2024-06-30' or "
            "'2024-06-30T12:00:00'"
        ) from err
    if stamp is pd.NaT:
        raise FeatureError(f"{what} is missing (NaT); pass a timestamp such as '2024-06-30'")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.ceil("us").to_pydatetime()


def _check_entity(entity: Any) -> Entity:
    if entity not in ENTITIES:
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
    """
    entity = _check_entity(entity)
    moment = parse_time(as_of)
    params = FeatureParams(windows=tuple(windows), prior_weight=prior_weight)
    wanted = _selected(families)
    frames, output = _backend.prepare(tables, backend)
    ctx = AsOfContext(frames, moment, entity, params, aware_time=output.aware_time_literals)
    _check_as_of(ctx)
    plan = _plan(ctx, wanted)
    _warn_unavailable(ctx, plan)
    result = _compute(ctx, plan, wanted)
    return _backend.to_native(result, output, KEYS[entity])


def _plan(ctx: AsOfContext, wanted: set[str] | None) -> dict[str, list[Family]]:
    entities: list[Entity] = ["seller"] if ctx.entity == "seller" else ["listing", "seller"]
    return {e: _with_dependencies(families(e), wanted) for e in entities}


def _check_as_of(ctx: AsOfContext) -> None:
    checks = [("sellers", "registered_at", "seller registered")]
    if ctx.entity == "listing":
        checks.append(("listings", "created_at", "listing was created"))
    for table, column, what in checks:
        first = ctx.frames[table].select(nw.col(column).min()).collect().item()
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


def _unavailable(ctx: AsOfContext, specs: Iterable[FeatureSpec]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for spec in specs:
        for table in spec.needs:
            if not ctx.has(table):
                out.setdefault(table, []).append(spec.name)
    return out


def _warn_unavailable(ctx: AsOfContext, plan: Mapping[str, list[Family]]) -> None:
    specs = [s for fams in plan.values() for f in fams for s in f.feature_specs(ctx.params.windows)]
    missing = _unavailable(ctx, specs)
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


def _fill(spec: FeatureSpec, present: bool) -> nw.Expr:
    if not present:
        return nw.lit(spec.fill, dtype=nw.Float64).alias(spec.name)
    return nw.col(spec.name).cast(nw.Float64).fill_null(spec.fill)


def _universe(ctx: AsOfContext, entity: Entity) -> nw.LazyFrame:
    if entity == "seller":
        return ctx.sellers()
    return ctx.memo("listings_universe", lambda: ctx.table("listings", ["listing_id"]))


def _entity_frame(
    ctx: AsOfContext, entity: Entity, plan: list[Family], wanted: set[str] | None
) -> nw.LazyFrame:
    """Compute the families of ``plan``; return the ``wanted`` ones joined and filled."""
    key = KEYS[entity]
    universe = _universe(ctx, entity)
    result = universe
    for family in plan:
        specs = family.feature_specs(ctx.params.windows)
        unavailable = {n for names in _unavailable(ctx, specs).values() for n in names}
        present = [s.name for s in specs if s.name not in unavailable]
        raw = family.compute(ctx)
        got = raw.collect_schema().names()
        if sorted(got) != sorted([key, *present]):
            diff = "\n".join(
                difflib.unified_diff(
                    sorted([key, *present]), sorted(got), "expected", "returned", lineterm=""
                )
            )
            raise FeatureError(
                f"{entity} family '{family.name}' returned other columns than its specs "
                f"declare:\n{diff}\nfix the family's compute function or its FeatureSpecs"
            )
        filled = universe.join(raw, on=key, how="left").select(
            key, *[_fill(s, s.name not in unavailable) for s in specs]
        )
        ctx.computed[(entity, family.name)] = filled
        if wanted is None or family.name in wanted:
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
    owners = ctx.table("listings", ["listing_id", "seller_id"])
    joined = (
        listings.join(owners, on="listing_id", how="left")
        .join(sellers, on="seller_id", how="left")
        .select(
            "listing_id",
            *[s.name for s in listing_cols],
            *[_fill(s, True) for s in seller_cols],
        )
    )
    return joined.sort("listing_id")
