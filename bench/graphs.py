"""Graph scenarios for benchmarks: node features, labels and edges with chosen homophily.

:func:`make_graph_scenario` draws a node table (``node_id``, features ``x0..``, label
``y``) and an undirected edge list (``src``, ``dst``), numpy only, seeded:

- **Labels**: exactly ``round(prevalence * n_nodes)`` positives, at random positions.
- **Features**: ``n_informative`` columns ``N(signal * y, 1)``, the rest ``N(0, 1)``.
- **Edges**: ``n_nodes * avg_degree / 2`` rows. A share ``hub_share`` of them are **noisy
  hub** edges: one end is one of ``n_hubs`` hub nodes (picked at random, whatever their
  label), the other a uniformly random node. Every other edge starts at a uniformly
  random node and, with probability ``homophily``, ends at a random node of the *same*
  class, otherwise at a uniformly random node. ``homophily=0`` is a random graph (labels
  carry no graph signal); ``homophily=0.9`` links a positive to another positive on 90%
  of the edges it starts.

Self-loops and repeated pairs can occur; :func:`riskscore.features.neighbour_features`
drops the former and merges the latter. :func:`old_label_pagerank` is the label
propagation before issue 12 (walks returning to a labelled node count for it), kept
here only to measure what the leak cost.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["edge_homophily", "make_graph_scenario", "old_label_pagerank"]


def make_graph_scenario(
    n_nodes: int = 4000,
    *,
    homophily: float = 0.5,
    avg_degree: float = 6.0,
    hub_share: float = 0.0,
    n_hubs: int | None = None,
    prevalence: float = 0.05,
    n_features: int = 6,
    n_informative: int = 3,
    signal: float = 0.7,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw one graph scenario; see the module docstring for the model.

    Returns
    -------
    nodes : pandas.DataFrame
        ``node_id`` (0 .. n-1), ``x0`` .. ``x{n_features-1}``, ``y`` (0/1).
    edges : pandas.DataFrame
        ``src``, ``dst`` node ids.

    Examples
    --------
    >>> nodes, edges = make_graph_scenario(1000, homophily=1.0, seed=1)
    >>> int(nodes["y"].sum()), len(edges), edge_homophily(nodes, edges) > 0.99
    (50, 3000, True)
    """
    for name, value in (("homophily", homophily), ("hub_share", hub_share)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be in [0, 1]; got {value!r}")
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence must be in (0, 1); got {prevalence!r}")
    rng = np.random.default_rng(seed)
    y = np.zeros(n_nodes, dtype=np.int64)
    y[rng.choice(n_nodes, size=round(prevalence * n_nodes), replace=False)] = 1
    x = rng.normal(size=(n_nodes, n_features))
    x[:, :n_informative] += signal * y[:, None]
    nodes = pd.DataFrame(x, columns=[f"x{j}" for j in range(n_features)])
    nodes.insert(0, "node_id", np.arange(n_nodes))
    nodes["y"] = y

    m = round(n_nodes * avg_degree / 2)
    n_hub_edges = round(hub_share * m)
    hubs = rng.choice(n_nodes, size=n_hubs or max(1, n_nodes // 200), replace=False)
    hub_src = rng.choice(hubs, size=n_hub_edges)
    hub_dst = rng.integers(0, n_nodes, n_hub_edges)

    k = m - n_hub_edges
    src = rng.integers(0, n_nodes, k)
    dst = rng.integers(0, n_nodes, k)
    same = rng.random(k) < homophily
    by_class = [np.flatnonzero(y == c) for c in (0, 1)]
    for c, members in enumerate(by_class):
        pick = same & (y[src] == c)
        dst[pick] = rng.choice(members, size=int(pick.sum()))
    edges = pd.DataFrame({"src": np.r_[src, hub_src], "dst": np.r_[dst, hub_dst]})
    return nodes, edges


def edge_homophily(nodes: pd.DataFrame, edges: pd.DataFrame) -> float:
    """Share of edges (self-loops left out) joining nodes of the same class."""
    y = nodes.set_index("node_id")["y"]
    a, b = y.loc[edges["src"]].to_numpy(), y.loc[edges["dst"]].to_numpy()
    keep = edges["src"].to_numpy() != edges["dst"].to_numpy()
    return float((a[keep] == b[keep]).mean())


def old_label_pagerank(graph: Any, seeds: np.ndarray, damping: float = 0.85) -> np.ndarray:
    """Label propagation as it was before issue 12: ``R @ s - (1 - d) s``.

    ``R = (1 - d) (I - d P)^-1``; a labelled node keeps the walks that return to it and
    stop there, so its own label enters its score.
    """
    import scipy.sparse as sp

    s = np.asarray(seeds, dtype=np.float64)
    deg = graph.weighted_degree()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    transition = sp.csr_array(sp.diags_array(inv) @ graph.adjacency)
    base = (1.0 - damping) * s
    score = np.zeros(graph.n_nodes)
    for _ in range(1000):  # the old power iteration, verbatim
        new = damping * (transition @ (score + base))
        if np.max(np.abs(new - score), initial=0.0) < 1e-10:
            return np.asarray(new)
        score = new
    return score
