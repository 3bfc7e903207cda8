"""Marketplace statistics: measured per window, kept at the reference cutoffs, compared."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from riskscore.monitor import (
    MonitorError,
    Reference,
    Thresholds,
    build_reference,
    compare,
    market_profile,
    market_summary,
)


def _tables(counterfeit_after: bool = True) -> dict[str, pd.DataFrame]:
    """Two months: 10 orders of 5 sellers a month, one refunded; 2 counterfeit + 1 other
    complaint a month (the second month's all 'other' with ``counterfeit_after=False``)."""
    days = pd.to_datetime(["2024-04-05", "2024-05-05"])
    orders = pd.DataFrame(
        {
            "seller_id": [f"S{i % 5}" for i in range(20)],
            "created_at": np.repeat(days, 10),
            "refunded_at": ([pd.Timestamp("2024-04-10")] + [pd.NaT] * 9)
            + ([pd.Timestamp("2024-05-10")] + [pd.NaT] * 9),
            "cancelled_at": [pd.NaT] * 20,
        }
    )
    kinds = ["counterfeit", "counterfeit", "other"]
    later = kinds if counterfeit_after else ["other"] * 3
    complaints = pd.DataFrame(
        {
            "seller_id": "S1",
            "kind": kinds + later,
            "created_at": np.repeat(pd.to_datetime(["2024-04-06", "2024-05-06"]), 3),
        }
    )
    return {"orders": orders, "complaints": complaints}


def test_summary_counts_the_window_before_as_of() -> None:
    stats = market_summary(_tables(), "2024-05-01")
    assert stats["orders_per_seller"] == 2.0  # 10 orders of 5 sellers in April
    assert stats["complaint_rate"] == pytest.approx(3 / 10)
    assert stats["complaint_rate:counterfeit"] == pytest.approx(2 / 10)
    assert stats["complaint_rate:not_received"] == 0.0
    assert stats["refund_rate"] == pytest.approx(1 / 10) and stats["cancel_rate"] == 0.0
    # a window without orders: no rate (not zero)
    empty = market_summary(_tables(), "2024-03-01")
    assert math.isnan(empty["orders_per_seller"]) and math.isnan(empty["complaint_rate"])


def test_summary_refuses_bad_input() -> None:
    with pytest.raises(MonitorError, match="needs the 'orders' table"):
        market_summary({}, "2024-05-01")
    with pytest.raises(MonitorError, match="lacks column"):
        market_summary({"orders": pd.DataFrame({"seller_id": ["S1"]})}, "2024-05-01")
    with pytest.raises(MonitorError, match="window_days must be an int >= 1"):
        market_summary(_tables(), "2024-05-01", window_days=0)


def _reference() -> Reference:
    frame = pd.DataFrame({"x": np.arange(500.0)})
    return build_reference(test_frame=frame, market=market_profile(_tables(), ["2024-05-01"]))


def test_profile_round_trips_through_the_reference() -> None:
    ref = _reference()
    again = Reference.from_json(ref.to_json())
    assert again.market == ref.market
    assert ref.market["stats"]["complaint_rate:counterfeit"] == [pytest.approx(0.2)]
    assert ref.market["window_days"] == 30 and ref.market["as_of"] == ["2024-05-01T00:00:00"]


def test_a_vanished_complaint_kind_is_acted_on() -> None:
    frame = pd.DataFrame({"x": np.arange(500.0)})
    now = market_summary(_tables(counterfeit_after=False), "2024-06-01")
    report = compare(_reference(), frame, market=now)
    acted = [f for f in report.findings if f.kind == "market" and f.level == "act"]
    assert [f.subject for f in acted] == ["complaint_rate:counterfeit"]
    assert "fell to 0, from 0.2–0.2" in acted[0].message
    assert "none at all now" in acted[0].message
    rows = {r["stat"]: r for r in report.market}
    assert rows["complaint_rate"]["level"] == "ok"  # 3 of 10 orders both months


def test_an_unchanged_market_is_ok_and_thresholds_apply() -> None:
    frame = pd.DataFrame({"x": np.arange(500.0)})
    now = dict(market_summary(_tables(), "2024-06-01"))
    assert compare(_reference(), frame, market=now).status == "ok"
    now["complaint_rate"] = 0.3 * 1.7  # 1.7x the highest: watch at 1.5x, act at 2x
    report = compare(_reference(), frame, market=now)
    found = next(f for f in report.findings if f.subject == "complaint_rate")
    assert found.level == "watch" and "1.7x above the highest" in found.message
    strict = compare(_reference(), frame, market=now, thresholds=Thresholds(act_market=1.6))
    assert strict.status == "act"


def test_without_a_market_reference_the_report_says_so() -> None:
    frame = pd.DataFrame({"x": np.arange(500.0)})
    report = compare(build_reference(test_frame=frame), frame, market={"complaint_rate": 0.1})
    assert report.market == [] and "no market reference" in report.market_note
    with pytest.raises(MonitorError, match="watch_market"):
        Thresholds(watch_market=0.5)
