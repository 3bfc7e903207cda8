"""Segments for sliced evaluation: known at each cutoff, exact on a tiny marketplace."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.exceptions import FeatureError
from riskscore.features import SEGMENT_COLUMNS, add_segments

ts = pd.Timestamp


def rows(ids: list[str], cutoffs: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"entity_id": ids, "cutoff": [ts(c) for c in cutoffs], "label": 0})


def test_seller_segments_at_each_cutoff(tiny_tables: dict[str, pd.DataFrame]) -> None:
    frame = rows(["S1", "S2", "S2", "S1"], ["2024-02-01", "2024-02-04", "2024-02-13", "2024-06-01"])
    seg = add_segments(frame, tiny_tables)
    assert seg.columns.tolist() == [*frame.columns, *SEGMENT_COLUMNS]
    # S1 registered 2024-01-01: 31 days old at Feb 1st, 152 days on June 1st
    assert seg["segment__tenure"].tolist() == [
        "new (<90 days)",
        "new (<90 days)",
        "new (<90 days)",
        "established",
    ]
    assert seg["segment__region"].tolist() == ["Zhejiang", "Guangdong", "Guangdong", "Zhejiang"]
    # S2's listings L2 (phones, Feb 3rd) and L3 (home, Feb 4th): on Feb 4th only L2 is
    # known (strictly before the cutoff); on Feb 13th a 1-1 tie goes to the first name
    assert seg["segment__category"].tolist() == ["phones", "phones", "home", "phones"]
    # orders in the 90 days before: S1 one on Jan 10th (none left by June 1st); S2 none
    # before Feb 4th, three before Feb 13th
    assert seg["segment__size"].tolist() == [
        "1-19 orders",
        "no orders",
        "1-19 orders",
        "no orders",
    ]
    pd.testing.assert_frame_equal(seg[frame.columns], frame)  # input columns untouched


def test_listing_segments_use_the_listings_category(tiny_tables: dict[str, pd.DataFrame]) -> None:
    seg = add_segments(rows(["L3", "L1"], ["2024-03-01", "2024-03-01"]), tiny_tables, "listing")
    assert seg["segment__category"].tolist() == ["home", "phones"]
    assert seg["segment__region"].tolist() == ["Guangdong", "Zhejiang"]
    assert seg["segment__size"].tolist() == ["1-19 orders", "1-19 orders"]


def test_size_bins_edges(tiny_tables: dict[str, pd.DataFrame]) -> None:
    orders = tiny_tables["orders"]
    many = pd.concat([orders.iloc[[0]]] * 100, ignore_index=True)
    many["order_id"] = [f"X{i}" for i in range(100)]
    tables = {**tiny_tables, "orders": many}
    for n, label in [(19, "1-19 orders"), (20, "20-99 orders"), (99, "20-99 orders")]:
        cut = {**tables, "orders": many.head(n)}
        assert add_segments(rows(["S1"], ["2024-02-01"]), cut)["segment__size"].item() == label
    assert add_segments(rows(["S1"], ["2024-02-01"]), tables)["segment__size"].item() == (
        "100+ orders"
    )


def test_unknown_ids_and_missing_columns_are_named(tiny_tables: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(FeatureError, match=r"2 id\(s\) not in the seller table, e.g. S9, S8"):
        add_segments(rows(["S9", "S1", "S8"], ["2024-03-01"] * 3), tiny_tables)
    with pytest.raises(FeatureError, match=r"missing column\(s\) \['cutoff'\]"):
        add_segments(pd.DataFrame({"entity_id": ["S1"]}), tiny_tables)
    with pytest.raises(FeatureError, match="not 'buyer'"):
        add_segments(rows(["S1"], ["2024-03-01"]), tiny_tables, "buyer")


@pytest.mark.parametrize(
    ("frame", "tables", "name"),
    [
        (None, {}, "frame"),
        (
            pd.DataFrame({"entity_id": ["S1"], "cutoff": [pd.Timestamp("2024-06-01")]}),
            None,
            "tables",
        ),
        (
            pd.DataFrame({"entity_id": ["S1"], "cutoff": [pd.Timestamp("2024-06-01")]}),
            {"sellers": pd.DataFrame()},
            "tables",
        ),
    ],
)
def test_add_segments_refuses_bad_arguments(frame, tables, name) -> None:
    with pytest.raises(FeatureError, match=f"'{name}' parameter of add_segments"):
        add_segments(frame, tables)
