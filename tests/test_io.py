"""Reading and writing a folder of tables."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore import ParameterError, SchemaError, load_tables, write_tables


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
    match = r"'fmt' parameter of write_tables must be one of \['parquet', 'csv'\]\. Got 'xlsx'"
    with pytest.raises(ParameterError, match=match) as info:
        write_tables(tiny_tables, tmp_path, fmt="xlsx")
    assert isinstance(info.value, ValueError)  # as before this error had its own class
    assert not list(tmp_path.iterdir())


def test_bad_arguments_are_parameter_errors(tiny_tables, tmp_path):
    with pytest.raises(ParameterError, match=r"'path' parameter of load_tables .* Got None"):
        load_tables(None)
    with pytest.raises(ParameterError, match=r"'tables\['orders'\]' parameter .* Got 5"):
        write_tables({"orders": 5}, tmp_path)
    with pytest.raises(ParameterError, match=r"'tables' parameter of write_tables .* Got None"):
        write_tables(None, tmp_path)
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ParameterError, match=r"folder that can be written\. Got '.*a_file'"):
        write_tables(tiny_tables, tmp_path / "a_file")


def test_a_table_parquet_cannot_hold_is_a_schema_error(tmp_path):
    mixed = pd.DataFrame({"x": [1, "a", 2.5]})
    with pytest.raises(SchemaError, match=r"table 'mixed' cannot be written as parquet"):
        write_tables({"mixed": mixed}, tmp_path)
    assert not list(tmp_path.iterdir())  # no temporary file left behind


def test_loaded_frames_are_pandas(tiny_tables, tmp_path):
    write_tables(tiny_tables, tmp_path)
    assert all(isinstance(f, pd.DataFrame) for f in load_tables(tmp_path).values())


# --- files that cannot be read are clear errors, not tracebacks (issue 14, item 6) ----


def _latin1(path):
    path.write_bytes("seller_id,registered_at,region\nS1,2024-01-01,Zürich\n".encode("latin-1"))


@pytest.mark.parametrize(
    ("name", "write", "expected"),
    [
        ("orders.csv", lambda p: p.write_bytes(b""), r"orders\.csv' is empty \(0 bytes\)"),
        ("orders.parquet", lambda p: p.write_bytes(b""), r"orders\.parquet' is empty \(0 bytes\)"),
        (
            "orders.parquet",
            lambda p: p.write_text("order_id,amount\nO1,5\n"),
            r"orders\.parquet' is not a Parquet file \(it holds text starting b'order_id,amount"
            r"\\nO1,5', not the Parquet magic bytes PAR1\); write it with .*save the table as "
            r"\.csv instead",
        ),
        (
            "orders.parquet",
            lambda p: p.write_bytes(b"PAR1\x00\x01garbage"),
            r"orders\.parquet' is not a readable Parquet file \(.*\); write it with",
        ),
        ("sellers.csv", _latin1, r"sellers\.csv' is not UTF-8 text \(byte b'\\xfc' on line 2\)"),
        (
            "orders.csv",
            lambda p: p.write_text("order_id,amount\nO1,5,7\n"),
            r"orders\.csv' is not a well-formed CSV \(rows have more fields than the header\)",
        ),
        (
            "orders.csv",
            lambda p: p.write_text("order_id,amount\nO1,5\nO2,5,7,8\n"),
            r"orders\.csv' is not a well-formed CSV \(Expected 2 fields in line 3, saw 4\)",
        ),
        ("orders.csv", lambda p: p.write_text("\n\n"), r"orders\.csv' has no header row"),
    ],
)
def test_unreadable_file_names_file_problem_and_fix(tiny_tables, tmp_path, name, write, expected):
    write_tables(tiny_tables, tmp_path)
    (tmp_path / f"{name.split('.')[0]}.parquet").unlink()
    write(tmp_path / name)
    with pytest.raises(SchemaError, match=expected) as info:
        load_tables(tmp_path)
    assert str(tmp_path / name) in str(info.value)


def test_data_path_that_is_a_file(tiny_tables, tmp_path):
    write_tables(tiny_tables, tmp_path)
    with pytest.raises(SchemaError, match=r"data folder .*orders\.parquet' is a file; pass the"):
        load_tables(tmp_path / "orders.parquet")


def test_read_table_keeps_the_callers_error_type(tmp_path):
    from riskscore.exceptions import TrainingError
    from riskscore.io import read_table

    with pytest.raises(TrainingError, match=r"file '.*t\.csv' does not exist; check the path"):
        read_table(tmp_path / "t.csv", error=TrainingError)
    with pytest.raises(TrainingError, match=r"t\.xlsx' is neither \.parquet nor \.csv"):
        read_table(tmp_path / "t.xlsx", error=TrainingError)
    (tmp_path / "t.pq").write_bytes(b"")
    with pytest.raises(TrainingError, match=r"t\.pq' is empty \(0 bytes\)"):
        read_table(tmp_path / "t.pq", error=TrainingError)


def test_utf8_with_bom_reads_clean_headers(tiny_tables, tmp_path):
    write_tables(tiny_tables, tmp_path, fmt="csv")
    sellers = tmp_path / "sellers.csv"
    sellers.write_bytes(b"\xef\xbb\xbf" + sellers.read_bytes())
    assert load_tables(tmp_path)["sellers"]["seller_id"].tolist() == ["S1", "S2"]
