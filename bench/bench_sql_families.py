"""Each feature family against one hand-written DuckDB SQL query computing the same features.

The issue's yardstick: all families on the fastest backend within 1.5x of plain SQL over
the same Parquet files, one query per family, no riskscore code in the query, its result
checked equal to the library's. ``HAND_SQL`` below holds the families written so far:
``buyers`` (the query of :mod:`bench.bench_features`), ``account`` and ``activity`` here,
``pricing``, ``complaints`` and ``text`` in ``bench/_sql_<family>.py``; a family is added
by adding its query. ``network`` has none: its label walk solves a linear system per
web, which plain SQL does not express.

Per family: the library's build of that family alone (``build_features(families=[f])``)
on pandas, Polars and DuckDB (tables in each library's own form, DuckDB scanning Parquet),
and the query on DuckDB, each best of two in this process; the ratio fastest backend /
SQL, and the largest difference from the library's pandas result (relative, or absolute
in days for the day counts). Then the whole: every family (the network too) on Polars
and DuckDB, once each, against the sum of the queries (``ratio_all_families_fastest_over_
script``; the network has no query, so the ratio is an upper bound).
``RISKSCORE_BENCH_SCALE`` scales the 100k sellers.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bench._harness import Result, benchmark, scale
from bench._sql_complaints import SQL as COMPLAINTS_SQL
from bench._sql_pricing import SQL as PRICING_SQL
from bench._sql_text import SQL as TEXT_SQL
from bench.bench_features import AS_OF, SELLERS, TABLES, _folder, _load
from bench.bench_features import HAND_SQL as BUYERS_SQL

__all__ = ["HAND_SQL", "hand_sql"]

_DAYS = "(epoch_us(TIMESTAMP '{as_of}') - epoch_us({col})) / 86400e6"

ACCOUNT_SQL = f"""
WITH s AS (
    SELECT seller_id, registered_at FROM sellers WHERE registered_at < TIMESTAMP '{{as_of}}'
),
l AS (
    SELECT seller_id, count(*)::DOUBLE AS listings,
           (count(*) FILTER (WHERE created_at >= TIMESTAMP '{{as_of}}' - INTERVAL 7 DAY))::DOUBLE
               AS new_listings,
           min(created_at) AS first_at
    FROM listings WHERE created_at < TIMESTAMP '{{as_of}}' GROUP BY seller_id
),
o AS (
    SELECT seller_id, min(created_at) AS first_at, max(created_at) AS last_at
    FROM orders WHERE created_at < TIMESTAMP '{{as_of}}' GROUP BY seller_id
)
SELECT s.seller_id,
       {_DAYS.format(as_of="{as_of}", col="s.registered_at")} AS account__age_days,
       {_DAYS.format(as_of="{as_of}", col="l.first_at")} AS account__days_since_first_listing,
       {_DAYS.format(as_of="{as_of}", col="o.first_at")} AS account__days_since_first_order,
       {_DAYS.format(as_of="{as_of}", col="o.last_at")} AS account__days_since_last_order,
       coalesce(l.listings, 0.0) AS account__listing_count,
       coalesce(l.new_listings, 0.0) AS account__new_listings_7d
FROM s LEFT JOIN l USING (seller_id) LEFT JOIN o USING (seller_id)
ORDER BY s.seller_id
"""


def _in(days: int) -> str:
    return f"created_at >= TIMESTAMP '{{as_of}}' - INTERVAL {days} DAY"


_WINDOWS = (7, 30, 90)  # riskscore._config.DEFAULT_WINDOWS, written out
_COUNTS = ", ".join(f"count(*) FILTER (WHERE {_in(d)})::DOUBLE AS o{d}" for d in (*_WINDOWS, 37))
_GMV = ", ".join(f"sum(CASE WHEN {_in(d)} THEN amount ELSE 0 END) AS g{d}" for d in _WINDOWS)
_GROWTH = (
    "(coalesce(w.o7, 0.0) + 1.0)"
    " / ((coalesce(w.o37, 0.0) - coalesce(w.o7, 0.0)) * (7.0 / 30.0) + 1.0)"
)

ACTIVITY_SQL = f"""
WITH o AS (
    SELECT seller_id, listing_id, amount::DOUBLE AS amount, created_at FROM orders
    WHERE created_at < TIMESTAMP '{{as_of}}'
),
w AS (
    SELECT seller_id,
           {_COUNTS},
           {_GMV}
    FROM o GROUP BY seller_id
),
per_listing AS (
    SELECT seller_id, listing_id, count(*)::DOUBLE AS n, sum(amount) AS gmv FROM o GROUP BY ALL
),
with_category AS (
    SELECT p.*, l.category FROM per_listing p
    JOIN (SELECT listing_id, category FROM listings WHERE created_at < TIMESTAMP '{{as_of}}') l
    USING (listing_id)
),
category AS (
    SELECT category, CASE WHEN sum(n) > 0 THEN sum(gmv) / sum(n) END AS cat_aov
    FROM with_category GROUP BY category
),
aov AS (
    SELECT seller_id, sum(CASE WHEN cat_aov > 0 THEN gmv / cat_aov END) AS rel,
           sum(CASE WHEN cat_aov > 0 THEN n END) AS counted
    FROM with_category JOIN category USING (category) GROUP BY seller_id
)
SELECT s.seller_id,
       {", ".join(f"coalesce(w.o{d}, 0.0) AS activity__orders_{d}d" for d in _WINDOWS)},
       {", ".join(f"coalesce(w.g{d}, 0.0) AS activity__gmv_{d}d" for d in _WINDOWS)},
       {_GROWTH} AS activity__order_growth,
       CASE WHEN aov.counted > 0 THEN aov.rel / aov.counted END AS activity__aov_vs_category
