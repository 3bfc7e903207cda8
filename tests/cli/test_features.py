"""``riskscore features``: a folder of tables in, one feature file out."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.features import catalog


@pytest.fixture
def data(tmp_path, market):
    from riskscore.io import write_tables

    folder = tmp_path / "data"
    write_tables({k: v for k, v in market.items() if k != "truth"}, folder)
    return folder


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_writes_one_row_per_seller_with_catalog_columns(data, tmp_path, capsys, suffix):
    out = tmp_path / f"features{suffix}"
    args = ["features", "--data", str(data), "--as-of", "2024-06-30", "--out", str(out)]
    assert main(args) == 0
    frame = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    assert frame.columns.tolist() == ["seller_id", *catalog("seller")["name"]]
    assert frame["seller_id"].is_unique
    assert f"wrote {len(frame):,} sellers" in capsys.readouterr().out


@pytest.mark.slow
def test_listing_entity_backend_and_windows(data, tmp_path):
    out = tmp_path / "listings.parquet"
    args = [
        "features",
        "--data",
        str(data),
        "--as-of",
        "2024-06-30",
        "--out",
        str(out),
        "--entity",
        "listing",
        "--backend",
        "duckdb",
        "--windows",
        "14,60",
    ]
    assert main(args) == 0
    frame = pd.read_parquet(out)
    assert frame.columns[0] == "listing_id"
    assert "activity__orders_14d" in frame.columns


def test_as_of_before_data_exits_2(data, tmp_path, capsys):
    args = [
        "features",
        "--data",
        str(data),
        "--as-of",
        "2001-01-01",
        "--out",
        str(tmp_path / "f.parquet"),
    ]
    assert main(args) == 2
    assert "is before all data" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--windows", "7,x"], "--windows must be comma-separated whole days"),
        (["--out", "f.xlsx"], "--out must end in .parquet or .csv"),
    ],
)
def test_bad_options_exit_2(data, tmp_path, capsys, extra, message):
    args = [
        "features",
        "--data",
        str(data),
        "--as-of",
        "2024-06-30",
        "--out",
        str(tmp_path / "f.parquet"),
        *extra,
    ]
    assert main(args) == 2
    assert message in capsys.readouterr().err
