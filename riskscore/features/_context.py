"""The as-of view of a marketplace that feature families compute from.

:class:`AsOfContext` hands each family the contract tables as narwhals LazyFrames filtered
to rows strictly before ``as_of`` (sellers by ``registered_at``, listings, orders and
complaints by ``created_at``, labels by ``decided_at``; ``products`` has no time and is
given whole), the parameters, the outputs of families computed earlier, and a memo so
that intermediate frames shared by several families are computed once per cutoff.

The expression helpers here (:func:`ratio`, :func:`epoch_days`) are written in narwhals
only, so they mean the same thing on every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import narwhals as nw

from riskscore._config import DEFAULT_WINDOWS, HIGH_RISK_CATEGORIES
from riskscore.exceptions import FeatureError
from riskscore.features._catalog import Entity
from riskscore.schema import CONTRACT

__all__ = [
    "DEFAULT_PRIOR_WEIGHT",
    "AsOfContext",
    "FeatureParams",
    "epoch_days",
    "ratio",
]

#: Pseudo-orders of marketplace-average behaviour added to each seller's rates.
DEFAULT_PRIOR_WEIGHT = 20.0

#: Key column of each entity.
KEYS: dict[str, str] = {"seller": "seller_id", "listing": "listing_id"}


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

    Attributes
    ----------
    computed : dict of (entity, family) to narwhals.LazyFrame
        Outputs of the families computed so far at this cutoff, one row per entity,
        keyed by the entity id and filled per the catalog.
    """

    frames: Mapping[str, nw.LazyFrame]
    as_of: datetime
    entity: Entity
    params: FeatureParams = field(default_factory=FeatureParams)
    aware_time: bool = False
    computed: dict[tuple[str, str], nw.LazyFrame] = field(default_factory=dict)
    _memo: dict[str, nw.LazyFrame] = field(default_factory=dict, repr=False)

    def has(self, name: str) -> bool:
        """Whether table ``name`` was given."""
        return name in self.frames

    def table(self, name: str, columns: Sequence[str] | None = None) -> nw.LazyFrame:
        """Return table ``name`` restricted to rows strictly before ``as_of``.

        Parameters
        ----------
        name : str
            A contract table.
        columns : sequence of str, optional
            Keep only these columns (the time column is always usable for filtering).
        """
        if name not in self.frames:
            raise FeatureError(f"table '{name}' was not given; it is needed here")
        frame = self.frames[name]
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
        """Return the ``seller_id`` of every seller registered before ``as_of``."""
        return self.memo("sellers", lambda: self.table("sellers", ["seller_id"]))

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

    def memo(self, key: str, build: Callable[[], nw.LazyFrame]) -> nw.LazyFrame:
        """Return ``build()`` computed once per cutoff under ``key``."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def output(self, family: str, entity: Entity = "seller") -> nw.LazyFrame:
        """Return the filled output of a family computed earlier at this cutoff."""
        try:
            return self.computed[(entity, family)]
        except KeyError:
            raise FeatureError(
                f"the output of {entity} family '{family}' is not available yet; declare "
                f"after=('{family}',) on the family that reads it"
            ) from None


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
