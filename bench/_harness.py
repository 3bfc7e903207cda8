"""A tiny harness: benchmarks register by name and return a dict of measured numbers.

A benchmark is a function with no arguments returning ``dict[str, float | int | str]``
(seconds, rows/s, peak memory, ratios against a named baseline). Register it with
``@benchmark("name")`` in a module ``bench/bench_<area>.py``; ``python -m bench.run``
imports every such module, runs the named (or all) benchmarks and writes
``bench/results/<name>.json`` plus a Markdown summary ``bench/results/README.md``.

Timings on a shared machine are noisy: compare ratios measured in the same run, never
absolute seconds across runs.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
Result = dict[str, Any]

REGISTRY: dict[str, Callable[[], Result]] = {}


def benchmark(name: str) -> Callable[[Callable[[], Result]], Callable[[], Result]]:
    """Register ``func`` as the benchmark ``name``."""

    def deco(func: Callable[[], Result]) -> Callable[[], Result]:
        if name in REGISTRY:
            raise ValueError(f"benchmark {name!r} is registered twice")
        REGISTRY[name] = func
        return func

    return deco


class Timer:
    """Wall-clock seconds of a ``with`` block, in ``.seconds``."""

    seconds: float = 0.0

    def __enter__(self) -> Timer:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


def best_of(func: Callable[[], Any], repeat: int = 3) -> float:
    """Return the fastest of ``repeat`` runs of ``func``, in seconds."""
    times = []
    for _ in range(repeat):
        with Timer() as t:
            func()
        times.append(t.seconds)
    return min(times)


def repeats() -> int:
    """Runs per measurement where a benchmark repeats (``RISKSCORE_BENCH_REPEATS``, 3).

    The machine is shared and noisy: such benchmarks interleave their runs and report
    the median (:func:`median_run`) with the range.
    """
    return max(1, int(os.environ.get("RISKSCORE_BENCH_REPEATS", "3")))


def median_run(runs: Sequence[T], seconds: Callable[[T], float]) -> T:
    """The run with the median ``seconds(run)`` (the lower middle one of an even count).

    Examples
    --------
    >>> median_run([(3.0, "a"), (1.0, "b"), (2.0, "c")], lambda run: run[0])
    (2.0, 'c')
    """
    ordered = sorted(runs, key=seconds)
    return ordered[(len(ordered) - 1) // 2]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def single_thread() -> Iterator[None]:
    """Limit BLAS/OpenMP pools to one thread inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


def scale() -> float:
    """Scale factor from ``RISKSCORE_BENCH_SCALE`` (default 1.0) for quick smoke runs."""
    return float(os.environ.get("RISKSCORE_BENCH_SCALE", "1.0"))


def latency(func: Callable[[Any], Any], args: list[Any], n: int) -> dict[str, float]:
    """p50 / p99 / mean of ``func(arg)`` over ``n`` calls cycling through ``args``, in µs.

    The first 50 arguments are run once before timing (warm caches, lazy loads).
    """
    import numpy as np

    for a in args[:50]:
        func(a)
    times = np.empty(n)
    for i in range(n):
        a = args[i % len(args)]
        t0 = time.perf_counter_ns()
        func(a)
        times[i] = time.perf_counter_ns() - t0
    return {
        "p50_us": round(float(np.percentile(times, 50)) / 1e3, 1),
        "p99_us": round(float(np.percentile(times, 99)) / 1e3, 1),
        "mean_us": round(float(times.mean()) / 1e3, 1),
    }


def spark_session(app: str) -> Any:
    """A local Spark session for benchmarks: all cores, UTC, 16 shuffle partitions, 6 GB.

    :func:`riskscore._spark.local_spark_session` with the benchmark's settings; the
    workers run this interpreter. Stop the session when done.
    """
    from riskscore._spark import local_spark_session

    return local_spark_session(
        app,
        conf={"spark.sql.shuffle.partitions": "16", "spark.driver.memory": "6g"},
        log_level="ERROR",
        reuse_active=False,
    )
