"""Grouped aggregation with exact medians: one narwhals call, or one shuffle on Spark.

Families aggregate with :func:`aggregate` where a group's exact median is needed (the
pricing family's market prices, category spreads and per-seller medians). On pandas,
Polars and DuckDB it is narwhals' ``group_by(...).agg(...)``, nothing more. On Spark it
partitions the rows by the keys, so each group's rows meet in one partition, and runs
pandas' own grouped aggregation once per partition on Arrow batches (``mapInArrow``:
one Python call per partition, not a per-row UDF). The values are pandas': a median is
the mean of the two middle values, as on the pandas backend, to the last bit.

Why on Spark: an exact median there is ``percentile``, an aggregate holding a count per
distinct value, planned as a partial and a final aggregation with a shuffle and a job
each; the pricing family's five medians were five such plans joined back to the
listings (25 Spark jobs, 11-15 s at 100k sellers against 1.5 s on pandas). One shuffle
and one vectorised call per partition computes every statistic of a grouping at once
(``docs/architecture.md``, "Spark plans").

Value columns must be ``Float64`` (cast them first), so every backend returns the same
types: ``Float64`` for ``median``, ``mean``, ``min``, ``max`` and ``sum``; an integer
count for ``count`` (non-null values) and ``len`` (rows, nulls too). Rows with a null key
form their own group, as in narwhals. A group with no values has a null median, mean,
min and max, and a sum of 0, on every backend (narwhals' rule; pandas' too). The deviation
ops (``median_abs_dev``, ``mean_abs_dev``) need keys without nulls: a null key's rows
find no group median on Polars and DuckDB, whose joins never match nulls.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

import narwhals as nw
import narwhals.dependencies as nwd

from riskscore.exceptions import FeatureError

__all__ = ["OPS", "Op", "aggregate"]

Op = Literal[
    "median", "mean", "min", "max", "sum", "count", "len", "median_abs_dev", "mean_abs_dev"
]

#: The aggregations :func:`aggregate` knows. ``median_abs_dev`` and ``mean_abs_dev`` are
#: the median and the mean of the absolute deviations from the group's median (the
#: spread of a robust z-score), computed in the same pass on Spark.
OPS: tuple[Op, ...] = (
    "median",
    "mean",
    "min",
    "max",
    "sum",
    "count",
    "len",
    "median_abs_dev",
    "mean_abs_dev",
)

#: pandas' name of each aggregation (the Spark partitions run pandas).
_PANDAS = {"len": "size", "median_abs_dev": "median", "mean_abs_dev": "mean"}

#: The deviation ops: read ``|value - group median|`` instead of the value.
_DEVIATION = {"median_abs_dev": "median", "mean_abs_dev": "mean"}


def _expr(column: str, op: Op) -> nw.Expr:
    if op == "len":
        return nw.len()
    return getattr(nw.col(column), _DEVIATION.get(op, op))()


def _deviation_column(column: str) -> str:
    return f"__abs_dev_{column}"


def aggregate(
    frame: nw.LazyFrame, keys: Sequence[str], aggs: Mapping[str, tuple[str, Op]]
) -> nw.LazyFrame:
    """Return one row per group of ``keys`` with the aggregations ``aggs``.

    Parameters
    ----------
    frame : narwhals.LazyFrame
        The rows to aggregate, on any backend.
    keys : sequence of str
        The grouping columns.
    aggs : mapping of str to (column, op)
        Output name to the ``Float64`` column it reads and one of :data:`OPS` (``len``
        counts rows and reads no column; give any column of ``frame``).

    Returns
    -------
    narwhals.LazyFrame
        The keys, then one column per entry of ``aggs``, in no particular row order.

    Raises
    ------
    FeatureError
        When an op is unknown or a value column is missing or not ``Float64``.

    Examples
    --------
    >>> import narwhals as nw, pandas as pd
    >>> rows = nw.from_native(pd.DataFrame({"k": ["a", "a", "b"], "x": [1.0, 4.0, 2.0]}))
    >>> got = aggregate(rows.lazy(), ["k"], {"mid": ("x", "median"), "n": ("x", "len")})
    >>> got.collect().sort("k").rows()
    [('a', 2.5, 2), ('b', 2.0, 1)]
    """
    schema = frame.collect_schema()
    problems = [
        f"{name!r}: op {op!r} is not one of {', '.join(OPS)}"
        for name, (_, op) in aggs.items()
        if op not in OPS
    ]
    problems += [
        f"{name!r}: column {column!r} is {schema.get(column, 'missing')}, not Float64"
        for name, (column, op) in aggs.items()
        if op != "len" and schema.get(column) != nw.Float64
    ]
    if problems:
        raise FeatureError(
            f"cannot aggregate by {list(keys)}: {'; '.join(problems)}; cast value columns "
            "with nw.col(...).cast(nw.Float64) first"
        )
    native = frame.to_native()
    if nwd.is_pyspark_dataframe(native):
        return nw.from_native(_spark_aggregate(native, list(keys), dict(aggs)))
    deviations = sorted({c for c, op in aggs.values() if op in _DEVIATION})
    if deviations:
        centres = frame.group_by(*keys).agg(
            *(nw.col(c).median().alias(f"__centre_{c}") for c in deviations)
        )
        frame = frame.join(centres, on=list(keys), how="left").with_columns(
            *(
                (nw.col(c) - nw.col(f"__centre_{c}")).abs().alias(_deviation_column(c))
                for c in deviations
            )
        )
    exprs = [
        _expr(_deviation_column(c) if op in _DEVIATION else c, op).alias(name)
        for name, (c, op) in aggs.items()
    ]
    return frame.group_by(*keys).agg(*exprs)


def _spark_aggregate(native: Any, keys: list[str], aggs: dict[str, tuple[str, Op]]) -> Any:
    """Return the Spark plan: partition by ``keys``, then pandas' aggregation per partition."""
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    fields = [native.schema[key] for key in keys]
    fields += [
        StructField(name, LongType() if op in ("count", "len") else DoubleType())
        for name, (_, op) in aggs.items()
    ]
    schema = StructType(fields)
    columns = list(dict.fromkeys([*keys, *(column for column, _ in aggs.values())]))
    from pyspark.sql.pandas.types import to_arrow_schema

    run = functools.partial(_aggregate_partition, keys, aggs, to_arrow_schema(schema))
    return native.select(*columns).repartition(*keys).mapInArrow(run, schema)


def _aggregate_partition(
    keys: list[str], aggs: dict[str, tuple[str, Op]], target: Any, batches: Iterator[Any]
) -> Iterator[Any]:
    """Aggregate one Spark partition (every row of its groups) with pandas."""
    import pyarrow as pa

    rows = list(batches)
    if not rows or sum(batch.num_rows for batch in rows) == 0:
        return
    data = pa.Table.from_batches(rows).to_pandas()
    for column in sorted({c for c, op in aggs.values() if op in _DEVIATION}):
        centre = data.groupby(keys, dropna=False, sort=False)[column].transform("median")
        data[_deviation_column(column)] = (data[column] - centre).abs()
    named = {
        name: (_deviation_column(column) if op in _DEVIATION else column, _PANDAS.get(op, op))
        for name, (column, op) in aggs.items()
    }
    out = data.groupby(keys, dropna=False, sort=False).agg(**named).reset_index()
    yield from pa.Table.from_pandas(out, schema=target, preserve_index=False).to_batches()
