"""Feature declarations: :class:`FeatureSpec`, :class:`Family`, the family registry, ``catalog``.

Every feature is declared once, as a :class:`FeatureSpec`, by the family that computes it.
Docs, reason codes and explanations read the declarations through :func:`catalog`.

A :class:`Family` bundles the specs of one concept (pricing, complaints, ...) for one
entity with the function that computes them. Families live in one module each; the
registry is the tuple :data:`FAMILY_MODULES` of those module names, each module exposing
``FAMILIES``. A new family (e.g. ``network``) joins by adding its module name there.
"""

from __future__ import annotations

import importlib
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from riskscore._config import DEFAULT_WINDOWS
from riskscore._validation import fail
from riskscore.exceptions import FeatureError

if TYPE_CHECKING:
    import narwhals as nw

    from riskscore.features._context import AsOfContext

__all__ = [
    "ENTITIES",
    "FAMILY_MODULES",
    "Entity",
    "Family",
    "FeatureSpec",
    "catalog",
    "families",
    "feature_specs",
    "not_point_in_time",
    "windowed",
]

Entity = Literal["seller", "listing"]

#: The entities features are built for.
ENTITIES: tuple[Entity, ...] = ("seller", "listing")

#: Modules (under ``riskscore.features``) that define families, in catalog order.
#: Each exposes ``FAMILIES: tuple[Family, ...]``.
FAMILY_MODULES: tuple[str, ...] = (
    "pricing",
    "complaints",
    "buyers",
    "account",
    "activity",
    "text",
    "network",
)

