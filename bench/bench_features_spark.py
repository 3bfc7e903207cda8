"""Seller features at one cutoff on Spark (local mode) against pandas, same tables.

Every family but ``network`` (benchmarked on Spark by ``network_spark``), built from the
Parquet files of the 100k-seller / ~10M-order marketplace that ``features_seller_one_cutoff``
caches. Spark reads the Parquet files itself and the result is collected to the driver
(``toPandas``), so the time covers the whole job. The two results are checked equal.
On one 2-core machine Spark pays for its generality (shuffles, JVM, Arrow transfer); the
point of the Spark backend is that the same definition runs on a cluster.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from bench._harness import Result, benchmark, peak_rss_mb, scale, spark_session
from bench.bench_features import AS_OF, SELLERS, TABLES, _folder

FAMILIES = ["pricing", "complaints", "buyers", "account", "activity", "text"]


@benchmark("features_spark")
def features_spark() -> Result:
    """Seconds of the seller features (no network) on Spark local[*] and on pandas."""
    import pandas as pd

    from riskscore.features import build_features

    n_sellers = max(200, int(SELLERS * scale()))
    folder = _folder(n_sellers)
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        expected = build_features(tables, "seller", as_of=AS_OF, families=FAMILIES)
        pandas_seconds = time.perf_counter() - t0
    del tables

    session = spark_session("riskscore-bench-features")
    try:
        frames = {name: session.read.parquet(str(folder / f"{name}.parquet")) for name in TABLES}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            got = build_features(frames, "seller", as_of=AS_OF, families=FAMILIES).toPandas()
            spark_seconds = time.perf_counter() - t0
    finally:
        session.stop()
    got = got.set_index("seller_id").sort_index()
    ref = expected.sort_index()
    got.index = got.index.astype(ref.index.dtype)
    same_rows = got.index.equals(ref.index) and list(got.columns) == list(ref.columns)
    diff = np.abs(got.to_numpy(np.float64) - ref.to_numpy(np.float64))
    scale_ = np.maximum(np.abs(ref.to_numpy(np.float64)), 1.0)
    max_rel = float(np.nanmax(diff / scale_)) if same_rows else float("nan")
    return {
        "sellers": n_sellers,
        "features": len(ref.columns),
        "pandas_s": round(pandas_seconds, 2),
        "spark_s": round(spark_seconds, 2),
        "ratio_spark_over_pandas": round(spark_seconds / pandas_seconds, 2),
        "same_rows_and_columns": same_rows,
        "max_rel_diff": max_rel,
        "peak_rss_mb_python_with_pandas": round(peak_rss_mb()),
    }
