"""Fuzz of ``riskscore.validate``: any input is accepted or refused with a RiskscoreError.

Tables start valid (the ``tiny_tables`` fixture) and then take one to three blows each:
a column refilled with odd values (``pd.NA``, lists, huge integers, bytes, aware and
naive times, ...), a column cast to another dtype or dropped, a duplicated index, a
table replaced by something that is not a table. ``validate`` must either return typed
tables or raise :class:`~riskscore.exceptions.RiskscoreError`; any other exception
(``TypeError``, ``ArrowInvalid``, ``OverflowError``, ...) fails the test.
"""

from __future__ import annotations

import datetime
import decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from riskscore import validate
from riskscore.exceptions import RiskscoreError, SchemaError
from riskscore.schema import CONTRACT

ODD_VALUES = [
    None,
    np.nan,
    pd.NA,
    pd.NaT,
    float("inf"),
    float("-inf"),
    0,
    -1,
    2**63,
    10**400,
    1.5,
    True,
    "",
    "   ",
    "S1",
    "L2",
    "O3",
    "delivered",
    "2024-01-10",
    "2024-01-10T08:00:00+08:00",
    "2024-01-10T08:00:00Z",
    "yesterday",
    "inf",
    "1e400",
    [1],
    ["S1"],
    {"a": 1},
    ("t",),
    b"bytes",
    1j,
    decimal.Decimal("1.5"),
    datetime.date(2024, 1, 10),
    pd.Timestamp("2024-01-10"),
    pd.Timestamp("2024-01-10", tz="Asia/Shanghai"),
    pd.Timestamp.max,
    np.datetime64("2024-01-10"),
    pd.Timedelta("1D"),
    object(),
]

DTYPES = ["object", "str", "category", "float64", "Int64", "bool", "datetime64[us]"]

COLUMNS = sorted(
    {(spec.name, col.name) for spec in CONTRACT.values() for col in spec.columns}
    | {(name, "extra") for name in CONTRACT}
)


@st.composite
def blows(draw: st.DrawFn) -> list[tuple]:
    """One to three changes to apply to valid tables."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["values", "values", "values", "dtype", "drop", "index", "table"])
        )
        table, column = draw(st.sampled_from(COLUMNS))
        if kind == "values":
            fill = draw(st.lists(st.sampled_from(range(len(ODD_VALUES))), min_size=1, max_size=4))
            out.append(("values", table, column, fill))
        elif kind == "dtype":
            out.append(("dtype", table, column, draw(st.sampled_from(DTYPES))))
        elif kind == "table":
            what = draw(
                st.sampled_from(["none", "list", "dict", "series", "empty", "nocols", "gone"])
            )
            out.append(("table", table, column, what))
        else:
            out.append((kind, table, column, None))
    return out


def _apply(tables: dict[str, pd.DataFrame], blow: tuple) -> None:
    kind, table, column, arg = blow
    frame = tables.get(table)
    if kind == "table":
        replacement = {
            "none": None,
            "list": [1, 2],
            "dict": {"seller_id": ["S1"]},
            "series": pd.Series(["S1"]),
            "empty": pd.DataFrame(),
            "nocols": pd.DataFrame(index=range(3)),
        }
        if arg == "gone":
            tables.pop(table, None)
        else:
            tables[table] = replacement[arg]
        return
    if not isinstance(frame, pd.DataFrame) or len(frame.columns) == 0:
        return
    frame = frame.copy()
    if kind == "values":
        picks = [ODD_VALUES[arg[i % len(arg)]] for i in range(len(frame))]
        frame[column] = pd.Series(picks, index=frame.index, dtype=object)
    elif kind == "dtype" and column in frame.columns:
        try:
            frame[column] = frame[column].astype(arg)
        except (TypeError, ValueError, OverflowError):  # OverflowError: inf to Int64
            return  # pandas itself refuses the cast: nothing to feed validate
    elif kind == "drop" and column in frame.columns:
        frame = frame.drop(columns=[column])
    elif kind == "index":
        frame.index = [0] * len(frame)
    tables[table] = frame


@pytest.mark.slow
# pandas refused the harness's cast (inf to Int64) with an OverflowError
@example(
    changes=[
        ("values", "complaints", "complaint_id", [4]),
        ("dtype", "complaints", "complaint_id", "Int64"),
    ]
)
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(changes=blows())
def test_validate_raises_nothing_but_riskscore_errors(tiny_tables, changes):
    tables: dict = {name: frame.copy() for name, frame in tiny_tables.items()}
    for blow in changes:
        _apply(tables, blow)
    try:
        out = validate(tables)
    except RiskscoreError as err:
        assert str(err)  # a message, never empty
        return
    assert set(out) == {k for k, v in tables.items() if v is not None}


@pytest.mark.parametrize(
    ("table", "column", "value", "expected"),
    [
        ("listings", "title", pd.NA, r"listings\.title: missing values"),
        ("sellers", "seller_id", ["S1"], r"sellers\.seller_id: expected text, found non-text"),
        ("orders", "seller_id", 5, r"orders\.seller_id: expected text"),
        ("orders", "amount", 10**400, r"orders\.amount: non-finite values"),
        ("orders", "created_at", pd.Timestamp.max, r"orders\.created_at: timestamps out of range"),
        ("orders", "quantity", object(), r"orders\.quantity: expected numbers"),
    ],
)
def test_the_fuzz_findings_are_contract_errors(tiny_tables, table, column, value, expected):
    # the failures the fuzz of issue 14 found, pinned: each was a TypeError, "unhashable
    # type", ArrowInvalid or OverflowError before
    frame = tiny_tables[table].copy()
    frame[column] = pd.Series([value] * len(frame), index=frame.index, dtype=object)
    with pytest.raises(SchemaError, match=expected):
        validate({**tiny_tables, table: frame})