_NAME = re.compile(r"^[a-z][a-z0-9_]*__[a-z0-9_]+$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


@dataclass(frozen=True)
class FeatureSpec:
    """The one declaration of a feature.

    Parameters
    ----------
    name : str
        ``<family>__<feature>``, e.g. ``pricing__median_price_ratio``.
    family : str
        The family that computes it.
    entity : {"seller", "listing"}
        The entity one value describes.
    description : str
        What the value is, precisely enough to recompute it by hand.
    unit : str
        E.g. ``"ratio"``, ``"share"``, ``"days"``, ``"count"``, ``"CNY"``, ``"per order"``.
    fill : float
        The value used when the input the feature needs is absent (no rows for the
        entity, or an optional table not given). ``nan`` lets LightGBM treat it as missing.
    reason_code : str
        Stable upper-case code used by explanations, e.g. ``PRICE_FAR_BELOW_MARKET``.
    signal : str
        Group name; features derived from the same signal share it, so an explanation
        shows at most one reason per signal.
    text_en, text_zh : str
        Reason sentence templates with a ``{value}`` field and a format spec, e.g.
        ``"Median price is {value:.0%} of the market price for the same products"``.
    needs : tuple of str
        Optional tables (``products``, ``complaints``, ``labels``) the feature cannot be
        computed without; when one is not given the feature is filled with ``fill``.
    point_in_time_needs : tuple of str
        Optional columns, as ``"table.column"`` (e.g. ``"orders.refunded_at"``), without
        which the feature reads the latest state of a row (the order's latest ``status``)
        instead of its state at ``as_of``: it is then *not point-in-time* and
        :func:`~riskscore.features.build_training_set` leaves it out by default.

    Examples
    --------
    >>> spec = FeatureSpec(
    ...     name="demo__ratio", family="demo", entity="seller", description="A ratio.",
    ...     unit="ratio", fill=float("nan"), reason_code="DEMO_RATIO", signal="demo",
    ...     text_en="Ratio is {value:.0%}", text_zh="比例为{value:.0%}",
    ... )
    >>> spec.render(0.25)
    'Ratio is 25%'
    >>> spec.render(0.25, language="zh")
    '比例为25%'
    """

    name: str
    family: str
    entity: Entity
    description: str
    unit: str
    fill: float
    reason_code: str
    signal: str
    text_en: str
    text_zh: str
    needs: tuple[str, ...] = ()
    point_in_time_needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not _NAME.match(self.name) or not self.name.startswith(f"{self.family}__"):
            problems.append(f"name must look like '{self.family}__<feature>'")
        if self.entity not in ENTITIES:
            problems.append(f"entity must be one of {ENTITIES}")
        if not _CODE.match(self.reason_code):
            problems.append("reason_code must be upper-case letters, digits and '_'")
        for lang in ("text_en", "text_zh"):
            if "{value" not in getattr(self, lang):
                problems.append(f"{lang} must contain a '{{value...}}' field")
        for need in self.point_in_time_needs:
            if need.count(".") != 1:
                problems.append(f"point_in_time_needs entry {need!r} must be 'table.column'")
        if problems:
            raise ValueError(f"FeatureSpec {self.name!r}: " + "; ".join(problems))

    def render(self, value: float, language: Literal["en", "zh"] = "en") -> str:
        """Return the reason sentence for ``value`` in ``language`` ("en" or "zh")."""
        template = self.text_zh if language == "zh" else self.text_en
        return template.format(value=value)

    def fill_is_nan(self) -> bool:
        """Whether missing inputs leave the feature NaN (rather than a number)."""
        return math.isnan(self.fill)


def windowed(
    windows: Iterable[int], **template: str | float | tuple[str, ...]
) -> list[FeatureSpec]:
    """Expand one template into a :class:`FeatureSpec` per look-back window.

    ``{w}`` in the string fields is replaced by the window in days; ``{value...}``
    fields in the reason texts are left for rendering.

    Examples
    --------
    >>> specs = windowed(
    ...     (7, 30), name="demo__orders_{w}d", family="demo", entity="seller",
    ...     description="Orders in the last {w} days.", unit="count", fill=0.0,
    ...     reason_code="DEMO_ORDERS_{w}D", signal="demo",
    ...     text_en="{value:.0f} orders in {w} days", text_zh="{w}天内{value:.0f}笔订单",
    ... )
    >>> [s.name for s in specs]
    ['demo__orders_7d', 'demo__orders_30d']
    >>> specs[1].render(4)
    '4 orders in 30 days'
    """
    out = []
    for w in windows:
        values = {
            k: v.replace("{w}", str(w)) if isinstance(v, str) else v for k, v in template.items()
        }
        out.append(FeatureSpec(**values))  # type: ignore[arg-type]
    return out


#: Signature of a family's compute function.
ComputeFn = Callable[["AsOfContext"], "nw.LazyFrame"]


@dataclass(frozen=True)
class Family:
    """One family of features for one entity, and how to compute it.

    Parameters
    ----------
    name : str
        Family name, the prefix of its feature names.
    entity : {"seller", "listing"}
        The entity it describes.
    specs : callable
        ``specs(windows) -> tuple of FeatureSpec``, in output order.
    compute : callable
        ``compute(ctx) -> narwhals.LazyFrame`` with the entity key column
        (``seller_id`` / ``listing_id``) and one column per available feature, at most
        one row per entity. ``ctx`` (:class:`~riskscore.features._context.AsOfContext`)
        holds the tables filtered to rows strictly before ``as_of``, the parameters, and
        the outputs of the families named in ``after``.
    after : tuple of str
        Families (same entity) whose outputs this one reads from ``ctx.computed``;
        they run first.
    description : str
        One line for docs.
    """

    name: str
    entity: Entity
    specs: Callable[[tuple[int, ...]], tuple[FeatureSpec, ...]]
    compute: ComputeFn
    after: tuple[str, ...] = ()
    description: str = ""

    def feature_specs(self, windows: Sequence[int] = DEFAULT_WINDOWS) -> tuple[FeatureSpec, ...]:
        """Return this family's specs for ``windows``."""
        return self.specs(tuple(windows))


def families(entity: Entity | None = None) -> list[Family]:
    """Return the registered families (optionally of one entity) in run order.

    Families come in :data:`FAMILY_MODULES` order, except that a family runs after the
    families it names in ``after``.

    Examples
    --------
    >>> [f.name for f in families("seller")][:3]
    ['pricing', 'complaints', 'buyers']
    """
    registered: list[Family] = []
    for module in FAMILY_MODULES:
        registered.extend(importlib.import_module(f"riskscore.features.{module}").FAMILIES)
    if entity is not None:
        registered = [f for f in registered if f.entity == entity]
    return _run_order(registered)


def _run_order(registered: list[Family]) -> list[Family]:
    by_key = {(f.entity, f.name): f for f in registered}
    ordered: list[Family] = []
    visiting: set[tuple[str, str]] = set()

    def visit(family: Family) -> None:
        key = (family.entity, family.name)
        if family in ordered:
            return
        if key in visiting:
            raise FeatureError(f"feature families depend on each other in a cycle at {key}")
        visiting.add(key)
        for dep in family.after:
            if (family.entity, dep) not in by_key:
                raise FeatureError(
                    f"family '{family.name}' runs after '{dep}', which is not a registered "
                    f"{family.entity} family; add its module to FAMILY_MODULES"
                )
            visit(by_key[(family.entity, dep)])
        visiting.discard(key)
        ordered.append(family)

    for family in registered:
        visit(family)
    return ordered


def feature_specs(entity: Entity, windows: Sequence[int] = DEFAULT_WINDOWS) -> list[FeatureSpec]:
    """Return the specs of the columns a row of ``entity`` has, in column order.

    A seller row has the seller features. A listing row has the listing's own features
    followed by its seller's features.

    Examples
    --------
    >>> feature_specs("seller")[0].name
    'pricing__median_price_ratio'
    >>> feature_specs("listing")[0].name
    'pricing__price_ratio'
    """
    if entity not in ENTITIES:
        raise FeatureError(f"unknown entity {entity!r}; use one of {', '.join(ENTITIES)}")
    own = [s for f in _catalog_order(entity) for s in f.feature_specs(windows)]
    if entity == "listing":
        own += feature_specs("seller", windows)
    return own


def _catalog_order(entity: Entity) -> list[Family]:
    """Families of ``entity`` in registry order (not run order)."""
    out: list[Family] = []
    for module in FAMILY_MODULES:
        fams = importlib.import_module(f"riskscore.features.{module}").FAMILIES
        out.extend(f for f in fams if f.entity == entity)
    return out


_COLUMNS = tuple(f.name for f in fields(FeatureSpec))


def _given_columns(tables: Mapping[str, Any]) -> set[str]:
    """Return ``"table.column"`` for every column of the given tables (any library)."""
    import narwhals as nw

    out: set[str] = set()
    for name, native in tables.items():
        try:
            names = nw.from_native(native).collect_schema().names()
        except TypeError:
            names = list(getattr(native, "columns", []))
        out.update(f"{name}.{c}" for c in names)
    return out


def _point_in_time(specs: Sequence[FeatureSpec], tables: Mapping[str, Any] | None) -> list[bool]:
    given = _given_columns(tables) if tables is not None else set()
    return [all(need in given for need in s.point_in_time_needs) for s in specs]


def not_point_in_time(
    tables: Mapping[str, Any],
    entity: Entity | None = None,
    windows: Sequence[int] = DEFAULT_WINDOWS,
) -> list[str]:
    """Return the features that would read the latest state of ``tables``, not the past.

    A feature such as ``complaints__refund_rate`` counts an order as refunded at
    ``as_of`` only when its ``refunded_at`` is before ``as_of``. When the orders table has
    no ``refunded_at`` column, the rate falls back to each order's latest ``status``, which
    at a past cutoff includes refunds that happened later: a look-ahead that flatters the
    feature in training and that scoring today cannot reproduce.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables (pandas, Polars, DuckDB, PySpark); only their columns are read.
    entity : {"seller", "listing"}, optional
        Only the columns a row of this entity has; default every feature.
    windows : sequence of int, default (7, 30, 90)
        Look-back windows in days.

    Returns
    -------
    list of str
        Feature names in catalog order; empty when every feature is point-in-time.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=30, seed=0)
    >>> not_point_in_time(tables)
    []
    >>> latest_only = dict(tables, orders=tables["orders"].drop(columns=["refunded_at"]))
    >>> not_point_in_time(latest_only)
    ['complaints__refund_rate']
    """
    if not isinstance(tables, Mapping):
        raise fail(
            "tables",
            "not_point_in_time",
            "a mapping of table name to DataFrame",
            tables,
            fix="Pass the marketplace tables whose columns should be judged.",
            error=FeatureError,
        )
    table = catalog(entity, windows, tables=tables)
    return table.loc[~table["point_in_time"], "name"].drop_duplicates().tolist()


def _check_windows(windows: Any, where: str) -> tuple[int, ...]:
    """Return ``windows`` as a tuple; raise unless it holds positive whole numbers of days."""
    expected = "a sequence of positive whole numbers of days, e.g. (7, 30, 90)"
    if isinstance(windows, str | bytes) or not isinstance(windows, Iterable):
        raise fail("windows", where, expected, windows, error=FeatureError)
    values = tuple(windows)
    if not all(
        isinstance(w, numbers.Integral) and not isinstance(w, bool) and int(w) >= 1 for w in values
    ):
        raise fail("windows", where, expected, windows, error=FeatureError)
    return tuple(int(w) for w in values)


def catalog(
    entity: Entity | None = None,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    tables: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Return one row per feature with its declaration.

    Parameters
    ----------
    entity : {"seller", "listing"}, optional
        Only the columns a row of this entity has, in column order (a listing row has
        its own features followed by its seller's). Default: every feature once, seller
        features first.
    windows : sequence of int, default (7, 30, 90)
        Look-back windows in days; windowed features appear once per window.
    tables : mapping of str to DataFrame, optional
        Marketplace tables to judge ``point_in_time`` against (only their columns are
        read). Default: none, so ``point_in_time`` is True only for features that are
        point-in-time on any table meeting the contract's required columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, family, entity, description, unit, fill, reason_code, signal,
        text_en, text_zh, needs, point_in_time_needs, point_in_time`` (``needs``:
        comma-separated optional tables; ``point_in_time_needs``: comma-separated
        ``table.column`` the feature needs to be computed as of the cutoff rather than
        from the latest state; ``point_in_time``: whether those columns are given).

    Examples
    --------
    >>> table = catalog()
    >>> table.loc[table["name"] == "pricing__median_price_ratio", "reason_code"].item()
    'PRICE_FAR_BELOW_MARKET'
    >>> list(table.columns[:4])
    ['name', 'family', 'entity', 'description']
    >>> table.loc[~table["point_in_time"], "point_in_time_needs"].tolist()
    ['orders.refunded_at', 'orders.cancelled_at']
    """
    windows = _check_windows(windows, "catalog")
    if tables is not None and not isinstance(tables, Mapping):
        raise fail(
            "tables",
            "catalog",
            "a mapping of table name to DataFrame, or None",
            tables,
            error=FeatureError,
        )
    if entity is None:
        specs = feature_specs("seller", windows) + [
            s for f in _catalog_order("listing") for s in f.feature_specs(windows)
        ]
    else:
        specs = feature_specs(entity, windows)
    rows = [{c: getattr(s, c) for c in _COLUMNS} for s in specs]
    table = pd.DataFrame(rows, columns=list(_COLUMNS))
    for joined in ("needs", "point_in_time_needs"):
        table[joined] = table[joined].map(",".join).astype("str")
    table["fill"] = table["fill"].astype("float64")
    table["point_in_time"] = pd.Series(_point_in_time(specs, tables), dtype="bool")
    return table
