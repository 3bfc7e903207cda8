"""SHAP plots of a model: beeswarm, bar, dependence and waterfall, as figures or PNG files.

The plots are ``shap``'s own, fed with the exact contributions LightGBM computes
(:func:`~riskscore.explain.contributions`), so no ``shap`` explainer runs. ``shap`` and
``matplotlib`` are imported inside the functions: importing :mod:`riskscore.explain`
stays light. Each function returns a closed :class:`matplotlib.figure.Figure` (a notebook
shows it when it is the cell's value) and :func:`save_png` / :func:`png_bytes` write it
out; :func:`save_model_plots` writes the whole set for a model as PNG files, ready to log
in an MLflow run. Plotting uses whatever matplotlib backend is active; on a machine with
no display that is Agg.

Missing feature values are labelled "missing" in the waterfall, never "nan".

The plots are reproducible: ``seed`` decides both the row sample and the random jitter
and dot order that shap's beeswarm and scatter (dependence) plots draw from NumPy's global
random state, which is seeded for the drawing and restored afterwards. The same model,
rows and seed give byte-identical PNG files, so identical retrains log identical plots.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from riskscore._validation import check_real, fail
from riskscore.exceptions import ExplanationError
from riskscore.explain._contrib import Contributions, as_matrix, booster_of, contributions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "bar_plot",
    "beeswarm_plot",
    "dependence_plot",
    "png_bytes",
    "save_model_plots",
    "save_png",
    "top_features",
    "waterfall_plot",
]

#: Rows a summary plot uses at most (a random sample beyond that).
MAX_SUMMARY_ROWS = 2000


def _contrib(
    model: Any, X: Any, max_rows: int | None, seed: int
) -> tuple[Contributions, np.ndarray]:
    """Contributions and the matrix of (a sample of) ``X``."""
    from riskscore.explain._reasons import Explainer

    if isinstance(model, Explainer):  # encodes categorical features as its model does
        matrix, _ = model._matrix(X)
    else:
        matrix, _ = as_matrix(X, tuple(booster_of(model).feature_name()))
    if max_rows is not None and matrix.shape[0] > max_rows:
        rng = np.random.default_rng(seed)
        matrix = matrix[np.sort(rng.choice(matrix.shape[0], max_rows, replace=False))]
    if isinstance(model, Explainer):  # families come from its catalog
        return model.contributions(matrix), matrix
    return contributions(model, matrix), matrix


def _shap() -> Any:
    """Import ``shap`` (its import warns about matplotlib deprecations; not ours to fix)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import shap
    return shap


def _explanation(contrib: Contributions, matrix: np.ndarray) -> Any:
    shap = _shap()

    display = np.array(
        [[_display(v) for v in row] for row in matrix.tolist()], dtype=object
    ).reshape(matrix.shape)
    return shap.Explanation(
        values=contrib.values,
        base_values=np.full(contrib.n_rows, contrib.base_value),
        data=matrix,
        display_data=display,
        feature_names=list(contrib.feature_names),
    )


def _display(value: float) -> str:
    if not math.isfinite(value):
        return "missing"
    return f"{value:.4g}"


def _figure(draw: Any, seed: int = 0) -> Figure:
    """Run ``draw()`` on a fresh pyplot figure and return it, closed.

    NumPy's global random state (shap's beeswarm jitter and dot order) is seeded with
    ``seed`` while drawing and restored afterwards, so a plot is the same every time and
    the caller's random state is left as it was. pyplot's interactive mode is restored
    too: shap's waterfall turns it off, and a notebook would then stop showing later plots
    by itself.
    """
    import matplotlib.pyplot as plt

    interactive = plt.isinteractive()
    # shap's beeswarm and scatter draw from the legacy global state: seed that one
    state = np.random.get_state()  # noqa: NPY002
    plt.figure()
    try:
        np.random.seed(seed)  # noqa: NPY002
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            draw()
    finally:
        np.random.set_state(state)  # noqa: NPY002
        if interactive and not plt.isinteractive():
            plt.ion()
    fig = plt.gcf()
    plt.close(fig)
    return fig


