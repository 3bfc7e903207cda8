"""Benchmarks of the synthetic marketplace: simulate 100k sellers, validate 10M orders."""

from __future__ import annotations

import gc
import time
from functools import cache

import pandas as pd

from bench._harness import Result, benchmark, peak_rss_mb, scale


def _n_sellers() -> int:
    return max(100, int(100_000 * scale()))


@cache
def _marketplace() -> dict[str, pd.DataFrame]:
    from riskscore.datasets import make_marketplace

    return make_marketplace(n_sellers=_n_sellers())


@benchmark("simulate_100k")
def simulate_100k() -> Result:
    """make_marketplace(n_sellers=100_000): seconds, rows per table, peak RSS."""
    from riskscore.datasets import make_marketplace

    n = _n_sellers()
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    tables = make_marketplace(n_sellers=n)
    seconds = time.perf_counter() - t0
    # CPU seconds too: on a shared 2-core machine wall time depends on the neighbours.
    result: Result = {
        "n_sellers": n,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - c0, 2),
    }
    result.update({f"rows_{name}": len(frame) for name, frame in tables.items()})
    result["orders_per_second"] = round(len(tables["orders"]) / seconds)
    result["peak_rss_mb"] = round(peak_rss_mb())
    return result


@benchmark("validate_10m_orders")
def validate_10m_orders() -> Result:
    """riskscore.schema.validate on the 100k-seller marketplace (~10M orders): seconds."""
    from riskscore.schema import validate

    tables = _marketplace()
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    validate(tables)
    seconds = time.perf_counter() - t0
    return {
        "orders": len(tables["orders"]),
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - c0, 2),
        "peak_rss_mb": round(peak_rss_mb()),
    }


@benchmark("simulate_warmup")
def simulate_warmup() -> Result:
    """make_marketplace(n_sellers=20_000) with and without the steady-state warm-up.

    Best of 3 runs each (CPU seconds too: wall time on a shared machine depends on the
    neighbours); rows in the period and in all, and the cost ratios.
    """
    from riskscore.datasets import WARMUP_DAYS, make_marketplace

    n = max(100, int(20_000 * scale()))
    result: Result = {"n_sellers": n, "warmup_days": WARMUP_DAYS}
    for label, warmup in (("no_warmup", 0), ("warmup", WARMUP_DAYS)):
        best, best_cpu = float("inf"), float("inf")
        for _ in range(3):
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            tables = make_marketplace(n_sellers=n, warmup=warmup)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        orders = tables["orders"]["created_at"]
        result[f"{label}_seconds"] = round(best, 2)
        result[f"{label}_cpu_seconds"] = round(best_cpu, 2)
        result[f"{label}_orders"] = len(orders)
        result[f"{label}_orders_in_period"] = int((orders >= pd.Timestamp("2024-01-01")).sum())
        del tables, orders
    result["ratio_seconds"] = round(result["warmup_seconds"] / result["no_warmup_seconds"], 2)
    result["ratio_cpu_seconds"] = round(
        result["warmup_cpu_seconds"] / result["no_warmup_cpu_seconds"], 2
    )
    result["ratio_orders"] = round(result["warmup_orders"] / result["no_warmup_orders"], 2)
    result["peak_rss_mb"] = round(peak_rss_mb())
    return result
