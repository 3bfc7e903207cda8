"""Grouped aggregation with exact medians: one narwhals call, or one shuffle on Spark.

Families aggregate with :func:`aggregate` where a group's exact median is needed (the
pricing family's per-seller medians), and give every row its group's statistics with
:func:`attach` (the pricing family's market prices and category spreads: one shuffle
per call on Spark, the statistics computed where the rows meet, nothing collected). On pandas,
Polars and DuckDB it is narwhals' ``group_by(...).agg(...)``, nothing more. On Spark it
partitions the rows by the keys, so each group's rows meet in one partition, and runs
pandas' own grouped aggregation once per partition on Arrow batches (``mapInArrow``:
one Python call per partition, not a per-row UDF). The values are pandas': a median is
the mean of the two middle values, as on the pandas backend, to the last bit.

Why on Spark: an exact median there is ``percentile``, an aggregate holding a count per
distinct value, planned as a partial and a final aggregation with a shuffle and a job
each; the pricing family's five medians were five such plans joined back to the
listings (25 Spark jobs, 11-15 s at 100k sellers against 1.5 s on pandas). One shuffle
and one vectorised call per partition computes every statistic of a grouping at once;
:func:`aggregate_small` computes several groupings of the same rows in one pass and
hands small results back as broadcastable local relations (``docs/architecture.md``,
"Spark plans"). Its rows are counted first (equal keys and values once, with their
count: Spark's own partial aggregation, before any row leaves its partition) and the
partition calls aggregate that histogram (:func:`weighted_aggregate`): medians, minima,
maxima and counts are the rows' own to the last bit; sums and means are summed per
distinct value, so they may differ from pandas' in the last bits.

The price on Spark: every row of a group meets in one Python call, so the largest group
must fit one worker's memory (the pricing family's largest: a category's listings, about
40 MB of three columns for 783,223 listings at 100k sellers). Spark's ``percentile``
holds a count per distinct value instead, which is smaller only where values repeat.

Value columns must be ``Float64`` (cast them first), so every backend returns the same
types: ``Float64`` for ``median``, ``mean``, ``min``, ``max`` and ``sum``; an integer
count for ``count`` (non-null values) and ``len`` (rows, nulls too). Rows with a null key
form their own group, as in narwhals. A group with no values has a null median, mean,
min and max, and a sum of 0, on every backend (narwhals' rule; pandas' too). The deviation
ops (``median_abs_dev``, ``mean_abs_dev``) need keys without nulls: a null key's rows
find no group median on Polars and DuckDB, whose joins never match nulls.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import narwhals as nw
import narwhals.dependencies as nwd
import numpy as np

from riskscore._spark import collect_python_pass, partition_table
from riskscore.exceptions import FeatureError

__all__ = [
    "OPS",
    "Columns",
    "Grouping",
    "Op",
    "Step",
    "aggregate",
    "aggregate_small",
    "apply_steps",
    "attach",
    "weighted_aggregate",
]

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

#: The deviation ops: read ``|value - group median|`` instead of the value.
_DEVIATION = {"median_abs_dev": "median", "mean_abs_dev": "mean"}

#: pandas' name of each aggregation (the Spark partitions run pandas).
_PANDAS = {"len": "size", **_DEVIATION}


def _expr(column: str, op: Op) -> nw.Expr:
    if op == "len":
        return nw.len()
    return getattr(nw.col(column), _DEVIATION.get(op, op))()


#: One grouping of :func:`aggregate_small`: the keys, and output name to (column, op).
Grouping = tuple[Sequence[str], Mapping[str, tuple[str, Op]]]


@dataclasses.dataclass(frozen=True)
class Columns:
    """A step of :func:`attach`: columns added (or replaced) by narwhals expressions.

    The expressions are evaluated together, as one ``with_columns`` call; a column that
    reads another one added here belongs in a later step. On Spark they run in pandas
    inside the partition call, so they must be picklable (narwhals expressions are).

    Examples
    --------
    >>> import pandas as pd
    >>> step = Columns((nw.col("a").abs().alias("b"),))
    >>> nw.from_native(pd.DataFrame({"a": [-1.5]})).with_columns(*step.exprs)["b"].to_list()
    [1.5]
    """

    exprs: tuple[nw.Expr, ...]


#: One step of :func:`attach`: a grouping whose statistics every row of its group gets,
#: or :class:`Columns`.
Step = Grouping | Columns


def _deviation_column(column: str) -> str:
    return f"__abs_dev_{column}"


#: The row count of a distinct row in :func:`aggregate_small`'s Spark pass.
_WEIGHT = "__rows"


def _read(aggs: Mapping[str, tuple[str, Op]]) -> list[str]:
    """Return the value columns ``aggs`` reads (``len`` reads none)."""
    return list(dict.fromkeys(column for column, op in aggs.values() if op != "len"))


def _check(schema: nw.Schema, keys: Sequence[str], aggs: Mapping[str, tuple[str, Op]]) -> None:
    """Raise a :class:`FeatureError` naming every unknown op and non-``Float64`` column."""
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
    _check(frame.collect_schema(), keys, aggs)
    native = frame.to_native()
    if nwd.is_pyspark_dataframe(native):
        return nw.from_native(_spark_aggregate(native, list(keys), dict(aggs)))
    return _narwhals_aggregate(frame, keys, aggs)


def _narwhals_aggregate(
    frame: nw.LazyFrame, keys: Sequence[str], aggs: Mapping[str, tuple[str, Op]]
) -> nw.LazyFrame:
    """Return :func:`aggregate` on pandas, Polars or DuckDB (``aggs`` checked)."""
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


def aggregate_small(
    frame: nw.LazyFrame, groupings: Mapping[str, Grouping], what: str, *, lazy: bool = False
) -> dict[str, nw.LazyFrame]:
    """Return :func:`aggregate` of ``frame`` for each grouping, in one pass on Spark.

    For statistics with few rows (one per product, brand or category) computed from the
    same rows and joined back to many. On Spark the rows are read once and copied once
    per grouping (the grouping's keys and values kept), equal copies are counted by
    Spark's partial aggregation before the shuffle, the counted rows go to one
    partition per group, :func:`weighted_aggregate` aggregates every grouping of a
    partition, and the results are collected and handed back as local relations.
    Spark cannot know an aggregate's size before running it (its estimate follows the
    rows aggregated), so joining a lazy statistic back plans a sort-merge join that
    shuffles the large side too; a local relation's size is exact, and the planner
    broadcasts it under ``spark.sql.autoBroadcastJoinThreshold`` (10 MB by default).
    The results pass through the driver: keep this for thousands of rows, not one row
    per seller. Other backends: :func:`aggregate` per grouping. No column may be a key
    of one grouping and a value of another.

    With ``lazy=True`` the Spark pass is not run here: each frame handed back is the
    pass's plan, marked for broadcast (``pyspark.sql.functions.broadcast``), so the
    query that joins it runs the pass as one of its own stages (before the stage that
    joins it, beside any that does not), instead of as a query of its own, planned and
    run before that query with a round trip through the driver (about 0.3 s of the
    pricing family's 3.0-3.3 s at 100k sellers). For a statistic read once, inside a
    larger plan: every query reading a lazy result runs the pass again, and the size
    the planner estimates for it follows the rows aggregated, so only the mark makes it
    broadcast (kept with a ``localCheckpoint``, the mark is lost; collected, a local
    relation's exact size keeps it broadcastable).

    Parameters
    ----------
    frame : narwhals.LazyFrame
        The rows to aggregate, on any backend.
    groupings : mapping of str to (keys, aggs)
        Result name to the ``keys`` and ``aggs`` of :func:`aggregate`.
    what : str
        What the statistics are, for the error raised when an executor cannot run
        riskscore's Python (with ``lazy=True``, the error of the query that reads them).
    lazy : bool, default False
        On Spark, hand back the pass's plan marked for broadcast instead of running it
        now. Unused on other backends.

    Returns
    -------
    dict of str to narwhals.LazyFrame
        One frame per grouping, as :func:`aggregate` returns it.

    Raises
    ------
    FeatureError
        As :func:`aggregate`, and when a grouping's key is another grouping's value.

    Examples
    --------
    >>> import narwhals as nw, pandas as pd
    >>> rows = nw.from_native(pd.DataFrame({"a": ["x", "x", "y"], "b": [1, 2, 2],
    ...                                     "v": [1.0, 3.0, 5.0]})).lazy()
    >>> got = aggregate_small(rows, {"by_a": (["a"], {"mid": ("v", "median")}),
    ...                              "by_b": (["b"], {"n": ("v", "len")})}, "a test")
    >>> got["by_a"].collect().sort("a").rows(), got["by_b"].collect().sort("b").rows()
    ([('x', 2.0), ('y', 5.0)], [(1, 1), (2, 2)])
    """
    schema = frame.collect_schema()
    for keys, aggs in groupings.values():
        _check(schema, keys, aggs)
    all_keys = {k for keys, _ in groupings.values() for k in keys}
    both = sorted(
        {c for _, aggs in groupings.values() for c, op in aggs.values() if op != "len"} & all_keys
    )
    if both:
        raise FeatureError(
            f"cannot aggregate {', '.join(map(repr, both))} in one pass: a grouping's key "
            "is another grouping's value (Spark's copies null the keys of other "
            "groupings); aggregate them in separate calls"
        )
    native = frame.to_native()
    if not nwd.is_pyspark_dataframe(native):
        return {
            name: _narwhals_aggregate(frame, keys, aggs) for name, (keys, aggs) in groupings.items()
        }
    return _spark_aggregate_small(native, groupings, what, lazy)


def attach(
    frame: nw.LazyFrame,
    by: Sequence[str],
    steps: Sequence[Step],
    keep: Sequence[str] | None = None,
) -> nw.LazyFrame:
    """Return ``frame`` with each step applied in order: group statistics or new columns.

    A grouping step ``(keys, aggs)`` gives every row the :func:`aggregate` values of its
    group, as new columns (a window aggregation); a row with a null key gets nulls, on
    every backend. A :class:`Columns` step adds columns. On pandas, Polars and DuckDB
    each grouping is :func:`aggregate` joined back on its keys. On Spark the whole call
    is one shuffle: the rows are partitioned by ``by``, which every grouping's keys must
    include, so each group's rows meet in one partition, and one ``mapInArrow`` call per
    partition runs the same steps in pandas (the statistics are pandas' own, bit for
    bit, and nothing is collected to the driver). Statistics that depend on earlier ones
    (a median of a ratio to a median) take one call, not one pass each, when they share
    ``by``. The largest partition group (all rows with one value of ``by``) must fit
    one Spark worker's memory.

    Parameters
    ----------
    frame : narwhals.LazyFrame
        The rows, on any backend.
    by : sequence of str
        The keys every grouping step shares: Spark's partition keys. Unused elsewhere.
    steps : sequence of Step
        Groupings ``(keys, aggs)`` as for :func:`aggregate` (``Float64`` value columns,
        output names new to the frame) and :class:`Columns`, applied in order.
    keep : sequence of str, optional
        The columns to return, in order (all by default). On Spark only these leave the
        partition calls, so naming them keeps the rows that move on narrow.

    Returns
    -------
    narwhals.LazyFrame
        Every row of ``frame`` (in no particular order) with the steps' columns added,
        or the ``keep`` columns of it. Types as :func:`aggregate` gives them, but on
        pandas a ``count`` or ``len`` is ``Float64`` when a row has a null key (pandas'
        missing integer).

    Raises
    ------
    FeatureError
        When ``by`` is empty, a grouping's keys miss part of ``by``, or as
        :func:`aggregate`.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = nw.from_native(pd.DataFrame({"k": ["a", "a", "b", None],
    ...                                     "x": [1.0, 4.0, 2.0, 8.0]})).lazy()
    >>> got = attach(rows, ["k"], [(["k"], {"mid": ("x", "median")}),
    ...                            Columns(((nw.col("x") / nw.col("mid")).alias("r"),))])
    >>> got.collect().sort("x").rows()
    [('a', 1.0, 2.5, 0.4), ('b', 2.0, 2.0, 1.0), ('a', 4.0, 2.5, 1.6), (nan, 8.0, nan, nan)]
    """
    if not by:
        raise FeatureError("attach needs partition keys (by); got none")
    for step in steps:
        if not isinstance(step, Columns):
            missing = [k for k in by if k not in step[0]]
            if missing:
                raise FeatureError(
                    f"cannot attach the statistics by {list(step[0])} in a pass partitioned "
                    f"by {list(by)}: the keys miss {missing}; attach them in a separate "
                    "call, or partition by keys every grouping shares"
                )
    native = frame.to_native()
    columns = None if keep is None else list(keep)
    if not nwd.is_pyspark_dataframe(native):
        return apply_steps(frame, steps, columns)
    return nw.from_native(_spark_attach(native, list(by), list(steps), columns))


def apply_steps(
    frame: nw.LazyFrame, steps: Sequence[Step], keep: Sequence[str] | None = None
) -> nw.LazyFrame:
    """Return ``frame`` with :func:`attach`'s steps applied by narwhals, on any backend.

    :func:`attach` off Spark: each grouping is :func:`aggregate` joined back on its keys
    (a row with a null key gets nulls), each :class:`Columns` step one ``with_columns``.
    On Spark it is a plain narwhals plan (one aggregation and join per grouping): for
    :class:`Columns` steps alone, or where a shuffle per grouping is acceptable.

    Parameters
    ----------
    frame : narwhals.LazyFrame
        The rows, on any backend.
    steps : sequence of Step
        As for :func:`attach`.
    keep : sequence of str, optional
        The columns to return, in order (all by default).

    Returns
    -------
    narwhals.LazyFrame

    Raises
    ------
    FeatureError
        As :func:`aggregate`, and when a grouping's output name is already a column.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = nw.from_native(pd.DataFrame({"x": [-2.0, 3.0]})).lazy()
    >>> apply_steps(rows, [Columns((nw.col("x").abs().alias("a"),))]).collect().rows()
    [(-2.0, 2.0), (3.0, 3.0)]
    """
    for step in steps:
        if isinstance(step, Columns):
            frame = frame.with_columns(*step.exprs)
            continue
        keys, aggs = list(step[0]), dict(step[1])
        schema = frame.collect_schema()
        _check(schema, keys, aggs)
        taken = [name for name in aggs if name in schema]
        if taken:
            raise FeatureError(
                f"cannot attach {taken} by {keys}: already columns of the frame; give the "
                "statistics new names"
            )
        known = ~nw.any_horizontal(*(nw.col(k).is_null() for k in keys), ignore_nulls=False)
        stats = _narwhals_aggregate(frame, keys, aggs).filter(known)
        frame = frame.join(stats, on=keys, how="left")
    return frame if keep is None else frame.select(*keep)


def _spark_attach(native: Any, by: list[str], steps: list[Step], keep: list[str] | None) -> Any:
    """Return :func:`attach`'s Spark plan: partition by ``by``, the steps per partition."""
    schema = _attach_schema(native, steps, keep)
    compute = functools.partial(_pandas_attach, steps=steps, keep=keep)
    run = functools.partial(_pandas_partition, compute, _arrow_schema(native, schema))
    return native.repartition(*by).mapInArrow(run, schema)


def _arrow_schema(native: Any, schema: Any) -> Any:
    """Return ``schema`` in Arrow as Spark's Arrow passes give it: the session's time zone."""
    from pyspark.sql.pandas.types import to_arrow_schema

    zone = native.sparkSession.conf.get("spark.sql.session.timeZone")
    return to_arrow_schema(schema, timezone=zone)


def _attach_schema(native: Any, steps: list[Step], keep: list[str] | None) -> Any:
    """Return the Spark schema of :func:`attach`'s result on ``native``, without a job.

    The partition code itself run on an empty pandas frame of the input's schema: the
    types its output has (an input column kept as it is keeps its Spark field). Where
    pandas cannot tell a type from no rows (an object column), Spark's analysis of
    :func:`apply_steps` over an empty relation decides: the same schema, at the cost of
    a few hundred milliseconds of py4j calls per call (measured at 100k sellers).
    """
    import pyarrow as pa
    from pyspark.sql.pandas.types import from_arrow_type
    from pyspark.sql.types import StructField, StructType

    given = _arrow_schema(native, native.schema)
    out = _pandas_attach(given.empty_table().to_pandas(), steps, keep)
    fields = []
    for field in pa.Schema.from_pandas(out, preserve_index=False):
        if field.name in native.columns and given.field(field.name).type == field.type:
            fields.append(native.schema[field.name])
        elif pa.types.is_null(field.type):
            empty = nw.from_native(native.sparkSession.createDataFrame([], native.schema))
            return apply_steps(empty, steps, keep).to_native().schema
        else:
            fields.append(StructField(field.name, from_arrow_type(field.type), True))
    return StructType(fields)


def _pandas_attach(data: Any, steps: Sequence[Step], keep: list[str] | None) -> Any:
    """Return :func:`attach`'s steps applied to a pandas frame holding whole groups.

    The groupings are pandas' ``transform`` (the group's value on each of its rows, the
    same pandas computation as the aggregation :func:`apply_steps` joins back); the
    :class:`Columns` steps are narwhals on pandas, as on the pandas backend.
    """
    import pandas as pd

    for step in steps:
        if isinstance(step, Columns):
            data = nw.from_native(data).with_columns(*step.exprs).to_native()
            continue
        keys, aggs = list(step[0]), dict(step[1])
        groups = [data[k] for k in keys]
        unknown = pd.concat([g.isna() for g in groups], axis=1).any(axis=1).to_numpy()
        # each column's deviations from its group median once, whatever reads them
        deviations = {
            column: (
                data[column]
                - data[column].groupby(groups, dropna=False, sort=False).transform("median")
            ).abs()
            for column in sorted({c for c, op in aggs.values() if op in _DEVIATION})
        }
        added = {}
        for name, (column, op) in aggs.items():
            values = deviations[column] if op in _DEVIATION else data[column]
            got = values.groupby(groups, dropna=False, sort=False).transform(_PANDAS.get(op, op))
            if op in ("count", "len"):
                got = got.astype("Int64")
            added[name] = got.mask(unknown) if unknown.any() else got
        data = data.assign(**added)
    return data if keep is None else data[keep]


def _spark_aggregate_small(
    native: Any, groupings: Mapping[str, Grouping], what: str, lazy: bool
) -> dict[str, nw.LazyFrame]:
    """Run :func:`aggregate_small` on Spark: one shuffle, collected as local relations.

    With ``lazy``: the pass's plan, one slice per grouping, each marked for broadcast.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import IntegerType, StructField, StructType

    names = list(groupings)
    plans = [(list(groupings[n][0]), dict(groupings[n][1])) for n in names]
    keys = list(dict.fromkeys(k for ks, _ in plans for k in ks))
    values = list(dict.fromkeys(c for _, aggs in plans for c in _read(aggs)))
    schemas = [_output_schema(native, ks, aggs) for ks, aggs in plans]
    # one copy of each row per grouping: the grouping's keys and values kept, others null
    part = F.col("__grouping")
    copies = native.select(
        *keys, *values, F.explode(F.array(*map(F.lit, range(len(names))))).alias("__grouping")
    )

    def only_for(column: str, used: list[int]) -> Any:
        null = F.lit(None).cast(native.schema[column].dataType)
        return F.when(part.isin(used), F.col(column)).otherwise(null).alias(column)

    copies = copies.select(
        part,
        *(only_for(k, [i for i, (ks, _) in enumerate(plans) if k in ks]) for k in keys),
        *(only_for(v, [i for i, (_, a) in enumerate(plans) if v in _read(a)]) for v in values),
    )
    # equal rows counted once, by Spark's own aggregation (partial before its shuffle)
    counted = copies.groupBy(part, *keys, *values).agg(F.count(F.lit(1)).alias(_WEIGHT))
    fields = [StructField("__grouping", IntegerType(), False)]
    fields += [StructField(k, native.schema[k].dataType) for k in keys]  # null elsewhere
    fields += [
        StructField(f"__{i}_{field.name}", field.dataType)
        for i, (schema, (ks, _)) in enumerate(zip(schemas, plans, strict=True))
        for field in schema.fields[len(ks) :]
    ]
    combined = StructType(fields)
    run = functools.partial(_aggregate_small_partition, plans, _arrow_schema(native, combined))
    plan = counted.repartition("__grouping", *keys).mapInArrow(run, combined)
    if lazy:
        return {
            name: nw.from_native(
                F.broadcast(
                    plan.filter(part == i).select(
                        *ks, *(F.col(f"__{i}_{a}").alias(a) for a in aggs)
                    )
                )
            )
            for i, (name, (ks, aggs)) in enumerate(zip(names, plans, strict=True))
        }
    rows = collect_python_pass(plan, what)
    session = native.sparkSession
    out = {}
    for i, (name, schema, (ks, aggs)) in enumerate(zip(names, schemas, plans, strict=True)):
        columns = [*ks, *(f"__{i}_{a}" for a in aggs)]
        mine = rows.loc[rows["__grouping"] == i, columns].set_axis(schema.names, axis=1)
        out[name] = nw.from_native(session.createDataFrame(mine, schema=schema))
    return out


def _output_schema(native: Any, keys: list[str], aggs: dict[str, tuple[str, Op]]) -> Any:
    """Return the Spark schema of :func:`aggregate`'s result: keys, then Double or Long."""
    from pyspark.sql.types import DoubleType, LongType, StructField, StructType

    fields = [native.schema[key] for key in keys]
    fields += [
        StructField(name, LongType() if op in ("count", "len") else DoubleType())
        for name, (_, op) in aggs.items()
    ]
    return StructType(fields)


def _spark_aggregate(native: Any, keys: list[str], aggs: dict[str, tuple[str, Op]]) -> Any:
    """Return the Spark plan: partition by ``keys``, then pandas' aggregation per partition."""
    schema = _output_schema(native, keys, aggs)
    columns = list(dict.fromkeys([*keys, *(column for column, _ in aggs.values())]))
    compute = functools.partial(_pandas_aggregate, keys=keys, aggs=aggs)
    run = functools.partial(_pandas_partition, compute, _arrow_schema(native, schema))
    return native.select(*columns).repartition(*keys).mapInArrow(run, schema)


def _pandas_aggregate(data: Any, keys: list[str], aggs: dict[str, tuple[str, Op]]) -> Any:
    """Return pandas' aggregation of ``data`` (every row of its groups), keys as columns."""
    for column in sorted({c for c, op in aggs.values() if op in _DEVIATION}):
        centre = data.groupby(keys, dropna=False, sort=False)[column].transform("median")
        data[_deviation_column(column)] = (data[column] - centre).abs()
    named = {
        name: (_deviation_column(column) if op in _DEVIATION else column, _PANDAS.get(op, op))
        for name, (column, op) in aggs.items()
    }
    return data.groupby(keys, dropna=False, sort=False).agg(**named).reset_index()


def _weighted_median(codes: np.ndarray, x: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
    """Return each group's median of ``x``, each value counted ``w`` times (NaN: none).

    The median of the values laid out in order: the middle one, or the mean of the two
    middle ones (computed as pandas does, ``(a + b) / 2``, so the same bits).
    """
    ok = ~np.isnan(x) & (w > 0)
    c, v, ww = codes[ok], x[ok], w[ok]
    order = np.lexsort((v, c))
    c, v, ww = c[order], v[order], ww[order]
    ends = np.cumsum(ww)  # the rank after each distinct value, over all groups in order
    total = np.bincount(c, weights=ww, minlength=n).astype(np.int64)
    before = np.cumsum(total) - total
    out = np.full(n, np.nan)
    has = total > 0
    low = np.searchsorted(ends, (before + (total - 1) // 2)[has], side="right")
    high = np.searchsorted(ends, (before + total // 2)[has], side="right")
    out[has] = np.where(low == high, v[low], (v[low] + v[high]) / 2)
    return out


def weighted_aggregate(
    data: Any, keys: list[str], aggs: Mapping[str, tuple[str, Op]], weight: str
) -> Any:
    """Return :func:`aggregate` of the rows ``data`` stands for: each row ``weight`` times.

    ``data`` is a pandas frame of distinct rows and their counts (a histogram). Medians,
    minima, maxima and counts are those of the rows it stands for exactly; sums and
    means are summed per distinct value, so they may differ from a sum over the rows in
    the last bits. Groups in order of first appearance, null keys kept.

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"k": ["a", "a", "b"], "x": [1.0, 4.0, 2.0], "n": [3, 1, 2]})
    >>> weighted_aggregate(rows, ["k"], {"mid": ("x", "median"), "rows": ("x", "len")}, "n")
       k  mid  rows
    0  a  1.0     4
    1  b  2.0     2
    """
    import pandas as pd

    codes = data.groupby(keys, dropna=False, sort=False).ngroup().to_numpy(dtype=np.int64)
    n = int(codes.max()) + 1 if codes.size else 0
    out = data[keys].iloc[np.unique(codes, return_index=True)[1]].reset_index(drop=True)
    w = data[weight].to_numpy(dtype=np.int64)
    value_of: dict[str, np.ndarray] = {}
    median_of: dict[str, np.ndarray] = {}

    def values(column: str) -> np.ndarray:
        if column not in value_of:
            value_of[column] = data[column].to_numpy(dtype=np.float64, na_value=np.nan)
        return value_of[column]

    def median(column: str) -> np.ndarray:
        if column not in median_of:
            median_of[column] = _weighted_median(codes, values(column), w, n)
        return median_of[column]

    for name, (column, op) in aggs.items():
        if op == "len":
            out[name] = np.bincount(codes, weights=w, minlength=n).astype(np.int64)
            continue
        if op == "median":
            out[name] = median(column)
            continue
        x = values(column)
        if op in _DEVIATION:
            x = np.abs(x - median(column)[codes])
        if op == "median_abs_dev":
            out[name] = _weighted_median(codes, x, w, n)
        elif op in ("min", "max"):  # of the distinct values: the counts do not matter
            got = getattr(pd.Series(x).groupby(codes), op)()
            out[name] = got.reindex(range(n)).to_numpy(dtype=np.float64)
        else:  # count, sum, mean, mean_abs_dev: each value counted w times
            present = ~np.isnan(x)
            counted = np.bincount(codes[present], weights=w[present], minlength=n)
            summed = np.bincount(codes[present], weights=x[present] * w[present], minlength=n)
            if op == "count":
                out[name] = counted.astype(np.int64)
            elif op == "sum":
                out[name] = summed
            else:
                out[name] = np.divide(summed, counted, out=np.full(n, np.nan), where=counted > 0)
    return out


def _pandas_partition(
    compute: Callable[[Any], Any], target: Any, batches: Iterator[Any]
) -> Iterator[Any]:
    """Run ``compute`` on one Spark partition (every row of its groups) as a pandas frame.

    The partition function of :func:`aggregate` and :func:`attach` on Spark; ``compute``
    returns a pandas frame, handed back as batches of the Arrow schema ``target``.
    """
    import pyarrow as pa

    table = partition_table(batches)
    if table is None:
        return
    out = compute(table.to_pandas())
    yield from pa.Table.from_pandas(out, schema=target, preserve_index=False).to_batches()


def _aggregate_small_partition(
    plans: list[tuple[list[str], dict[str, tuple[str, Op]]]], target: Any, batches: Iterator[Any]
) -> Iterator[Any]:
    """Aggregate one partition of :func:`aggregate_small`'s counted copies, grouping by grouping."""
    import pyarrow as pa

    table = partition_table(batches)
    if table is None:
        return
    data = table.to_pandas()
    for i, (keys, aggs) in enumerate(plans):
        mine = data[data["__grouping"] == i]
        if mine.empty:
            continue
        out = weighted_aggregate(mine, keys, aggs, _WEIGHT).rename(
            columns={name: f"__{i}_{name}" for name in aggs}
        )
        got = pa.Table.from_pandas(out, preserve_index=False)
        columns = []
        for field in target:
            if field.name == "__grouping":
                columns.append(pa.array([i] * len(out), field.type))
            elif field.name in out.columns:
                columns.append(got.column(field.name).cast(field.type))
            else:
                columns.append(pa.nulls(len(out), field.type))
        yield from pa.Table.from_arrays(columns, schema=target).to_batches()
