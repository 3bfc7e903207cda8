"""family_ablation: a planted signal family helps, a noise family does not; pooling; errors.

The fixture plants two families in a generated table whose own features carry no signal
(``signal=0``): ``planted__x`` (the label plus unit Gaussian noise, single-feature ROC-AUC
about 0.85, below the leak check) and the table's own ``noise__a`` / ``noise__b``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from riskscore.exceptions import TrainingError
from riskscore.modeling import (
    families_to_leave_out,
    family_ablation,
    make_training_table,
    pool_ablation,
)
from riskscore.modeling._ablation import T_INTERVAL_BELOW, _interval

COLUMNS = [
    "family",
    "n_features",
    "n_pairs",
    "pr_auc_full",
    "pr_auc_without",
    "pr_auc_lost",
    "lost_lo",
    "lost_hi",
    "interval",
    "verdict",
]
FAST = {"capacity": 20, "num_boost_round": 300, "num_threads": 1}


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    t = make_training_table(800, 5, positive_rate=0.1, seed=0, signal=0.0)
    rng = np.random.default_rng(1)
    t["planted__x"] = t["label"] * 1.5 + rng.normal(size=len(t))
    return t


@pytest.fixture(scope="module")
def ablation(planted: pd.DataFrame) -> pd.DataFrame:
    return family_ablation(
        planted,
        families=["noise", "planted"],
        pairs=(("planted", "noise"),),
        n_windows=2,
        seeds=(0, 1),
        **FAST,
    )


@pytest.mark.slow
def test_signal_family_helps_and_noise_does_not(ablation: pd.DataFrame) -> None:
    out = ablation.set_index("family")
    assert out.loc["planted", "verdict"] == "helps"
    assert out.loc["planted", "pr_auc_lost"] > 0.1
    assert out.loc["planted", "lost_lo"] > 0
    assert out.loc["noise", "verdict"] in {"within noise", "hurts"}
    assert abs(out.loc["noise", "pr_auc_lost"]) < 0.1
    assert out.loc["planted+noise", "verdict"] == "helps"
    assert families_to_leave_out(ablation) in ([], ["noise"])


@pytest.mark.slow
def test_output_shape_order_and_pairing(ablation: pd.DataFrame) -> None:
    assert ablation.columns.tolist() == COLUMNS
    assert ablation["family"].tolist() == ["noise", "planted", "planted+noise"]
    assert ablation["n_features"].tolist() == [2, 1, 3]
    assert ablation["n_pairs"].tolist() == [4, 4, 4]
    assert set(ablation["interval"]) == {"t"}
    # paired: every family is compared with the same full-model PR-AUCs
    assert ablation["pr_auc_full"].nunique() == 1
    pairs = ablation.attrs["pairs"]
    assert len(pairs) == 12
    assert pairs.groupby(["seed", "window"])["pr_auc_full"].nunique().max() == 1
    np.testing.assert_allclose(
        ablation["pr_auc_lost"], ablation["pr_auc_full"] - ablation["pr_auc_without"]
    )


def test_unknown_family_names_the_close_match(planted: pd.DataFrame) -> None:
    with pytest.raises(TrainingError, match=r"unknown feature family 'nois'.*did you mean 'noise'"):
        family_ablation(planted, families=["nois"])


def test_unknown_family_in_a_given_pair(planted: pd.DataFrame) -> None:
    with pytest.raises(TrainingError, match="unknown feature family 'buyers' in pairs"):
        family_ablation(planted, families=["noise"], pairs=(("network", "buyers"),))


def test_no_family_prefix(planted: pd.DataFrame) -> None:
    plain = planted[["entity_id", "cutoff", "label", "planted__x"]].rename(
        columns={"planted__x": "x"}
    )
    with pytest.raises(TrainingError, match="no feature column has a family prefix"):
        family_ablation(plain)


def test_leaving_out_the_only_family(planted: pd.DataFrame) -> None:
    one = planted[["entity_id", "cutoff", "label", "planted__x"]]
    with pytest.raises(TrainingError, match="leaving out 'planted' leaves no feature column"):
        family_ablation(one, pairs=())


def test_empty_seeds(planted: pd.DataFrame) -> None:
    with pytest.raises(TrainingError, match="seeds is empty"):
        family_ablation(planted, seeds=())


def test_t_interval_below_threshold_bootstrap_above() -> None:
    rng = np.random.default_rng(0)
    few = rng.normal(0.05, 0.02, size=8)
    lo, hi, how = _interval(few, seed=0)
    half = stats.t.ppf(0.975, 7) * few.std(ddof=1) / np.sqrt(8)
    assert how == "t"
    assert lo == pytest.approx(few.mean() - half) and hi == pytest.approx(few.mean() + half)
    many = rng.normal(0.05, 0.02, size=T_INTERVAL_BELOW)
    lo, hi, how = _interval(many, seed=0)
    assert how == "paired bootstrap"
    assert lo < many.mean() < hi
    assert hi - lo < 2 * 1.96 * many.std(ddof=1) / np.sqrt(many.size)
    lo, hi, how = _interval(np.array([0.3]), seed=0)
    assert np.isnan(lo) and np.isnan(hi) and how == "none (1 pair)"


def _pairs(family: str, lost: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "family": family,
            "n_features": 3,
            "seed": 0,
            "window": [f"w{i}" for i in range(len(lost))],
            "pr_auc_full": 0.5,
            "pr_auc_without": [0.5 - d for d in lost],
        }
    )


def test_pool_verdicts_and_leave_out() -> None:
    p = pd.concat(
        [
            _pairs("helps", [0.10, 0.12, 0.09, 0.11]),
            _pairs("hurts", [-0.10, -0.12, -0.09, -0.11]),
            _pairs("noisy", [0.10, -0.12, 0.09, -0.11]),
            _pairs("a+b", [-0.10, -0.12, -0.09, -0.11]),
            _pairs("single", [-0.5]),
        ],
        ignore_index=True,
    )
    out = pool_ablation(p)
    assert out["family"].tolist() == ["helps", "hurts", "noisy", "a+b", "single"]
    assert out["verdict"].tolist() == ["helps", "hurts", "within noise", "hurts", "within noise"]
    assert out.loc[0, "pr_auc_lost"] == pytest.approx(0.105)
    # only a single family whose whole interval is below zero; never a pair, never one pair
    assert families_to_leave_out(out) == ["hurts"]


def test_pool_and_leave_out_refuse_other_frames() -> None:
    with pytest.raises(TrainingError, match=r"columns \['n_features'"):
        pool_ablation(pd.DataFrame({"family": ["a"]}))
    with pytest.raises(TrainingError, match="expects the output of family_ablation"):
        families_to_leave_out(pd.DataFrame({"family": ["a"]}))
