from __future__ import annotations

import json

import numpy as np
import pytest

from riskscore.modeling import Calibrator, fit_calibrator


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


def test_isotonic_is_monotone_and_json_roundtrips(raw_y: tuple[np.ndarray, np.ndarray]) -> None:
    raw, y = raw_y
    c = fit_calibrator(raw, y, "isotonic")
    grid = np.linspace(-10, 10, 500)
    p = c.transform(grid)
    assert np.all(np.diff(p) >= 0) and p.min() >= 0 and p.max() <= 1
    back = Calibrator.from_dict(json.loads(json.dumps(c.to_dict())))
    np.testing.assert_array_equal(back.transform(grid), p)


def test_isotonic_matches_sklearn(raw_y: tuple[np.ndarray, np.ndarray]) -> None:
    from sklearn.isotonic import IsotonicRegression

    raw, y = raw_y
    c = fit_calibrator(raw, y, "isotonic")
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(raw, y)
    grid = np.linspace(-8, 6, 300)
    np.testing.assert_allclose(c.transform(grid), iso.predict(grid), atol=1e-12)


def test_auto_picks_by_size(raw_y: tuple[np.ndarray, np.ndarray]) -> None:
    raw, y = raw_y
    assert fit_calibrator(raw, y).method == "isotonic"
    assert fit_calibrator(raw[:500], y[:500]).method == "platt"


def test_none_is_the_sigmoid() -> None:
    c = fit_calibrator([0.0, 1.0], [0, 1], "none")
    assert c.transform(np.array([0.0]))[0] == 0.5


def test_errors() -> None:
    with pytest.raises(ValueError, match="both classes"):
        fit_calibrator([0.1, 0.2], [0, 0], "platt")
    with pytest.raises(ValueError, match="Got 'beta' instead"):
        fit_calibrator([0.1, 0.2], [0, 1], "beta")  # type: ignore[arg-type]
