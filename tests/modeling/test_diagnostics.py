"""Training diagnostics: leaks refused, shifts and instability named, quiet otherwise.

Each check comes with the case it is built to catch (a copied label, a flipped feature,
a test window where the model ranks backwards) and the case where it must stay quiet.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from riskscore.exceptions import TrainingError
from riskscore.modeling import TrainingWarning, make_training_table, train
from riskscore.modeling._diagnostics import feature_shift, leak_check, psi


def _train(table: pd.DataFrame, config: object = None, **kwargs: object) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        settings = {"capacity": 20, "n_bootstrap": 100, "seed": 0, "refit": False, **kwargs}
        return train(table, config, family_report=False, **settings)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_training_table(1500, 6, positive_rate=0.08, seed=0)


def test_a_copied_label_is_refused(table: pd.DataFrame) -> None:
    t = table.assign(orders__copied=table["label"] * 5.0 + 1.0)
    with pytest.raises(TrainingError, match=r"'orders__copied'.*ROC-AUC 1\.000.*allow_leaky"):
        _train(t)


def test_a_copied_label_can_be_allowed_by_name(table: pd.DataFrame) -> None:
    t = table.assign(orders__copied=table["label"] * 5.0 + 1.0)
    r = _train(t, allow_leaky=["orders__copied"])
    sep = r.diagnostics.separation.set_index("feature")  # type: ignore[attr-defined]
    assert sep.loc["orders__copied", "status"] == "allowed"
    assert sep.loc["orders__copied", "roc_auc"] == 1.0
    with pytest.raises(TrainingError, match="not features of this training table"):
        _train(table, allow_leaky=["no_such_feature"])


def test_a_strong_ranker_that_does_not_isolate_positives_does_not_warn() -> None:
    """Account age on the marketplace: ROC-AUC 0.96, PR-AUC 0.1 — strong, not a leak."""
    rng = np.random.default_rng(0)
    y = (rng.random(20_000) < 0.01).astype(float)
    x = rng.normal(size=y.size) + 2.5 * y
    table, notes = leak_check(x[:, None], y, ["account__age"])
    assert table.loc[0, "roc_auc"] > 0.95 and table.loc[0, "pr_auc"] < 0.5
    assert notes == [] and table.loc[0, "status"] == "ok"


def test_a_near_copy_warns_and_trains(table: pd.DataFrame) -> None:
    rng = np.random.default_rng(1)
    noisy = np.where(rng.random(len(table)) < 0.03, 1 - table["label"], table["label"])
    t = table.assign(orders__near=noisy.astype(float))
    with pytest.warns(TrainingWarning, match=r"'orders__near' alone separates"):
        train(t, capacity=20, n_bootstrap=0, seed=0, refit=False)


def test_a_categorical_copy_is_caught(table: pd.DataFrame) -> None:
    t = table.assign(orders__kind=np.where(table["label"] == 1, "bad", "good"))
    with pytest.raises(TrainingError, match="orders__kind"):
        _train(t)


def test_quiet_on_a_stationary_table(table: pd.DataFrame) -> None:
    r = _train(table)
    d = r.diagnostics  # type: ignore[attr-defined]
    assert d.findings == []
    assert list(d.label_rate.columns) == ["rows", "positives", "rate"]
    assert len(d.label_rate) == table["cutoff"].nunique()
    assert d.stability["valid_roc_auc_lo"] <= d.stability["valid_roc_auc"]
    assert d.stability["valid_roc_auc"] <= d.stability["valid_roc_auc_hi"]
    assert "diagnostics.max_feature_psi" in d.metrics()
    assert r.model.metadata["diagnostics"]["findings"] == []  # type: ignore[attr-defined]


def test_a_feature_that_flips_in_the_test_window_is_named(table: pd.DataFrame) -> None:
    last = table["cutoff"].max()
    t = table.copy()
    newest = t["cutoff"] == last
    t.loc[newest, "orders__n_orders_30d"] = t.loc[newest, "orders__n_orders_30d"] * 10 + 500
    r = _train(t)
    shift = r.diagnostics.shift.set_index("feature")  # type: ignore[attr-defined]
    assert shift.loc["orders__n_orders_30d", "unusual"]
    assert shift.loc["orders__n_orders_30d", "psi_last"] > 1.0
    assert any("'orders__n_orders_30d'" in n and "PSI" in n for n in r.notes)  # type: ignore[attr-defined]


def test_a_test_window_that_ranks_backwards_is_named(table: pd.DataFrame) -> None:
    last = table["cutoff"].max()
    t = table.copy()
    newest = t["cutoff"] == last
    t.loc[newest, "label"] = 1 - t.loc[newest, "label"]  # concept flip in the newest window
    r = _train(t, min_positives=5)
    stab = r.diagnostics.stability  # type: ignore[attr-defined]
    assert stab["test_roc_auc"] < stab["valid_roc_auc_lo"] and stab["drop_lo"] > 0
    assert any("ranks the newest window worse" in n for n in r.notes)  # type: ignore[attr-defined]


def test_psi_levels() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=20_000)
    assert psi(a, rng.normal(size=20_000)) < 0.01
    assert psi(a, rng.normal(size=20_000) + 1.0) > 0.25
    with_missing = np.where(rng.random(20_000) < 0.5, np.nan, rng.normal(size=20_000))
    assert psi(a, with_missing) > 0.25  # missing values are a bin of their own
    cats = rng.integers(0, 3, 5000).astype(float)
    assert psi(cats, cats, categorical=True) == 0.0


def test_usual_movement_is_not_a_finding() -> None:
    """A feature that drifts the same amount every window (an age) is not unusual."""
    rng = np.random.default_rng(0)
    windows = np.repeat(np.arange(5), 2000)
    age = rng.gamma(4, 30, size=windows.size) + 30 * windows
    test = rng.gamma(4, 30, size=2000) + 30 * 5
    out = feature_shift(age[:, None], test[:, None], ["account__age"], ref_groups=windows)
    row = out.iloc[0]
    assert row["psi"] > 0.25 and not row["unusual"]
    jump = feature_shift(age[:, None], test[:, None] + 400, ["account__age"], ref_groups=windows)
    assert jump.iloc[0]["unusual"]


def _profile(table: pd.DataFrame, counterfeit_after: float) -> dict[str, object]:
    """A marketplace profile at the table's cutoffs; the last two take other values."""
    cutoffs = sorted(table["cutoff"].unique())
    late = [c >= cutoffs[-2] for c in cutoffs]
    return {
        "window_days": 30,
        "as_of": [pd.Timestamp(c).isoformat() for c in cutoffs],
        "stats": {
            "complaint_rate": [0.030, 0.034, 0.032, 0.036, 0.033, 0.031],
            "complaint_rate:counterfeit": [
                counterfeit_after if is_late else 0.002 + 0.0002 * i
                for i, is_late in enumerate(late)
            ],
        },
    }


