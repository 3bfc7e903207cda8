r"""Population stability index and the bins it is measured on.

The population stability index of an observed distribution ``a`` against an expected
(reference) distribution ``e`` over the same bins is

.. math:: \mathrm{PSI} = \sum_i (a_i - e_i) \ln(a_i / e_i)

where ``a_i`` and ``e_i`` are the shares of rows in bin ``i``. It is the symmetrised
Kullback-Leibler divergence ``KL(a||e) + KL(e||a)``, so it is 0 for identical shares,
symmetric in ``a`` and ``e``, and grows with the shift. The usual reading is < 0.1 stable,
0.1-0.25 worth watching, > 0.25 a real shift.

Empty bins. A share of 0 makes the logarithm infinite, so every share is floored at
:data:`EPSILON` (1e-4, one row in ten thousand) before the sum; the shares are not
renormalised. A bin that was empty in the reference and now holds 10% of the rows then adds
``0.1 * ln(0.1 / 1e-4) ≈ 0.69`` — a clear "act" — instead of infinity.

Bins. Numeric features are cut at the reference window's quantiles (deciles by default);
edges are observed values (``method="lower"``) and tied quantiles are merged, so a feature
that is 0 for 70% of the rows gets one bin for the zeros instead of seven empty ones. Bin
``i`` holds ``edges[i-1] < x <= edges[i]``, the first bin everything up to ``edges[0]`` and
the last everything above ``edges[-1]``, so values outside the reference range still land
in a bin. Missing values form one more bin of their own (the last), so a jump in missing
values moves the PSI too.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from riskscore._validation import as_float_array, check_int, check_real, fail

__all__ = ["EPSILON", "bin_counts", "psi", "psi_from_counts", "quantile_edges"]

#: Floor of a bin share in :func:`psi_from_counts` (empty bins would make PSI infinite).
EPSILON = 1e-4


def quantile_edges(values: npt.ArrayLike, n_bins: int = 10) -> np.ndarray:
    """Return the interior bin edges at the quantiles of ``values`` (NaN ignored, ties merged).

    Parameters
    ----------
    values : array-like of float
    n_bins : int, default 10
        Bins wanted; fewer come back when quantiles tie.

    Returns
    -------
    numpy.ndarray
        Sorted, unique edges (at most ``n_bins - 1``); empty when ``values`` has no finite
        value.

    Examples
    --------
    >>> quantile_edges(range(100), 4).tolist()
    [24.0, 49.0, 74.0]
    >>> quantile_edges([0, 0, 0, 0, 0, 0, 0, 1, 2, 3], 10).tolist()
    [0.0, 1.0, 2.0]
    """
    n_bins = check_int(n_bins, "n_bins", "quantile_edges", minimum=2)
    x = as_float_array(values, "values", "quantile_edges", allow_nan=True)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.empty(0, dtype=np.float64)
    qs = np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1], method="lower")
    edges = np.unique(qs)
    # an edge at the maximum leaves the last bin empty in the reference: drop it
    return edges[edges < x.max()] if edges.size > 1 else edges


def bin_counts(values: npt.ArrayLike, edges: npt.ArrayLike) -> np.ndarray:
    """Count ``values`` per bin of ``edges``; the last count is the missing values (NaN).

    Parameters
    ----------
    values : array-like of float
    edges : array-like of float
        Sorted interior edges (``len(edges) + 1`` value bins).

    Returns
    -------
    numpy.ndarray of int64
        ``len(edges) + 2`` counts: one per value bin, then missing.

    Examples
    --------
    >>> bin_counts([1, 2, 3, 4, float("nan")], [2, 3]).tolist()
    [2, 1, 1, 1]
    """
    x = as_float_array(values, "values", "bin_counts", allow_nan=True)
    e = as_float_array(edges, "edges", "bin_counts")
    if e.size > 1 and np.any(np.diff(e) <= 0):
        raise fail("edges", "bin_counts", "strictly increasing", e.tolist())
    missing = np.isnan(x)
    idx = np.searchsorted(e, x[~missing], side="left")
    counts = np.bincount(idx, minlength=e.size + 1)
    return np.append(counts, int(missing.sum())).astype(np.int64)


def psi_from_counts(
    expected: npt.ArrayLike, actual: npt.ArrayLike, *, epsilon: float = EPSILON
) -> float:
    """Return the population stability index of ``actual`` counts against ``expected`` counts.

    Parameters
    ----------
    expected, actual : array-like of non-negative numbers
        Counts (or shares) per bin, in the same order.
    epsilon : float, default :data:`EPSILON`
        Floor of each share (see the module docstring).

    Returns
    -------
    float
        0 when the shares are equal; NaN when either side has no rows.

    Examples
    --------
    >>> psi_from_counts([50, 50], [50, 50])
    0.0
    >>> round(psi_from_counts([50, 50], [60, 40]), 4)
    0.0405
    """
    e = as_float_array(expected, "expected", "psi_from_counts")
    a = as_float_array(actual, "actual", "psi_from_counts")
    epsilon = check_real(epsilon, "epsilon", "psi_from_counts", low=0, high=1, low_open=True)
    if e.shape != a.shape:
        raise fail(
            "actual",
            "psi_from_counts",
            f"as many bins as 'expected' ({e.size})",
            f"{a.size} bins",
        )
    if np.any(e < 0) or np.any(a < 0):
        raise fail("expected/actual", "psi_from_counts", "non-negative counts", "a negative count")
    if e.sum() <= 0 or a.sum() <= 0:
        return float("nan")
    pe = np.maximum(e / e.sum(), epsilon)
    pa = np.maximum(a / a.sum(), epsilon)
    return float(max(np.sum((pa - pe) * np.log(pa / pe)), 0.0))


def psi(
    reference: npt.ArrayLike,
    current: npt.ArrayLike,
    n_bins: int = 10,
    *,
    epsilon: float = EPSILON,
) -> float:
    """Return the population stability index of ``current`` against ``reference`` (numeric values).

    Bins are the reference's quantiles (:func:`quantile_edges`) plus a missing-value bin.

    Parameters
    ----------
    reference, current : array-like of float
    n_bins : int, default 10
    epsilon : float, default :data:`EPSILON`

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=5000)
    >>> psi(x, x)
    0.0
    >>> psi(x, x + 1.0) > 0.25
    True
    """
    edges = quantile_edges(reference, n_bins)
    return psi_from_counts(
        bin_counts(reference, edges), bin_counts(current, edges), epsilon=epsilon
    )
