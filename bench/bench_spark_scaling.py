"""Seller features on Spark ``local[2]`` against pandas: per family, and as the data doubles.

- ``spark_families``: each family built alone (``families=[name]``; ``network`` also
  builds the ``pricing`` and ``complaints`` features it reads, on both backends) on the
  same marketplace, Spark reading the Parquet files itself, the result collected to the
  driver through Arrow. Seconds on each backend, the ratio Spark / pandas per family
  in wall time and in CPU time (Spark: the driver plus its JVM; less sensitive to a
  shared machine's load than wall time), Spark jobs per family, and the largest
  difference from pandas. Each family runs ``$RISKSCORE_BENCH_REPEATS`` times (3 by
  default), pandas and Spark interleaved; the median run is reported, with the range of
  Spark's seconds and of the per-run ratios (``_min`` and ``_max``, as numbers).
- ``spark_scaling``: every family at three sizes, each twice the one before; seconds on
  both backends and the growth factor per doubling (1.0: constant, 2.0: linear,
  4.0: quadratic). The skewed case (one device shared by 10,000 sellers) is
  ``tests/features/test_network_skew.py``.
- ``spark_memory``: the peak resident memory of Spark's side alone, every family at
  ``RISKSCORE_BENCH_SPARK_MEMORY_SELLERS`` sellers (default 100,000): a fresh process
  that starts the session, builds from Parquet and collects the result, its memory
  sampled with its children's (the driver JVM, which in local mode runs the executors
  too, and any Python workers), against the in-memory size of the input tables as pandas
  holds them (the figure the other backends' ratios use). The two runs above build the
  pandas side in the same process, so their ``peak_rss_mb_python_with_pandas`` is the
  pandas build's, not the Spark driver's. Its heap is ``MEMORY_RUN_HEAP`` (2500m) unless
  ``RISKSCORE_BENCH_SPARK_DRIVER_MEMORY`` says otherwise.

Sizes: ``RISKSCORE_BENCH_SPARK_SELLERS`` (default 2000) for the family run, and
``RISKSCORE_BENCH_SPARK_SIZES`` (default ``2000,4000,8000``) for the scaling run, scaled
by ``RISKSCORE_BENCH_SCALE``. The driver's JVM heap is ``RISKSCORE_BENCH_SPARK_DRIVER_MEMORY``
(default ``4g``; the 100k run used ``8g``), stated in the results. The machine is shared:
compare the ratios within one run.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bench._harness import Result, benchmark, median_run, peak_rss_mb, repeats, scale
from bench.bench_features import TABLES, _folder, _PeakMemory

AS_OF = "2024-10-01"
FAMILIES = ["pricing", "complaints", "buyers", "account", "activity", "text", "network"]


def _sizes() -> list[int]:
    raw = os.environ.get("RISKSCORE_BENCH_SPARK_SIZES", "2000,4000,8000")
    return [max(200, int(int(n) * scale())) for n in raw.split(",")]


def family_inputs() -> tuple[int, Path, dict[str, Any], Any]:
    """Inputs of a per-family run: sellers, Parquet folder, pandas tables, Spark session.

    ``RISKSCORE_BENCH_SPARK_SELLERS`` sellers (2000 by default), scaled.
    """
    n_sellers = max(200, int(int(os.environ.get("RISKSCORE_BENCH_SPARK_SELLERS", 2000)) * scale()))
    folder = _folder(n_sellers)
    return n_sellers, folder, _pandas_tables(folder), _session()


def _driver_memory(default: str = "4g") -> str:
    return os.environ.get("RISKSCORE_BENCH_SPARK_DRIVER_MEMORY", default)


#: The memory run's driver heap: the JVM's resident memory follows its heap (measured at
#: 100k sellers: 3,786 MB with 3g, 4,837 MB with 4g, the same 600-620 s either way; on
#: 2026-12-03 3,233 MB with 2500m against 3,809-3,848 MB with 3g, 192 s against 189-195 s).
MEMORY_RUN_HEAP = "2500m"


def _session() -> Any:
    from riskscore._spark import local_spark_session

    return local_spark_session(
        "riskscore-bench-spark-scaling",
        cores=2,
        conf={"spark.driver.memory": _driver_memory()},
        log_level="ERROR",
        reuse_active=False,
    )


def _jvm_cpu_seconds() -> float:
    """CPU seconds used so far by this process's child processes (the Spark JVM)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _pandas_tables(folder: Path) -> dict[str, Any]:
    import pandas as pd

    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}


def _timed_pandas(tables: dict[str, Any], families: list[str] | None) -> tuple[Any, float, float]:
    from riskscore.features import build_features

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0, c0 = time.perf_counter(), time.process_time()
        got = build_features(tables, "seller", as_of=AS_OF, families=families)
        return got, time.perf_counter() - t0, time.process_time() - c0


