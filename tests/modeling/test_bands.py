from __future__ import annotations

import json

import numpy as np
import pytest

from riskscore.exceptions import TrainingError
from riskscore.modeling import (
    Bands,
    Calibrator,
    RiskScale,
    bands_from_capacity,
    bands_from_cost,
    threshold_table,
)


@pytest.fixture(scope="module")
def negatives() -> np.ndarray:
    return np.random.default_rng(0).normal(size=20_000)


def test_risk_score_is_log_fpr(negatives: np.ndarray) -> None:
    scale = RiskScale.fit(negatives)
    q = np.quantile(negatives, [0.0, 0.9, 0.99, 0.999])
    np.testing.assert_allclose(scale.transform(q[1:]), [250, 500, 750], atol=1e-9)
    assert 0 < scale.transform(q[:1])[0] < 12.5  # the bottom segment decays towards 0
    # measured FPR at each risk score matches the documented scale
    for risk in (250, 425, 500, 750):
        fpr = np.mean(scale.transform(negatives) >= risk)
        assert fpr == pytest.approx(scale.fpr_at(risk), rel=0.15)
    assert scale.fpr_at(425) == pytest.approx(0.02, rel=0.03)


def test_risk_scale_is_monotone_and_extrapolates(negatives: np.ndarray) -> None:
    scale = RiskScale.fit(negatives[:500])  # FPR measurable down to 1/500 only
    grid = np.linspace(-6, 12, 2000)
    r = scale.transform(grid)
    assert np.all(np.diff(r) > 0)  # strictly: the risk score keeps the model's ranking
    assert 0 < r[0] < 12.5 and r[-1] > 1000  # never negative; beyond the FPR floor it goes on
    np.testing.assert_allclose(scale.raw_at(scale.transform(grid)), grid, atol=1e-9)
    assert np.all(np.diff(scale.raw_knots) > 0)
    back = RiskScale.from_dict(json.loads(json.dumps(scale.to_dict())))
    np.testing.assert_array_equal(back.transform(grid), r)


def test_risk_scale_errors() -> None:
    with pytest.raises(ValueError, match="at least 2 negatives"):
        RiskScale.fit([0.1])
    with pytest.raises(ValueError, match="fpr_floor"):
        RiskScale.fit([0.1, 0.2], fpr_floor=2.0)
    with pytest.raises(TrainingError, match=r"'fpr_floor' parameter of RiskScale.fit .* \(0, 1\)"):
        RiskScale.fit([0.1, 0.2], fpr_floor=float("nan"))
    with pytest.raises(TrainingError, match=r"1 non-finite raw score\(s\) of negatives out of 3"):
        RiskScale.fit([0.1, 0.2, float("inf")])
    with pytest.raises(TrainingError, match=r"'raw' parameter of RiskScale.transform"):
        RiskScale([0.0, 1.0], [0.0, 1000.0]).transform(["a"])
    with pytest.raises(TrainingError, match=r"stored risk scale must be a dict.*KeyError"):
        RiskScale.from_dict({})


def test_bands_assign_and_validate() -> None:
    b = Bands({"medium": 100, "high": 100, "critical": 900})
    assert b.assign(np.array([99, 100, 899, 900])).tolist() == ["low", "high", "high", "critical"]
    with pytest.raises(ValueError, match=r"medium.*<=.*high"):
        Bands({"medium": 500, "high": 100, "critical": 900})
    with pytest.raises(TrainingError, match=r"medium.*<=.*high.*Got \{'medium': 'x'"):
        Bands({"medium": "x", "high": 100, "critical": 900})
    with pytest.raises(TrainingError, match=r"'thresholds' parameter of Bands must be a dict"):
        Bands((100, 500, 900))  # type: ignore[arg-type]
    with pytest.raises(TrainingError, match=r"stored bands must be a dict"):
        Bands.from_dict({})
    assert Bands.from_dict(json.loads(json.dumps(b.to_dict()))) == b


def test_bands_from_capacity_match_volumes() -> None:
    rng = np.random.default_rng(0)
    risk = rng.integers(0, 1001, size=50_000)  # 5 cutoffs of 10 000 entities
    b = bands_from_capacity(risk, capacity=200, n_groups=5)
    per_cutoff = {name: np.sum(risk >= t) / 5 for name, t in b.thresholds.items()}
    assert per_cutoff["high"] == pytest.approx(200, rel=0.06)
    assert per_cutoff["medium"] == pytest.approx(600, rel=0.06)
    assert per_cutoff["critical"] == pytest.approx(40, rel=0.3)
    assert per_cutoff["high"] <= 200 and b.source == "capacity"