def beeswarm_plot(
    model: Any, X: Any, *, max_display: int = 15, max_rows: int = MAX_SUMMARY_ROWS, seed: int = 0
) -> Figure:
    """SHAP summary (beeswarm): each dot one row, by feature, coloured by the value.

    Parameters
    ----------
    model : Explainer, lightgbm.Booster or trained riskscore model
    X : numpy.ndarray or pandas.DataFrame
        Rows to summarise (a sample of ``max_rows`` when larger).
    max_display : int, default 15
        Features shown; the rest are summed into one line.
    max_rows : int, default 2000
    seed : int, default 0
        Seed of the row sample and of the plot's random jitter and dot order.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return _beeswarm(_explanation(*_contrib(model, X, max_rows, seed)), max_display, seed)


def _beeswarm(expl: Any, max_display: int, seed: int = 0) -> Figure:
    shap = _shap()

    numeric = shap.Explanation(  # colours come from the numeric data
        values=expl.values,
        base_values=expl.base_values,
        data=expl.data,
        feature_names=expl.feature_names,
    )
    return _figure(lambda: shap.plots.beeswarm(numeric, max_display=max_display, show=False), seed)


def bar_plot(
    model: Any, X: Any, *, max_display: int = 15, max_rows: int = MAX_SUMMARY_ROWS, seed: int = 0
) -> Figure:
    """Mean absolute contribution per feature (global importance, in log-odds).

    Parameters are those of :func:`beeswarm_plot`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    return _bar(_explanation(*_contrib(model, X, max_rows, seed)), max_display)


def _bar(expl: Any, max_display: int) -> Figure:
    shap = _shap()

    return _figure(lambda: shap.plots.bar(expl, max_display=max_display, show=False))


def top_features(model: Any, X: Any, n: int = 5, *, max_rows: int = MAX_SUMMARY_ROWS) -> list[str]:
    """Return the ``n`` features with the largest mean absolute contribution on ``X``.

    Examples
    --------
    >>> import lightgbm as lgb
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 1] > 0).astype(int)
    >>> booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4},
    ...                     lgb.Dataset(X, y, feature_name=["a__x", "a__y", "b__z"]), 10)
    >>> top_features(booster, X, 1)
    ['a__y']
    """
    contrib, _ = _contrib(model, X, max_rows, 0)
    return _top(contrib.values, contrib.feature_names, n)


def _top(values: np.ndarray, names: tuple[str, ...] | list[str], n: int) -> list[str]:
    order = np.argsort(-np.abs(values).mean(axis=0), kind="stable")
    return [names[j] for j in order[:n]]


def dependence_plot(
    model: Any, X: Any, feature: str, *, max_rows: int = MAX_SUMMARY_ROWS, seed: int = 0
) -> Figure:
    """Contribution of ``feature`` against its value, coloured by its strongest interaction.

    Parameters
    ----------
    model : Explainer, lightgbm.Booster or trained riskscore model
    X : numpy.ndarray or pandas.DataFrame
    feature : str
        One of the model's features.
    max_rows, seed
        As in :func:`beeswarm_plot`.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ExplanationError
        When ``feature`` is not a feature of the model.
    """
    return _dependence(_explanation(*_contrib(model, X, max_rows, seed)), feature, seed)


def _dependence(expl: Any, feature: str, seed: int = 0) -> Figure:
    shap = _shap()

    names = list(expl.feature_names)
    if feature not in names:
        more = ", ..." if len(names) > 8 else ""
        raise ExplanationError(
            f"'{feature}' is not a feature of the model; it has {', '.join(names[:8])}{more}"
        )
    numeric = shap.Explanation(
        values=expl.values, base_values=expl.base_values, data=expl.data, feature_names=names
    )
    j = names.index(feature)
    return _figure(lambda: shap.plots.scatter(numeric[:, j], color=numeric, show=False), seed)