def _timed_spark(
    session: Any, folder: Path, families: list[str] | None
) -> tuple[Any, float, int, float]:
    from riskscore.features import build_features
    from riskscore.features._backend import to_pandas

    frames = {name: session.read.parquet(str(folder / f"{name}.parquet")) for name in TABLES}
    tracker = session.sparkContext.statusTracker()
    jobs_before = len(tracker.getJobIdsForGroup(None))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0, c0, j0 = time.perf_counter(), time.process_time(), _jvm_cpu_seconds()
        got = to_pandas(build_features(frames, "seller", as_of=AS_OF, families=families))
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0 + _jvm_cpu_seconds() - j0
    jobs = len(tracker.getJobIdsForGroup(None)) - jobs_before
    return got.set_index("seller_id").sort_index(), seconds, jobs, cpu


def _max_rel_diff(got: Any, ref: Any) -> float:
    ref = ref.sort_index()
    got.index = got.index.astype(ref.index.dtype)
    if not (got.index.equals(ref.index) and list(got.columns) == list(ref.columns)):
        return float("nan")
    a, b = got.to_numpy(np.float64), ref.to_numpy(np.float64)
    both_nan = np.isnan(a) & np.isnan(b)
    diff = np.where(both_nan, 0.0, np.abs(a - b) / np.maximum(np.abs(b), 1.0))
    return float(np.nanmax(diff)) if np.isfinite(diff).all() else float("inf")


