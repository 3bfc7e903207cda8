"""Alert metrics on hand-built rows: precision, recall, value recall, lead time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore.backtest._metrics import cutoff_table, overall_table, period_days, rules_table

T = pd.Timestamp


@pytest.fixture
def rows() -> pd.DataFrame:
    """Two cutoffs, four sellers. ``a`` is decided 2024-06-20, ``b`` 2024-07-10.

    At 2024-05-01 (window to 2024-06-30): a positive, b not yet (decided later).
    At 2024-06-01: a and b positive; c, d negative.
    """
    return pd.DataFrame(
        {
            "entity_id": ["a", "b", "c", "d", "a", "b", "c", "d"],
            "cutoff": [T("2024-05-01")] * 4 + [T("2024-06-01")] * 4,
            "label": [1, 0, 0, 0, 1, 1, 0, 0],
            "value": [100.0, 0.0, 5.0, 0.0, 200.0, 600.0, 10.0, 0.0],
            "decided_at": [T("2024-06-20"), T("2024-07-10"), pd.NaT, pd.NaT] * 2,
        }
    )


def test_precision_recall_and_value_per_cutoff(rows):
    alert = np.array([True, False, True, False, False, True, True, True])
    periods = period_days([T("2024-05-01"), T("2024-06-01")], pd.Timedelta("60D"))
    table = cutoff_table(rows, {"p": alert}, periods).set_index("cutoff")
    may, june = table.loc[T("2024-05-01")], table.loc[T("2024-06-01")]
    # May: alerts a (tp), c (fp) -> precision 1/2; positives {a} -> recall 1
    assert (may["alerts"], may["true_positives"], may["positives"]) == (2, 1, 1)
    assert may["precision"] == 0.5 and may["recall"] == 1.0 and may["value_recall"] == 1.0
    assert may["alerts_per_day"] == pytest.approx(2 / 31)
    assert may["lead_days_median"] == 50.0  # a: 2024-05-01 -> 2024-06-20
    # June: alerts b (tp), c, d -> precision 1/3; positives {a, b} -> recall 1/2
    assert june["precision"] == pytest.approx(1 / 3) and june["recall"] == 0.5
    assert june["value_recall"] == pytest.approx(600 / 800)
    assert june["new_alerts"] == 2  # b and d were not alerted in May; c was
    assert june["lead_days_median"] == 39.0  # b: 2024-06-01 -> 2024-07-10


def test_overall_pools_rows_and_measures_lead_from_the_first_alert(rows):
    alert = np.array([True, False, True, False, False, True, True, True])
    periods = period_days([T("2024-05-01"), T("2024-06-01")], pd.Timedelta("60D"))
    overall = overall_table(rows, {"p": alert}, periods).iloc[0]
    assert overall["alerts"] == 5 and overall["true_positives"] == 2
    assert overall["precision"] == pytest.approx(2 / 5)
    assert overall["recall"] == pytest.approx(2 / 3)
    assert overall["value_recall"] == pytest.approx(700 / 900)
    assert overall["alerts_per_day"] == pytest.approx(5 / 62)
    # a first alerted 2024-05-01 (50 days ahead), b first 2024-06-01 (39 days)
    assert (overall["positive_entities"], overall["entities_caught"]) == (2, 2)
    assert overall["lead_days_median"] == pytest.approx(44.5)
    assert overall["lead_days_mean"] == pytest.approx(44.5)


def test_no_alert_means_nan_precision_and_zero_recall(rows):
    periods = period_days([T("2024-05-01"), T("2024-06-01")], pd.Timedelta("60D"))
    overall = overall_table(rows, {"none": np.zeros(8, dtype=bool)}, periods).iloc[0]
    assert np.isnan(overall["precision"]) and overall["recall"] == 0.0
    assert overall["entities_caught"] == 0 and np.isnan(overall["lead_days_median"])


def test_period_days_of_a_lone_cutoff_is_the_horizon():
    assert period_days([T("2024-05-01")], pd.Timedelta("45D")) == {T("2024-05-01"): 45.0}


def test_rules_table_counts_alerts_only_that_rule_produced(rows):
    alone = np.array(["r1", None, "r1", None, None, "r2", None, None], dtype=object)
    table = rules_table(
        rows,
        {"p": alone},
        {"p": {"r1": (4, 1), "r2": (1, 1)}},
        {"p": {"r1": "review", "r2": "hold"}},
    ).set_index("rule")
    assert table.loc["r1", "alerts_alone"] == 2 and table.loc["r1", "true_positives_alone"] == 1
    assert table.loc["r1", "precision_alone"] == 0.5 and table.loc["r1", "value_alone"] == 100.0
    assert table.loc["r2", "alerts_alone"] == 1 and table.loc["r2", "value_alone"] == 600.0
    assert table.loc["r1", "fired"] == 4
