"""The seller-pair record both link builders return, and the hub weight of a shared value.

:mod:`riskscore.features._network_sparse` (sorted packed pairs, the local backends)
and the narwhals joins in :mod:`riskscore.features._network_links` (distributed
backends) each turn one link type into a :class:`_Pairs`; the chance test that order
links need is applied to that record, so both builders give the same links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["hub_weight"]


def hub_weight(n_sellers: np.ndarray | float) -> np.ndarray:
    """Return the weight a value held by ``n_sellers`` sellers gives each pair of them.

    ``1 / log(1 + n)``: 0.91 for a value two sellers share, 0.33 for one twenty share.

    Examples
    --------
    >>> hub_weight(np.array([2, 20])).round(2).tolist()
    [0.91, 0.33]
    """
    return 1.0 / np.log1p(np.asarray(n_sellers, dtype=np.float64))


@dataclass
class _Pairs:
    """Seller pairs ``a < b`` (node positions) sharing values of one link type.

    ``degree`` is each seller's number of distinct non-hub values and ``s1``, ``s2`` the
    sum of holders and of squared holders over non-hub values: what the chance
    expectation of an overlap needs.
    """

    a: np.ndarray
    b: np.ndarray
    n_shared: np.ndarray
    weight: np.ndarray
    degree: np.ndarray
    s1: float
    s2: float

    @classmethod
    def with_seller_counts(
        cls,
        a: np.ndarray,
        b: np.ndarray,
        n_shared: np.ndarray,
        weight: np.ndarray,
        n_nodes: int,
        pos: np.ndarray,
        d: np.ndarray,
        n_sum: np.ndarray,
    ) -> _Pairs:
        """Pairs plus the chance figures from per-seller rows of one link type.

        ``pos``, ``d`` and ``n_sum`` hold, per seller row, its node position (-1 when
        unknown: no degree), its distinct non-hub values and their summed holders.

        Examples
        --------
        >>> z = np.zeros(0, dtype=np.int64)
        >>> p = _Pairs.with_seller_counts(z, z, z, np.zeros(0), 3, np.array([0, 2]),
        ...                               np.array([1, 2]), np.array([2, 3]))
        >>> p.degree.tolist(), p.s1, p.s2
        ([1.0, 0.0, 2.0], 3.0, 5.0)
        """
        degree = np.zeros(n_nodes)
        known = pos >= 0
        degree[pos[known]] = np.asarray(d, dtype=np.float64)[known]
        # sum over values of n = sum over sellers of d; of n**2 = sum over rows of n
        return cls(a, b, n_shared, weight, degree, float(np.sum(d)), float(np.sum(n_sum)))

    def beyond_chance(self, min_shared: int, max_pvalue: float) -> _Pairs:
        """Keep pairs sharing ``>= min_shared`` values and more than chance explains.

        Under a configuration model (each seller keeps its number of values, each value
        its number of holders, otherwise random), the overlap of sellers ``a`` and ``b``
        is about Poisson with mean ``d_a * d_b * s2 / s1**2``; a pair is kept when the
        chance of an overlap at least as large is ``<= max_pvalue``.
        """
        from scipy.special import gammainc

        keep = self.n_shared >= min_shared
        if max_pvalue < 1.0 and keep.any() and self.s1 > 0:
            expected = self.degree[self.a] * self.degree[self.b] * (self.s2 / self.s1**2)
            # P(X >= k) for X ~ Poisson(expected) is the regularised lower gamma P(k, expected)
            pvalue = gammainc(self.n_shared.astype(np.float64), expected)
            keep &= pvalue <= max_pvalue
        return _Pairs(
            self.a[keep],
            self.b[keep],
            self.n_shared[keep],
            self.weight[keep],
            self.degree,
            self.s1,
            self.s2,
        )
