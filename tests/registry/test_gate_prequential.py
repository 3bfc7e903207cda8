"""The gate on real fits: two configurations refitted on three prequential windows.

``paired_prequential`` fits both configurations on each window's past and pools the test
rows they both scored; the gate then decides on intervals over all of them (slow: twelve
LightGBM fits).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore.modeling import (
    TrainConfig,
    compare_paired,
    make_training_table,
    paired_prequential,
)
from riskscore.registry import Gate

pytestmark = pytest.mark.slow

QUICK = TrainConfig(capacity=100, num_boost_round=60, num_threads=1, seed=0)
WEAK = QUICK.replace(feature_cols=("noise__a",))


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    t = make_training_table(1200, 7, positive_rate=0.08, seed=1)
    age = t["profile__account_age_days"].to_numpy()
    t["segment__tenure"] = np.where(age < np.quantile(age, 0.25), "new (<90 days)", "established")
    return t


def test_pooled_windows_share_rows_and_decide(table: pd.DataFrame) -> None:
    frame = paired_prequential(table, QUICK, WEAK, n_windows=3)
    assert frame["cutoff"].nunique() == 3  # three test windows pooled
    assert not frame.duplicated(["entity_id", "cutoff"]).any()
    assert set(frame["segment__tenure"]) == {"new (<90 days)", "established"}
    better = compare_paired(frame, k=frame.attrs["k"], n_bootstrap=300)
    assert better.n_cutoffs == 3 and better.n_positives == int(frame["label"].sum())
    assert better.metrics.loc["pr_auc", "delta_lo"] > 0
    d = Gate(min_positives=20).decide(better)
    assert d.outcome == "promote", d.reasons

    # the same rows with the roles swapped: the weak model as challenger is refused
    swapped = frame.rename(
        columns={
            "score_challenger": "score_champion",
            "score_champion": "score_challenger",
            "flag_challenger": "flag_champion",
            "flag_champion": "flag_challenger",
        }
    )
    worse = compare_paired(swapped, k=frame.attrs["k"], n_bootstrap=300)
    assert worse.metrics.loc["pr_auc", "delta"] == pytest.approx(
        -better.metrics.loc["pr_auc", "delta"]
    )
    assert Gate(min_positives=20).decide(worse).outcome == "refuse"
