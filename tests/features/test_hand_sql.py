"""The benchmark's hand-written SQL computes the library's features (``bench/bench_sql_families``).

``bench/results/sql_families.json`` compares each family's speed with one plain DuckDB
query; the comparison only means something while the query computes the same numbers.
Each query runs here over a small simulated marketplace written as Parquet, at two
cutoffs, against the pandas build of its family, so a change of definition in the
library fails here instead of silently skewing the benchmark.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("duckdb")

from bench.bench_features import TABLES
from bench.bench_sql_families import HAND_SQL, _max_diff, hand_sql
from riskscore.datasets import make_marketplace
from riskscore.features import build_features


@pytest.fixture(scope="module")
def marketplace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    folder = tmp_path_factory.mktemp("hand-sql")
    tables = make_marketplace(n_sellers=400, seed=3)
    for name in TABLES:
        tables[name].to_parquet(folder / f"{name}.parquet", index=False)
    return folder, {name: tables[name] for name in TABLES}


@pytest.mark.parametrize("as_of", ["2024-06-15", "2024-10-01"])
@pytest.mark.parametrize("family", sorted(HAND_SQL))
def test_hand_sql_equals_the_library(
    marketplace: tuple[Path, dict[str, pd.DataFrame]], family: str, as_of: str
) -> None:
    folder, tables = marketplace
    expected = build_features(tables, "seller", as_of=as_of, families=[family]).sort_index()
    got = hand_sql(family, folder, as_of)
    assert len(got) == len(expected) > 100
    assert _max_diff(got, expected) < 1e-9