def test_the_marketplace_moving_between_train_and_test_is_named(table: pd.DataFrame) -> None:
    r = _train(table, market=_profile(table, counterfeit_after=0.0))
    diag = r.diagnostics  # type: ignore[attr-defined]
    [finding] = [f for f in diag.findings if f.startswith("the marketplace itself moved")]
    assert "'counterfeit' complaints per order fell to 0 by 2024-06-01" in finding
    assert "none at all now" in finding and "complaints per order rose" not in finding
    moved = diag.market[diag.market["moved"]]
    assert set(moved["stat"]) == {"complaint_rate:counterfeit"}
    assert diag.metrics()["diagnostics.n_market_moved"] == len(moved) >= 1
    assert diag.to_dict()["market_moved"][0]["stat"] == "complaint_rate:counterfeit"
    # within 2x of the training range: the rates move on their own, nothing is said
    quiet = _train(table, market=_profile(table, counterfeit_after=0.0035))
    assert not [f for f in quiet.diagnostics.findings if "marketplace" in f]  # type: ignore[attr-defined]
    assert len(quiet.diagnostics.market) >= 2  # type: ignore[attr-defined]


def test_a_market_profile_that_misses_cutoffs_is_refused(table: pd.DataFrame) -> None:
    profile = _profile(table, counterfeit_after=0.0)
    short = {**profile, "as_of": profile["as_of"][:-1]}  # type: ignore[index]
    with pytest.raises(TrainingError, match="no statistics at 1 of the table's cutoffs") as err:
        _train(table, market=short)
    assert "2024-06-01" in str(err.value) and "market_profile(tables" in str(err.value)
    with pytest.raises(TrainingError, match="must be a marketplace profile"):
        _train(table, market=[0.1, 0.2])
    ragged = {**profile, "stats": {"complaint_rate": [0.03, 0.04]}}
    with pytest.raises(TrainingError, match=r"one value per as_of \(6\); 1 do not"):
        _train(table, market=ragged)


