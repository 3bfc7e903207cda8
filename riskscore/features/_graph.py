"""Neighbour features on any graph: degrees, neighbour aggregates, labelled neighbours.

This is the generic half of the "cobweb" features. :func:`neighbour_features` takes any
entity table and an edge list between its ids (sellers linked by shared payment accounts,
accounts linked by shared devices, ...) and returns one row of graph features per node.
:class:`Graph` is the same machinery on integer node positions; the ``network__`` family
(:mod:`riskscore.features.network`) builds its seller web and calls it directly.

Everything is numpy and :mod:`scipy.sparse`: no Python loop runs over edges or nodes, so
a graph with millions of edges takes seconds.

How the edge list is read
-------------------------
- Edges are **undirected**: ``(a, b)`` and ``(b, a)`` are the same link.
- **Self-loops** (``a == b``) are dropped and counted: a node is not its own neighbour.
- **Duplicate edges** (the same unordered pair listed more than once, in either
  direction) are merged into one link whose weight is the **sum** of the rows' weights
  (each row weighs 1 without ``weight_col``). An edge list is read as a multiset of
  evidence: two rows linking a pair are stronger than one. Duplicates are counted.
- Edges that name an id missing from the node table (or a missing id) are **unknown**:
  by default a :class:`~riskscore.exceptions.FeatureError` reports how many and shows up
  to five; with ``on_unknown="drop"`` they are dropped and counted.
- Weights must be finite and positive.

The counts land in :class:`GraphStats`, available as ``result.attrs["graph_stats"]``.

Label features never read the node's own label
----------------------------------------------
A label feature of node ``v`` (``labelled_count``, ``labelled_weight``,
``labelled_share``, ``labelled_count_2hop``, ``label_pagerank``) is a function of the
graph and of the labels of the *other* nodes only: flipping ``v``'s own label changes
none of ``v``'s label features. Otherwise a labelled training row would see its own
answer in its features while a row being scored (label unknown) could not, and the model
would learn a signal that is absent at scoring time. The counts hold by construction
(no self-loops; the 2-hop count drops the node itself, reached back through any
neighbour). The propagation score is **leave-one-out**: the walk mass a node collects
from every seed but itself, computed exactly (see :meth:`Graph.label_pagerank`). A
labelled node thus sees ``n_labelled - 1`` other labels and an unlabelled node
``n_labelled``: the same density up to one label, which out-of-fold label features
(hiding a whole fold, a fifth of the labels with five folds) do not give.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, reverse_cuthill_mckee
from scipy.sparse.linalg import splu

from riskscore._threads import parallel_map
from riskscore._validation import check_real
from riskscore.exceptions import FeatureError

__all__ = ["DEFAULT_DAMPING", "Graph", "GraphStats", "neighbour_features"]

#: Chance that the label-propagation walk takes another step (PageRank's damping factor).
DEFAULT_DAMPING = 0.85

#: Components up to this many nodes are solved as a batch of dense matrices.
_DENSE_COMPONENT = 128

#: A large component is solved by a sparse LU factorisation when its matrix, in reverse
#: Cuthill-McKee order, has at most this many entries inside its envelope (the fill of a
#: factorisation without pivoting stays inside it, so memory and time are bounded: 32 MB
#: per triangle at most). Seller webs are sparse and tree-like: the 10,898-node web of
#: the 100k-seller marketplace has an envelope of 1.3 million and factors into 98,000
#: entries (0.1 s with its 819 marked columns, against 3.6-4.2 s by conjugate
#: gradients); a random graph of 5,000 nodes and degree 5 has 5.6 million and goes to
#: the iteration.
_DIRECT_ENVELOPE = 4_000_000
#: Numbers per block of right-hand sides of the direct solve (1 MB of float64), so that
#: a block stays in cache while SuperLU sweeps the factors over it: on the 10,898-node
#: web (819 marked columns, blocks of 12) 0.12-0.14 s in one thread, against 0.33-0.49 s
#: in blocks of 32 MB (367 columns) and 0.55-0.72 s in blocks of 8 MB; equal to 3e-15.
_DIRECT_BLOCK_NUMBERS = 131_072

#: Residual below which the conjugate-gradient solve of a large component stops.
_CG_TOL = 1e-13
_CG_MAX_ITER = 1000
#: Numbers per block of columns solved together (1 MiB of float64 per block array): the
#: blocks' working set stays in cache. Measured on the 10,898-node web of the 100k-seller
#: marketplace (819 marked nodes, 2 threads): 3.6-4.2 s at this size, 5.6-6.2 s at 4x,
#: 7.1-7.6 s at 16x, 10-11 s at a quarter (per-step overhead dominates).
_CG_BLOCK_NUMBERS = 131_072
_CG_MIN_COLUMNS = 8

#: How many offending edges an error message shows.
N_EXAMPLES = 5

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
BoolArray = np.ndarray[Any, np.dtype[np.bool_]]


@dataclass(frozen=True)
class GraphStats:
    """What happened to the edge list on the way into a :class:`Graph`.

    Parameters
    ----------
    n_nodes : int
        Nodes in the graph.
    n_edge_rows : int
        Rows in the edge list as given.
    n_unknown : int
        Rows naming an id that is not a node (dropped with ``on_unknown="drop"``).
    n_self_loops : int
        Rows linking a node to itself (always dropped).
    n_duplicates : int
        Rows merged into an earlier row of the same unordered pair (weights summed).
    n_links : int
        Distinct undirected links left.
    unknown_examples : tuple of tuple of str
        Up to five unknown ``(src, dst)`` rows.
    """

    n_nodes: int
    n_edge_rows: int
    n_unknown: int
    n_self_loops: int
    n_duplicates: int
    n_links: int
    unknown_examples: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as a plain dict."""
        return asdict(self)


