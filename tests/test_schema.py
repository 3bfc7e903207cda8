"""The data contract: accepts good tables, rejects each kind of bad input clearly."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore import SchemaError, validate
from riskscore.schema import CONTRACT


def _with(tables: dict[str, pd.DataFrame], name: str, frame: pd.DataFrame) -> dict:
    out = dict(tables)
    out[name] = frame
    return out


def test_accepts_valid_tables_and_types_them(tiny_tables):
    out = validate(tiny_tables)
    assert str(out["orders"]["created_at"].dtype) == "datetime64[us]"
    assert str(out["orders"]["quantity"].dtype) == "int64"
    assert str(out["listings"]["price"].dtype) == "float64"
    assert out["sellers"]["seller_id"].dtype == "str"
    # nothing dropped or altered
    for name, frame in tiny_tables.items():
        assert len(out[name]) == len(frame)
    assert out["orders"]["amount"].tolist() == tiny_tables["orders"]["amount"].tolist()


def test_does_not_mutate_inputs(tiny_tables):
    orders = tiny_tables["orders"].assign(created_at=lambda d: d["created_at"].astype(str))
    before = orders.copy()
    validate(_with(tiny_tables, "orders", orders))
    pd.testing.assert_frame_equal(orders, before)


def test_iso_strings_become_timestamps(tiny_tables):
    orders = tiny_tables["orders"].assign(created_at=["2024-01-10T08:00:00"] * 4)
    out = validate(_with(tiny_tables, "orders", orders))
    assert out["orders"]["created_at"].iloc[0] == pd.Timestamp("2024-01-10 08:00")


def test_timezone_aware_times_are_converted_to_utc(tiny_tables):
    orders = tiny_tables["orders"].assign(
        created_at=pd.to_datetime(["2024-01-10T08:00:00+08:00"] * 4)
    )
    out = validate(_with(tiny_tables, "orders", orders))
    assert out["orders"]["created_at"].iloc[0] == pd.Timestamp("2024-01-10 00:00")


def test_extra_columns_and_tables_pass_through(tiny_tables):
    sellers = tiny_tables["sellers"].assign(vip=[True, False])
    tables = _with(tiny_tables, "sellers", sellers)
    tables["truth"] = pd.DataFrame({"seller_id": ["S1"]})
    out = validate(tables)
    assert out["sellers"]["vip"].tolist() == [True, False]
    assert "truth" in out


def test_optional_tables_may_be_absent(tiny_tables):
    tables = {k: v for k, v in tiny_tables.items() if k not in ("products", "complaints")}
    assert set(validate(tables)) == {"sellers", "listings", "orders", "labels"}


def test_missing_required_table(tiny_tables):
    tables = {k: v for k, v in tiny_tables.items() if k != "orders"}
    with pytest.raises(SchemaError, match=r"table 'orders' is missing"):
        validate(tables)


def test_missing_column_names_table_column_and_fix(tiny_tables):
    orders = tiny_tables["orders"].drop(columns=["buyer_id"])
    with pytest.raises(SchemaError, match=r"orders\.buyer_id: required column is missing"):
        validate(_with(tiny_tables, "orders", orders))


def test_wrong_dtype(tiny_tables):
    listings = tiny_tables["listings"].assign(price=["cheap", "2500", "80"])
    with pytest.raises(SchemaError, match=r"listings\.price: expected numbers.*listing_id L1"):
        validate(_with(tiny_tables, "listings", listings))


def test_duplicate_key_lists_examples_and_count(tiny_tables):
    orders = tiny_tables["orders"].assign(order_id=["O1", "O1", "O3", "O3"])
    with pytest.raises(SchemaError, match=r"orders\.order_id: key is not unique, 4 row\(s\)"):
        validate(_with(tiny_tables, "orders", orders))


def test_orphan_order(tiny_tables):
    orders = tiny_tables["orders"].assign(listing_id=["L1", "L9", "L2", "L3"])
    with pytest.raises(
        SchemaError, match=r"orders\.listing_id: 1 row\(s\), e\.g\. order_id O2 refer to listings"
    ):
        validate(_with(tiny_tables, "orders", orders))


def test_negative_price(tiny_tables):
    listings = tiny_tables["listings"].assign(price=[5900.0, -1.0, 80.0])
    with pytest.raises(SchemaError, match=r"listings\.price: negative values in 1 row\(s\).*L2"):
        validate(_with(tiny_tables, "listings", listings))


def test_unparsable_timestamp(tiny_tables):
    orders = tiny_tables["orders"].assign(
        created_at=["2024-01-10", "yesterday", "2024-02-11", "2024-02-12"]
    )
    with pytest.raises(SchemaError, match=r"orders\.created_at: unparsable.*O2.*'yesterday'"):
        validate(_with(tiny_tables, "orders", orders))


def test_timestamp_out_of_range(tiny_tables):
    orders = tiny_tables["orders"].assign(
        created_at=[pd.Timestamp("1970-01-20")] * 4  # epoch seconds read as milliseconds
    )
    with pytest.raises(SchemaError, match=r"orders\.created_at: timestamps out of range"):
        validate(_with(tiny_tables, "orders", orders))


def test_empty_required_table(tiny_tables):
    sellers = tiny_tables["sellers"].iloc[0:0]
    with pytest.raises(SchemaError, match=r"sellers: table is empty"):
        validate(_with(tiny_tables, "sellers", sellers))


def test_unknown_category_value(tiny_tables):
    orders = tiny_tables["orders"].assign(status=["delivered", "lost", "lost", "paid"])
    with pytest.raises(SchemaError, match=r"orders\.status: unknown values \['lost'\]"):
        validate(_with(tiny_tables, "orders", orders))


def test_all_problems_reported_at_once(tiny_tables):
    listings = tiny_tables["listings"].assign(price=[5900.0, -1.0, 80.0])
    orders = tiny_tables["orders"].assign(order_id=["O1", "O2", "O2", "O4"])
    tables = _with(_with(tiny_tables, "listings", listings), "orders", orders)
    with pytest.raises(SchemaError) as info:
        validate(tables)
    assert len(info.value.problems) == 2
    assert str(info.value).startswith("2 problem(s) found")


def test_contract_declares_time_columns():
    assert CONTRACT["orders"].time_column == "created_at"
    assert CONTRACT["labels"].time_column == "decided_at"
    assert CONTRACT["sellers"].key == "seller_id"


def test_mixed_object_column_is_not_silently_stringified(tiny_tables):
    sellers = tiny_tables["sellers"].assign(region=pd.Series(["Zhejiang", 5], dtype=object))
    with pytest.raises(SchemaError, match=r"sellers\.region: expected text.*seller_id S2"):
        validate(_with(tiny_tables, "sellers", sellers))


def test_integer_ids_become_text(tiny_tables):
    sellers = tiny_tables["sellers"].assign(region=[1, 2])
    assert validate(_with(tiny_tables, "sellers", sellers))["sellers"]["region"].tolist() == [
        "1",
        "2",
    ]


def test_status_timestamps_are_optional_and_typed(tiny_tables):
    orders = tiny_tables["orders"].assign(
        delivered_at=["2024-01-13T10:00:00", "2024-02-14", None, None],
        refunded_at=[None, None, "2024-02-25", None],
        cancelled_at=pd.Series([None] * 4, dtype="datetime64[us]"),
    )
    out = validate(_with(tiny_tables, "orders", orders))["orders"]
    assert str(out["refunded_at"].dtype) == "datetime64[us]"
    assert out["delivered_at"].iloc[0] == pd.Timestamp("2024-01-13 10:00")
    assert out["refunded_at"].iloc[2] == pd.Timestamp("2024-02-25")
    assert out["cancelled_at"].isna().all()
    assert not CONTRACT["orders"].column("refunded_at").required


def test_refund_before_its_order_is_refused(tiny_tables):
    orders = tiny_tables["orders"].assign(
        refunded_at=[None, None, pd.Timestamp("2024-02-01"), None],
        cancelled_at=[pd.Timestamp("2024-01-09"), None, None, None],
    )
    with pytest.raises(SchemaError, match=r"2 problem") as err:
        validate(_with(tiny_tables, "orders", orders))
    text = str(err.value)
    assert "orders.refunded_at: earlier than created_at in 1 row(s), e.g. order_id O3" in text
    assert "orders.cancelled_at: earlier than created_at in 1 row(s), e.g. order_id O1" in text