def test_leak_check_without_allowances_returns_a_table() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.2).astype(float)
    X = np.column_stack([rng.normal(size=400) + y, rng.normal(size=400)])
    table, notes = leak_check(X, y, ["signal", "noise"])
    assert table["feature"].tolist() == ["signal", "noise"] and notes == []
    assert 0.7 < table.loc[0, "roc_auc"] < 0.9


#: Training windows before the drift scenario's split (day 146, late May) and a test window
#: after it. The default cutoffs (May .. October) put the split inside the training windows,
#: where the change is part of the usual one.
DRIFT_CUTOFFS = ("2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-10-01")


def _marketplace_result(
    scenario: str, target: str, cutoffs: tuple[str, ...] | None = None
) -> object:
    import riskscore as rs
    from riskscore.modeling import marketplace_config, marketplace_training_set
    from riskscore.monitor import market_profile

    tables = rs.make_marketplace(n_sellers=2000, seed=0, scenario=scenario)
    frame = marketplace_training_set(tables, "seller", target, segments=False, cutoffs=cutoffs)
    market = market_profile(tables, sorted(frame["cutoff"].unique()))
    config = marketplace_config("seller", target, segment_cols=(), min_positives=5)
    return _train(frame, config, market=market)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("target", "cutoffs"),
    [("fraud", None), ("counterfeit", None), ("counterfeit", DRIFT_CUTOFFS)],
)
def test_quiet_on_the_default_marketplace(target: str, cutoffs: tuple[str, ...] | None) -> None:
    r = _marketplace_result("default", target, cutoffs)
    diag = r.diagnostics  # type: ignore[attr-defined]
    assert diag.findings == []
    # the marketplace's own rates were compared, and stayed within 2x of their range
    # (seed 0: at most 1.13x). Not at every seed: with DRIFT_CUTOFFS, seed 2's October
    # window holds fake-phone bursts and 'not_received' complaints per order rose 4.9x
    # above February-May — a real move of a 2,000-seller market, which the finding names
    assert len(diag.market) >= 7 and not diag.market["moved"].any()


@pytest.mark.slow
def test_the_drift_scenario_trips_the_diagnostics() -> None:
    r = _marketplace_result("drift", "counterfeit", DRIFT_CUTOFFS)
    diag = r.diagnostics  # type: ignore[attr-defined]
    # the complaint form lost its "counterfeit" option and the fraud wave stopped: the
    # marketplace's own rates say so (the relative complaint features cannot)
    [market] = [f for f in diag.findings if f.startswith("the marketplace itself moved")]
    assert "'counterfeit' complaints per order fell to 0 by 2024-10-01" in market
    assert "none at all now" in market
    assert "'not_received' complaints per order fell" in market
    # the features moved too, far beyond their usual change (measured 6-13x at seeds 0-2),
    # in features the counterfeit model hardly uses (gain share < 2%: not a finding)
    shift = diag.shift.set_index("feature")
    assert (
        shift.loc["complaints__rate_90d", "psi_last"]
        > 5 * shift.loc["complaints__rate_90d", "psi_usual"]
    )
