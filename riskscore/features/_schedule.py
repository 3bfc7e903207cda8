"""Run a build's feature families: in plan order, or side by side on Spark.

On Spark a family is a chain of jobs the driver plans one after another. Between two
jobs, and in the many stages of one or two tasks (small aggregates, the seller web's
hand-off), the executors' cores wait. An unscoped build on Spark therefore starts
every family of its plan at once, each in its own driver thread. Spark runs jobs from
several threads, and the tasks of later jobs take the cores the earlier ones leave free.
A family that reads another's output (:meth:`AsOfContext.output`, e.g. the network's
neighbour means of the pricing and complaint features) waits for it there, after its
own work (the network's links) is done.

Other backends run the families in plan order: pandas, Polars and DuckDB already use
every core inside one family and would only compete for memory. Scoped builds (a few
ids) are quick and run in order too. The result does not depend on the schedule: each
family reads the same tables and the same outputs either way
(``tests/features/test_schedule.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

import narwhals as nw
import narwhals.dependencies as nwd

from riskscore._progress import track
from riskscore.features._catalog import Family
from riskscore.features._context import AsOfContext, run_family

__all__ = ["run_families", "side_by_side"]


def side_by_side(ctx: AsOfContext) -> bool:
    """Whether ``ctx``'s families run side by side: an unscoped build on Spark.

    Examples
    --------
    >>> from datetime import datetime
    >>> import narwhals as nw, pandas as pd
    >>> sellers = nw.from_native(pd.DataFrame({"seller_id": ["a"]})).lazy()
    >>> side_by_side(AsOfContext({"sellers": sellers}, as_of=datetime(2024, 1, 1),
    ...                          entity="seller"))
    False
    """
    if ctx.scoped or not ctx.frames:
        return False
    return bool(nwd.is_pyspark_dataframe(_native(ctx)))


def _native(ctx: AsOfContext) -> Any:
    """Return the native frame of one of ``ctx``'s tables (all are on one backend)."""
    return next(iter(ctx.frames.values())).to_native()


def run_families(ctx: AsOfContext, plan: Sequence[Family], label: str) -> list[nw.LazyFrame]:
    """Compute every family of ``plan`` on ``ctx``; return their filled outputs in plan order.

    ``plan`` lists a family after the families it reads (as the build's planner orders
    it). Full builds report each family as it finishes under ``label``; on Spark, where
    the families run side by side (:func:`side_by_side`), a line's time is the wait since
    the previous family finished. The first error in plan order is raised, after every
    family has stopped.

    Examples
    --------
    >>> from datetime import datetime
    >>> import narwhals as nw
    >>> from riskscore.datasets import make_marketplace
    >>> from riskscore.features._catalog import families
    >>> tables = make_marketplace(n_sellers=30, seed=0)
    >>> ctx = AsOfContext({k: nw.from_native(v).lazy() for k, v in tables.items()},
    ...                   as_of=datetime(2024, 6, 30), entity="seller")
    >>> plan = [f for f in families("seller") if f.name in ("account", "pricing")]
    >>> outputs = run_families(ctx, plan, "features")
    >>> [out.collect_schema().names()[1].split("__")[0] for out in outputs]
    ['pricing', 'account']
    """
    if ctx.scoped:  # a few ids: quick, and reported by the caller
        return [run_family(ctx, family) for family in plan]
    if not side_by_side(ctx) or len(plan) < 2:
        return [run_family(ctx, f) for f in track(plan, label, describe=_name)]
    return _side_by_side(ctx, plan, label)


def _name(family: Family) -> str:
    return family.name


def _side_by_side(ctx: AsOfContext, plan: Sequence[Family], label: str) -> list[nw.LazyFrame]:
    from pyspark.util import inheritable_thread_target

    # each thread keeps the caller's Spark job group, scheduler pool and job tags
    session = _native(ctx).sparkSession
    target: Callable[[AsOfContext, Family], nw.LazyFrame] = inheritable_thread_target(session)(
        run_family
    )
    futures: dict[Future[Any], Family] = {}
    with ThreadPoolExecutor(len(plan), thread_name_prefix="riskscore-family") as pool:
        try:
            for family in plan:
                # registered before any family that reads it is submitted
                future = pool.submit(target, ctx, family)
                ctx.pending[(family.entity, family.name)] = future
                futures[future] = family
            for _done in track(
                as_completed(futures),
                label,
                total=len(plan),
                describe=lambda done: futures[done].name,
            ):
                pass
        finally:
            for family in plan:
                ctx.pending.pop((family.entity, family.name), None)
    for future in futures:  # submitted, so kept, in plan order
        error = future.exception()
        if error is not None:
            raise error
    return [future.result() for future in futures]