@benchmark("spark_families")
def spark_families() -> Result:
    """Seconds per family on Spark local[2] and on pandas, same data; ratio per family."""
    n_sellers, folder, tables, session = family_inputs()
    result: Result = {"sellers": n_sellers, "orders": len(tables["orders"])}
    result["spark_driver_memory"] = _driver_memory()
    worst = 0.0
    try:
        _timed_pandas(tables, None)  # warm both (imports, class loading, codegen)
        _timed_spark(session, folder, None)
        runs = repeats()
        result["repeats"] = runs
        for family in FAMILIES:
            pandas_runs: list[tuple[float, float]] = []
            spark_runs: list[tuple[float, float]] = []
            for _ in range(runs):  # interleaved: a slow spell of the machine hits both
                expected, pandas_s, pandas_cpu = _timed_pandas(tables, [family])
                got, spark_s, jobs, spark_cpu = _timed_spark(session, folder, [family])
                worst = max(worst, _max_rel_diff(got, expected))
                pandas_runs.append((pandas_s, pandas_cpu))
                spark_runs.append((spark_s, spark_cpu))
            pandas_s, pandas_cpu = median_run(pandas_runs, lambda run: run[0])
            spark_s, spark_cpu = median_run(spark_runs, lambda run: run[0])
            result[f"{family}_pandas_s"] = round(pandas_s, 2)
            result[f"{family}_spark_s"] = round(spark_s, 2)
            result[f"{family}_spark_s_min"] = round(min(r[0] for r in spark_runs), 2)
            result[f"{family}_spark_s_max"] = round(max(r[0] for r in spark_runs), 2)
            result[f"{family}_ratio_spark_over_pandas"] = round(spark_s / pandas_s, 2)
            ratios = sorted(s[0] / p[0] for s, p in zip(spark_runs, pandas_runs, strict=True))
            result[f"{family}_ratio_min"] = round(ratios[0], 2)
            result[f"{family}_ratio_max"] = round(ratios[-1], 2)
            result[f"{family}_cpu_ratio_spark_over_pandas"] = round(spark_cpu / pandas_cpu, 2)
            result[f"{family}_spark_jobs"] = jobs
    finally:
        session.stop()
    result["max_rel_diff_vs_pandas"] = worst
    result["peak_rss_mb_python_with_pandas"] = round(peak_rss_mb())
    result["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)
    return result


@benchmark("spark_scaling")
def spark_scaling() -> Result:
    """Every family on Spark local[2] and pandas at three doubling sizes; growth per doubling."""
    sizes = _sizes()
    result: Result = {"sizes": ",".join(str(n) for n in sizes)}
    result["spark_driver_memory"] = _driver_memory()
    session = _session()
    spark_times: list[float] = []
    pandas_times: list[float] = []
    spark_cpus: list[float] = []
    worst = 0.0
    try:
        # warm both (imports, class loading, codegen) on the smallest size
        _timed_pandas(_pandas_tables(_folder(sizes[0])), None)
        _timed_spark(session, _folder(sizes[0]), None)
        for n in sizes:
            folder = _folder(n)
            expected, pandas_s, pandas_cpu = _timed_pandas(_pandas_tables(folder), None)
            got, spark_s, jobs, spark_cpu = _timed_spark(session, folder, None)
            worst = max(worst, _max_rel_diff(got, expected))
            spark_times.append(spark_s)
            pandas_times.append(pandas_s)
            spark_cpus.append(spark_cpu)
            result[f"sellers_{n}_pandas_s"] = round(pandas_s, 2)
            result[f"sellers_{n}_spark_s"] = round(spark_s, 2)
            result[f"sellers_{n}_ratio_spark_over_pandas"] = round(spark_s / pandas_s, 2)
            result[f"sellers_{n}_spark_cpu_s"] = round(spark_cpu, 2)
            result[f"sellers_{n}_cpu_ratio_spark_over_pandas"] = round(spark_cpu / pandas_cpu, 2)
            result[f"sellers_{n}_spark_jobs"] = jobs
    finally:
        session.stop()
    for i in range(1, len(sizes)):
        step = f"{sizes[i - 1]}_to_{sizes[i]}"
        result[f"spark_growth_{step}"] = round(spark_times[i] / spark_times[i - 1], 2)
        result[f"pandas_growth_{step}"] = round(pandas_times[i] / pandas_times[i - 1], 2)
        result[f"spark_cpu_growth_{step}"] = round(spark_cpus[i] / spark_cpus[i - 1], 2)
    result["max_rel_diff_vs_pandas"] = worst
    result["peak_rss_mb_python_with_pandas"] = round(peak_rss_mb())
    result["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)
    return result


class _TreeMemory(_PeakMemory):
    """Sample the resident memory of this process and its children; peaks in MiB.

    ``peak`` is the largest sum over the tree seen at one instant; ``peak_python`` and
    ``peak_jvm`` the largest of this process and of its ``java`` children alone.
    """

    def __init__(self) -> None:
        self.peak_python = self.peak_jvm = 0.0
        super().__init__()

    def _rss(self) -> float:
        import psutil

        python = super()._rss()
        jvm = others = 0.0
        for child in self._proc.children(recursive=True):
            try:
                rss = float(child.memory_info().rss) / 2**20
                name = child.name()
            except psutil.NoSuchProcess:
                continue
            if name == "java":
                jvm += rss
            else:
                others += rss
        self.peak_python = max(self.peak_python, python)
        self.peak_jvm = max(self.peak_jvm, jvm)
        return python + jvm + others

    def sample(self) -> None:
        self.peak = max(self.peak, self._rss())


def _measure_spark_memory(n_sellers: int) -> dict[str, Any]:
    """In this (fresh) process: every family on Spark, memory of the process tree sampled."""
    folder = _folder(n_sellers)
    with _TreeMemory() as mem:
        session = _session()
        try:
            got, seconds, jobs, _ = _timed_spark(session, folder, None)
            mem.sample()  # before the session stops: the JVM is still there
        finally:
            session.stop()
    return {
        "rows": len(got),
        "columns": got.shape[1],
        "spark_s": seconds,
        "spark_jobs": jobs,
        "peak_mb": mem.peak,
        "peak_python_mb": mem.peak_python,
        "peak_jvm_mb": mem.peak_jvm,
    }


@benchmark("spark_memory")
def spark_memory() -> Result:
    """Peak memory of the Spark side alone (driver Python + JVM) against the input size."""
    import json
    import subprocess
    import sys

    n_sellers = max(
        200, int(int(os.environ.get("RISKSCORE_BENCH_SPARK_MEMORY_SELLERS", 100_000)) * scale())
    )
    folder = _folder(n_sellers)
    tables = _pandas_tables(folder)
    input_mb = sum(float(t.memory_usage(deep=True).sum()) for t in tables.values()) / 2**20
    orders = len(tables["orders"])
    del tables
    heap = _driver_memory(MEMORY_RUN_HEAP)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_spark_scaling", "memory", str(n_sellers)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "RISKSCORE_BENCH_SPARK_DRIVER_MEMORY": heap},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"spark memory run failed:\n{proc.stderr[-3000:]}")
    run = json.loads(proc.stdout.strip().splitlines()[-1])
    return {
        "sellers": n_sellers,
        "orders": orders,
        "spark_driver_memory": heap,
        "input_pandas_mb": round(input_mb),
        "spark_s": round(run["spark_s"], 1),
        "spark_jobs": run["spark_jobs"],
        "result_rows": run["rows"],
        "peak_mb": round(run["peak_mb"]),
        "peak_python_mb": round(run["peak_python_mb"]),
        "peak_jvm_mb": round(run["peak_jvm_mb"]),
        "peak_over_input": round(run["peak_mb"] / input_mb, 2),
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),
    }


if __name__ == "__main__":
    import json
    import sys

    if sys.argv[1:2] == ["memory"]:
        print(json.dumps(_measure_spark_memory(int(sys.argv[2]))))