def test_bands_from_cost_break_even() -> None:
    scale = RiskScale([0.0, 10.0], [0.0, 1000.0])
    cal = Calibrator("platt", {"a": 1.0, "b": -5.0})
    b = bands_from_cost(cal, scale, cost_ratio=9.0)  # review when p >= 0.1
    p_high = cal.transform(scale.raw_at(b.thresholds["high"]))
    p_below = cal.transform(scale.raw_at(b.thresholds["high"] - 1e-6))
    assert p_below < 0.1 <= p_high
    with pytest.raises(ValueError, match="cost_ratio must be > 0"):
        bands_from_cost(cal, scale, cost_ratio=0)
    with pytest.raises(TrainingError, match=r"Got cost_ratio=nan"):
        bands_from_cost(cal, scale, cost_ratio=float("nan"))
    with pytest.raises(TrainingError, match=r"'calibrator' parameter of bands_from_cost"):
        bands_from_cost(None, scale, cost_ratio=9.0)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacity": 0}, r"'capacity' parameter of bands_from_capacity must be an int >= 1"),
        ({"capacity": "10"}, r"Got '10' instead"),
        ({"capacity": 1, "n_groups": -1.0}, r"'n_groups' parameter .* a number >= 0"),
        ({"capacity": 1, "multiples": (1.0,)}, r"'multiples' parameter .* three positive"),
        ({"capacity": 1, "risk": [float("nan")]}, r"at least one finite risk score"),
    ],
)
def test_bands_from_capacity_refuses_bad_arguments(kwargs: dict, match: str) -> None:
    kwargs = {"risk": [1.0, 2.0, 3.0], **kwargs}
    with pytest.raises(TrainingError, match=match):
        bands_from_capacity(**kwargs)


def test_threshold_table_by_hand() -> None:
    scale = RiskScale([0.0, 10.0], [0.0, 1000.0])
    y = [1, 0, 1, 0, 0, 0, 1, 0]
    risk = [900, 800, 700, 600, 500, 400, 300, 200]
    t = threshold_table(
        y, risk, scale=scale, calibrator=Calibrator("none"), n_groups=2, days_per_group=7, step=100
    ).set_index("risk_score")
    row = t.loc[600]  # flagged: 900, 800, 700, 600 -> tp 2, fp 2
    assert (row["flagged"], row["tp"], row["fp"]) == (4, 2, 2)
    assert row["precision"] == 0.5 and row["recall"] == pytest.approx(2 / 3)
    assert row["fpr"] == 0.4 and row["flagged_per_group"] == 2.0
    assert row["review_per_day"] == pytest.approx(2 / 7)
    assert t.loc[600, "raw_score"] == pytest.approx(6.0)
    assert t.loc[1000, "flagged"] == 0 and np.isnan(t.loc[1000, "precision"])


def test_capacity_bands_rank_entities_beyond_the_fpr_floor() -> None:
    # 300 entities beyond the FPR floor are no longer tied at 1000: the bands cut them
    risk = np.r_[1000 + np.linspace(0.5, 80, 300), np.arange(1000.0)]
    b = bands_from_capacity(risk, capacity=100)
    counts = {name: int((b.assign(risk) == name).sum()) for name in ("high", "critical")}
    assert counts == {"high": 80, "critical": 20}
    assert b.thresholds["medium"] > 1000 - 1


@pytest.mark.parametrize("n", [5, 40, 500])
def test_every_band_is_reachable(n: int) -> None:
    """Even when 0.2 x capacity is less than one row, critical holds the top row."""
    risk = np.sort(np.random.default_rng(n).normal(600, 80, size=n))
    b = bands_from_capacity(risk, capacity=3)
    assigned = set(b.assign(risk).tolist())
    assert {"critical", "high"} <= assigned
    assert (b.assign(risk) == "critical").sum() >= 1


def test_unreachable_cost_band_is_inf_and_roundtrips() -> None:
    scale = RiskScale([0.0, 10.0], [0.0, 1000.0])
    cal = Calibrator("platt", {"a": 1e-6, "b": -5.0})  # p never reaches 0.5
    b = bands_from_cost(cal, scale, cost_ratio=1.0)
    assert b.thresholds["high"] == np.inf
    thresholds = b.to_dict()["thresholds"]
    stored = json.loads(json.dumps({k: None if v == np.inf else v for k, v in thresholds.items()}))
    assert Bands.from_dict({"thresholds": stored}).thresholds["high"] == np.inf


def test_threshold_table_refuses_bad_arrays() -> None:
    scale = RiskScale([0.0, 10.0], [0.0, 1000.0])
    cal = Calibrator("none")
    with pytest.raises(TrainingError, match=r"same length. Got y_true: 3, risk: 2"):
        threshold_table([0, 1, 1], [100.0, 900.0], scale=scale, calibrator=cal)
    with pytest.raises(TrainingError, match=r"'y_true' parameter of threshold_table .* 0 and 1"):
        threshold_table([0, 4], [100.0, 900.0], scale=scale, calibrator=cal)
    with pytest.raises(TrainingError, match=r"'step' parameter of threshold_table"):
        threshold_table([0, 1], [100.0, 900.0], scale=scale, calibrator=cal, step=0)
