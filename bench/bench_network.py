"""Benchmarks of the network ("cobweb") features: 100k sellers / ~10M orders at one cutoff.

- ``network_pandas``: the ``network__`` family on pandas (links through the sorted-pair
  kernel, graph features through :class:`riskscore.features._graph.Graph`). The
  ``pricing`` and ``complaints`` families it reads run first and are timed apart.
- ``network_spark``: the same links built with narwhals group-bys and self-joins on a
  local Spark session (``local[*]``), reading the tables from Parquet; the seller-pair
  list is collected and the graph features computed on the driver.

- ``network_backends``: the ``network__`` family at one cutoff on pandas, Polars and
  DuckDB, each in a fresh subprocess (so peak memory belongs to one backend), from the
  marketplace cached as Parquet under ``out/`` (``$RISKSCORE_BENCH_CACHE``); links
  through the sorted-pair kernel (``method="sparse"``, the default on local backends)
  and, on a fifth of the sellers, through the join path too (a self-join with the hub
  cap applied before the join), the comparison ``docs/architecture.md`` quotes. The
  links alone are timed on Polars and DuckDB (the family's split), and the buyer link
  at full size through the kernel and through the scipy product ``B @ B.T`` it
  replaced (checked equal). Results are checked equal across backends (1e-9) and
  ratios named against the old numbers and against pandas. Each backend runs
  ``$RISKSCORE_BENCH_REPEATS`` times (3 by default), the backends interleaved; the
  median run is reported with the fastest and slowest, and with its system CPU time and
  page faults (on the project's VM, serving fresh memory is what varies most).

``RISKSCORE_BENCH_SCALE`` scales the number of sellers (orders scale with it).
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from bench._harness import Result, benchmark, median_run, peak_rss_mb, repeats, scale

AS_OF = datetime(2025, 1, 1)  # after the simulated year: every order counts


def _n_sellers() -> int:
    return max(100, int(100_000 * scale()))


@cache
def _marketplace() -> dict[str, pd.DataFrame]:
    from bench.bench_features import SCALE_WARMUP
    from riskscore.datasets import make_marketplace

    tables = make_marketplace(n_sellers=_n_sellers(), warmup=SCALE_WARMUP)
    return {name: frame for name, frame in tables.items() if name != "truth"}


def _timed(func):  # type: ignore[no-untyped-def]
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    value = func()
    return value, time.perf_counter() - t0, time.process_time() - c0


@benchmark("network_pandas")
def network_pandas() -> Result:
    """network__ features for every seller at one cutoff on pandas: seconds, links, RSS."""
    from riskscore.features._backend import prepare
    from riskscore.features._catalog import families
    from riskscore.features._context import AsOfContext
    from riskscore.features.network import (
        NetworkParams,
        _features,
        _links,
        _neighbour_values,
        _seeds,
        _seller_ids,
        network_frame,
    )

    tables = _marketplace()
    frames, _ = prepare(tables, None)
    ctx = AsOfContext(frames, as_of=AS_OF, entity="seller")
    deps = [f for f in families("seller") if f.name in ("pricing", "complaints")]

    def run_deps() -> None:
        for family in deps:  # what build_features runs before the network family
            ctx.computed[("seller", family.name)] = family.compute(ctx)

    _, deps_seconds, _ = _timed(run_deps)
    out, seconds, cpu = _timed(lambda: network_frame(ctx))
    # the two parts again, timed on their own
    sellers = ctx.table("sellers")
    ids = _seller_ids(sellers)
    orders = ctx.table("orders", ["seller_id", "buyer_id", "ship_address_id"])
    params = NetworkParams()
    links, link_seconds, link_cpu = _timed(lambda: _links(sellers, orders, ids, params))
    seeds = _seeds(ctx.table("labels"), ids)
    values = _neighbour_values(ctx, ids)
    _, graph_seconds, graph_cpu = _timed(lambda: _features(ids, links, seeds, values, params))
    n_orders = int(ctx.table("orders", ["order_id"]).collect().shape[0])
    return {
        "n_sellers": len(out),
        "orders_before_cutoff": n_orders,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "links_seconds": round(link_seconds, 2),
        "links_cpu_seconds": round(link_cpu, 2),
        "graph_features_seconds": round(graph_seconds, 2),
        "graph_features_cpu_seconds": round(graph_cpu, 2),
        "pricing_complaints_seconds": round(deps_seconds, 2),
        "links": len(links.a),
        "linked_sellers_share": round(float((out["network__linked_sellers"] > 0).mean()), 3),
        "peak_rss_mb": round(peak_rss_mb()),
        "scale": scale(),
    }


@benchmark("network_spark")
def network_spark() -> Result:
    """The links and network__ features on Spark local[2] by both Spark paths, against pandas.

    ``auto`` is the holder-array path (:mod:`riskscore.features._network_spark`), ``join``
    the narwhals self-join it replaced on Spark; both read the cached marketplace's
    Parquet files, both are checked equal to pandas (``neighbours=False``: the pricing
    and complaint families are left out, they are timed in ``spark_families``).
    """
    import narwhals as nw

    from bench.bench_features import SELLERS, _folder
    from bench.bench_spark_scaling import _driver_memory, _session
    from riskscore.features._context import AsOfContext
    from riskscore.features.network import NetworkParams, network_frame

    folder = _folder(max(200, int(SELLERS * scale())))
    names = ("sellers", "orders", "labels")
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}
    pandas_ctx = AsOfContext(
        {name: nw.from_native(frame).lazy() for name, frame in tables.items()},
        as_of=AS_OF,
        entity="seller",
    )
    expected, pandas_seconds, _ = _timed(lambda: network_frame(pandas_ctx, neighbours=False))
    ref = expected.set_index("seller_id").sort_index()
    result: Result = {"n_sellers": len(expected), "orders": len(tables["orders"])}
    result["pandas_seconds"] = round(pandas_seconds, 2)
    result["spark_driver_memory"] = _driver_memory()
    del tables
    session = _session()
    try:
        frames = {
            name: nw.from_native(session.read.parquet(str(folder / f"{name}.parquet")))
            for name in names
        }
        for method in ("auto", "join", "auto"):  # the first run warms the JVM up
            ctx = AsOfContext(frames, as_of=AS_OF, entity="seller")
            params = NetworkParams(method=method)  # type: ignore[arg-type]
            got, seconds, cpu = _timed(
                lambda ctx=ctx, params=params: network_frame(ctx, params, neighbours=False)
            )
            same = got.set_index("seller_id").sort_index()
            result[f"spark_{method}_seconds"] = round(seconds, 2)
            result[f"spark_{method}_driver_cpu_seconds"] = round(cpu, 2)
            result[f"spark_{method}_ratio_over_pandas"] = round(seconds / pandas_seconds, 2)
            result[f"spark_{method}_max_abs_diff_vs_pandas"] = float((same - ref).abs().max().max())
    finally:
        session.stop()
    result["join_over_auto"] = round(result["spark_join_seconds"] / result["spark_auto_seconds"], 2)
    result["peak_rss_mb_python"] = round(peak_rss_mb())
    result["load_average_1min_at_end"] = round(os.getloadavg()[0], 1)
    result["scale"] = scale()
    return result


@benchmark("network_lift")
def network_lift() -> Result:
    """PR-AUC of the counterfeit model with and without network__ features.

    10k simulated sellers (scaled) for each of three simulator seeds; features at monthly
    cutoffs, 60-day label horizon, the last three cutoffs as the test window. PR-AUC on
    all test rows, and on the camouflaged ring members (positives whose own prices and
    complaints look ordinary) against every negative; per seed and averaged.
    """
    n = max(1000, int(10_000 * scale()))
    result: Result = {"n_sellers": n}
    runs = [_lift_one(n, seed) for seed in (11, 12, 13)]
    for key in runs[0]:
        values = [r[key] for r in runs]
        if key.startswith("pr_auc"):
            result[f"{key}_mean"] = round(sum(values) / len(values), 4)
        result[key] = ", ".join(str(v) for v in values)
    return result


def _lift_one(n: int, seed: int) -> dict[str, float | int | str]:
    from sklearn.metrics import average_precision_score

    from riskscore.datasets import make_marketplace
    from riskscore.features import build_training_set
    from riskscore.modeling import train

    tables = make_marketplace(n_sellers=n, seed=seed)
    truth = tables.pop("truth").set_index("seller_id")
    cutoffs = pd.date_range("2024-03-01", "2024-11-01", freq="MS")
    t0 = time.perf_counter()
    table = build_training_set(
        tables, "seller", target="counterfeit", cutoffs=cutoffs, horizon="60D"
    )
    build_seconds = time.perf_counter() - t0
    features = [c for c in table.columns if "__" in c]
    without = [c for c in features if not c.startswith("network__")]
    out: dict[str, float | int | str] = {
        "rows": len(table),
        "positives": int(table["label"].sum()),
        "build_training_set_seconds": round(build_seconds, 1),
    }
    for name, cols in (("with", features), ("without", without)):
        run = train(
            table,
            feature_cols=cols,
            entity="seller",
            target="counterfeit",
            seed=0,
            test_windows=3,
            n_bootstrap=0,
        )
        pred = run.predictions
        ids = pred["entity_id"].astype(str)
        camo = truth["camouflaged"].reindex(ids).fillna(False).to_numpy(dtype=bool)
        label = pred["label"].to_numpy()
        score = pred["score"].to_numpy()
        subset = (label == 0) | camo
        out[f"pr_auc_all_{name}"] = round(float(average_precision_score(label, score)), 4)
        out[f"pr_auc_camouflaged_{name}"] = round(
            float(average_precision_score(label[subset], score[subset])), 4
        )
        out["test_camouflaged_positives"] = int((camo & (label == 1)).sum())
        out["test_positives"] = int(label.sum())
        out["test_negatives"] = int((label == 0).sum())
        if name == "with":
            top = run.importance.head(5)
            out["top_features_with"] = " / ".join(
                f"{f} ({g:.2f})" for f, g in zip(top["feature"], top["gain"], strict=True)
            )
    return out


# -- the network family on every local backend ------------------------------------------

#: Network family seconds at 100k sellers / 10M orders before the sparse hand-off
#: (bench/results/features_seller_one_cutoff.json: all families minus all but network).
OLD_NETWORK_SECONDS = {"pandas": 22.8, "polars": 57.49, "duckdb": 79.78}
BACKENDS = ("pandas", "polars", "duckdb")


def _cache_folder(n_sellers: int) -> Path:
    """The simulated marketplace as Parquet, made once (``out/`` is ignored by git)."""
    from bench.bench_features import SCALE_WARMUP, TABLES

    root = Path(os.environ.get("RISKSCORE_BENCH_CACHE", Path(__file__).parents[1] / "out"))
    folder = root / f"riskscore-bench-marketplace-{n_sellers}"
    if not (folder / "orders.parquet").exists():
        from riskscore.datasets import make_marketplace

        folder.mkdir(parents=True, exist_ok=True)
        tables = make_marketplace(n_sellers=n_sellers, seed=0, warmup=SCALE_WARMUP)
        for name in TABLES:
            tables[name].to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _measure_network(folder: Path, library: str, method: str, out: Path) -> dict[str, Any]:
    """One backend in this process: deps untimed, then the network family, timed.

    With ``out`` named ``-`` only the links are built and timed.
    """
    import narwhals as nw

    from bench.bench_features import _load, _PeakMemory
    from riskscore.features._backend import prepare
    from riskscore.features._catalog import families
    from riskscore.features._context import AsOfContext
    from riskscore.features.network import (
        NetworkParams,
        _links,
        _orders_for_links,
        _seller_ids,
        network_frame,
    )

    rss_start = _PeakMemory()._rss()
    tables, input_mb = _load(folder, library)
    frames, _ = prepare(tables, None)
    ctx = AsOfContext(frames, as_of=AS_OF, entity="seller")
    params = NetworkParams(method=method)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if str(out) == "-":
            sellers = ctx.table("sellers")
            ids = _seller_ids(sellers)
            t0 = time.perf_counter()
            links = _links(sellers, _orders_for_links(ctx), ids, params)
            return {"links_seconds": time.perf_counter() - t0, "links": len(links.a)}
        for family in families("seller"):  # what build_features runs before the family
            if family.name in ("pricing", "complaints"):
                # materialised here, so that the timing below is the network family's own
                done = family.compute(ctx).collect().to_native()
                ctx.computed[("seller", family.name)] = nw.from_native(done).lazy()
        gc.collect()
        with _PeakMemory() as mem:
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            t0, c0 = time.perf_counter(), time.process_time()
            frame = network_frame(ctx, params)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            r1 = resource.getrusage(resource.RUSAGE_SELF)
    frame.to_parquet(out, index=False)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        # system time is mostly the kernel serving page faults of fresh memory
        "system_cpu_seconds": r1.ru_stime - r0.ru_stime,
        "page_faults": r1.ru_minflt - r0.ru_minflt,
        "linked_sellers": int((frame["network__linked_sellers"] > 0).sum()),
        "input_mb": input_mb,
        "rss_start_mb": rss_start,
        "peak_mb": mem.peak,
        "sellers": len(frame),
    }


def _network_subprocess(folder: Path, library: str, method: str, out: Path) -> dict[str, Any]:
    print(f"  start {library} {method} {time.strftime('%H:%M:%S')}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_network", str(folder), library, method, str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"network {library}/{method} failed:\n{proc.stderr[-3000:]}")
    line = proc.stdout.strip().splitlines()[-1]
    print(f"  {library} {method}: {line}", flush=True)
    return dict(json.loads(line))


def _max_diff(a: Path, b: Path) -> float:
    left = pd.read_parquet(a).set_index("seller_id").sort_index()
    right = pd.read_parquet(b).set_index("seller_id").sort_index()
    if list(left.columns) != list(right.columns) or not left.index.equals(right.index):
        raise AssertionError(f"{a.name} and {b.name} differ in shape")
    diff = (left - right).abs() / right.abs().clip(lower=1.0)
    return float(diff.max().max())


def _product_pairs(pos: Any, key: Any, n: int, cap: int, min_shared: int) -> tuple[Any, ...]:
    """The previous kernel, kept here for the comparison: ``B @ B.T`` in scipy, row blocks.

    ``B`` holds ``1 + i*w`` per distinct (seller, value) of a non-hub value held twice or
    more, so one complex product counts the shared values and sums their hub weights.
    """
    import numpy as np
    import scipy.sparse as sp

    from riskscore._threads import parallel_map
    from riskscore.features._network_pairs import hub_weight

    ok = (key >= 0) & (pos >= 0)
    n_keys = int(key[ok].max()) + 1
    inc = sp.csr_array((np.ones(int(ok.sum()), np.float32), (pos[ok], key[ok])), (n, n_keys))
    inc.sum_duplicates()
    holders = np.bincount(inc.indices, minlength=n_keys)
    rows = np.repeat(np.arange(n), np.diff(inc.indptr))
    keep = ((holders >= 2) & (holders <= cap))[inc.indices]
    r, c = rows[keep], inc.indices[keep]
    both = sp.csr_array((1.0 + 1j * hub_weight(holders[c]), (r, c)), shape=(n, n_keys))
    ones_t = sp.csr_array((np.ones(r.size, np.complex128), (c, r)), shape=(n_keys, n))
    active = np.flatnonzero(np.diff(both.indptr) > 0)

    def block(chunk: Any) -> tuple[Any, ...]:
        got = sp.csr_array(both[chunk] @ ones_t)
        at = np.flatnonzero(got.data.real >= min_shared - 0.5)
        a = chunk[np.searchsorted(got.indptr, at, side="right") - 1]
        b = got.indices[at].astype(np.int64)
        upper = b > a
        return a[upper], b[upper], np.rint(got.data.real[at][upper]), got.data.imag[at][upper]

    parts = parallel_map(block, [active[i : i + 10_000] for i in range(0, active.size, 10_000)])
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(4))


def _kernel_vs_product(folder: Path) -> dict[str, Any]:
    """The buyer link at 100k sellers: the sorted-pair kernel against the scipy product."""
    import numpy as np
    import pyarrow.parquet as pq

    from riskscore.features._network_sparse import _codes, _positions, pairs_from_codes

    orders = pq.read_table(folder / "orders.parquet", columns=["seller_id", "buyer_id"])
    ids = pd.Index(pq.read_table(folder / "sellers.parquet")["seller_id"].to_pylist())
    pos, key = _positions(orders["seller_id"], ids), _codes(orders["buyer_id"])
    del orders
    (sort, sort_s, _), (product, product_s, _) = (
        _timed(lambda: pairs_from_codes(pos, key, len(ids), 25, 2)),
        _timed(lambda: _product_pairs(pos, key, len(ids), 25, 2)),
    )
    order = np.lexsort((product[1], product[0]))
    equal = (
        np.array_equal(sort.a, product[0][order])
        and np.array_equal(sort.b, product[1][order])
        and np.array_equal(sort.n_shared, product[2][order])
    )
    weight_diff = float(np.abs(sort.weight - product[3][order]).max(initial=0.0))
    print(f"  buyer link: sort {sort_s:.2f} s, scipy product {product_s:.2f} s", flush=True)
    return {
        "kernel_buyer_pairs": int(sort.a.size),
        "kernel_sort_s": round(sort_s, 2),
        "kernel_scipy_product_s": round(product_s, 2),
        "ratio_kernel_product_over_sort": round(product_s / sort_s, 2),
        "kernel_equal": bool(equal and weight_diff < 1e-12),
        "kernel_max_weight_diff": weight_diff,
    }


@benchmark("network_backends")
def network_backends() -> Result:
    """network__ family on pandas, Polars and DuckDB: sparse hand-off vs joins, memory."""
    n_sellers = max(200, int(100_000 * scale()))
    folder = _cache_folder(n_sellers)
    work = folder / "network-outputs"
    work.mkdir(exist_ok=True)
    runs_per_backend = repeats()
    out: Result = {"sellers": n_sellers, "scale": scale(), "repeats": runs_per_backend}
    all_runs: dict[str, list[dict[str, Any]]] = {library: [] for library in BACKENDS}
    for _ in range(runs_per_backend):  # interleaved, so that a slow spell of the machine hits all
        for library in BACKENDS:
            run = _network_subprocess(folder, library, "auto", work / f"{library}.parquet")
            all_runs[library].append(run)
            print(f"  network {library:7s} {run['seconds']:8.2f} s", flush=True)
    runs = {lib: median_run(done, lambda run: run["seconds"]) for lib, done in all_runs.items()}
    out["input_pandas_mb"] = round(runs["pandas"]["input_mb"])
    for library, run in runs.items():
        seconds = [r["seconds"] for r in all_runs[library]]
        out[f"{library}_s"] = round(run["seconds"], 2)  # the median run
        out[f"{library}_s_min"] = round(min(seconds), 2)
        out[f"{library}_s_max"] = round(max(seconds), 2)
        out[f"{library}_cpu_s"] = round(run["cpu_seconds"], 2)
        out[f"{library}_system_cpu_s"] = round(run["system_cpu_seconds"], 2)
        out[f"{library}_page_faults"] = run["page_faults"]
        out[f"{library}_peak_mb"] = round(run["peak_mb"])
        out[f"{library}_peak_over_input"] = round(
            (run["peak_mb"] - run["rss_start_mb"]) / runs["pandas"]["input_mb"], 2
        )
        if scale() == 1.0:  # the old numbers are at 100k sellers
            out[f"ratio_{library}_over_old_{library}"] = round(
                run["seconds"] / OLD_NETWORK_SECONDS[library], 3
            )
        out[f"ratio_{library}_over_pandas"] = round(run["seconds"] / runs["pandas"]["seconds"], 2)
        if library != "pandas":
            out[f"max_rel_diff_{library}_vs_pandas"] = _max_diff(
                work / f"{library}.parquet", work / "pandas.parquet"
            )
    out["linked_sellers"] = runs["pandas"]["linked_sellers"]
    for library in ("polars", "duckdb"):  # the family's split: links vs the rest
        links = [
            _network_subprocess(folder, library, "auto", Path("-")) for _ in range(runs_per_backend)
        ]
        run = median_run(links, lambda run: run["links_seconds"])
        out[f"{library}_links_s"] = round(run["links_seconds"], 2)
        out[f"{library}_links_share"] = round(run["links_seconds"] / out[f"{library}_s"], 2)
    out.update(_kernel_vs_product(folder))
    out["load_average_1min"] = round(os.getloadavg()[0], 1)  # other work on the machine
    # the two ways of building links, on a fifth of the sellers (joins are slow)
    if os.environ.get("RISKSCORE_BENCH_NETWORK_METHODS", "1") == "0":
        return out
    small = _cache_folder(max(200, n_sellers // 5))
    out["methods_sellers"] = max(200, n_sellers // 5)
    for library in ("polars", "duckdb"):
        for method in ("sparse", "join"):
            run = _network_subprocess(small, library, method, Path("-"))
            out[f"methods_{library}_{method}_links_s"] = round(run["links_seconds"], 2)
            out[f"methods_{library}_{method}_links"] = run["links"]
            print(f"  links {library:7s} {method:6s} {run['links_seconds']:8.2f} s", flush=True)
        out[f"ratio_methods_{library}_join_over_sparse"] = round(
            out[f"methods_{library}_join_links_s"] / out[f"methods_{library}_sparse_links_s"], 2
        )
    return out


if __name__ == "__main__":
    _folder_arg, _library, _method, _out = sys.argv[1:5]
    print(json.dumps(_measure_network(Path(_folder_arg), _library, _method, Path(_out))))
