from __future__ import annotations

import json

import numpy as np
import pytest

from riskscore.exceptions import TrainingError
from riskscore.modeling import Calibrator, fit_calibrator
from riskscore.modeling._calibration import MIN_SLOPE


@pytest.fixture(scope="module")
def raw_y() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    raw = rng.normal(size=5000) * 1.5 - 1
    y = (rng.random(5000) < 1 / (1 + np.exp(-(0.5 * raw - 1.5)))).astype(float)
    return raw, y


def test_platt_recovers_a_known_map(raw_y: tuple[np.ndarray, np.ndarray]) -> None:
    raw, y = raw_y
    c = fit_calibrator(raw, y, "platt")
    assert c.params["a"] == pytest.approx(0.5, abs=0.08)
    assert c.params["b"] == pytest.approx(-1.5, abs=0.12)
    p = c.transform(raw)
    assert np.all(np.diff(p[np.argsort(raw)]) >= 0)
    assert p.mean() == pytest.approx(y.mean(), abs=0.005)  # MLE matches the base rate


def test_isotonic_is_strictly_increasing_and_json_roundtrips(
    raw_y: tuple[np.ndarray, np.ndarray],
) -> None:
    raw, y = raw_y
    c = fit_calibrator(raw, y, "isotonic")
    grid = np.linspace(-10, 10, 500)
    p = c.transform(grid)
    assert np.all(np.diff(p) > 0) and p.min() > 0 and p.max() < 1
    back = Calibrator.from_dict(json.loads(json.dumps(c.to_dict())))
    np.testing.assert_array_equal(back.transform(grid), p)


def test_isotonic_stays_close_to_sklearn_at_block_centres(
    raw_y: tuple[np.ndarray, np.ndarray],
) -> None:
    """The knots are the isotonic blocks' rates: calibration is kept, only ties go."""
    from sklearn.isotonic import IsotonicRegression

    raw, y = raw_y
    c = fit_calibrator(raw, y, "isotonic")
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(raw, y)
    centres = np.asarray(c.params["x"])
    expected = iso.predict(centres)
    inner = (expected > 0) & (expected < 1)
    np.testing.assert_allclose(c.transform(centres)[inner], expected[inner], atol=1e-9)
    # mean probability still matches the base rate of the calibration rows
    assert c.transform(raw).mean() == pytest.approx(y.mean(), abs=0.01)
    # the step map ties rows that the block-centre map keeps apart
    assert np.unique(iso.predict(raw)).size < 0.1 * raw.size
    assert np.unique(c.transform(raw)).size == np.unique(raw).size


def test_models_saved_with_step_knots_still_load() -> None:
    old = Calibrator.from_dict({"method": "isotonic", "params": {"x": [0, 1], "y": [0.1, 0.3]}})
    assert old.transform([-1.0, 0.5, 2.0]).tolist() == pytest.approx([0.1, 0.2, 0.3])


def test_backwards_platt_keeps_the_ranking() -> None:
    raw = np.linspace(-2, 2, 200)
    y = (raw < 0).astype(float)  # the model ranks backwards on this side
    c = fit_calibrator(raw, y, "platt")
    assert c.params["a_fitted"] < 0 < c.params["a"]
    assert np.all(np.diff(c.transform(raw)) > 0)


def test_the_flat_fallback_map_separates_raw_scores_down_to_its_resolution() -> None:
    """A backwards fit gets log-odds slope MIN_SLOPE (1e-6): raw scores 1e-6 apart keep
    distinct probabilities; 1e-11 apart they share one (float64's limit, in the docs)."""
    raw = np.linspace(-2, 2, 200)
    y = (raw < 0).astype(float)
    c = fit_calibrator(raw, y, "platt")
    assert c.params["a"] == MIN_SLOPE
    x = -1.8695204
    p = c.transform(np.array([x, x + 1e-6, x + 1e-11]))
    assert p[1] > p[0]
    assert p[2] == p[0]


def test_auto_picks_by_size(raw_y: tuple[np.ndarray, np.ndarray]) -> None:
    raw, y = raw_y
    assert fit_calibrator(raw, y).method == "isotonic"
    assert fit_calibrator(raw[:500], y[:500]).method == "platt"


def test_none_is_the_sigmoid() -> None:
    c = fit_calibrator([0.0, 1.0], [0, 1], "none")
    assert c.transform(np.array([0.0]))[0] == 0.5


def test_errors() -> None:
    with pytest.raises(TrainingError, match="one class only"):
        fit_calibrator([0.1, 0.2], [0, 0], "platt")
    with pytest.raises(TrainingError, match="Got 'beta' instead"):
        fit_calibrator([0.1, 0.2], [0, 1], "beta")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "y", "match"),
    [
        ([0.1, 0.2, 0.3], [0, 1], r"same length. Got raw: 3, y: 2"),
        ([np.nan, 0.2], [0, 1], r"'raw' parameter of fit_calibrator must hold finite numbers"),
        ([np.inf, 0.2], [0, 1], r"Got 1 bad value\(s\) of 2 \(first at positions \[0\]\)"),
        ([0.1, 0.2], [0, 3], r"'y' parameter of fit_calibrator must hold only 0 and 1"),
        (["a", "b"], [0, 1], r"'raw' parameter of fit_calibrator must be an array of numbers"),
        ([], [], r"calibration rows \(0\) hold one class only"),
    ],
)
def test_bad_arrays_are_training_errors(raw: list, y: list, match: str) -> None:
    # before, these escaped as numpy/scikit-learn ValueErrors or fitted a meaningless map
    with pytest.raises(TrainingError, match=match):
        fit_calibrator(raw, y, "isotonic")


def test_a_hand_edited_calibrator_is_a_training_error() -> None:
    with pytest.raises(TrainingError, match=r"must be a dict with 'method'.*KeyError"):
        Calibrator.from_dict({})
    with pytest.raises(TrainingError, match=r"'platt' calibrator has parameters it cannot use"):
        Calibrator("platt", {}).transform([0.0])
    with pytest.raises(TrainingError, match=r"'raw' parameter of Calibrator.transform"):
        Calibrator("none").transform(["x"])
    assert Calibrator("none").transform(0.0).shape == ()  # a scalar keeps its shape