class Graph:
    """An undirected weighted graph on nodes ``0 .. n-1``, stored as sparse matrices.

    Build it with :meth:`from_edges`; every method returns one value per node, with no
    NaN: nodes without neighbours get zeros (or the fill value asked for).

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array
        Symmetric ``n x n`` matrix of link weights, no diagonal, no explicit zeros.
    stats : GraphStats
        Counts from building the graph.

    Examples
    --------
    >>> import numpy as np
    >>> g = Graph.from_edges(4, np.array([0, 1, 1]), np.array([1, 2, 1]))
    >>> g.degree().tolist(), g.stats.n_self_loops
    ([1, 2, 1, 0], 1)
    """

    def __init__(self, adjacency: sp.csr_array, stats: GraphStats) -> None:
        self.adjacency = adjacency
        self.stats = stats
        binary = adjacency.copy()
        binary.data = np.ones_like(binary.data)
        self._binary = binary

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.adjacency.shape[0])

    @classmethod
    def from_edges(
        cls,
        n_nodes: int,
        src: np.ndarray,
        dst: np.ndarray,
        weight: np.ndarray | None = None,
        *,
        n_unknown: int = 0,
        unknown_examples: tuple[tuple[str, str], ...] = (),
    ) -> Graph:
        """Build a graph from edge endpoints given as node positions.

        Self-loops are dropped, duplicate pairs merged with summed weights (see the module
        docstring); both are counted in :attr:`stats`.

        Parameters
        ----------
        n_nodes : int
            Number of nodes; positions run from 0 to ``n_nodes - 1``.
        src, dst : array of int
            Endpoint positions, one per edge row.
        weight : array of float, optional
            Positive finite weight per edge row; 1 when omitted.
        n_unknown, unknown_examples
            Already-dropped unknown rows, carried into :attr:`stats`.

        Returns
        -------
        Graph

        Raises
        ------
        FeatureError
            When positions are out of range or weights are not finite and positive.
        """
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        if src.shape != dst.shape or src.ndim != 1:
            raise FeatureError(
                f"edge endpoints must be two 1-d arrays of the same length; "
                f"got shapes {src.shape} and {dst.shape}"
            )
        if weight is None:
            w = np.ones(len(src), dtype=np.float64)
        else:
            w = np.asarray(weight, dtype=np.float64)
            if w.shape != src.shape:
                raise FeatureError(
                    f"edge weights must have one value per edge; got {w.shape[0]} weights "
                    f"for {src.shape[0]} edges"
                )
            bad = ~np.isfinite(w) | (w <= 0)
            if bad.any():
                examples = ", ".join(f"row {i}: {w[i]!r}" for i in np.flatnonzero(bad)[:5])
                raise FeatureError(
                    f"edge weights must be finite and > 0; {int(bad.sum())} edge(s) are not "
                    f"(e.g. {examples}); drop those edges or fix their weights"
                )
        if len(src) and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= n_nodes):
            raise FeatureError(
                f"edge endpoints must be node positions in [0, {n_nodes}); "
                f"got values from {min(src.min(), dst.min())} to {max(src.max(), dst.max())}"
            )
        n_rows = len(src) + n_unknown
        loop = src == dst
        n_loops = int(loop.sum())
        keep = ~loop
        lo = np.minimum(src[keep], dst[keep])
        hi = np.maximum(src[keep], dst[keep])
        upper = sp.coo_array((w[keep], (lo, hi)), shape=(n_nodes, n_nodes)).tocsr()
        upper.sum_duplicates()
        n_links = int(upper.nnz)
        adjacency = sp.csr_array(upper + upper.T)
        adjacency.sort_indices()
        stats = GraphStats(
            n_nodes=n_nodes,
            n_edge_rows=n_rows,
            n_unknown=n_unknown,
            n_self_loops=n_loops,
            n_duplicates=int(keep.sum()) - n_links,
            n_links=n_links,
            unknown_examples=unknown_examples,
        )
        return cls(adjacency, stats)

    # -- structure -------------------------------------------------------------------
    def degree(self) -> IntArray:
        """Return the number of distinct neighbours of each node (0 when isolated)."""
        return np.diff(self.adjacency.indptr).astype(np.int64)

    def weighted_degree(self) -> FloatArray:
        """Return the sum of link weights of each node (0.0 when isolated)."""
        return np.asarray(self.adjacency.sum(axis=1), dtype=np.float64).reshape(-1)

    def component_size(self) -> IntArray:
        """Return the size of each node's connected component, itself included (1 if isolated)."""
        if self.n_nodes == 0:
            return np.zeros(0, dtype=np.int64)
        _, labels = connected_components(self.adjacency, directed=False)
        return np.bincount(labels)[labels].astype(np.int64)

    # -- neighbour aggregates --------------------------------------------------------
    def neighbour_mean(self, values: np.ndarray, fill: float = 0.0) -> FloatArray:
        """Return the link-weighted mean of ``values`` over each node's neighbours.

        NaN values are skipped; nodes with no neighbour holding a value get ``fill``.
        """
        v = np.asarray(values, dtype=np.float64)
        has = ~np.isnan(v)
        num = self.adjacency @ np.where(has, v, 0.0)
        den = self.adjacency @ has.astype(np.float64)
        out = np.full(self.n_nodes, float(fill))
        ok = den > 0
        out[ok] = num[ok] / den[ok]
        return out

    def neighbour_max(self, values: np.ndarray, fill: float = 0.0) -> FloatArray:
        """Return the largest of ``values`` over each node's neighbours.

        NaN values are skipped; nodes with no neighbour holding a value get ``fill``.
        """
        v = np.asarray(values, dtype=np.float64)
        out = np.full(self.n_nodes, np.nan)
        indptr = self.adjacency.indptr
        nonempty = indptr[:-1] < indptr[1:]
        if nonempty.any():
            gathered = v[self.adjacency.indices]
            out[nonempty] = np.fmax.reduceat(gathered, indptr[:-1][nonempty])
        return np.where(np.isnan(out), float(fill), out)

    # -- labels ----------------------------------------------------------------------
    def labelled_count(self, seeds: np.ndarray) -> IntArray:
        """Return the number of neighbours marked in the boolean array ``seeds``."""
        s = np.asarray(seeds, dtype=np.float64)
        return np.rint(self._binary @ s).astype(np.int64)

    def labelled_weight(self, seeds: np.ndarray) -> FloatArray:
        """Return the sum of link weights to neighbours marked in ``seeds``."""
        return np.asarray(self.adjacency @ np.asarray(seeds, dtype=np.float64))

    def labelled_share(self, seeds: np.ndarray) -> FloatArray:
        """Return the share of neighbours marked in ``seeds`` (0.0 for isolated nodes)."""
        deg = self.degree()
        count = self.labelled_count(seeds)
        return np.divide(count, deg, out=np.zeros(self.n_nodes), where=deg > 0)

    def labelled_count_2hop(self, seeds: np.ndarray) -> IntArray:
        """Return the number of marked nodes at distance exactly two (not itself, not adjacent).

        Only the columns of marked nodes are multiplied, so the cost grows with the number
        of marked nodes and their neighbourhoods, not with the square of the graph.
        """
        marked = np.flatnonzero(np.asarray(seeds, dtype=bool))
        if marked.size == 0 or self.n_nodes == 0:
            return np.zeros(self.n_nodes, dtype=np.int64)
        direct = sp.csr_array(self._binary[:, marked])
        reach = sp.csr_array(self._binary @ direct)
        reach.data = np.ones_like(reach.data)
        itself = sp.csr_array(
            (np.ones(marked.size), (marked, np.arange(marked.size))),
            shape=(self.n_nodes, marked.size),
        )
        exact2 = reach - reach.multiply(direct) - reach.multiply(itself)
        return np.rint(np.asarray(exact2.sum(axis=1)).reshape(-1)).astype(np.int64)

    def label_pagerank(self, seeds: np.ndarray, damping: float = DEFAULT_DAMPING) -> FloatArray:
        """Leave-one-out personalised-PageRank label propagation from the marked nodes.

        The score of node ``v`` is the chance that a random walk from ``v`` (which moves to
        a neighbour with probability proportional to link weight, and stops after each step
        with probability ``1 - damping``) stops on a marked node **other than** ``v``. It
        lies in ``[0, 1)``; isolated nodes get 0. A node's own mark never enters its own
        score, not even through walks that come back to it, so a labelled training node
        and an unlabelled scored node with the same neighbourhood get the same score.

        With ``P`` the row-normalised adjacency and ``R = (1 - d) (I - d P)^-1`` (``R[v, u]``
        is the chance that a walk from ``v`` stops on ``u``), the score is

        ``score[v] = sum over u != v of R[v, u] * seeds[u] = (R @ seeds)[v] - R[v, v] * seeds[v]``

        (the walk mass from every seed but ``v``: leave-one-out on the propagation). With
        ``D`` the weighted degrees and ``A`` the adjacency, ``I - d P = D^-1 (D - d A)``, so
        ``R[v, u] = (1 - d) * G[v, u] * D[u]`` with ``G = (D - d A)^-1``. ``D - d A`` is
        symmetric and strictly diagonally dominant on every component with a link, so the
        solve is exact (no power iteration) and stable. Only components holding a marked
        node are solved, and only the columns of ``G`` at marked nodes are formed, with the
        diagonal term dropped: components of up to 128 nodes are inverted together as a
        batch of small dense matrices (exact). A larger component is factored once by a
        sparse LU (reverse Cuthill-McKee order, no pivoting: ``D - d A`` is strictly
        diagonally dominant) and solved for its marked columns, when that order keeps the
        factors small (at most ``_DIRECT_ENVELOPE`` entries inside the envelope, which
        bounds the fill): seller webs are sparse and tree-like, and the 10,898-node web
        of the 100k-seller marketplace (819 marked nodes) takes 0.1 s, its marked
        columns solved in cache-sized blocks. Otherwise (dense, random-like components)
        the marked columns are solved by conjugate gradients on the symmetric,
        well-conditioned system (error below 1e-12), in cache-sized blocks of columns,
        one thread per core: a few dozen sparse products with each block, so it grows
        with the component's size times its marked nodes: 8.5 s on two cores for 1,000
        marked nodes in a random 20,000-node component, 0.36 s for 250 in 5,000 nodes
        (the same web took 3.6-4.2 s this way).

        The previous definition, ``(R @ seeds)[v] - (1 - d) * seeds[v]``, counted the walks
        that return to a marked ``v`` and stop there: in two isolated pairs, bad-good and
        good-good, the bad node scored ``d**2 / (1 + d)`` (0.39) and its unlabelled twin 0.

        Parameters
        ----------
        seeds : array of bool
            Marked (known-bad) nodes.
        damping : float
            Continuation probability ``d`` of the walk, in ``[0, 1)``.

        Returns
        -------
        numpy.ndarray
            One score per node.

        Examples
        --------
        >>> g = Graph.from_edges(4, np.array([0, 2]), np.array([1, 3]))
        >>> g.label_pagerank(np.array([True, False, False, False])).round(4).tolist()
        [0.0, 0.4595, 0.0, 0.0]
        """
        if not 0.0 <= damping < 1.0:
            raise FeatureError(f"damping must be in [0, 1); got {damping!r}")
        s = np.asarray(seeds, dtype=bool)
        score = np.zeros(self.n_nodes)
        if self.n_nodes == 0 or not s.any() or damping == 0.0:
            return score
        _, comp = connected_components(self.adjacency, directed=False)
        size = np.bincount(comp)
        seeded = np.bincount(comp, weights=s.astype(np.float64)) > 0
        active = np.flatnonzero(seeded[comp] & (size[comp] > 1))
        if active.size == 0:
            return score
        wdeg = self.weighted_degree()
        mass = np.where(s, wdeg, 0.0)  # D[u] * seeds[u]
        # nodes of the solved components, grouped by component size, then component
        order = active[np.lexsort((active, comp[active], size[comp[active]]))]
        small = size[comp[order]] <= _DENSE_COMPONENT
        for c in np.unique(size[comp[order[small]]]):
            block = order[size[comp[order]] == c].reshape(-1, c)
            score[block] = self._loo_dense(block, wdeg, mass, damping)
        for k in np.unique(comp[order[~small]]):
            members = order[comp[order] == k]
            score[members] = self._loo_large(members, wdeg, mass, damping)
        return (1.0 - damping) * score

    def _loo_dense(
        self, block: IntArray, wdeg: FloatArray, mass: FloatArray, damping: float
    ) -> FloatArray:
        """``sum over u != v of G[v, u] * mass[u]`` for ``g`` components of ``c`` nodes.

        ``block`` is ``(g, c)``: row ``i`` holds the nodes of one component. Chunks keep
        the stacked ``(g, c, c)`` matrices to about two million numbers.
        """
        n_groups, c = block.shape
        out = np.empty(block.shape)
        step = max(1, 2_000_000 // (c * c))
        for lo in range(0, n_groups, step):
            part = block[lo : lo + step]
            flat = part.reshape(-1)
            sub = sp.coo_array(self.adjacency[flat][:, flat])
            system = np.zeros((part.shape[0], c, c))
            idx = np.arange(c)
            system[:, idx, idx] = wdeg[part]
            system[sub.row // c, sub.row % c, sub.col % c] -= damping * sub.data
            inverse = np.linalg.inv(system)
            inverse[:, idx, idx] = 0.0  # leave the node's own seed out
            out[lo : lo + step] = np.einsum("gvu,gu->gv", inverse, mass[part])
        return out

    def _loo_large(
        self, members: IntArray, wdeg: FloatArray, mass: FloatArray, damping: float
    ) -> FloatArray:
        """``sum over u != v of G[v, u] * mass[u]`` on one large component.

        A sparse LU when the component's reverse Cuthill-McKee envelope is small enough
        (its fill cannot exceed it), conjugate gradients otherwise.
        """
        sub = sp.csr_array(self.adjacency[members][:, members])
        order = reverse_cuthill_mckee(sub, symmetric_mode=True).astype(np.int64)
        system = sp.csr_array(sp.diags_array(wdeg[members]) - damping * sub)[order][:, order]
        if _envelope(system) > _DIRECT_ENVELOPE:
            return self._loo_iterative(members, sub, wdeg, mass, damping)
        # no pivoting (diagonal pivots, natural column order): the factors stay inside
        # the envelope, and the strict diagonal dominance makes it stable
        lu = splu(
            sp.csc_array(system),
            permc_spec="NATURAL",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )
        at = np.empty(members.size, dtype=np.int64)
        at[order] = np.arange(members.size)  # member i sits at row at[i] of ``system``
        member_mass = mass[members]
        marked = np.flatnonzero(member_mass > 0)
        step = max(1, _DIRECT_BLOCK_NUMBERS // members.size)

        def block(lo: int) -> FloatArray:
            cols = marked[lo : lo + step]
            rhs = np.zeros((members.size, cols.size))
            rhs[at[cols], np.arange(cols.size)] = 1.0
            solved = lu.solve(rhs)[at]  # columns of G at the marked nodes
            solved[cols, np.arange(cols.size)] = 0.0  # leave the node's own seed out
            out: FloatArray = solved @ member_mass[cols]
            return out

        # SuperLU's solve releases the GIL and only reads the factors (scipy keeps
        # SuperLU's allocation and error state per thread): cache-sized blocks on both
        # cores took 0.06-0.08 s against 0.16-0.17 s in one thread (in blocks of 32 MB,
        # threads had not helped); the parts are summed in block order either way
        parts = parallel_map(block, range(0, marked.size, step))
        return np.sum(parts, axis=0) if parts else np.zeros(members.size)

    def _loo_iterative(
        self,
        members: IntArray,
        sub: sp.csr_array,
        wdeg: FloatArray,
        mass: FloatArray,
        damping: float,
    ) -> FloatArray:
        """``sum over u != v of G[v, u] * mass[u]`` on one large component, by block CG.

        ``sub`` is the component's adjacency (rows and columns in ``members`` order).

        In the scaled unknowns ``Z = D^(1/2) X`` the system ``(D - d A) X = E`` reads
        ``(I - d N) Z = D^(-1/2) E`` with ``N = D^(-1/2) A D^(-1/2)``, whose eigenvalues lie
        in ``[1 - d, 1 + d]``: conjugate gradients converge by a factor of about
        ``(sqrt(k) - 1) / (sqrt(k) + 1)`` per step (``k = (1 + d) / (1 - d)``, 0.56 at
        ``d = 0.85``), all marked columns at once, until every residual is below
        ``_CG_TOL``; the error of each score is then below ``_CG_TOL / (1 - d)``.
        """
        root = np.sqrt(wdeg[members])
        norm = sp.csr_array(sp.diags_array(1.0 / root) @ sub @ sp.diags_array(1.0 / root))
        marked = np.flatnonzero(mass[members] > 0)
        step = max(_CG_MIN_COLUMNS, _CG_BLOCK_NUMBERS // members.size)
        member_mass = mass[members]

        def block(lo: int) -> FloatArray:
            cols = marked[lo : lo + step]
            at = (cols, np.arange(cols.size))
            rhs = np.zeros((members.size, cols.size))
            rhs[at] = 1.0 / root[cols]
            z = _block_cg(norm, damping, rhs)
            solved = z / root[:, None]  # columns of G at the marked nodes (G is symmetric)
            solved[at] = 0.0  # leave the node's own seed out
            out: FloatArray = solved @ member_mass[cols]
            return out

        # blocks of columns are independent: one thread per core (scipy and numpy release
        # the GIL); summed in block order, so the result does not depend on the threads
        parts = parallel_map(block, range(0, marked.size, step))
        return np.sum(parts, axis=0) if parts else np.zeros(members.size)


def _envelope(matrix: sp.csr_array) -> int:
    """Entries below the diagonal inside the envelope of a symmetric ``matrix``.

    Row ``i`` spans from its first stored column to the diagonal; a factorisation
    without pivoting fills nothing outside that span.

    Examples
    --------
    >>> _envelope(sp.csr_array(np.array([[2.0, 0, 1], [0, 2, 0], [1, 0, 2]])))
    2
    """
    n = matrix.shape[0]
    rows = np.repeat(np.arange(n), np.diff(matrix.indptr))
    first = np.arange(n)
    np.minimum.at(first, rows, matrix.indices)
    return int((np.arange(n) - first).sum())


def _block_cg(norm: sp.csr_array, damping: float, rhs: FloatArray) -> FloatArray:
    """Solve ``(I - d N) Z = rhs`` column by column with conjugate gradients, vectorised.

    The updates run in place on preallocated blocks (the same arithmetic, in the same
    order, as the textbook ``z += alpha * p``, ``r -= alpha * q``, ``p = r + beta * p``).
    """
    z = np.zeros_like(rhs)
    r = rhs.copy()
    p = r.copy()
    scaled = np.empty_like(rhs)
    rr = np.einsum("ij,ij->j", r, r)
    for _ in range(_CG_MAX_ITER):
        if np.sqrt(rr.max(initial=0.0)) < _CG_TOL:
            return z
        q = norm @ p
        q *= -damping
        q += p  # q = p - d N p
        pq = np.einsum("ij,ij->j", p, q)
        alpha = np.divide(rr, pq, out=np.zeros_like(rr), where=pq > 0)
        np.multiply(alpha, p, out=scaled)
        z += scaled
        np.multiply(alpha, q, out=scaled)
        r -= scaled
        new = np.einsum("ij,ij->j", r, r)
        beta = np.divide(new, rr, out=np.zeros_like(rr), where=rr > 0)
        p *= beta
        p += r  # p = r + beta p
        rr = new
    raise FeatureError(  # pragma: no cover - (I - d N) is well conditioned for d < 1
        f"label propagation did not converge in {_CG_MAX_ITER} steps (damping {damping})"
    )


def neighbour_features(
    nodes: Any,
    edges: Any,
    *,
    id_col: str = "node_id",
    src_col: str = "src",
    dst_col: str = "dst",
    weight_col: str | None = None,
    label_col: str | None = None,
    feature_cols: Sequence[str] = (),
    known_labels_mask: Any = None,
    on_unknown: Literal["raise", "drop"] = "raise",
    feature_fill: Literal["mean"] | float | Mapping[str, float] = "mean",
    damping: float = DEFAULT_DAMPING,
) -> pd.DataFrame:
    """Graph features for every node of an entity table, from an edge list between them.

    Bring an account graph from any system (accounts linked by shared devices, shops by
    shared payment accounts, ...) and get degree, neighbour means and maxima of chosen
    columns, counts and shares of neighbours already labelled bad, labelled nodes two
    hops away, component size and a label-propagation score, ready for a tree model.

    Parameters
    ----------
    nodes : DataFrame
        One row per node (pandas, Polars or any eager frame narwhals reads). Node ids in
        ``id_col`` must be unique and not missing.
    edges : DataFrame
        One row per link, endpoints in ``src_col`` and ``dst_col``. Undirected; self-loops
        dropped and duplicate pairs merged with summed weights, both counted (see
        ``result.attrs["graph_stats"]`` and the module docstring).
    id_col, src_col, dst_col : str
        Column names of the node id and the edge endpoints.
    weight_col : str, optional
        Column of positive finite link weights in ``edges``; each row weighs 1 without it.
    label_col : str, optional
        Column of ``nodes`` marking known-bad nodes: booleans or 0/1 (missing = not known
        bad). Without it, no label features are returned.
    feature_cols : sequence of str
        Numeric columns of ``nodes`` to aggregate over neighbours (mean and max).
    known_labels_mask : array-like of bool or str, optional
        Which nodes' labels may be used (one value per node row, or the name of a boolean
        column of ``nodes``). A node counts as labelled only when ``label_col`` is true
        *and* its mask is true; use it to hide labels decided after a cutoff or the labels
        of the rows being evaluated.
    on_unknown : {"raise", "drop"}
        What to do with edges that name ids not in ``nodes``: raise a ``FeatureError``
        showing the count and up to five examples (default), or drop them.
    feature_fill : "mean", float or mapping of str to float
        Value of ``neighbour_mean_<col>`` and ``neighbour_max_<col>`` for nodes with no
        neighbour holding a value: the column's mean over all nodes (``"mean"``, 0.0 when
        the column is all missing), one number, or one number per column.
    damping : float
        Continuation probability of the label-propagation walk, in ``[0, 1)``.

    Returns
    -------
    pandas.DataFrame
        Indexed by node id in the order of ``nodes``, with no missing values:

        - ``degree`` (0 when isolated): distinct neighbours.
    - ``weighted_degree`` (0.0): sum of link weights.
    - ``component_size`` (1): nodes in the connected component, itself included.
    - ``neighbour_mean_<col>`` (fill): link-weighted mean of ``col`` over the
      neighbours holding a value.
    - ``neighbour_max_<col>`` (fill): largest ``col`` over the neighbours.
    - ``labelled_count`` (0): neighbours labelled bad.
    - ``labelled_weight`` (0.0): sum of link weights to labelled neighbours.
    - ``labelled_share`` (0.0): ``labelled_count / degree``.
    - ``labelled_count_2hop`` (0): labelled nodes at distance exactly two (never the
      node itself).
    - ``label_pagerank`` (0.0): chance that a random walk from the node stops on a
      labelled node other than itself (leave-one-out; see :meth:`Graph.label_pagerank`).

    The ``labelled_*`` and ``label_pagerank`` columns appear only with ``label_col``.
    None of them depends on the node's own label (see the module docstring), so labelled
    training rows and unlabelled rows to score get them from the same definition.
        ``result.attrs["graph_stats"]`` holds the :class:`GraphStats` counts as a dict.

    Raises
    ------
    FeatureError
        Missing columns, duplicate or missing node ids, unknown-node edges (unless
        ``on_unknown="drop"``), non-positive weights, non-numeric features or labels, or
        ``damping`` outside ``[0, 1)``.

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"node_id": ["a", "b", "c", "d"], "bad": [1, 0, 0, 0],
    ...                       "price": [1.0, 2.0, 4.0, 8.0]})
    >>> edges = pd.DataFrame({"src": ["a", "b", "b"], "dst": ["b", "c", "a"]})
    >>> out = neighbour_features(nodes, edges, label_col="bad", feature_cols=["price"])
    >>> cols = ["degree", "weighted_degree", "labelled_count", "labelled_count_2hop"]
    >>> out[cols]  # doctest: +NORMALIZE_WHITESPACE
             degree  weighted_degree  labelled_count  labelled_count_2hop
    node_id
    a             1              2.0               0                    0
    b             2              3.0               1                    0
    c             1              1.0               0                    1
    d             0              0.0               0                    0
    >>> out["neighbour_mean_price"].round(3).tolist()
    [2.0, 2.0, 2.0, 3.75]
    >>> out.attrs["graph_stats"]["n_duplicates"]
    1
    """
    import narwhals.stable.v2 as nw

    if on_unknown not in ("raise", "drop"):
        raise FeatureError(f"on_unknown must be 'raise' or 'drop'; got {on_unknown!r}")
    damping = check_real(
        damping,
        "damping",
        "neighbour_features",
        low=0.0,
        high=1.0,
        high_open=True,
        error=FeatureError,
    )
    node_frame = _eager(nw, nodes, "nodes")
    edge_frame = _eager(nw, edges, "edges")
    _require(node_frame, [id_col, *feature_cols, *([label_col] if label_col else [])], "nodes")
    _require(edge_frame, [src_col, dst_col, *([weight_col] if weight_col else [])], "edges")

    ids = pd.Index(node_frame[id_col].to_numpy(), name=id_col)
    if ids.hasnans:
        raise FeatureError(
            f"nodes.{id_col}: {int(ids.isna().sum())} node(s) have a missing id; "
            "drop them or give them ids"
        )
    if not ids.is_unique:
        dups = ids[ids.duplicated()].unique()[:N_EXAMPLES]
        raise FeatureError(
            f"nodes.{id_col}: ids are not unique, {int(ids.duplicated().sum())} repeated "
            f"row(s), e.g. {', '.join(map(str, dups))}; keep one row per node"
        )

    src_raw = edge_frame[src_col].to_numpy()
    dst_raw = edge_frame[dst_col].to_numpy()
    src = ids.get_indexer(src_raw)
    dst = ids.get_indexer(dst_raw)
    unknown = (src < 0) | (dst < 0)
    n_unknown = int(unknown.sum())
    examples = tuple(
        (str(a), str(b))
        for a, b in zip(src_raw[unknown][:N_EXAMPLES], dst_raw[unknown][:N_EXAMPLES], strict=True)
    )
    if n_unknown and on_unknown == "raise":
        shown = ", ".join(f"({a}, {b})" for a, b in examples)
        raise FeatureError(
            f"edges: {n_unknown} of {len(src)} edge(s) name ids not in nodes.{id_col}, "
            f"e.g. {shown}; add those nodes, or pass on_unknown='drop' to drop these edges"
        )
    weight = None
    if weight_col is not None:
        weight = _numeric(edge_frame[weight_col].to_numpy(), f"edges.{weight_col}")[~unknown]
    graph = Graph.from_edges(
        len(ids),
        src[~unknown],
        dst[~unknown],
        weight,
        n_unknown=n_unknown,
        unknown_examples=examples,
    )

    columns: dict[str, np.ndarray] = {
        "degree": graph.degree(),
        "weighted_degree": graph.weighted_degree(),
        "component_size": graph.component_size(),
    }
    for col in feature_cols:
        values = _numeric(node_frame[col].to_numpy(), f"nodes.{col}")
        fill = _fill_for(col, values, feature_fill)
        columns[f"neighbour_mean_{col}"] = graph.neighbour_mean(values, fill)
        columns[f"neighbour_max_{col}"] = graph.neighbour_max(values, fill)
    if label_col is not None:
        seeds = _labels(node_frame[label_col].to_numpy(), f"nodes.{label_col}")
        if known_labels_mask is not None:
            seeds &= _mask(node_frame, known_labels_mask, len(ids))
        columns["labelled_count"] = graph.labelled_count(seeds)
        columns["labelled_weight"] = graph.labelled_weight(seeds)
        columns["labelled_share"] = graph.labelled_share(seeds)
        columns["labelled_count_2hop"] = graph.labelled_count_2hop(seeds)
        columns["label_pagerank"] = graph.label_pagerank(seeds, damping)
    out = pd.DataFrame(columns, index=ids)
    out.attrs["graph_stats"] = graph.stats.as_dict()
    return out


def _eager(nw: Any, frame: Any, what: str) -> Any:
    try:
        return nw.from_native(frame, eager_only=True)
    except TypeError as err:
        raise FeatureError(
            f"{what} must be an eager DataFrame (pandas, Polars, ...); got "
            f"{type(frame).__name__}. Collect lazy frames first"
        ) from err


def _require(frame: Any, needed: Sequence[str], what: str) -> None:
    have = list(frame.columns)
    for col in needed:
        if col not in have:
            close = difflib.get_close_matches(col, have, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise FeatureError(
                f"{what}: column {col!r} not found{hint}; columns are {', '.join(have)}"
            )


def _numeric(values: np.ndarray, where: str) -> FloatArray:
    try:
        return np.asarray(pd.to_numeric(pd.Series(values), errors="raise"), dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise FeatureError(f"{where}: expected numbers; {err}") from err


def _labels(values: np.ndarray, where: str) -> BoolArray:
    s = pd.Series(values)
    if s.dtype == bool:
        return s.to_numpy(dtype=bool).copy()
    num = _numeric(values, where)
    ok = np.isnan(num) | (num == 0) | (num == 1)
    if not ok.all():
        raise FeatureError(
            f"{where}: labels must be booleans or 0/1 (missing = unknown); found "
            f"{sorted(set(num[~ok].tolist()))[:N_EXAMPLES]}"
        )
    return num == 1


def _mask(frame: Any, mask: Any, n: int) -> BoolArray:
    values = frame[mask].to_numpy() if isinstance(mask, str) else np.asarray(mask)
    if values.shape != (n,):
        raise FeatureError(
            f"known_labels_mask must have one value per node ({n}); got shape {values.shape}"
        )
    return np.asarray(pd.Series(values).fillna(False), dtype=bool)


def _fill_for(
    col: str, values: FloatArray, fill: Literal["mean"] | float | Mapping[str, float]
) -> float:
    if isinstance(fill, Mapping):
        if col not in fill:
            raise FeatureError(f"feature_fill has no value for column {col!r}")
        return float(fill[col])
    if isinstance(fill, str):
        if fill != "mean":
            raise FeatureError(f"feature_fill must be 'mean', a number or a mapping; got {fill!r}")
        finite = values[~np.isnan(values)]
        return float(finite.mean()) if finite.size else 0.0
    return float(fill)
