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