FROM sellers s LEFT JOIN w USING (seller_id) LEFT JOIN aov USING (seller_id)
WHERE s.registered_at < TIMESTAMP '{{as_of}}'
ORDER BY s.seller_id
"""

#: One hand-written DuckDB query per family (``{as_of}`` is filled in).
HAND_SQL: dict[str, str] = {
    "buyers": BUYERS_SQL,
    "account": ACCOUNT_SQL,
    "activity": ACTIVITY_SQL,
    "pricing": PRICING_SQL,
    "complaints": COMPLAINTS_SQL,
    "text": TEXT_SQL,
}


def hand_sql(family: str, folder: Path, as_of: str = AS_OF) -> Any:
    """Run the family's query over the Parquet files in ``folder``; return a pandas frame."""
    import duckdb

    con = duckdb.connect()
    for name in TABLES:
        con.sql(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{folder / name}.parquet')")
    frame = con.sql(HAND_SQL[family].format(as_of=as_of)).df()
    con.close()
    return frame.set_index("seller_id").sort_index()


def _library(tables: dict[str, Any], family: str, library: str) -> Any:
    from riskscore.features import build_features

    result = build_features(tables, "seller", as_of=AS_OF, families=[family])
    if library == "duckdb":  # execute the lazy relation
        return result.to_arrow_table()
    return result


def _best_of_two(run: Any) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(2):
        t0 = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _max_diff(got: Any, expected: Any) -> float:
    """Largest difference: relative, or absolute (days) where the value is near zero."""
    if list(got.columns) != list(expected.columns) or not got.index.equals(expected.index):
        raise AssertionError(
            f"columns or sellers differ: {list(got.columns)} vs {list(expected.columns)}"
        )
    worst = 0.0
    for col in expected.columns:
        a, b = got[col].to_numpy(float), expected[col].to_numpy(float)
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            raise AssertionError(f"{col}: missing values differ")
        ok = ~np.isnan(b)
        diff = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1.0)
        worst = max(worst, float(diff.max()) if diff.size else 0.0)
    return worst


@benchmark("sql_families")
def sql_families() -> Result:
    """Fastest backend / hand-written DuckDB SQL, per family written in SQL so far."""
    n_sellers = max(200, int(SELLERS * scale()))
    folder = _folder(n_sellers)
    loaded = {lib: _load(folder, lib)[0] for lib in ("pandas", "polars", "duckdb")}
    result: Result = {"sellers": n_sellers, "families": ",".join(HAND_SQL)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for family in HAND_SQL:
            seconds = {}
            for lib, tables in loaded.items():
                seconds[lib], out = _best_of_two(
                    lambda t=tables, lib=lib, f=family: _library(t, f, lib)
                )
                if lib == "pandas":
                    expected = out.sort_index()
            sql_s, got = _best_of_two(lambda f=family: hand_sql(f, folder))
            fastest = min(seconds, key=seconds.__getitem__)
            for lib, s in seconds.items():
                result[f"{family}_{lib}_s"] = round(s, 3)
            result[f"{family}_sql_s"] = round(sql_s, 3)
            result[f"{family}_fastest_backend"] = fastest
            result[f"{family}_ratio_fastest_over_sql"] = round(seconds[fastest] / sql_s, 2)
            result[f"{family}_max_diff_sql_vs_pandas"] = _max_diff(got, expected)
            print(f"  {family}: fastest {fastest} {seconds[fastest]:.2f} s, SQL {sql_s:.2f} s")
        # the whole build against the whole script: every family on the fastest local
        # backends (network included, which the script has no query for, so the ratio is
        # an upper bound) against the sum of the queries, in this same run
        script_s = sum(result[f"{family}_sql_s"] for family in HAND_SQL)
        result["script_sql_s"] = round(script_s, 3)
        for lib in ("polars", "duckdb"):
            t0 = time.perf_counter()
            build_all(loaded[lib], lib)
            result[f"all_families_{lib}_s"] = round(time.perf_counter() - t0, 3)
        best = min(result["all_families_polars_s"], result["all_families_duckdb_s"])
        result["ratio_all_families_fastest_over_script"] = round(best / script_s, 2)
        print(f"  all families: fastest {best:.2f} s, the script's queries {script_s:.2f} s")
    return result


def build_all(tables: dict[str, Any], library: str) -> Any:
    """Every seller family at the benchmark's cutoff (executed on DuckDB)."""
    from riskscore.features import build_features

    result = build_features(tables, "seller", as_of=AS_OF)
    return result.to_arrow_table() if library == "duckdb" else result
