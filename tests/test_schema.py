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
    absent = ("products", "complaints", "listing_views")
    tables = {k: v for k, v in tiny_tables.items() if k not in absent}
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
    status = orders["status"].copy()
    status.iloc[[0, 2]] = ["cancelled", "refunded"]  # status and times in step
    orders = orders.assign(status=status)
    with pytest.raises(SchemaError, match=r"2 problem") as err:
        validate(_with(tiny_tables, "orders", orders))
    text = str(err.value)
    assert "orders.refunded_at: earlier than created_at in 1 row(s), e.g. order_id O3" in text
    assert "orders.cancelled_at: earlier than created_at in 1 row(s), e.g. order_id O1" in text


# --- non-finite numbers (issue 14, item 3) -------------------------------------------

_RANGED = [
    (spec.name, col.name)
    for spec in CONTRACT.values()
    for col in spec.columns
    if col.kind in ("float", "int") and col.non_negative
]


def test_every_numeric_column_has_a_range_rule():
    # the non-finite rule below follows the range rule; a new numeric column without one
    # would silently accept inf
    numeric = [(s.name, c.name) for s in CONTRACT.values() for c in s.columns if c.kind != "str"]
    assert {n for n in numeric if n in _RANGED} == {
        n for n in numeric if CONTRACT[n[0]].column(n[1]).kind in ("float", "int")
    }
    assert ("orders", "amount") in _RANGED and ("listings", "price") in _RANGED


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
@pytest.mark.parametrize(("table", "column"), _RANGED)
def test_non_finite_values_are_contract_errors(tiny_tables, table, column, value):
    frame = tiny_tables[table].copy()
    if column not in frame.columns:  # an optional column the tiny tables leave out
        frame[column] = 0.5
    values = frame[column].astype("float64").to_numpy(copy=True)
    values[0] = value
    frame[column] = values
    key = CONTRACT[table].key
    first = frame[key].iloc[0] if key else 0
    with pytest.raises(SchemaError) as info:
        validate(_with(tiny_tables, table, frame))
    assert info.value.problems == [
        f"{table}.{column}: non-finite values (inf or -inf) in 1 row(s), e.g. "
        f"{key or 'row'} {first}; {column} must be a finite number: replace them with the "
        "real value, or "
        + ("leave them empty (missing)" if CONTRACT[table].column(column).nullable else "drop")
        + ("" if CONTRACT[table].column(column).nullable else " those rows")
    ]


def test_non_finite_count_and_examples(tiny_tables):
    orders = tiny_tables["orders"].assign(amount=[float("inf"), 1.0, float("inf"), "inf"])
    with pytest.raises(
        SchemaError,
        match=r"orders\.amount: non-finite values \(inf or -inf\) in 3 row\(s\), "
        r"e\.g\. order_id O1, O3, O4;",
    ):
        validate(_with(tiny_tables, "orders", orders))


def test_nan_stays_missing_where_nulls_are_allowed(tiny_tables):
    products = tiny_tables["products"].assign(reference_price=[float("nan")])
    out = validate(_with(tiny_tables, "products", products))
    assert out["products"]["reference_price"].isna().tolist() == [True]


def test_nan_is_a_missing_value_where_nulls_are_not(tiny_tables):
    orders = tiny_tables["orders"].assign(amount=[1.0, float("nan"), 1.0, 1.0])
    with pytest.raises(SchemaError, match=r"orders\.amount: missing values in 1 row\(s\), e\.g\. "):
        validate(_with(tiny_tables, "orders", orders))


def test_huge_integer_is_refused_not_wrapped(tiny_tables):
    orders = tiny_tables["orders"].assign(quantity=pd.Series([1, 2**64 - 1, 1, 1], dtype="uint64"))
    with pytest.raises(SchemaError, match=r"orders\.quantity: values too large .* order_id O2"):
        validate(_with(tiny_tables, "orders", orders))


# --- mixed time zones (issue 14, item 4) ---------------------------------------------


def test_mixed_naive_and_zoned_strings_are_refused(tiny_tables):
    orders = tiny_tables["orders"].assign(
        created_at=[
            "2024-01-10T08:00:00+08:00",
            "2024-02-10T08:00:00",
            "2024-02-11 09:30",
            "2024-02-12T00:00:00Z",
        ]
    )
    with pytest.raises(SchemaError) as info:
        validate(_with(tiny_tables, "orders", orders))
    (problem,) = info.value.problems
    assert problem.startswith(
        "orders.created_at: 2 timestamp(s) without a time zone mixed with 2 with one; the "
        "naive ones are 2 row(s), e.g. order_id O2, O3 (e.g. '2024-02-10T08:00:00')."
    )
    assert "give every value its offset (e.g. +00:00 when they are UTC)" in problem