def waterfall_plot(model: Any, x: Any, *, max_display: int = 10) -> Figure:
    """How one row's raw score builds up from the base value, feature by feature.

    Parameters
    ----------
    model : Explainer, lightgbm.Booster or trained riskscore model
    x : mapping, 1-D numpy.ndarray or one-row DataFrame
        The row.
    max_display : int, default 10
        Features shown; the rest are summed into one bar.

    Returns
    -------
    matplotlib.figure.Figure
    """
    shap = _shap()

    contrib, matrix = _contrib(model, x, None, 0)
    if contrib.n_rows != 1:
        raise ExplanationError(f"a waterfall plot explains one row; got {contrib.n_rows} rows")
    expl = _explanation(contrib, matrix)
    return _figure(lambda: shap.plots.waterfall(expl[0], max_display=max_display, show=False))


def _check_figure(fig: Any, dpi: Any, where: str) -> float:
    """Raise unless ``fig`` is a matplotlib figure and ``dpi`` a number > 0; return the dpi."""
    if not callable(getattr(fig, "savefig", None)):
        raise fail(
            "fig",
            where,
            "a matplotlib Figure",
            fig,
            fix="Pass a figure from one of the plot functions (bar_plot, beeswarm_plot, ...).",
            error=ExplanationError,
        )
    return check_real(dpi, "dpi", where, low=0.0, low_open=True, error=ExplanationError)


def png_bytes(fig: Figure, *, dpi: int = 100) -> bytes:
    """Return the figure as PNG bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default 100
        Resolution in dots per inch (> 0).

    Returns
    -------
    bytes

    Raises
    ------
    ExplanationError
        When ``fig`` is not a figure or ``dpi`` is not a number > 0.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> png_bytes(Figure(figsize=(1, 1)))[1:4]
    b'PNG'
    """
    resolution = _check_figure(fig, dpi, "png_bytes")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=resolution, bbox_inches="tight")
    return buffer.getvalue()


def save_png(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 100) -> Path:
    """Write the figure as a PNG file (parent folders are created); return the path.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path-like
        The file to write.
    dpi : int, default 100
        Resolution in dots per inch (> 0).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ExplanationError
        When ``fig`` is not a figure, ``dpi`` is not a number > 0 or ``path`` not a path.

    Examples
    --------
    >>> import tempfile
    >>> from matplotlib.figure import Figure
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save_png(Figure(figsize=(1, 1)), Path(folder) / "a" / "b.png").name
    'b.png'
    """
    _check_figure(fig, dpi, "save_png")
    if not isinstance(path, str | os.PathLike):
        raise fail("path", "save_png", "a file path", path, error=ExplanationError)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png_bytes(fig, dpi=dpi))
    return out


def save_model_plots(
    model: Any,
    X: Any,
    out_dir: str | os.PathLike[str],
    *,
    top: int = 5,
    max_rows: int = MAX_SUMMARY_ROWS,
    seed: int = 0,
) -> dict[str, Path]:
    """Write the global SHAP plots of a model as PNG files, e.g. for an MLflow run.

    Files: ``shap_beeswarm.png``, ``shap_bar.png`` and ``shap_dependence_<feature>.png``
    for the ``top`` features by mean absolute contribution.

    Parameters
    ----------
    model : Explainer, lightgbm.Booster or trained riskscore model
    X : numpy.ndarray or pandas.DataFrame
        Rows to summarise, typically the test window.
    out_dir : path-like
        Folder for the files (created).
    top : int, default 5
        Number of dependence plots.
    max_rows, seed
        As in :func:`beeswarm_plot`.

    Returns
    -------
    dict of str to pathlib.Path
        Plot name to file.
    """
    folder = Path(out_dir)
    contrib, matrix = _contrib(model, X, max_rows, seed)
    expl = _explanation(contrib, matrix)
    files = {
        "shap_beeswarm": save_png(_beeswarm(expl, 15, seed), folder / "shap_beeswarm.png"),
        "shap_bar": save_png(_bar(expl, 15), folder / "shap_bar.png"),
    }
    for feature in _top(contrib.values, contrib.feature_names, top):
        name = f"shap_dependence_{feature}"
        files[name] = save_png(_dependence(expl, feature, seed), folder / f"{name}.png")
    return files
