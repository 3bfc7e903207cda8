"""SHAP plots: each kind renders to a non-empty PNG; the waterfall never labels a value nan."""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from riskscore.exceptions import ExplanationError
from riskscore.explain import (
    Explainer,
    bar_plot,
    beeswarm_plot,
    dependence_plot,
    png_bytes,
    save_model_plots,
    top_features,
    waterfall_plot,
)

from .conftest import NAMES

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(data: bytes) -> bool:
    return data.startswith(PNG) and len(data) > 2000


def test_summary_plots(explainer: Explainer, frame: pd.DataFrame):
    assert _is_png(png_bytes(beeswarm_plot(explainer, frame, max_rows=300)))
    assert _is_png(png_bytes(bar_plot(explainer, frame, max_rows=300)))


def test_dependence_plot(booster: lgb.Booster, frame: pd.DataFrame):
    fig = dependence_plot(booster, frame, "pricing__median_price_ratio", max_rows=300)
    assert _is_png(png_bytes(fig))
    with pytest.raises(ExplanationError, match="'pricing__nope' is not a feature of the model"):
        dependence_plot(booster, frame, "pricing__nope")


def test_waterfall_labels_missing_values(explainer: Explainer, frame: pd.DataFrame):
    row = frame.iloc[0].to_dict() | {"pricing__median_price_ratio": np.nan}
    fig = waterfall_plot(explainer, row)
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert any("missing" in label for label in labels)
    assert not any("nan" in label.lower() for label in labels)
    assert _is_png(png_bytes(fig))
    with pytest.raises(ExplanationError, match="explains one row; got 2 rows"):
        waterfall_plot(explainer, frame.head(2))


def test_top_features_ranks_by_mean_absolute_contribution(
    explainer: Explainer, frame: pd.DataFrame
):
    top = top_features(explainer, frame, 3)
    contrib = explainer.contributions(frame).values
    expected = [NAMES[j] for j in np.argsort(-np.abs(contrib).mean(axis=0))[:3]]
    assert top == expected


def test_save_model_plots(explainer: Explainer, frame: pd.DataFrame, tmp_path: Path):
    files = save_model_plots(explainer, frame, tmp_path / "plots", top=2, max_rows=300)
    assert list(files)[:2] == ["shap_beeswarm", "shap_bar"]
    assert len(files) == 4
    for path in files.values():
        assert path.parent == tmp_path / "plots"
        assert _is_png(path.read_bytes())


def test_plots_leave_pyplots_interactive_mode_as_they_found_it(
    explainer: Explainer, frame: pd.DataFrame
):
    import matplotlib.pyplot as plt

    row = frame.iloc[0].to_dict()
    before = plt.isinteractive()
    try:
        for mode in (True, False):
            plt.interactive(mode)
            waterfall_plot(explainer, row)  # shap's waterfall switches interactive mode off
            assert plt.isinteractive() is mode
    finally:
        plt.interactive(before)


@pytest.mark.slow
def test_beeswarm_and_dependence_are_byte_identical_across_renders(
    explainer: Explainer, frame: pd.DataFrame, tmp_path: Path
):
    """Issue 14, item 12: the sample and shap's jitter are seeded, the caller's RNG kept."""
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    first = png_bytes(beeswarm_plot(explainer, frame, max_rows=300))
    assert (np.random.get_state()[1] == before).all()  # noqa: NPY002 (state restored)
    np.random.random(10)  # noqa: NPY002 (the caller's RNG moves on in between)
    assert png_bytes(beeswarm_plot(explainer, frame, max_rows=300)) == first
    assert png_bytes(beeswarm_plot(explainer, frame, max_rows=300, seed=1)) != first
    feature = "pricing__median_price_ratio"
    dep = png_bytes(dependence_plot(explainer, frame, feature, max_rows=300))
    np.random.random(10)  # noqa: NPY002
    assert png_bytes(dependence_plot(explainer, frame, feature, max_rows=300)) == dep
    a = save_model_plots(explainer, frame, tmp_path / "a", top=1, max_rows=300)
    np.random.random(10)  # noqa: NPY002
    b = save_model_plots(explainer, frame, tmp_path / "b", top=1, max_rows=300)
    assert {k: v.read_bytes() for k, v in a.items()} == {k: v.read_bytes() for k, v in b.items()}


@pytest.mark.parametrize("dpi", [0, -5, float("nan"), "high"])
def test_png_bytes_refuses_a_bad_dpi(dpi) -> None:
    from matplotlib.figure import Figure

    with pytest.raises(ExplanationError, match="'dpi' parameter of png_bytes must be a number > 0"):
        png_bytes(Figure(figsize=(1, 1)), dpi=dpi)


def test_save_png_refuses_what_is_not_a_figure_and_writes_nothing(tmp_path: Path) -> None:
    from riskscore.explain import save_png

    target = tmp_path / "sub" / "x.png"
    with pytest.raises(ExplanationError, match="'fig' parameter of save_png must be a matplotlib"):
        save_png(None, target)  # type: ignore[arg-type]
    assert not target.parent.exists()
