"""Evidence section queries: the records and notes of a section, as of the scoring time."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.explain._evidence_sections import MIN_MONTHS, Note, gather_sections

CUTOFF = pd.Timestamp("2024-06-01")


def _sellers() -> dict[str, pd.DataFrame]:
    """Four sellers: a, b and c share one device, d stands alone; b was banned for fraud."""
    return {
        "sellers": pd.DataFrame(
            {
                "seller_id": ["a", "b", "c", "d"],
                "device_id": ["D", "D", "D", "E"],
                "registered_at": pd.to_datetime(["2024-01-01"] * 4),
            }
        ),
        "labels": pd.DataFrame(
            {
                "seller_id": ["b"],
                "label": ["fraud"],
                "decided_at": pd.to_datetime(["2024-03-01"]),
            }
        ),
    }


@pytest.mark.parametrize(
    ("seller", "note"),
    [
        ("a", Note("note_linked_sellers", {"others": 2})),
        ("b", Note("note_linked_sellers_labelled", {"others": 2, "label": "fraud"})),
        ("d", Note("note_linked_sellers", {"others": 0})),
    ],
)
def test_linked_sellers_note_counts_the_other_sellers_of_the_web(seller: str, note: Note):
    # the note used to call the web size "seller(s), itself included" while it counted the
    # others: a lone seller read "has 0 seller(s), itself included"
    sections, notes = gather_sections(_sellers(), seller, CUTOFF, ["network"], max_records=10)
    assert notes["linked_sellers"] == note
    assert len(sections["linked_sellers"]) == note.values["others"]


def test_a_seller_unknown_to_the_web_gets_an_empty_table_and_the_error_as_note():
    tables = _sellers()
    tables["sellers"] = tables["sellers"].assign(
        registered_at=pd.to_datetime(["2024-01-01"] * 3 + ["2024-07-01"])
    )
    sections, notes = gather_sections(tables, "d", CUTOFF, ["network"], max_records=10)
    assert sections["linked_sellers"].empty
    assert notes["linked_sellers"].key == "note_error"
    assert "registered on or after" in notes["linked_sellers"].values["text"]


def test_month_tables_keep_at_least_a_year_whatever_the_record_limit():
    months = pd.date_range("2022-01-15", periods=20, freq="MS")
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(20)],
            "seller_id": "a",
            "buyer_id": "B",
            "amount": 10.0,
            "created_at": months,
        }
    )
    tables = {**_sellers(), "orders": orders}
    sections, _ = gather_sections(tables, "a", CUTOFF, ["activity"], max_records=3)
    assert MIN_MONTHS == 12
    assert len(sections["activity_by_month"]) == MIN_MONTHS
    assert sections["activity_by_month"]["month"].iloc[-1] == "2023-09"
