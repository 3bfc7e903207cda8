"""Reading and writing a folder of tables."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore import SchemaError, load_tables, write_tables


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_keeps_every_row_and_type(tiny_tables, tmp_path, fmt):
    write_tables(tiny_tables, tmp_path, fmt=fmt)
    out = load_tables(tmp_path)
    assert set(out) == set(tiny_tables)
    for name, frame in tiny_tables.items():
        assert len(out[name]) == len(frame)
    assert out["orders"]["created_at"].tolist() == list(tiny_tables["orders"]["created_at"])
    assert out["listings"]["price"].tolist() == [5900.0, 2500.0, 80.0]


def test_csv_keeps_leading_zero_ids(tiny_tables, tmp_path):
    tables = dict(tiny_tables)
    tables["sellers"] = tiny_tables["sellers"].assign(region=["007", "010"])
    write_tables(tables, tmp_path, fmt="csv")
    assert load_tables(tmp_path)["sellers"]["region"].tolist() == ["007", "010"]


def test_writes_are_atomic_leaving_no_temp_files(tiny_tables, tmp_path):
    write_tables(tiny_tables, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{name}.parquet" for name in tiny_tables
    )


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SchemaError, match=r"data folder .*nope' does not exist"):
        load_tables(tmp_path / "nope")


def test_folder_without_tables(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(SchemaError, match=r"no \.parquet or \.csv tables found"):
        load_tables(tmp_path)


def test_table_stored_twice(tiny_tables, tmp_path):
    write_tables(tiny_tables, tmp_path)
    tiny_tables["orders"].to_csv(tmp_path / "orders.csv", index=False)
    with pytest.raises(SchemaError, match=r"table 'orders' is stored twice"):
        load_tables(tmp_path)


def test_bad_file_is_reported_by_validation(tiny_tables, tmp_path):
    write_tables(tiny_tables, tmp_path)
    orders = tiny_tables["orders"].assign(amount=[1.0, -5.0, 1.0, 1.0])
    orders.to_parquet(tmp_path / "orders.parquet", index=False)
    with pytest.raises(SchemaError, match=r"orders\.amount: negative values"):
        load_tables(tmp_path)
    assert len(load_tables(tmp_path, check=False)["orders"]) == 4


def test_unknown_format_is_refused(tiny_tables, tmp_path):
    with pytest.raises(ValueError, match=r"fmt must be 'parquet' or 'csv'\. Got 'xlsx'"):
        write_tables(tiny_tables, tmp_path, fmt="xlsx")


def test_loaded_frames_are_pandas(tiny_tables, tmp_path):
    write_tables(tiny_tables, tmp_path)
    assert all(isinstance(f, pd.DataFrame) for f in load_tables(tmp_path).values())
