"""Two policies side by side: paired bootstrap over entities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore.backtest import BacktestError
from riskscore.backtest._compare import compare_policies


@pytest.fixture
def rows() -> pd.DataFrame:
    """400 entities at two cutoffs; 10% positive, values 1..400."""
    rng = np.random.default_rng(0)
    n = 400
    label = rng.random(n) < 0.1
    return pd.DataFrame(
        {
            "entity_id": np.tile([f"S{i}" for i in range(n)], 2),
            "label": np.tile(label, 2).astype(int),
            "value": np.tile(np.arange(1.0, n + 1), 2),
        }
    )


def test_a_better_policy_has_an_interval_above_zero(rows):
    label = rows["label"].to_numpy(dtype=bool)
    rng = np.random.default_rng(1)
    noisy = rng.random(len(rows)) < 0.2  # alerts at random: precision ~ 10%
    better = noisy | label  # the same alerts plus every positive
    table = compare_policies(rows, noisy, better, names=("a", "b"), days=60.0, seed=3)
    assert table.loc["recall", "b"] == 1.0
    assert table.loc["recall", "delta_lo"] > 0 and table.loc["precision", "delta_lo"] > 0
    for metric in table.index:
        row = table.loc[metric]
        assert row["a_lo"] <= row["a"] <= row["a_hi"]
        assert row["delta_lo"] <= row["delta"] <= row["delta_hi"]
        assert row["delta"] == pytest.approx(row["b"] - row["a"])
    # reproducible by seed; another seed moves the interval, not the point estimate
    pd.testing.assert_frame_equal(
        table, compare_policies(rows, noisy, better, names=("a", "b"), days=60.0, seed=3)
    )
    other = compare_policies(rows, noisy, better, names=("a", "b"), days=60.0, seed=4)
    assert other["delta"].equals(table["delta"])
    assert not other["delta_lo"].equals(table["delta_lo"])


def test_entities_are_resampled_whole(rows):
    """Both cutoffs of an entity move together: with identical halves, doubling the rows
    changes nothing (a row bootstrap would narrow the interval)."""
    label = rows["label"].to_numpy(dtype=bool)
    alert = label | (np.arange(len(rows)) % 7 == 0)
    half = rows.iloc[:400]
    one = compare_policies(
        half, alert[:400], alert[:400] | (np.arange(400) % 5 == 0), days=30.0, n_bootstrap=200
    )
    both = compare_policies(
        rows,
        np.tile(alert[:400], 2),
        np.tile(alert[:400] | (np.arange(400) % 5 == 0), 2),
        days=60.0,
        n_bootstrap=200,
    )
    for col in ("delta_lo", "delta_hi"):
        assert both.loc["precision", col] == pytest.approx(one.loc["precision", col])


def test_no_bootstrap_gives_point_estimates_only(rows):
    alert = rows["label"].to_numpy(dtype=bool)
    table = compare_policies(rows, alert, alert, days=10.0, n_bootstrap=0)
    assert list(table.columns) == ["a", "b", "delta"]
    assert (table["delta"].fillna(0) == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_bootstrap": -1}, "n_bootstrap"), ({"level": 1.0}, "level"), ({"seed": "x"}, "seed")],
)
def test_bad_settings(rows, kwargs, match):
    alert = rows["label"].to_numpy(dtype=bool)
    with pytest.raises(BacktestError, match=match):
        compare_policies(rows, alert, alert, days=10.0, **kwargs)