def test_mixed_naive_and_aware_objects_are_refused(tiny_tables):
    created = pd.Series(
        [
            pd.Timestamp("2024-01-10 08:00", tz="Asia/Shanghai"),
            pd.Timestamp("2024-02-10"),
            pd.Timestamp("2024-02-11"),
            pd.Timestamp("2024-02-12"),
        ],
        dtype=object,
    )
    orders = tiny_tables["orders"].assign(created_at=created)
    with pytest.raises(SchemaError, match=r"orders\.created_at: 3 timestamp\(s\) without a time"):
        validate(_with(tiny_tables, "orders", orders))


def test_one_zone_per_column_is_accepted(tiny_tables):
    orders = tiny_tables["orders"].assign(
        created_at=[
            "2024-01-10T08:00:00+08:00",
            "2024-02-10T08:00:00 +00:00",
            "2024-02-11T00:00Z",
            "2024-02-12T01:00-0100",
        ]
    )
    out = validate(_with(tiny_tables, "orders", orders))["orders"]["created_at"]
    # offsets convert to UTC
    assert out.iloc[0] == pd.Timestamp("2024-01-10 00:00")
    assert out.iloc[3] == pd.Timestamp("2024-02-12 02:00")
    dates = tiny_tables["orders"].assign(created_at=["2024-01-10", "2024-02-10"] * 2)
    assert validate(_with(tiny_tables, "orders", dates))["orders"]["created_at"].notna().all()


# --- values of any type are reported, never crashed on (issue 14, item 7) -------------


@pytest.mark.parametrize(
    ("table", "column", "values", "expected"),
    [
        ("listings", "brand", ["Apple", pd.NA, None], None),
        ("sellers", "seller_id", [["S1"], "S2"], r"sellers\.seller_id: expected text.*\(list\)"),
        ("orders", "seller_id", [1, 2, 2, 2], r"orders\.seller_id: expected text.*\(int\)"),
        ("orders", "listing_id", pd.Series([1.0, 2.0, 2.0, 3.0]), r"got dtype float64"),
        ("orders", "amount", [[1.0], 1.0, 1.0, 1.0], r"orders\.amount: expected numbers"),
        ("orders", "quantity", [10**400, 1, 1, 1], r"orders\.quantity: non-finite values"),
        ("orders", "created_at", [5, "2024-01-10", "2024-01-11", "2024-01-12"], r"\(int\)"),
        ("orders", "amount", pd.to_datetime(["2024-01-01"] * 4), r"got dtype datetime64"),
    ],
)
def test_odd_values_are_contract_errors(tiny_tables, table, column, values, expected):
    frame = tiny_tables[table].copy()
    frame[column] = pd.Series(values, dtype=object) if isinstance(values, list) else values
    # only the foreign-key column's own problem: no crash comparing it to the text key
    tables = _with(tiny_tables, table, frame)
    if expected is None:
        assert validate(tables)[table][column].isna().tolist() == [False, True, True]
        return
    with pytest.raises(SchemaError, match=expected):
        validate(tables)


def test_not_a_mapping_is_a_contract_error(tiny_tables):
    with pytest.raises(SchemaError, match=r"validate expects a mapping .* got list"):
        validate([tiny_tables["sellers"]])  # type: ignore[arg-type]


def test_duplicate_column_names_are_a_contract_error(tiny_tables):
    sellers = pd.concat([tiny_tables["sellers"], tiny_tables["sellers"][["region"]]], axis=1)
    with pytest.raises(SchemaError, match=r"sellers: column\(s\) region appear more than once"):
        validate(_with(tiny_tables, "sellers", sellers))


def test_order_status_agrees_with_its_times() -> None:
    import riskscore as rs
    from riskscore.exceptions import SchemaError

    tables = rs.make_marketplace(n_sellers=60, seed=1)
    tables.pop("truth", None)
    rs.validate(tables)  # the simulator keeps status and times in step
    orders = tables["orders"].copy()
    refunded = orders.index[orders["status"] == "refunded"][:3]
    delivered = orders.index[orders["status"] == "delivered"][:2]
    orders.loc[refunded, "refunded_at"] = pd.NaT
    orders.loc[delivered, "cancelled_at"] = orders.loc[delivered, "created_at"]
    with pytest.raises(SchemaError) as info:
        rs.validate({**tables, "orders": orders})
    message = str(info.value)
    assert "orders.refunded_at: missing in 3 row(s)" in message
    assert "whose status is 'refunded'" in message
    assert "orders.cancelled_at: set in 2 row(s)" in message
