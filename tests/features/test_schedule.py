"""Families of an unscoped Spark build run side by side; elsewhere in plan order.

The families here are small ones of the test's own, so each test can see the schedule:
two families that wait for each other at a barrier can only both finish when they run
at the same time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import narwhals as nw
import pandas as pd
import pyarrow as pa
import pytest

from riskscore.exceptions import FeatureError
from riskscore.features._catalog import Family, FeatureSpec
from riskscore.features._context import AsOfContext
from riskscore.features._schedule import run_families, side_by_side

AS_OF = datetime(2024, 6, 1)
SELLERS = pd.DataFrame(
    {
        "seller_id": ["a", "b", "c"],
        "registered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    }
)


def _family(
    name: str, compute: Callable[[AsOfContext], Any], after: tuple[str, ...] = ()
) -> Family:
    spec = FeatureSpec(
        name=f"{name}__x",
        family=name,
        entity="seller",
        description="A test value.",
        unit="count",
        fill=0.0,
        reason_code="TEST",
        signal="test",
        text_en="{value}",
        text_zh="{value}",
    )
    return Family(
        name=name, entity="seller", specs=lambda windows: (spec,), compute=compute, after=after
    )


def _value(ctx: AsOfContext, name: str, value: float) -> nw.LazyFrame:
    return ctx.sellers().with_columns(nw.lit(value, dtype=nw.Float64).alias(f"{name}__x"))


def _spark_ctx(spark: Any) -> AsOfContext:
    native = spark.createDataFrame(pa.Table.from_pandas(SELLERS, preserve_index=False))
    return AsOfContext(
        {"sellers": nw.from_native(native).lazy()}, as_of=AS_OF, entity="seller", aware_time=True
    )


def _pandas_ctx() -> AsOfContext:
    return AsOfContext({"sellers": nw.from_native(SELLERS).lazy()}, as_of=AS_OF, entity="seller")


def _values(frame: nw.LazyFrame) -> dict[str, float]:
    table = frame.collect().to_pandas()
    return dict(zip(table["seller_id"], table.iloc[:, 1], strict=True))


@pytest.mark.spark
def test_spark_families_run_side_by_side(spark) -> None:
    meet = threading.Barrier(2, timeout=60)
    threads: dict[str, str] = {}
    groups: dict[str, str | None] = {}

    def meeting(name: str, value: float) -> Callable[[AsOfContext], nw.LazyFrame]:
        def compute(ctx: AsOfContext) -> nw.LazyFrame:
            threads[name] = threading.current_thread().name
            groups[name] = spark.sparkContext.getLocalProperty("spark.jobGroup.id")
            meet.wait()  # broken (an error) unless the other family runs at the same time
            return _value(ctx, name, value)

        return compute

    ctx = _spark_ctx(spark)
    assert side_by_side(ctx)
    spark.sparkContext.setJobGroup("nightly-features", "the caller's job group")
    try:
        out = run_families(
            ctx, [_family("one", meeting("one", 1.0)), _family("two", meeting("two", 2.0))], "t"
        )
    finally:
        for key in ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel"):
            spark.sparkContext.setLocalProperty(key, None)  # the group ends with the test
    # the caller's job group reaches the families' threads (to cancel or watch them)
    assert groups == {"one": "nightly-features", "two": "nightly-features"}
    assert [_values(frame) for frame in out] == [
        {"a": 1.0, "b": 1.0, "c": 1.0},
        {"a": 2.0, "b": 2.0, "c": 2.0},
    ]
    assert threads["one"] != threads["two"]
    assert threading.current_thread().name not in threads.values()
    assert ctx.pending == {}


@pytest.mark.spark
def test_a_family_reading_another_waits_for_it_after_its_own_work(spark) -> None:
    reader_started = threading.Event()

    def first(ctx: AsOfContext) -> nw.LazyFrame:
        # finishes only once the reader has begun: in plan order this would time out
        assert reader_started.wait(timeout=60), "the reader did not start side by side"
        time.sleep(0.2)
        return _value(ctx, "first", 7.0)

    def reader(ctx: AsOfContext) -> nw.LazyFrame:
        reader_started.set()
        read = ctx.output("first").select("seller_id", nw.col("first__x").alias("reader__x"))
        return read.with_columns(nw.col("reader__x") + 1.0)

    ctx = _spark_ctx(spark)
    plan = [_family("first", first), _family("reader", reader, after=("first",))]
    out = run_families(ctx, plan, "t")
    assert _values(out[1]) == {"a": 8.0, "b": 8.0, "c": 8.0}


@pytest.mark.spark
def test_the_first_error_in_plan_order_is_raised_after_every_family_stopped(spark) -> None:
    finished: list[str] = []

    def broken(ctx: AsOfContext) -> nw.LazyFrame:
        time.sleep(0.2)
        raise FeatureError("the first family broke")

    def reader(ctx: AsOfContext) -> nw.LazyFrame:
        return ctx.output("broken").select("seller_id", nw.col("broken__x").alias("reader__x"))

    def slow(ctx: AsOfContext) -> nw.LazyFrame:
        time.sleep(0.5)
        finished.append("slow")
        return _value(ctx, "slow", 1.0)

    ctx = _spark_ctx(spark)
    plan = [
        _family("broken", broken),
        _family("reader", reader, after=("broken",)),
        _family("slow", slow),
    ]
    with pytest.raises(FeatureError, match="the first family broke"):
        run_families(ctx, plan, "t")
    assert finished == ["slow"]
    assert ctx.pending == {}
    assert ("seller", "slow") in ctx.computed and ("seller", "broken") not in ctx.computed


@pytest.mark.spark
def test_families_side_by_side_build_a_shared_memo_once(spark) -> None:
    meet = threading.Barrier(2, timeout=60)
    builds: list[str] = []

    def build() -> dict[str, float]:
        builds.append(threading.current_thread().name)
        time.sleep(0.3)  # the other family asks meanwhile
        return {"a": 3.0}

    def sharing(name: str) -> Callable[[AsOfContext], nw.LazyFrame]:
        def compute(ctx: AsOfContext) -> nw.LazyFrame:
            meet.wait()
            shared = ctx.memo("shared", build)
            return _value(ctx, name, shared["a"])

        return compute

    ctx = _spark_ctx(spark)
    out = run_families(ctx, [_family("one", sharing("one")), _family("two", sharing("two"))], "t")
    assert len(builds) == 1
    assert [_values(frame)["a"] for frame in out] == [3.0, 3.0]


def test_other_backends_run_the_families_in_plan_order_on_the_callers_thread() -> None:
    calls: list[tuple[str, str]] = []

    def recording(name: str) -> Callable[[AsOfContext], nw.LazyFrame]:
        def compute(ctx: AsOfContext) -> nw.LazyFrame:
            calls.append((name, threading.current_thread().name))
            return _value(ctx, name, 1.0)

        return compute

    ctx = _pandas_ctx()
    assert not side_by_side(ctx)
    plan = [_family(name, recording(name)) for name in ("one", "two", "three")]
    out = run_families(ctx, plan, "t")
    me = threading.current_thread().name
    assert calls == [("one", me), ("two", me), ("three", me)]
    assert [_values(frame) for frame in out] == [{"a": 1.0, "b": 1.0, "c": 1.0}] * 3


def test_a_memo_built_from_a_running_family_refuses_instead_of_waiting() -> None:
    """Inside a memo build, waiting for a running family would hold the memo's lock for
    as long as the family runs (and a family reaching the same memo would never finish):
    the build stops with the fix. Outside a memo, or once the family is done, the output
    is waited for and read."""
    from concurrent.futures import Future

    ctx = _pandas_ctx()
    running: Future[Any] = Future()
    ctx.pending[("seller", "slow")] = running
    with pytest.raises(FeatureError, match=r"memo 'from-slow'.*after=\('slow',\)"):
        ctx.memo("from-slow", lambda: ctx.output("slow"), materialise=False)
    assert "from-slow" not in ctx._memo  # nothing kept; a later build can try again
    outside: list[nw.LazyFrame] = []
    waiter = threading.Thread(target=lambda: outside.append(ctx.output("slow")))
    waiter.start()
    time.sleep(0.2)
    assert waiter.is_alive()  # outside any memo it waits
    ctx.computed[("seller", "slow")] = _value(ctx, "slow", 7.0)
    running.set_result(None)
    waiter.join(timeout=10)
    assert outside and outside[0].collect()["slow__x"].to_list() == [7.0, 7.0, 7.0]
    got = ctx.memo("from-slow", lambda: ctx.output("slow"), materialise=False)
    assert got.collect()["slow__x"].to_list() == [7.0, 7.0, 7.0]
