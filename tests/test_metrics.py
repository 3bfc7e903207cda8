"""The metrics match hand-computed values on tiny inputs and scikit-learn on larger ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from riskscore import metrics as M
from riskscore.exceptions import MetricsError


@pytest.fixture
def scored() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.05).astype(int)
    s = np.round(y * 1.2 + rng.normal(size=3000), 1)  # rounded: many ties
    return y, s


def test_tiny_hand_values() -> None:
    y = [0, 0, 1, 1]
    s = [0.1, 0.4, 0.35, 0.8]
    assert M.roc_auc(y, s) == 0.75  # pairs (pos > neg): 0.35>0.1, 0.8>both -> 3/4
    assert M.pr_auc(y, s) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    assert M.precision_at_k(y, s, k=1) == 1.0
    assert M.precision_at_k(y, s, k=3) == pytest.approx(2 / 3)
    assert M.recall_at_k(y, s, k=2) == 0.5
    assert M.brier(y, s) == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)


def test_average_ranks_match_scipy(scored: tuple[np.ndarray, np.ndarray]) -> None:
    from scipy.stats import rankdata

    _, s = scored
    np.testing.assert_array_equal(M._average_ranks(s), rankdata(s))


def test_ties_count_half() -> None:
    assert M.roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert M.pr_auc([0, 1], [0.5, 0.5]) == 0.5


def test_match_sklearn(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    assert M.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert M.pr_auc(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    p = 1 / (1 + np.exp(-s))
    assert M.brier(y, p) == pytest.approx(brier_score_loss(y, p))


def test_single_class_gives_nan() -> None:
    assert np.isnan(M.roc_auc([0, 0], [0.1, 0.2]))
    assert np.isnan(M.pr_auc([0, 0], [0.1, 0.2]))
    assert np.isnan(M.recall_at_fpr([1, 1], [0.1, 0.2]))
    assert np.isnan(M.recall_at_k([0, 0], [0.1, 0.2], k=1))


def test_precision_at_k_is_per_group() -> None:
    y = [1, 1, 0, 0, 0, 1]
    s = [0.9, 0.8, 0.7, 0.1, 0.2, 0.3]
    g = ["d1", "d1", "d1", "d2", "d2", "d2"]
    # overall top 2: 0.9, 0.8 -> both positive
    assert M.precision_at_k(y, s, k=2) == 1.0
    # per day top 1: d1 0.9 (pos), d2 0.3 (pos)
    assert M.precision_at_k(y, s, k=1, groups=g) == 1.0
    # per day top 2: d1 0.9, 0.8 (2 pos), d2 0.3, 0.2 (1 pos) -> 3/4; recall 3/3
    assert M.precision_at_k(y, s, k=2, groups=g) == 0.75
    assert M.recall_at_k(y, s, k=2, groups=g) == 1.0
    # a group smaller than k is reviewed entirely
    assert M.precision_at_k(y, s, k=10, groups=g) == 0.5


def test_precision_at_k_bad_k() -> None:
    with pytest.raises(MetricsError, match=r"'k' parameter of precision_at_k must be an int >= 1"):
        M.precision_at_k([0, 1], [0.1, 0.2], k=0)
    with pytest.raises(MetricsError, match=r"Got '3' instead"):
        M.recall_at_k([0, 1], [0.1, 0.2], k="3")  # type: ignore[arg-type]
    with pytest.raises(MetricsError, match=r"groups: 3, y_score: 2"):
        M.precision_at_k([0, 1], [0.1, 0.2], k=1, groups=["a", "b", "c"])
    assert M.precision_at_k([0, 1], [0.1, 0.2], k=1.0) == 1.0  # an integral float is a count


def test_recall_at_fpr_uses_real_thresholds() -> None:
    y = np.r_[np.zeros(200), np.ones(10)]
    s = np.r_[np.arange(200), 250, 240, 230, 199.5, 198.5, 150, 100, 50, 10, 5]
    # fpr <= 1% allows 2 of 200 negatives above the threshold: 198.5 reached -> 5 / 10
    assert M.recall_at_fpr(y, s, 0.01) == 0.5
    assert M.recall_at_fpr(y, s, 0.0) == 0.4
    assert M.recall_at_fpr(y, s, 1.0) == 1.0


def test_ece_by_hand() -> None:
    y = [0, 1, 0, 1, 1]
    p = [0.05, 0.05, 0.55, 0.55, 1.0]
    # bin0: mean p .05 vs rate .5 (2 rows); bin5: .55 vs .5 (2 rows); bin9: 1 vs 1
    expected = (2 * 0.45 + 2 * 0.05 + 0) / 5
    assert M.ece(y, p) == pytest.approx(expected)
    with pytest.raises(MetricsError, match=r"probabilities in \[0, 1\]. Got 2 value\(s\) outside"):
        M.ece([0, 1], [-1.0, 2.0])
    with pytest.raises(MetricsError, match="'n_bins' parameter of ece must be an int >= 1"):
        M.ece([0, 1], [0.1, 0.2], n_bins=0)


def test_input_checks() -> None:
    # MetricsError is also a ValueError, so callers written against ValueError still work
    with pytest.raises(ValueError, match=r"'y_true' parameter of roc_auc must hold only 0 and 1"):
        M.roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(MetricsError, match=r"same length. Got y_true: 3, y_score: 2"):
        M.roc_auc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(MetricsError, match=r"without NaN. Got 1 bad value\(s\) of 2"):
        M.pr_auc([0, 1], [np.nan, 0.2])
    with pytest.raises(MetricsError, match=r"'y_prob' parameter of brier must be an array"):
        M.brier([0, 1], ["a", "b"])
    with pytest.raises(MetricsError, match=r"'max_fpr' parameter of recall_at_fpr"):
        M.recall_at_fpr([0, 1], [0.1, 0.2], max_fpr=2.0)
    with pytest.raises(
        MetricsError, match=r"'scores' parameter of metric_table must be a non-empty"
    ):
        M.metric_table([0, 1], [0.1, 0.2])  # type: ignore[arg-type]
    with pytest.raises(MetricsError, match=r"'level' parameter of bootstrap_intervals"):
        M.bootstrap_intervals([0, 1], {"m": ([0.1, 0.2], None)}, k=1, level=95)
    with pytest.raises(MetricsError, match=r"segments: 1, y_true: 2, flagged: 2"):
        M.slice_metrics(pd.DataFrame({"a": [1]}), [0, 1], [0.1, 0.2], [True, False])


def test_score_metrics_keys(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    m = M.score_metrics(y, s, k=50)
    assert list(m) == list(M.METRICS)
    assert np.isnan(m["brier"])  # a raw score is not a probability
    p = 1 / (1 + np.exp(-s))
    assert M.score_metrics(y, s, p, k=50)["brier"] == pytest.approx(M.brier(y, p))


def test_bootstrap_is_seeded_paired_and_covers(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    noisy = s + np.random.default_rng(1).normal(scale=2, size=s.size)
    scores = {"good": (s, None), "noisy": (noisy, None)}
    a = M.bootstrap_intervals(y, scores, k=100, n_bootstrap=60, seed=5)
    b = M.bootstrap_intervals(y, scores, k=100, n_bootstrap=60, seed=5)
    assert repr(a) == repr(b)  # NaN-safe equality (brier/ece are NaN without probabilities)
    lo, hi = a["good"]["pr_auc"]
    assert lo < M.pr_auc(y, s) < hi
    dlo, _ = a["delta:good-noisy"]["roc_auc"]
    assert dlo > 0  # the good model is better on every replicate's paired sample


def test_bootstrap_keeps_group_sizes() -> None:
    y = np.array([1, 0, 0, 0, 1, 0])
    g = np.array([0, 0, 0, 1, 1, 1])
    # with k=3 every group is fully reviewed in every replicate -> precision@k is the
    # resampled prevalence, and recall@k is always 1
    ci = M.bootstrap_intervals(y, {"m": (np.arange(6.0), None)}, k=3, groups=g, n_bootstrap=30)
    assert ci["m"]["recall_at_k"] == (1.0, 1.0)


def test_metric_table_layout(scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    t = M.metric_table(y, {"model": (s, None), "baseline": (s / 2, None)}, k=30, n_bootstrap=20)
    assert list(t.index) == list(M.METRICS)
    assert {"model", "model_lo", "model_hi", "baseline", "delta", "delta_lo", "delta_hi"} <= set(
        t.columns
    )
    assert t.loc["roc_auc", "delta"] == pytest.approx(0.0)  # same ranking
    t0 = M.metric_table(y, {"model": (s, None)}, k=30, n_bootstrap=0)
    assert t0["model_lo"].isna().all() and "delta" not in t0.columns


def test_slice_metrics_shows_who_is_flagged() -> None:
    seg = pd.DataFrame(
        {
            "age_days": [1, 2, 3, 4, 500, 600, 700, 800],
            "region": ["eu", "eu", "eu", "us", "us", "us", None, "us"],
        }
    )
    y = [0, 0, 1, 0, 0, 0, 0, 1]
    s = [0.9, 0.8, 0.7, 0.6, 0.1, 0.2, 0.3, 0.95]
    flagged = [True, True, True, False, False, False, False, True]
    t = M.slice_metrics(seg, y, s, flagged, n_bins=2)
    age = t[t["segment"] == "age_days"].reset_index(drop=True)
    assert age["n"].tolist() == [4, 4]
    assert age["flag_rate"].tolist() == [0.75, 0.25]
    assert age["precision"].tolist() == pytest.approx([1 / 3, 1.0])
    region = t[t["segment"] == "region"].set_index("level")
    assert region.loc["missing", "n"] == 1
    assert region.loc["eu", "flag_rate"] == 1.0


def test_calibration_curve_bins() -> None:
    c = M.calibration_curve([0, 1, 1], [0.05, 0.95, 0.91])
    assert c["bin"].tolist() == [0, 9]
    assert c["observed_rate"].tolist() == [0.0, 1.0]
    assert c["mean_predicted"].tolist() == pytest.approx([0.05, 0.93])


def test_missing_groups_are_one_group_and_zero_replicates_give_nan() -> None:
    # a missing group label used to crash np.bincount; it is now a group of its own
    y, s = [0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]
    ci = M.bootstrap_intervals(
        y, {"m": (s, None)}, k=1, groups=[None, None, "a", "a"], n_bootstrap=3
    )
    assert set(ci) == {"m"}
    assert M.precision_at_k(y, s, k=1, groups=[None, None, "a", "a"]) == 1.0
    lo, hi = M.bootstrap_intervals(y, {"m": (s, None)}, k=1, n_bootstrap=0)["m"]["roc_auc"]
    assert np.isnan(lo) and np.isnan(hi)


# --- n_boot is the deprecated name of n_bootstrap (issue 13) ---------------------------------


@pytest.mark.parametrize("fn", [M.bootstrap_intervals, M.metric_table])
def test_n_boot_still_works_and_warns(fn: object, scored: tuple[np.ndarray, np.ndarray]) -> None:
    y, s = scored
    scores = {"m": (s, None)}
    new = fn(y, scores, k=30, n_bootstrap=15, seed=3)  # type: ignore[operator]
    with pytest.warns(DeprecationWarning, match="'n_boot' is deprecated.*use 'n_bootstrap'"):
        old = fn(y, scores, k=30, n_boot=15, seed=3)  # type: ignore[operator]
    assert repr(old) == repr(new)  # the same replicates: the value was passed through


def test_n_boot_and_n_bootstrap_together_are_refused() -> None:
    from riskscore.exceptions import ParameterError

    with pytest.raises(ParameterError, match="both 'n_bootstrap' and"):
        M.metric_table([0, 1] * 5, {"m": ([0.2, 0.8] * 5, None)}, k=1, n_bootstrap=5, n_boot=5)


def test_bad_n_bootstrap_names_the_new_parameter() -> None:
    with pytest.raises(MetricsError, match="'n_bootstrap' parameter of metric_table"):
        M.metric_table([0, 1] * 5, {"m": ([0.2, 0.8] * 5, None)}, k=1, n_bootstrap=-1)
