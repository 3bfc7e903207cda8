"""Grouped aggregation (``features._grouped.aggregate``): the same numbers on every backend.

The Spark path is its own code (a shuffle, then pandas per partition), so it is checked
against hand-computed values and against the narwhals path on random data; the other
backends are checked against the same hand-computed values.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import hypothesis.strategies as st
import narwhals as nw
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings

from riskscore.exceptions import FeatureError
from riskscore.features._grouped import Columns, aggregate, aggregate_small, attach

#: Groups: "a" has an even count (median = mean of the middle two), "b" one value and a
#: null, "c" only nulls, and the null key is a group of its own.
ROWS = pd.DataFrame(
    {
        "k": ["a", "a", "a", "a", "b", "b", "c", None, None],
        "x": [4.0, 1.0, 3.0, 10.0, 2.0, None, None, 7.0, 5.0],
    }
)
AGGS: dict[str, Any] = {
    "mid": ("x", "median"),
    "avg": ("x", "mean"),
    "lo": ("x", "min"),
    "hi": ("x", "max"),
    "total": ("x", "sum"),
    "values": ("x", "count"),
    "rows": ("x", "len"),
}
#: k -> (mid, avg, lo, hi, total, values, rows), worked out by hand.
EXPECTED = {
    "a": (3.5, 4.5, 1.0, 10.0, 18.0, 4, 4),
    "b": (2.0, 2.0, 2.0, 2.0, 2.0, 1, 2),
    "c": (None, None, None, None, 0.0, 0, 1),
    None: (6.0, 6.0, 5.0, 7.0, 12.0, 2, 2),
}
BACKENDS = ["pandas", "polars", "duckdb", pytest.param("spark", marks=pytest.mark.spark)]


def _result(frame: nw.LazyFrame) -> dict[Any, tuple[Any, ...]]:
    """Rows keyed by the first column, NaN read as None (pandas' missing float)."""
    out = {}
    for row in frame.collect().rows():
        key, *values = (None if isinstance(v, float) and math.isnan(v) else v for v in row)
        out[key] = tuple(values)
    return out


@pytest.mark.parametrize("library", BACKENDS)
def test_aggregate_gives_the_hand_computed_values(library, in_library) -> None:
    # the sum of no values is 0 everywhere (narwhals' rule, which the Spark path follows)
    frame = nw.from_native(in_library({"rows": ROWS}, library)["rows"]).lazy()
    got = _result(aggregate(frame, ["k"], AGGS))
    assert got == EXPECTED
    schema = aggregate(frame, ["k"], AGGS).collect_schema()
    assert [schema[n] for n in ("mid", "avg", "lo", "hi", "total")] == [nw.Float64] * 5
    assert schema["values"].is_integer() and schema["rows"].is_integer()


@pytest.mark.parametrize("library", BACKENDS)
def test_aggregate_groups_by_several_keys(library, in_library) -> None:
    rows = pd.DataFrame({"a": [1, 1, 2, 1], "b": ["x", "y", "x", "x"], "v": [1.0, 2.0, 3.0, 5.0]})
    frame = nw.from_native(in_library({"rows": rows}, library)["rows"]).lazy()
    got = aggregate(frame, ["a", "b"], {"mid": ("v", "median")}).collect()
    assert sorted(got.rows()) == [(1, "x", 3.0), (1, "y", 2.0), (2, "x", 3.0)]


@pytest.mark.parametrize("library", BACKENDS)
def test_aggregate_of_no_rows_is_no_groups(library, in_library) -> None:
    frame = nw.from_native(in_library({"rows": ROWS.iloc[:0]}, library)["rows"]).lazy()
    got = aggregate(frame, ["k"], AGGS).collect()
    assert len(got) == 0
    assert got.columns == ["k", *AGGS]


def test_a_value_column_that_is_not_float64_is_refused() -> None:
    frame = nw.from_native(pd.DataFrame({"k": ["a"], "n": [1]})).lazy()
    with pytest.raises(FeatureError, match=r"'n' is Int64, not Float64.*cast\(nw.Float64\)"):
        aggregate(frame, ["k"], {"mid": ("n", "median")})
    with pytest.raises(FeatureError, match=r"'gone' is missing, not Float64"):
        aggregate(frame, ["k"], {"mid": ("gone", "median")})


def test_an_unknown_op_is_refused_with_the_known_ones() -> None:
    frame = nw.from_native(pd.DataFrame({"k": ["a"], "x": [1.0]})).lazy()
    with pytest.raises(FeatureError, match=r"op 'mode' is not one of median, mean"):
        aggregate(frame, ["k"], {"m": ("x", "mode")})  # type: ignore[dict-item]


def test_len_counts_rows_of_any_column_type() -> None:
    frame = nw.from_native(pd.DataFrame({"k": ["a", "a", "b"], "n": [1, None, 3]})).lazy()
    got = aggregate(frame, ["k"], {"rows": ("n", "len")}).collect()
    assert sorted(got.rows()) == [("a", 2), ("b", 1)]


groups = st.lists(
    st.tuples(
        st.sampled_from(["p", "q", "r", "s"]),
        st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
    ),
    max_size=40,
)


@given(groups)
@settings(max_examples=60, deadline=None)
def test_aggregate_matches_a_reference_per_group(rows) -> None:
    frame = nw.from_native(pd.DataFrame(rows, columns=["k", "x"]).astype({"x": "float64"}))
    got = _result(aggregate(frame.lazy(), ["k"], {"mid": ("x", "median"), "n": ("x", "count")}))
    expected: dict[Any, tuple[Any, ...]] = {}
    for key in {k for k, _ in rows}:
        values = [x for k, x in rows if k == key and x is not None]
        expected[key] = (statistics.median(values) if values else None, len(values))
    assert got.keys() == expected.keys()
    for key, (mid, n) in expected.items():
        assert got[key][1] == n
        assert (
            got[key][0] == pytest.approx(mid, rel=1e-12, abs=1e-9)
            if mid is not None
            else (got[key][0] is None)
        )


def _spread_rows(n: int, groups: int, values: int, scale: float, gap: int) -> pd.DataFrame:
    """``n`` rows: keys ``k`` (``groups`` of them) and ``c`` (x, y, null), values ``x``
    (``values`` distinct ones divided by ``scale``, every ``gap``-th missing)."""
    rng = pd.Series(range(n))
    return pd.DataFrame(
        {
            "k": (rng * 7919 % groups).astype("int64"),
            "c": (rng % 3).map({0: "x", 1: "y", 2: None}),
            "x": ((rng * 104729 % values) / scale).where(rng % gap != 0),
        }
    )


@pytest.mark.spark
def test_spark_aggregate_equals_pandas_on_many_partitions(spark) -> None:
    rows = _spread_rows(5000, groups=613, values=10007, scale=7.0, gap=11)
    aggs: dict[str, Any] = {"mid": ("x", "median"), "avg": ("x", "mean"), "n": ("x", "len")}
    expected = aggregate(nw.from_native(rows).lazy(), ["k", "c"], aggs).collect()
    native = spark.createDataFrame(pa.Table.from_pandas(rows, preserve_index=False))
    got = aggregate(nw.from_native(native.repartition(7)).lazy(), ["k", "c"], aggs).collect()
    order = ["k", "c"]
    left = expected.to_pandas().sort_values(order, na_position="first").reset_index(drop=True)
    right = got.to_pandas().sort_values(order, na_position="first").reset_index(drop=True)
    assert len(left) == 613 * 3
    pd.testing.assert_frame_equal(left, right, check_dtype=False, rtol=1e-12)


#: Two groupings of ROWS' rows plus a key "g": by "k", and by "g".
SMALL_ROWS = ROWS.assign(g=[1, 2, 1, 2, 1, 1, 2, 2, 1])
SMALL: dict[str, Any] = {
    "by_k": (["k"], {"mid": ("x", "median"), "rows": ("x", "len")}),
    "by_g": (["g"], {"hi": ("x", "max"), "spread": ("x", "median_abs_dev")}),
}


@pytest.mark.parametrize("library", BACKENDS)
def test_aggregate_small_equals_aggregate_per_grouping(library, in_library) -> None:
    frame = nw.from_native(in_library({"rows": SMALL_ROWS}, library)["rows"]).lazy()
    got = aggregate_small(frame, SMALL, "a test statistic")
    assert list(got) == ["by_k", "by_g"]
    assert _result(got["by_k"]) == {k: (v[0], v[6]) for k, v in EXPECTED.items()}
    # g=1: 4, 3, 2, 5 -> max 5, median 3.5, |dev| 0.5 0.5 1.5 1.5 -> 1.0
    # g=2: 1, 10, 7 (two nulls) -> max 10, median 7, |dev| 6 3 0 -> 3.0
    assert _result(got["by_g"]) == {1: (5.0, 1.0), 2: (10.0, 3.0)}
    assert got["by_g"].collect_schema()["g"].is_integer()


@pytest.mark.parametrize("library", BACKENDS)
def test_aggregate_small_of_no_rows_is_no_groups(library, in_library) -> None:
    frame = nw.from_native(in_library({"rows": SMALL_ROWS.iloc[:0]}, library)["rows"]).lazy()
    got = aggregate_small(frame, SMALL, "a test statistic")
    assert [len(f.collect()) for f in got.values()] == [0, 0]
    assert got["by_g"].collect().columns == ["g", "hi", "spread"]


def test_aggregate_small_checks_every_grouping() -> None:
    frame = nw.from_native(SMALL_ROWS).lazy()
    with pytest.raises(
        FeatureError, match=r"cannot aggregate by \['g'\]: 'hi': column 'g' is Int64"
    ):
        aggregate_small(frame, {**SMALL, "bad": (["g"], {"hi": ("g", "max")})}, "a test")


@pytest.mark.spark
def test_aggregate_small_on_spark_is_local_and_broadcast(spark) -> None:
    native = spark.createDataFrame(pa.Table.from_pandas(SMALL_ROWS, preserve_index=False))
    got = aggregate_small(nw.from_native(native).lazy(), SMALL, "a test statistic")
    small = got["by_k"].to_native()
    assert "LocalRelation" in small._jdf.queryExecution().optimizedPlan().toString()
    joined = native.join(small, on="k", how="left")
    joined.collect()
    assert "BroadcastHashJoin" in joined._jdf.queryExecution().executedPlan().toString()


@pytest.mark.spark
def test_lazy_aggregate_small_on_spark_runs_in_the_joining_query_and_is_broadcast(spark) -> None:
    native = spark.createDataFrame(pa.Table.from_pandas(SMALL_ROWS, preserve_index=False))
    frame = nw.from_native(native).lazy()
    tracker = spark.sparkContext.statusTracker()
    jobs = len(tracker.getJobIdsForGroup(None))
    got = aggregate_small(frame, SMALL, "a test statistic", lazy=True)
    assert len(tracker.getJobIdsForGroup(None)) == jobs  # nothing ran yet
    assert list(got) == ["by_k", "by_g"]
    assert _result(got["by_k"]) == {k: (v[0], v[6]) for k, v in EXPECTED.items()}
    assert _result(got["by_g"]) == {1: (5.0, 1.0), 2: (10.0, 3.0)}
    assert got["by_g"].collect_schema()["g"].is_integer()
    joined = native.join(got["by_k"].to_native(), on="k", how="left")
    joined.collect()
    plan = joined._jdf.queryExecution().executedPlan().toString()
    # the pass itself is in the joining query (a collected result is a local relation)
    assert "BroadcastHashJoin" in plan and "MapInArrow" in plan


def test_aggregate_small_refuses_a_key_that_is_another_groupings_value() -> None:
    frame = nw.from_native(SMALL_ROWS.assign(y=SMALL_ROWS["x"])).lazy()
    groupings: dict[str, Any] = {
        "by_y": (["y"], {"rows": ("x", "len")}),
        "by_k": (["k"], {"mid": ("y", "median")}),
    }
    with pytest.raises(FeatureError, match=r"cannot aggregate 'y' in one pass.*separate calls"):
        aggregate_small(frame, groupings, "a test")


#: Every op: AGGS' and the two deviation ops.
ALL_OPS: dict[str, Any] = {
    **AGGS,
    "mad": ("x", "median_abs_dev"),
    "mean_ad": ("x", "mean_abs_dev"),
}
#: Exact for the rows a histogram stands for; sums and means to rounding.
EXACT = ["mid", "lo", "hi", "values", "rows", "mad"]

histograms = st.lists(
    st.tuples(
        st.sampled_from(["p", "q", None]),
        st.one_of(st.none(), st.sampled_from([-2.5, 0.0, 1.0, 1.5, 7.25, 1e6])),
        st.integers(1, 5),
    ),
    max_size=30,
)


@given(histograms)
@settings(max_examples=80, deadline=None)
def test_weighted_aggregate_equals_the_rows_it_stands_for(rows) -> None:
    """A histogram's statistics are those of its rows laid out: the same bits but sums."""
    from riskscore.features._grouped import _pandas_aggregate, weighted_aggregate

    counted = pd.DataFrame(rows, columns=["k", "x", "n"]).astype({"x": "float64"})
    got = weighted_aggregate(counted, ["k"], ALL_OPS, "n")
    laid_out = counted.loc[counted.index.repeat(counted["n"])].drop(columns="n")
    want = _pandas_aggregate(laid_out.reset_index(drop=True), ["k"], ALL_OPS)
    order = ["k"]
    got = got.sort_values(order, na_position="first").reset_index(drop=True)
    want = want.sort_values(order, na_position="first").reset_index(drop=True)
    assert [k if isinstance(k, str) else None for k in got["k"]] == [
        k if isinstance(k, str) else None for k in want["k"]
    ]
    for name in EXACT:
        left, right = got[name].to_numpy(dtype=float), want[name].to_numpy(dtype=float)
        assert ((left == right) | (pd.isna(left) & pd.isna(right))).all(), name
    for name in ("avg", "total", "mean_ad"):
        pd.testing.assert_series_equal(got[name], want[name], check_dtype=False, rtol=1e-12)


@pytest.mark.spark
def test_spark_aggregate_small_counts_repeated_rows_once(spark) -> None:
    """Many repeated values over partitions: Spark's histogram pass gives pandas' numbers."""
    rows = _spread_rows(6000, groups=37, values=23, scale=4.0, gap=13)
    groupings: dict[str, Any] = {
        "by_k": (["k"], ALL_OPS),
        # a null key is a group (no deviation ops there: see the module docstring)
        "by_c": (["c"], {"mid": ("x", "median"), "rows": ("x", "len")}),
    }
    expected = aggregate_small(nw.from_native(rows).lazy(), groupings, "a test")
    native = spark.createDataFrame(pa.Table.from_pandas(rows, preserve_index=False))
    got = aggregate_small(nw.from_native(native.repartition(5)).lazy(), groupings, "a test")
    for name, (keys, _) in groupings.items():
        left = expected[name].collect().to_pandas().sort_values(keys, na_position="first")
        right = got[name].collect().to_pandas().sort_values(keys, na_position="first")
        left, right = left.reset_index(drop=True), right.reset_index(drop=True)
        assert len(left) == {"by_k": 37, "by_c": 3}[name]
        exact = [c for c in left.columns if c in EXACT or c in keys]
        pd.testing.assert_frame_equal(left[exact], right[exact], check_dtype=False, rtol=0)
        pd.testing.assert_frame_equal(left, right, check_dtype=False, rtol=1e-12)


#: An attach over ROWS: the "k" statistics, a ratio to the group median, then the median
#: of that ratio per "k" (a statistic of a statistic: one Spark pass, partitioned by "k").
ATTACH_STEPS: list[Any] = [
    (["k"], {"mid": ("x", "median"), "rows": ("x", "len"), "mad": ("x", "median_abs_dev")}),
    Columns(((nw.col("x") / nw.col("mid")).alias("r"),)),
    (["k"], {"r_mid": ("r", "median")}),
]


def _attached_rows(frame: nw.LazyFrame) -> list[tuple[Any, ...]]:
    """Rows sorted by x, NaN read as None, the key None when missing."""
    rows = []
    for row in frame.collect().rows():
        rows.append(tuple(None if isinstance(v, float) and math.isnan(v) else v for v in row))
    return sorted(rows, key=lambda r: (r[1] is None, r[1] if r[1] is not None else 0.0, str(r[0])))


@pytest.mark.parametrize("library", BACKENDS)
def test_attach_gives_every_row_its_groups_values(library, in_library) -> None:
    frame = nw.from_native(in_library({"rows": ROWS}, library)["rows"]).lazy()
    got = attach(frame, ["k"], ATTACH_STEPS, keep=["k", "x", "mid", "rows", "mad", "r", "r_mid"])
    # a: 4 1 3 10 -> median 3.5, |dev| 0.5 2.5 0.5 6.5 -> 1.5; r = x / 3.5, median of r 1.0
    # b: 2, null -> median 2, |dev| 0 -> 0; r 1 and null -> 1; c: nothing; null key: nulls
    a = 3.5
    assert _attached_rows(got) == [
        ("a", 1.0, a, 4, 1.5, 1.0 / a, 1.0),
        ("b", 2.0, 2.0, 2, 0.0, 1.0, 1.0),
        ("a", 3.0, a, 4, 1.5, 3.0 / a, 1.0),
        ("a", 4.0, a, 4, 1.5, 4.0 / a, 1.0),
        (None, 5.0, None, None, None, None, None),
        (None, 7.0, None, None, None, None, None),
        ("a", 10.0, a, 4, 1.5, 10.0 / a, 1.0),
        ("b", None, 2.0, 2, 0.0, None, 1.0),
        ("c", None, None, 1, None, None, None),
    ]
    # pandas holds a missing integer as a float (the null key's rows)
    assert got.collect_schema()["rows"].is_integer() or library == "pandas"


@pytest.mark.parametrize("library", BACKENDS)
def test_attach_without_keep_returns_every_column(library, in_library) -> None:
    frame = nw.from_native(in_library({"rows": SMALL_ROWS}, library)["rows"]).lazy()
    got = attach(frame, ["g"], [(["g", "k"], {"hi": ("x", "max")})])
    assert got.collect_schema().names() == ["k", "x", "g", "hi"]
    assert len(got.collect()) == len(SMALL_ROWS)


def test_attach_refuses_a_grouping_outside_its_partition_keys() -> None:
    frame = nw.from_native(SMALL_ROWS).lazy()
    with pytest.raises(FeatureError, match=r"by \['g'\] in a pass partitioned by \['k'\].*miss"):
        attach(frame, ["k"], [(["g"], {"hi": ("x", "max")})])
    with pytest.raises(FeatureError, match=r"needs partition keys"):
        attach(frame, [], [(["g"], {"hi": ("x", "max")})])
    with pytest.raises(FeatureError, match=r"'hi': column 'g' is Int64"):
        attach(frame, ["k"], [(["k"], {"hi": ("g", "max")})])
    with pytest.raises(FeatureError, match=r"cannot attach \['x'\] by \['k'\]: already columns"):
        attach(frame, ["k"], [(["k"], {"x": ("x", "max")})])


@given(histograms)
@settings(max_examples=60, deadline=None)
def test_attach_per_partition_equals_the_joined_aggregate(rows) -> None:
    """Spark's partition code (pandas transform) gives the pandas backend's bits."""
    from riskscore.features._grouped import _pandas_attach

    data = pd.DataFrame(rows, columns=["k", "x", "n"]).astype({"x": "float64"})
    steps: list[Any] = [
        (["k"], ALL_OPS),
        Columns(((nw.col("x") - nw.col("mid")).alias("d"),)),
        (["k"], {"d_mean": ("d", "mean")}),
    ]
    want = attach(nw.from_native(data).lazy(), ["k"], steps).collect().to_pandas()
    got = _pandas_attach(data.copy(), steps, None)
    order = ["x", "n", "k"]
    want = want.sort_values(order, na_position="first").reset_index(drop=True)
    got = got.sort_values(order, na_position="first").reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    for name in [*ALL_OPS, "d", "d_mean"]:
        left, right = got[name].to_numpy(dtype=float), want[name].to_numpy(dtype=float)
        assert ((left == right) | (pd.isna(left) & pd.isna(right))).all(), name


@pytest.mark.spark
def test_spark_attach_is_one_shuffle_and_equals_pandas(spark) -> None:
    rows = _spread_rows(5000, groups=613, values=10007, scale=7.0, gap=11)
    steps: list[Any] = [
        (["k", "c"], {"mid": ("x", "median"), "n": ("x", "len")}),
        Columns(((nw.col("x") - nw.col("mid")).abs().alias("d"),)),
        (["k"], {"spread": ("d", "median"), "avg": ("x", "mean")}),
    ]
    expected = attach(nw.from_native(rows).lazy(), ["k"], steps).collect().to_pandas()
    native = spark.createDataFrame(pa.Table.from_pandas(rows, preserve_index=False))
    got = attach(nw.from_native(native.repartition(7)).lazy(), ["k"], steps)
    plan = got.to_native()._jdf.queryExecution().executedPlan().toString()
    # one hash partitioning by k (Spark folds the user's repartition(7) into it)
    assert plan.count("Exchange") == 1 and "hashpartitioning(k" in plan
    order = ["k", "c", "x"]
    left = expected.sort_values(order, na_position="first").reset_index(drop=True)
    right = got.collect().to_pandas().sort_values(order, na_position="first")
    right = right.reset_index(drop=True)
    assert len(left) == 5000
    pd.testing.assert_frame_equal(left, right, check_dtype=False, rtol=1e-12)


@pytest.mark.spark
def test_spark_attach_schema_matches_sparks_own_analysis(spark) -> None:
    """The schema attach works out in pandas is the one Spark's analysis gives.

    Kept columns of every common type keep their Spark field (a decimal and a date,
    which an empty pandas frame holds as objects, included); a new column of a type an
    empty pandas frame cannot tell (a date made by a step) falls back to Spark.
    """
    import datetime as dt
    import decimal

    from pyspark.sql import types as T

    from riskscore.features._grouped import _attach_schema, apply_steps

    schema = T.StructType(
        [
            T.StructField("k", T.StringType()),
            T.StructField("i", T.IntegerType()),
            T.StructField("x", T.DoubleType()),
            T.StructField("t", T.TimestampType()),
            T.StructField("d", T.DateType()),
            T.StructField("m", T.DecimalType(10, 2)),
            T.StructField("b", T.BooleanType()),
        ]
    )
    day = dt.date(2024, 1, 1)
    when = dt.datetime(2024, 1, 1, 12)
    native = spark.createDataFrame(
        [("a", 1, 2.0, when, day, decimal.Decimal("1.50"), True)], schema
    )
    numbers: list[Any] = [
        (["k"], {"mid": ("x", "median"), "n": ("x", "count"), "rows": ("x", "len")}),
        Columns(((nw.col("x") > nw.col("mid")).alias("above"), (nw.col("i") * 2).alias("i2"))),
    ]
    worded = Columns((nw.col("k").str.to_uppercase().alias("K"), nw.col("d").alias("d2")))
    for steps in (numbers, [*numbers, worded]):
        want = apply_steps(nw.from_native(native), steps).to_native().schema
        got = _attach_schema(native, steps, None)
        assert [(f.name, f.dataType) for f in got] == [(f.name, f.dataType) for f in want]
    kept = _attach_schema(native, numbers, ["m", "d", "mid"])
    assert [f.dataType for f in kept] == [T.DecimalType(10, 2), T.DateType(), T.DoubleType()]
    # and the pass runs: the timestamp crosses to pandas and back (it failed before the
    # Arrow schema carried the session's time zone)
    (row,) = attach(nw.from_native(native), ["k"], numbers).to_native().collect()
    assert (row["t"], row["d"], row["m"]) == (when, day, decimal.Decimal("1.50"))
    assert (row["mid"], row["n"], row["rows"], row["above"], row["i2"]) == (2.0, 1, 1, False, 2)
