"""The as-of view of a marketplace that feature families compute from.

:class:`AsOfContext` hands each family the contract tables as narwhals LazyFrames filtered
to rows strictly before ``as_of`` (sellers by ``registered_at``, listings, orders and
complaints by ``created_at``, labels by ``decided_at``; ``products`` has no time and is
given whole), the parameters, the outputs of families computed earlier, and a memo so
that intermediate frames shared by several families are computed once per cutoff.

Building features of a few entities
-----------------------------------
A context can be *scoped* to some sellers (``seller_ids``; for a listing build also
``listing_ids``). Families then read two kinds of input:

- **own rows** (:meth:`AsOfContext.own`): the rows of the sellers in scope, found first
  (on pandas through a row index kept by :class:`MarketStats`, elsewhere with a filter)
  and aggregated per seller: orders, complaints, buyers, listings;
- **marketplace statistics** (:meth:`AsOfContext.market_value`): what a seller is compared
  with, computed from the whole marketplace: market prices of the same product and of the
  category + brand, category medians and spreads of the price level, marketplace
  complaint, refund and cancel rates (the smoothing prior), category order values, and
  the network features (see :mod:`riskscore.features.network`).

:class:`MarketStats` computes each marketplace statistic once, from an unscoped context
over the same frames, materialises it, and hands it to every scoped context built from
it, so many calls at one ``as_of`` pay for the marketplace once. An unscoped context
computes the same statistics itself, inline, with the same expressions: a scoped build
returns exactly the rows of the full build.

The expression helpers here (:func:`ratio`, :func:`epoch_days`) are written in narwhals
only, so they mean the same thing on every backend.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore._config import DEFAULT_WINDOWS, HIGH_RISK_CATEGORIES
from riskscore.exceptions import FeatureError
from riskscore.features._backend import checkpoint, lazy_like
from riskscore.features._catalog import Entity, Family, FeatureSpec, families
from riskscore.schema import CONTRACT

if TYPE_CHECKING:
    from riskscore.features._backend import Output

__all__ = [
    "DEFAULT_PRIOR_WEIGHT",
    "AsOfContext",
    "FeatureParams",
    "MarketStats",
    "epoch_days",
    "fill_expr",
    "ratio",
    "run_family",
    "sorted_prefix",
    "unavailable_features",
    "universe",
]

#: Pseudo-orders of marketplace-average behaviour added to each seller's rates.
DEFAULT_PRIOR_WEIGHT = 20.0

#: Key column of each entity.
KEYS: dict[str, str] = {"seller": "seller_id", "listing": "listing_id"}


#: The memo keys this thread is building (innermost last): :meth:`AsOfContext.output`
#: refuses to wait for a running family inside one.
_BUILDING = threading.local()


@dataclass(frozen=True)
class FeatureParams:
    """Parameters shared by all families.

    Parameters
    ----------
    windows : tuple of int
        Look-back windows in days for windowed features; a window of ``w`` days covers
        ``[as_of - w days, as_of)``.
    prior_weight : float
        Weight (in pseudo-orders) of the marketplace rate when smoothing a seller's
        rates: ``(events + prior_weight * market_rate) / (orders + prior_weight)``.
    below_market : float
        A listing priced under this fraction of its market price counts as far below.
    high_risk_categories : tuple of str
        Categories where counterfeits concentrate.
    """

    windows: tuple[int, ...] = DEFAULT_WINDOWS
    prior_weight: float = DEFAULT_PRIOR_WEIGHT
    below_market: float = 0.6
    high_risk_categories: tuple[str, ...] = HIGH_RISK_CATEGORIES

    def __post_init__(self) -> None:
        windows = tuple(self.windows)
        if not windows or any(
            isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in windows
        ):
            raise FeatureError(
                f"windows must be positive whole numbers of days, e.g. (7, 30, 90); "
                f"got {self.windows!r}"
            )
        if len(set(windows)) != len(windows):
            raise FeatureError(f"windows must not repeat; got {self.windows!r}")
        object.__setattr__(self, "windows", windows)
        if not (isinstance(self.prior_weight, int | float) and self.prior_weight >= 0):
            raise FeatureError(
                f"prior_weight must be a number >= 0 (pseudo-orders); got {self.prior_weight!r}"
            )


def sorted_prefix(frame: nw.LazyFrame, column: str, as_of: datetime) -> int | None:
    """Return how many rows come before ``as_of`` when they are a prefix of a pandas table.

    A table sorted by its time column (an append-only export, the simulator's orders)
    holds its rows before ``as_of`` as its first rows: the count is a binary search,
    and ``head`` takes them as a slice (text columns, Arrow-backed, without a copy;
    others in one block copy), where a filter gathers every column it keeps row by row
    (about 1 s for three text columns of ten million orders). ``None`` (filter instead) on
    other backends, for other time types than naive ``datetime64`` (the contract's), and
    when the column is not sorted or holds a missing time.

    Examples
    --------
    >>> from datetime import datetime
    >>> import narwhals as nw, pandas as pd
    >>> t = pd.DataFrame({"at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])})
    >>> sorted_prefix(nw.from_native(t).lazy(), "at", datetime(2024, 2, 1))
    1
    >>> sorted_prefix(nw.from_native(t.iloc[::-1]).lazy(), "at", datetime(2024, 2, 1)) is None
    True
    """
    native = frame.to_native()
    if not isinstance(native, pd.DataFrame):
        return None
    times = native[column]
    if not (isinstance(times.dtype, np.dtype) and times.dtype.kind == "M"):
        return None
    if not times.is_monotonic_increasing:  # False with a missing time too
        return None
    return int(times.searchsorted(pd.Timestamp(as_of), side="left"))


@dataclass
class AsOfContext:
    """Tables as known strictly before ``as_of``, plus parameters and earlier outputs.

    Parameters
    ----------
    frames : mapping of str to narwhals.LazyFrame
        Contract tables, unfiltered (the context filters them on access).
    as_of : datetime
        The cutoff (timezone-naive UTC).
    entity : {"seller", "listing"}
        The entity being built.
    params : FeatureParams
        Shared parameters.
    aware_time : bool
        Compare times against UTC-aware literals (set for Spark by the backend module).
    seller_ids : tuple of str, optional
        Scope: compute per-seller aggregations over the rows of these sellers only
        (see the module docstring). ``None``: every seller.
    listing_ids : tuple of str, optional
        Scope of a listing build: the listings whose rows are returned (their sellers
        are ``seller_ids``).
    market : MarketStats, optional
        Where a scoped context takes its marketplace statistics from (required when
        scoped).

    Attributes
    ----------
    computed : dict of (entity, family) to narwhals.LazyFrame
        Outputs of the families computed so far at this cutoff, one row per entity,
        keyed by the entity id and filled per the catalog.
    pending : dict of (entity, family) to Future
        Families running side by side in other threads (Spark builds,
        ``features._schedule``); :meth:`output` waits for them.
    """

    frames: Mapping[str, nw.LazyFrame]
    as_of: datetime
    entity: Entity
    params: FeatureParams = field(default_factory=FeatureParams)
    aware_time: bool = False
    seller_ids: tuple[str, ...] | None = None
    listing_ids: tuple[str, ...] | None = None
    market: MarketStats | None = field(default=None, repr=False)
    computed: dict[tuple[str, str], nw.LazyFrame] = field(default_factory=dict)
    pending: dict[tuple[str, str], Future[Any]] = field(default_factory=dict, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _memo_locks: dict[str, threading.Lock] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.scoped and self.market is None:
            raise FeatureError(
                "a context scoped to some sellers needs the marketplace statistics "
                "(market=MarketStats) to compare them with"
            )

    @property
    def scoped(self) -> bool:
        """Whether per-entity aggregations are limited to ``seller_ids``."""
        return self.seller_ids is not None

    def has(self, name: str) -> bool:
        """Whether table ``name`` was given."""
        return name in self.frames

    def table(self, name: str, columns: Sequence[str] | None = None) -> nw.LazyFrame:
        """Return table ``name`` restricted to rows strictly before ``as_of``.

        Every seller's rows, also in a scoped context: use it for what is compared
        across the marketplace, and :meth:`own` for the rows of the sellers in scope.
        A pandas table sorted by its time column gives its first rows (``head``,
        :func:`sorted_prefix`), others a filtered copy: the same rows either way.

        Parameters
        ----------
        name : str
            A contract table.
        columns : sequence of str, optional
            Keep only these columns (the time column is always usable for filtering).
        """
        if name not in self.frames:
            raise FeatureError(f"table '{name}' was not given; it is needed here")
        time_column = CONTRACT[name].time_column if name in CONTRACT else None
        frame = self.frames[name]
        prefix = (
            self.memo(
                f"__rows_before_{name}",
                lambda: sorted_prefix(frame, time_column, self.as_of),
                materialise=False,
            )
            if time_column is not None and not self.aware_time
            else None
        )
        if prefix is None:
            return self._before(name, frame, columns)
        keep = frame if columns is None else frame.select(list(dict.fromkeys(columns)))
        return keep.head(prefix)

    def own(self, name: str, columns: Sequence[str] | None = None) -> nw.LazyFrame:
        """Return the rows of table ``name`` of the sellers in scope, before ``as_of``.

        The same as :meth:`table` in an unscoped context.
        """
        if self.seller_ids is None:
            return self.table(name, columns)
        return self.rows_where(name, "seller_id", self.seller_ids, columns)

    def rows_where(
        self,
        name: str,
        column: str,
        values: Sequence[str],
        columns: Sequence[str] | None = None,
    ) -> nw.LazyFrame:
        """Return the rows of table ``name`` with ``column`` in ``values``, before ``as_of``.

        The rows are found before anything else is done with the table (through the
        row index of :class:`MarketStats` on pandas), so the cost grows with the rows
        found, not with the table.
        """
        if name not in self.frames:
            raise FeatureError(f"table '{name}' was not given; it is needed here")
        if self.market is not None:
            frame = self.market.locate(name, column, values)
        else:
            frame = self.frames[name].filter(nw.col(column).is_in(list(values)))
        return self._before(name, frame, columns)

    def _before(
        self, name: str, frame: nw.LazyFrame, columns: Sequence[str] | None
    ) -> nw.LazyFrame:
        time_column = CONTRACT[name].time_column if name in CONTRACT else None
        if columns is not None:
            keep = list(dict.fromkeys([*columns, *([time_column] if time_column else [])]))
            frame = frame.select(keep)
        if time_column is not None:
            frame = frame.filter(nw.col(time_column) < self.moment(self.as_of))
            if columns is not None and time_column not in columns:
                frame = frame.drop(time_column)
        return frame

    def sellers(self) -> nw.LazyFrame:
        """Return the ``seller_id`` of every seller (in scope) registered before ``as_of``."""
        return self.memo("sellers", lambda: self.own("sellers", ["seller_id"]))

    def since(self, days: float) -> datetime:
        """Return ``as_of - days``: the start of a look-back window."""
        return self.as_of - timedelta(days=days)

    def in_window(self, column: str, days: float) -> nw.Expr:
        """Return 1.0 where ``column`` lies in ``[as_of - days, as_of)``, else 0.0."""
        return (nw.col(column) >= self.moment(self.since(days))).cast(nw.Float64)

    def moment(self, value: datetime) -> nw.Expr:
        """Return a time literal comparable with the tables' timestamp columns."""
        return nw.lit(value.replace(tzinfo=UTC) if self.aware_time else value)

    def days_before(self, column: str) -> nw.Expr:
        """Return the days from timestamp ``column`` to ``as_of`` (positive when earlier)."""
        return nw.lit(_epoch_days_py(self.as_of)) - epoch_days(column)

    def memo(self, key: str, build: Callable[[], Any], *, materialise: bool = True) -> Any:
        """Return ``build()`` computed once per cutoff under ``key``.

        On Spark a frame kept here is computed at once and read back by every user
        (:func:`~riskscore.features._backend.checkpoint`): a memo exists because the
        frame is read more than once, and a lazy plan would recompute it each time.
        With ``materialise=False`` the plan is kept as it is (built once, computed
        where it is read).

        Families running side by side (Spark) share the memo: a second family asking for
        a key being built waits for it instead of building it again. So ``build`` must
        not wait for a family's :meth:`output`: asking for the output of a family still
        running raises a :class:`~riskscore.exceptions.FeatureError` (declare the
        family in ``after``) instead of risking two threads waiting for each other.
        """
        lock = self._memo_locks.setdefault(key, threading.Lock())
        with lock:
            return self._memo_once(key, build, materialise)

    def _memo_once(self, key: str, build: Callable[[], Any], materialise: bool) -> Any:
        if key not in self._memo:
            keys = getattr(_BUILDING, "keys", [])
            _BUILDING.keys = [*keys, key]
            try:
                value = build()
            finally:
                _BUILDING.keys = keys
            if materialise and isinstance(value, nw.LazyFrame) and not self.scoped:
                value = checkpoint(value)
            self._memo[key] = value
        return self._memo[key]

    def market_value(
        self,
        key: str,
        build: Callable[[AsOfContext], Any],
        *,
        after: Sequence[str] = (),
    ) -> Any:
        """Return a marketplace statistic: ``build(ctx)`` on an unscoped context.

        Unscoped, ``build(self)`` is built here once per cutoff and left lazy (not
        checkpointed on Spark): each statistic is read by the one family that asks for
        it, and that family's output is checkpointed, so computing the statistic apart
        only costs Spark jobs and a planning round (at 100k sellers the pricing family
        runs 25 Spark jobs instead of 33; its time, median 13.3 against 14.7 s over four
        runs each, moved within the machine's noise, ``docs/architecture.md``). A
        statistic two families read belongs in :meth:`memo` of a shared builder instead.
        Scoped, it comes from :attr:`market`, computed once for every context sharing it.

        Parameters
        ----------
        key : str
            Name of the statistic (one per meaning).
        build : callable
            ``build(ctx)`` returning a narwhals LazyFrame (or a pandas DataFrame) from an
            unscoped context.
        after : sequence of str
            Seller families whose outputs ``build`` reads through :meth:`output`.
        """
        if self.market is None or not self.scoped:
            return self.memo(f"market:{key}", lambda: build(self), materialise=False)
        return self.market.value(key, build, after=after)

    def output(self, family: str, entity: Entity = "seller") -> nw.LazyFrame:
        """Return the filled output of a family computed at this cutoff.

        A family still running in another thread (:attr:`pending`) is waited for.
        """
        running = self.pending.get((entity, family))
        if running is not None and (entity, family) not in self.computed:
            building = getattr(_BUILDING, "keys", [])
            if building and not running.done():
                # waiting here would hold the memo's lock while the family runs: a family
                # that reaches the same memo would wait for this one, which waits for it
                raise FeatureError(
                    f"memo {building[-1]!r} is built from the output of {entity} family "
                    f"'{family}', which is still running; declare after=('{family}',) on "
                    "the family that builds it, so that it starts once the output is there"
                )
            running.result()  # its error, if any, is raised here too
        try:
            return self.computed[(entity, family)]
        except KeyError:
            raise FeatureError(
                f"the output of {entity} family '{family}' is not available yet; declare "
                f"after=('{family}',) on the family that reads it"
            ) from None


class _RowIndex:
    """Row positions of each value of one column of a pandas table, found in O(rows found).

    Built once per (table, column) by :class:`MarketStats`: the rows sorted by the
    value's code, and where each code's run starts.
    """

    #: Above this many values, a vectorised mask over the table beats the slices.
    SLICES_UP_TO = 2_000

    def __init__(self, column: pd.Series) -> None:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        self.codes = codes
        self.uniques = pd.Index(uniques)
        self.order = np.argsort(codes, kind="stable")
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        skipped = int((codes < 0).sum())  # missing values sort first; no value finds them
        self.starts = skipped + np.concatenate([[0], np.cumsum(counts)])

    def positions(self, values: Sequence[str]) -> np.ndarray:
        """Return the sorted row positions holding one of ``values``."""
        found = self.uniques.get_indexer(pd.Index(list(values)))
        found = np.unique(found[found >= 0])
        if found.size > self.SLICES_UP_TO:
            keep = np.zeros(len(self.uniques) + 1, dtype=bool)
            keep[found] = True
            return np.flatnonzero(keep[self.codes])
        parts = [self.order[self.starts[c] : self.starts[c + 1]] for c in found]
        return np.sort(np.concatenate([np.zeros(0, dtype=np.intp), *parts]))


class MarketStats:
    """The marketplace at one ``as_of``, computed once and shared by scoped builds.

    Holds the prepared tables, an unscoped :class:`AsOfContext` over them, the
    marketplace statistics computed so far (materialised, so reusing one costs a join,
    not a recomputation) and, on pandas, row indexes that find a seller's rows without a
    scan. Create it with :func:`riskscore.features.market_stats` and pass it to
    :func:`riskscore.features.build_features` with ``ids=``; statistics are computed on
    first use and reused by every later call. Safe to share between threads.

    The tables are read, never copied: do not change them while a ``MarketStats`` built
    from them is in use.

    Parameters
    ----------
    frames : mapping of str to narwhals.LazyFrame
        Prepared contract tables (see :func:`riskscore.features._backend.prepare`).
    as_of : datetime
        The cutoff (timezone-naive UTC).
    params : FeatureParams
        Feature parameters (windows, prior weight, ...).
    output : Output
        How results go back to the caller's library.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> from riskscore.features import build_features, market_stats
    >>> tables = make_marketplace(n_sellers=30, seed=0)
    >>> market = market_stats(tables, "2024-06-30")
    >>> one = build_features(tables, as_of="2024-06-30", ids=["S000001"], market=market)
    >>> one.index.tolist()
    ['S000001']
    >>> "network_frame" in market.computed  # computed once, reused by the next calls
    True
    """

    def __init__(
        self,
        frames: Mapping[str, nw.LazyFrame],
        as_of: datetime,
        params: FeatureParams,
        output: Output,
    ) -> None:
        self.frames = frames
        self.as_of = as_of
        self.params = params
        self.output = output
        self.context = AsOfContext(
            frames, as_of, "seller", params, aware_time=output.aware_time_literals
        )
        self._values: dict[str, Any] = {}
        self._indexes: dict[tuple[str, str], _RowIndex] = {}
        self._firsts: dict[tuple[str, str], Any] = {}
        self._lock = threading.RLock()

    @property
    def backend(self) -> str:
        """The dataframe library the statistics are computed in."""
        return self.output.backend

    @property
    def computed(self) -> list[str]:
        """Names of the statistics computed so far."""
        return list(self._values)

    def scoped(self, entity: Entity, ids: Iterable[str]) -> AsOfContext:
        """Return a context scoped to the sellers ``ids`` (or to the listings ``ids``).

        For a listing build the sellers in scope are the listings' sellers.
        """
        keep = tuple(dict.fromkeys(str(i) for i in ids))
        common = {"params": self.params, "aware_time": self.output.aware_time_literals}
        if entity == "seller":
            return AsOfContext(
                self.frames,
                self.as_of,
                "seller",
                **common,  # type: ignore[arg-type]
                seller_ids=keep,
                market=self,
            )
        probe = AsOfContext(
            self.frames,
            self.as_of,
            "listing",
            **common,  # type: ignore[arg-type]
            market=self,
        )
        owners = (
            probe.rows_where("listings", "listing_id", keep, ["seller_id"])
            .select("seller_id")
            .unique()
            .collect()
            .to_pandas()["seller_id"]
        )
        sellers = tuple(sorted(str(s) for s in owners.dropna()))
        return AsOfContext(
            self.frames,
            self.as_of,
            "listing",
            **common,  # type: ignore[arg-type]
            seller_ids=sellers,
            listing_ids=keep,
            market=self,
        )

    def value(
        self,
        key: str,
        build: Callable[[AsOfContext], Any],
        *,
        after: Sequence[str] = (),
    ) -> Any:
        """Return the statistic ``key``: ``build`` on the unscoped context, computed once."""
        with self._lock:
            if key not in self._values:
                for family in after:
                    self.output_of(family, "seller")
                self._values[key] = _materialise(build(self.context))
            return self._values[key]

    def output_of(self, family: str, entity: Entity = "seller") -> nw.LazyFrame:
        """Return the filled output of a family over the whole marketplace (computed once)."""
        with self._lock:
            done = self.context.computed
            if (entity, family) not in done:
                by_name = {f.name: f for f in families(entity)}
                for dep in by_name[family].after:
                    self.output_of(dep, entity)
                run_family(self.context, by_name[family])
            return done[(entity, family)]

    def locate(self, name: str, column: str, values: Sequence[str]) -> nw.LazyFrame:
        """Return the rows of table ``name`` whose ``column`` is one of ``values`` (any time)."""
        frame = self.frames[name]
        native = frame.to_native()
        if not isinstance(native, pd.DataFrame):
            return frame.filter(nw.col(column).is_in(list(values)))
        with self._lock:
            index = self._indexes.get((name, column))
            if index is None:
                index = self._indexes[(name, column)] = _RowIndex(native[column])
        rows = native.take(index.positions(values)).reset_index(drop=True)
        return nw.from_native(rows, eager_only=True).lazy()

    def first_time(self, name: str, column: str) -> Any:
        """Return the earliest ``column`` of table ``name`` (computed once)."""
        with self._lock:
            if (name, column) not in self._firsts:
                self._firsts[(name, column)] = (
                    self.frames[name].select(nw.col(column).min()).collect().item()
                )
            return self._firsts[(name, column)]


def _materialise(value: Any) -> Any:
    """Compute a lazy statistic now, and keep it on its backend."""
    if not isinstance(value, nw.LazyFrame):
        return value
    native = value.to_native()
    if isinstance(native, pd.DataFrame):
        return value.collect().lazy()
    import narwhals.dependencies as nwd

    if nwd.is_polars_lazyframe(native):
        return value.collect().lazy()
    if nwd.is_pyspark_dataframe(native):
        return checkpoint(value)  # stays on the executors: no round trip through the driver
    return lazy_like(value.collect().to_pandas(), value)


def unavailable_features(ctx: AsOfContext, specs: Iterable[FeatureSpec]) -> dict[str, list[str]]:
    """Return, per optional table not given, the names of the ``specs`` that need it."""
    out: dict[str, list[str]] = {}
    for spec in specs:
        for table in spec.needs:
            if not ctx.has(table):
                out.setdefault(table, []).append(spec.name)
    return out


def fill_expr(spec: FeatureSpec, present: bool) -> nw.Expr:
    """Return ``spec``'s column as float64 with missing values filled per the catalog."""
    if not present:
        return nw.lit(spec.fill, dtype=nw.Float64).alias(spec.name)
    return nw.col(spec.name).cast(nw.Float64).fill_null(spec.fill)


def universe(ctx: AsOfContext, entity: Entity) -> nw.LazyFrame:
    """Return the ids of ``entity`` that get a row: known before ``as_of`` (and in scope)."""
    if entity == "seller":
        return ctx.sellers()

    def build() -> nw.LazyFrame:
        if ctx.listing_ids is None:
            return ctx.table("listings", ["listing_id"])
        return ctx.rows_where("listings", "listing_id", ctx.listing_ids, ["listing_id"])

    return ctx.memo("listings_universe", build)


def run_family(ctx: AsOfContext, family: Family) -> nw.LazyFrame:
    """Compute ``family`` on ``ctx``; check its columns; fill it; store it in ``ctx.computed``.

    Returns one row per entity of :func:`universe`, the key and the family's features in
    spec order, all float64 and filled per the catalog.
    """
    import difflib

    entity = family.entity
    key = KEYS[entity]
    specs = family.feature_specs(ctx.params.windows)
    unavailable = {n for names in unavailable_features(ctx, specs).values() for n in names}
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
    filled = (
        universe(ctx, entity)
        .join(raw, on=key, how="left")
        .select(key, *[fill_expr(s, s.name not in unavailable) for s in specs])
    )
    if not ctx.scoped:
        # Spark: computed once here, read by later families and the final join
        filled = checkpoint(filled)
    ctx.computed[(entity, family.name)] = filled
    return filled


def ratio(numerator: nw.Expr, denominator: nw.Expr) -> nw.Expr:
    """Return ``numerator / denominator`` where the denominator is > 0, else null.

    Examples
    --------
    >>> import pandas as pd
    >>> import narwhals as nw
    >>> df = nw.from_native(pd.DataFrame({"a": [1.0, 1.0], "b": [4.0, 0.0]}))
    >>> df.select(r=ratio(nw.col("a"), nw.col("b")))["r"].to_list()
    [0.25, nan]
    """
    return nw.when(denominator > 0).then(numerator / denominator)


def epoch_days(column: str) -> nw.Expr:
    """Return timestamp ``column`` as fractional days since 1970-01-01 (float64).

    Written with calendar fields only (year, day of year, time of day), so it works on
    every backend, including those without timestamp-to-number conversion.

    Examples
    --------
    >>> import pandas as pd
    >>> import narwhals as nw
    >>> t = pd.DataFrame({"t": pd.to_datetime(["1970-01-02 12:00", "2024-03-01 00:00"])})
    >>> nw.from_native(t).select(d=epoch_days("t"))["d"].to_list()
    [1.5, 19783.0]
    """
    t = nw.col(column).dt
    y = t.year().cast(nw.Int64)
    whole = (
        (y - 1970) * 365
        + (y - 1969) // 4
        - (y - 1901) // 100
        + (y - 1601) // 400
        + t.ordinal_day().cast(nw.Int64)
        - 1
    ).cast(nw.Float64)
    seconds = (
        t.hour().cast(nw.Int64) * 3600 + t.minute().cast(nw.Int64) * 60 + t.second().cast(nw.Int64)
    ).cast(nw.Float64) + t.microsecond().cast(nw.Float64) / 1e6
    return whole + seconds / 86400.0


def _epoch_days_py(moment: datetime) -> float:
    """Python twin of :func:`epoch_days`, with the same arithmetic."""
    y = moment.year
    whole = float(
        (y - 1970) * 365
        + (y - 1969) // 4
        - (y - 1901) // 100
        + (y - 1601) // 400
        + moment.timetuple().tm_yday
        - 1
    )
    seconds = float(moment.hour * 3600 + moment.minute * 60 + moment.second) + (
        moment.microsecond / 1e6
    )
    return whole + seconds / 86400.0
