"""The generic graph features: hand-computed answers, bad input, invariants."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from riskscore.exceptions import FeatureError
from riskscore.features._graph import Graph, neighbour_features


@pytest.fixture
def five() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five nodes A..E; E is isolated; C's feature is missing; A and D are known bad.

    Edge rows: A-B (2), B-C (1), C-A (1), C-D (4), a self-loop D-D (9) and a reversed
    duplicate B-A (1). Merged links: A-B 3, B-C 1, A-C 1, C-D 4.
    """
    nodes = pd.DataFrame(
        {
            "id": ["A", "B", "C", "D", "E"],
            "x": [1.0, 2.0, np.nan, 4.0, 8.0],
            "bad": [1, 0, 0, 1, 0],
        }
    )
    edges = pd.DataFrame(
        {
            "u": ["A", "B", "C", "C", "D", "B"],
            "v": ["B", "C", "A", "D", "D", "A"],
            "w": [2.0, 1.0, 1.0, 4.0, 9.0, 1.0],
        }
    )
    return nodes, edges


def _features(nodes: pd.DataFrame, edges: pd.DataFrame, **kw: object) -> pd.DataFrame:
    args: dict[str, object] = {
        "id_col": "id",
        "src_col": "u",
        "dst_col": "v",
        "weight_col": "w",
        "label_col": "bad",
        "feature_cols": ["x"],
    }
    args.update(kw)
    return neighbour_features(nodes, edges, **args)  # type: ignore[arg-type]


def test_hand_computed_five_node_graph(five: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    out = _features(*five)
    assert list(out.index) == ["A", "B", "C", "D", "E"]
    assert out["degree"].tolist() == [2, 2, 3, 1, 0]
    assert out["weighted_degree"].tolist() == [4.0, 4.0, 6.0, 4.0, 0.0]
    assert out["component_size"].tolist() == [4, 4, 4, 4, 1]
    fill = (1 + 2 + 4 + 8) / 4  # mean of x over nodes holding a value
    # A: B(3, x=2) and C (no value); B: A(3, x=1); C: A(1)·1 + B(1)·2 + D(4)·4 over 6
    np.testing.assert_allclose(out["neighbour_mean_x"], [2.0, 1.0, 19 / 6, fill, fill], rtol=1e-12)
    np.testing.assert_allclose(out["neighbour_max_x"], [2.0, 1.0, 4.0, fill, fill])
    assert out["labelled_count"].tolist() == [0, 1, 2, 0, 0]
    assert out["labelled_weight"].tolist() == [0.0, 3.0, 5.0, 0.0, 0.0]
    np.testing.assert_allclose(out["labelled_share"], [0.0, 0.5, 2 / 3, 0.0, 0.0])
    # distance exactly two: A->D, B->D, D->A (B at distance 2 from D is not labelled)
    assert out["labelled_count_2hop"].tolist() == [1, 1, 0, 1, 0]
    assert not out.isna().any().any()
    stats = out.attrs["graph_stats"]
    assert (stats["n_edge_rows"], stats["n_self_loops"], stats["n_duplicates"]) == (6, 1, 1)
    assert stats["n_links"] == 4


def test_pagerank_matches_a_dense_solve(five: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    alpha = 0.6
    out = _features(*five, damping=alpha)
    w = np.zeros((5, 5))
    for a, b, x in [(0, 1, 3.0), (1, 2, 1.0), (0, 2, 1.0), (2, 3, 4.0)]:
        w[a, b] = w[b, a] = x
    deg = w.sum(axis=1)
    p = np.divide(w, deg[:, None], out=np.zeros_like(w), where=deg[:, None] > 0)
    s = np.array([1.0, 0, 0, 1, 0])
    r = (1 - alpha) * np.linalg.inv(np.eye(5) - alpha * p)  # r[v, u]: walk from v stops on u
    np.testing.assert_allclose(out["label_pagerank"], r @ s - np.diag(r) * s, atol=1e-12)
    assert out["label_pagerank"].iloc[4] == 0.0
    # A's score is the mass from D only; D's the mass from A only
    np.testing.assert_allclose(out["label_pagerank"].iloc[[0, 3]], [r[0, 3], r[3, 0]], atol=1e-12)
    # one step by hand for B: 0.6 * (3/4 * 0.4 * 1) plus longer walks
    assert out["label_pagerank"].iloc[1] > alpha * 0.75 * (1 - alpha)


def test_known_labels_mask_hides_labels(five: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    nodes, edges = five
    out = _features(nodes, edges, known_labels_mask=[True, True, True, False, True])
    assert out["labelled_count"].tolist() == [0, 1, 1, 0, 0]
    assert out["labelled_count_2hop"].tolist() == [0, 0, 0, 1, 0]
    nodes = nodes.assign(visible=[True, True, True, False, True])
    by_name = _features(nodes, edges, known_labels_mask="visible")
    pd.testing.assert_frame_equal(by_name, out)


def test_unknown_nodes_are_reported_with_count_and_examples(
    five: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    nodes, edges = five
    extra = pd.DataFrame({"u": ["A", "Z", None], "v": ["Q", "B", "C"], "w": [1.0, 1.0, 1.0]})
    edges = pd.concat([edges, extra], ignore_index=True)
    with pytest.raises(FeatureError, match=r"3 of 9 edge\(s\) name ids not in nodes.id.*\(A, Q\)"):
        _features(nodes, edges)
    out = _features(nodes, edges, on_unknown="drop")
    assert out.attrs["graph_stats"]["n_unknown"] == 3
    assert out.attrs["graph_stats"]["unknown_examples"][1] == ("Z", "B")
    pd.testing.assert_frame_equal(out, _features(*five), check_like=False, check_exact=False)


def test_self_loops_and_duplicates_only() -> None:
    nodes = pd.DataFrame({"node_id": [1, 2, 3]})
    edges = pd.DataFrame({"src": [1, 2, 2, 1, 3], "dst": [1, 2, 1, 2, 3]})
    out = neighbour_features(nodes, edges)
    assert out["degree"].tolist() == [1, 1, 0]
    assert out["weighted_degree"].tolist() == [2.0, 2.0, 0.0]
    stats = out.attrs["graph_stats"]
    assert (stats["n_self_loops"], stats["n_duplicates"], stats["n_links"]) == (3, 1, 1)


def test_isolated_nodes_get_zeros_not_nan() -> None:
    nodes = pd.DataFrame({"node_id": ["a", "b"], "bad": [True, False], "x": [np.nan, np.nan]})
    edges = pd.DataFrame({"src": pd.Series([], dtype=str), "dst": pd.Series([], dtype=str)})
    out = neighbour_features(nodes, edges, label_col="bad", feature_cols=["x"])
    assert not out.isna().any().any()
    counts = out.drop(columns=["component_size"])
    assert (counts.to_numpy() == 0).all()
    assert out["component_size"].tolist() == [1, 1]


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"weight": [1.0, -1.0]}, r"finite and > 0; 1 edge\(s\)"),
        ({"weight": [1.0, np.nan]}, r"finite and > 0"),
        ({"label": [2, 0, 0]}, r"booleans or 0/1"),
        ({"x": ["a", "b", "c"]}, r"nodes.x: expected numbers"),
        ({"ids": ["a", "a", "b"]}, r"not unique, 1 repeated row\(s\), e.g. a"),
        ({"ids": ["a", None, "b"]}, r"1 node\(s\) have a missing id"),
    ],
)
def test_bad_input_is_reported(change: dict[str, list[object]], match: str) -> None:
    nodes = pd.DataFrame(
        {"node_id": change.get("ids", ["a", "b", "c"]), "label": change.get("label", [1, 0, 0])}
    )
    nodes["x"] = change.get("x", [1.0, 2.0, 3.0])
    edges = pd.DataFrame(
        {"src": ["a", "b"], "dst": ["b", "c"], "weight": change.get("weight", [1.0, 1.0])}
    )
    with pytest.raises(FeatureError, match=match):
        neighbour_features(nodes, edges, weight_col="weight", label_col="label", feature_cols=["x"])


def test_missing_column_suggests_the_close_name() -> None:
    nodes = pd.DataFrame({"node_id": ["a"]})
    edges = pd.DataFrame({"source": ["a"], "dst": ["a"]})
    with pytest.raises(FeatureError, match=r"column 'src' not found \(did you mean 'source'\?\)"):
        neighbour_features(nodes, edges)
    with pytest.raises(FeatureError, match=r"on_unknown must be 'raise' or 'drop'"):
        neighbour_features(nodes, edges, src_col="source", on_unknown="ignore")  # type: ignore[arg-type]


def test_polars_input_gives_the_same_answer(five: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    pl = pytest.importorskip("polars")
    nodes, edges = five
    out = _features(pl.from_pandas(nodes), pl.from_pandas(edges))
    pd.testing.assert_frame_equal(out, _features(nodes, edges))


def test_graph_rejects_out_of_range_positions_and_bad_damping() -> None:
    with pytest.raises(FeatureError, match=r"node positions in \[0, 2\)"):
        Graph.from_edges(2, np.array([0]), np.array([2]))
    g = Graph.from_edges(2, np.array([0]), np.array([1]))
    with pytest.raises(FeatureError, match=r"damping must be in \[0, 1\); got 1.0"):
        g.label_pagerank(np.array([True, False]), damping=1.0)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 12))
    m = draw(st.integers(0, 30))
    src = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    dst = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=np.int64)
    seeds = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return n, src, dst, seeds


@settings(max_examples=60, deadline=None)
@given(graphs())
def test_invariants_on_random_graphs(graph: tuple[int, np.ndarray, np.ndarray, np.ndarray]) -> None:
    n, src, dst, seeds = graph
    s = seeds.astype(int)
    g = Graph.from_edges(n, src, dst)
    # direction and order of edge rows do not matter
    order = np.arange(len(src))[::-1]
    flipped = Graph.from_edges(n, dst[order], src[order])
    assert (g.adjacency != flipped.adjacency).nnz == 0
    deg = g.degree()
    dense = g.adjacency.toarray()
    assert np.allclose(dense, dense.T) and np.all(np.diag(dense) == 0)
    assert (deg == (dense > 0).sum(axis=1)).all()
    count = g.labelled_count(seeds)
    assert (count <= deg).all() and (count == (dense > 0).astype(int) @ s).all()
    # two-hop count against a dense breadth-first reference
    a = (dense > 0).astype(int)
    two = ((a @ a) > 0) & (a == 0) & ~np.eye(n, dtype=bool)
    assert (g.labelled_count_2hop(seeds) == two.astype(int) @ s).all()
    pr = g.label_pagerank(seeds)
    assert ((pr >= 0) & (pr < 1)).all()
    assert (pr[deg == 0] == 0).all()
    # a node whose every neighbour is labelled scores at least one step's worth
    full = (deg > 0) & (count == deg)
    assert (pr[full] >= 0.85 * 0.15 - 1e-12).all()
    assert (g.component_size() >= 1).all()


# -- no label feature of a node depends on its own label ---------------------------------

LABEL_COLUMNS = [
    "labelled_count",
    "labelled_weight",
    "labelled_share",
    "labelled_count_2hop",
    "label_pagerank",
]


def test_two_isolated_pairs_bad_good_and_good_good() -> None:
    """The example of issue 12: the bad node and its unlabelled twin score the same."""
    nodes = pd.DataFrame({"node_id": ["bad", "g1", "g2", "g3"], "label": [1, 0, 0, 0]})
    edges = pd.DataFrame({"src": ["bad", "g2"], "dst": ["g1", "g3"]})
    out = neighbour_features(nodes, edges, label_col="label")
    d = 0.85
    # g1 steps to the bad node (d), then stops there at an even step: d (1 - d) / (1 - d²)
    np.testing.assert_allclose(out["label_pagerank"], [0.0, d / (1 + d), 0.0, 0.0], atol=1e-15)
    assert out.loc["bad", LABEL_COLUMNS].tolist() == out.loc["g2", LABEL_COLUMNS].tolist()
    assert out["labelled_count"].tolist() == [0, 1, 0, 0]
    # the old definition (walks that come back to the node count) gave the bad node 0.39
    old = _old_label_pagerank(Graph.from_edges(4, np.array([0, 2]), np.array([1, 3])), [1, 0, 0, 0])
    np.testing.assert_allclose(old, [d**2 / (1 + d), d / (1 + d), 0.0, 0.0], atol=1e-9)
    assert round(old[0], 2) == 0.39


def _old_label_pagerank(g: Graph, seeds: object, damping: float = 0.85) -> np.ndarray:
    """The definition before issue 12: ``R @ s - (1 - d) s``, which counts return walks."""
    a = g.adjacency.toarray()
    deg = a.sum(axis=1)
    p = np.divide(a, deg[:, None], out=np.zeros_like(a), where=deg[:, None] > 0)
    s = np.asarray(seeds, dtype=np.float64)
    y = np.linalg.solve(np.eye(len(a)) - damping * p, (1 - damping) * s)
    return np.asarray(y - (1 - damping) * s)


def _old_labelled_count_2hop(g: Graph, seeds: object) -> np.ndarray:
    """A planted leak: labelled nodes reached in two steps, the node itself included."""
    a = (g.adjacency.toarray() > 0).astype(int)
    two = ((a @ a) > 0) & (a == 0)
    return np.asarray(two.astype(int) @ np.asarray(seeds, dtype=int))


def _label_features(g: Graph, seeds: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "labelled_count": g.labelled_count(seeds),
        "labelled_weight": g.labelled_weight(seeds),
        "labelled_share": g.labelled_share(seeds),
        "labelled_count_2hop": g.labelled_count_2hop(seeds),
        "label_pagerank": g.label_pagerank(seeds),
    }


def _own_label_moves(
    features: object, g: Graph, seeds: np.ndarray, node: int
) -> dict[str, tuple[float, float]]:
    """Label features of ``node`` that change when its own label flips: name -> (before, after)."""
    flipped = seeds.copy()
    flipped[node] = not flipped[node]
    before = features(g, seeds)  # type: ignore[operator]
    after = features(g, flipped)  # type: ignore[operator]
    return {
        name: (float(before[name][node]), float(after[name][node]))
        for name in before
        if not np.isclose(before[name][node], after[name][node], rtol=0, atol=1e-12)
    }


@st.composite
def weighted_graphs(draw: st.DrawFn) -> tuple[Graph, np.ndarray, int]:
    """Random weighted graphs, up to 150 nodes (components above 128 take the CG path)."""
    n = draw(st.integers(2, 150))
    m = draw(st.integers(1, 3 * n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    g = Graph.from_edges(n, src, dst, rng.uniform(0.1, 5.0, m))
    seeds = rng.random(n) < draw(st.floats(0.0, 0.8))
    return g, seeds, draw(st.integers(0, n - 1))


@settings(max_examples=80, deadline=None)
@given(weighted_graphs())
def test_flipping_a_nodes_own_label_changes_none_of_its_label_features(
    case: tuple[Graph, np.ndarray, int],
) -> None:
    g, seeds, node = case
    assert _own_label_moves(_label_features, g, seeds, node) == {}


@settings(max_examples=30, deadline=None)
@given(weighted_graphs())
def test_leave_one_out_propagation_matches_a_dense_inverse(
    case: tuple[Graph, np.ndarray, int],
) -> None:
    g, seeds, _ = case
    a = g.adjacency.toarray()
    deg = a.sum(axis=1)
    p = np.divide(a, deg[:, None], out=np.zeros_like(a), where=deg[:, None] > 0)
    r = 0.15 * np.linalg.inv(np.eye(len(a)) - 0.85 * p)
    s = seeds.astype(float)
    np.testing.assert_allclose(g.label_pagerank(seeds), r @ s - np.diag(r) * s, atol=1e-11)


def test_the_check_catches_the_old_definitions() -> None:
    """The invariant check is not vacuous: the pre-issue-12 definitions fail it."""
    g = Graph.from_edges(3, np.array([0, 1]), np.array([1, 2]))  # a path 0 - 1 - 2
    seeds = np.array([True, False, False])

    def leaky(graph: Graph, s: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "label_pagerank": _old_label_pagerank(graph, s),
            "labelled_count_2hop": _old_labelled_count_2hop(graph, s),
        }

    moved = _own_label_moves(leaky, g, seeds, 0)
    assert set(moved) == {"label_pagerank", "labelled_count_2hop"}
    assert moved["labelled_count_2hop"] == (1.0, 0.0)  # 0 -> 1 -> 0 came back to itself
    assert moved["label_pagerank"][0] > 0.19 and moved["label_pagerank"][1] == 0.0
    assert _own_label_moves(_label_features, g, seeds, 0) == {}


@settings(max_examples=40, deadline=None)
@given(weighted_graphs(), st.booleans())
def test_neighbour_features_ignore_the_nodes_own_label(
    case: tuple[Graph, np.ndarray, int], masked: bool
) -> None:
    """Through the public call: flipping a labelled node's label, or hiding it."""
    g, seeds, node = case
    n = g.n_nodes
    upper = sp.triu(g.adjacency, k=1).tocoo()
    edges = pd.DataFrame({"src": upper.row, "dst": upper.col, "w": upper.data})
    nodes = pd.DataFrame({"node_id": np.arange(n), "label": seeds.astype(int)})
    mask = np.ones(n, dtype=bool)
    if masked:
        mask[::3] = False
    flipped = nodes.assign(label=nodes["label"].where(nodes.index != node, 1 - seeds[node]))
    hidden = mask.copy()
    hidden[node] = False
    kw: dict[str, object] = {"weight_col": "w", "label_col": "label", "known_labels_mask": mask}
    base = neighbour_features(nodes, edges, **kw)  # type: ignore[arg-type]
    for variant in (
        neighbour_features(flipped, edges, **kw),  # type: ignore[arg-type]
        neighbour_features(nodes, edges, **{**kw, "known_labels_mask": hidden}),  # type: ignore[arg-type]
    ):
        np.testing.assert_allclose(
            variant.iloc[node][LABEL_COLUMNS].to_numpy(dtype=float),
            base.iloc[node][LABEL_COLUMNS].to_numpy(dtype=float),
            rtol=0,
            atol=1e-12,
        )


@pytest.mark.parametrize("path", ["direct", "direct in blocks", "iterative"])
@pytest.mark.parametrize("shape", ["ring", "random"])
def test_large_components_match_a_dense_inverse(
    path: str, shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One component above the dense limit, by sparse LU and by conjugate gradients.

    ``direct in blocks`` solves the 45 marked columns four at a time (twelve blocks summed).
    """
    from riskscore.features import _graph

    n = 400
    ring = np.arange(n)
    if shape == "ring":  # a ring with chords: a small envelope
        g = Graph.from_edges(n, np.r_[ring, ring], np.r_[(ring + 1) % n, (ring * 7 + 3) % n])
    else:  # a weighted random graph on a ring (connected): a wide envelope
        rng = np.random.default_rng(5)
        src, dst = rng.integers(0, n, 1200), rng.integers(0, n, 1200)
        g = Graph.from_edges(
            n, np.r_[ring, src], np.r_[(ring + 1) % n, dst], rng.uniform(0.1, 5.0, n + 1200)
        )
    assert g.component_size().min() == n
    envelope = _graph._envelope(g.adjacency)  # natural order: an upper bound of RCM's
    assert 0 < envelope < _graph._DIRECT_ENVELOPE
    if path == "iterative":
        monkeypatch.setattr(_graph, "_DIRECT_ENVELOPE", 0)
    if path == "direct in blocks":
        monkeypatch.setattr(_graph, "_DIRECT_BLOCK_NUMBERS", 4 * n)
    taken: list[str] = []
    monkeypatch.setattr(
        Graph, "_loo_iterative", _recording(Graph._loo_iterative, taken, "_loo_iterative")
    )
    seeds = (ring % 9) == 0
    a = g.adjacency.toarray()
    p = a / a.sum(axis=1, keepdims=True)
    r = 0.15 * np.linalg.inv(np.eye(n) - 0.85 * p)
    s = seeds.astype(float)
    np.testing.assert_allclose(g.label_pagerank(seeds), r @ s - np.diag(r) * s, atol=1e-12)
    assert ("_loo_iterative" in taken) == (path == "iterative")


def _recording(func: Any, taken: list[str], name: str) -> Any:
    """``func``, noting ``name`` in ``taken`` at every call (the path a solve took)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        taken.append(name)
        return func(*args, **kwargs)

    return call


# -- keeping graph features only when they help ------------------------------------------


def _scenario(homophily: float, **kw: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    from bench.graphs import make_graph_scenario

    return make_graph_scenario(2000, homophily=homophily, prevalence=0.08, seed=3, **kw)  # type: ignore[arg-type]


def test_graph_scenario_generator_hits_the_asked_homophily_and_hubs() -> None:
    from bench.graphs import edge_homophily, make_graph_scenario

    nodes, edges = make_graph_scenario(2000, homophily=0.0, prevalence=0.05, seed=0)
    assert int(nodes["y"].sum()) == 100 and len(edges) == 6000
    # random graph: same-class share is the chance level 0.95² + 0.05² = 0.905
    assert abs(edge_homophily(nodes, edges) - 0.905) < 0.02
    nodes, edges = make_graph_scenario(2000, homophily=1.0, seed=0)
    assert edge_homophily(nodes, edges) == 1.0
    nodes, edges = make_graph_scenario(2000, homophily=1.0, hub_share=0.5, n_hubs=5, seed=0)
    counts = pd.concat([edges["src"], edges["dst"]]).value_counts()
    assert counts.iloc[:5].sum() >= 3000  # half of 6000 edges touch one of five hubs
    again, _ = make_graph_scenario(2000, homophily=1.0, hub_share=0.5, n_hubs=5, seed=0)
    pd.testing.assert_frame_equal(again, nodes)


@pytest.mark.parametrize(("homophily", "keep"), [(0.0, False), (0.8, True)])
def test_recipe_keeps_graph_features_only_when_they_help(homophily: float, keep: bool) -> None:
    """The documented recipe: label features from training labels, then select on validation."""
    from riskscore.features import select_graph_features

    nodes, edges = _scenario(homophily)
    rng = np.random.default_rng(0)
    is_valid = rng.random(len(nodes)) < 0.35
    feats = neighbour_features(
        nodes, edges, label_col="y", feature_cols=["x0"], known_labels_mask=~is_valid
    )
    X = nodes.set_index("node_id")[[f"x{j}" for j in range(6)]].join(feats)
    choice = select_graph_features(
        X, nodes["y"], list(feats.columns), valid=is_valid, n_bootstrap=200, num_boost_round=100
    )
    assert choice.keep is keep
    assert choice.graph_columns == tuple(feats.columns)
    assert choice.n_valid == int(is_valid.sum())
    assert choice.delta == pytest.approx(choice.pr_auc_with - choice.pr_auc_without)
    if keep:
        assert choice.columns == tuple(X.columns)
        assert choice.delta_low > 0 and choice.share_better > 0.95
        assert choice.pr_auc_with > choice.pr_auc_without + 0.2
        assert "graph features kept" in choice.summary()
    else:
        assert choice.columns == tuple(f"x{j}" for j in range(6))
        assert choice.delta_low <= 0
        assert "left out" in choice.summary()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"graph_columns": ["nope"]}, r"graph column\(s\) \['nope'\] not in X; columns are x, g"),
        ({"graph_columns": ["x", "g"]}, r"at least one base column and one graph column; got 0"),
        ({"valid": 1.5}, r"valid must be a fraction in \(0, 1\)"),
        ({"valid": [True, False]}, r"one value per row \(200\)"),
        ({"level": 0.4}, r"level must be in \(0.5, 1\)"),
        ({"y": np.full(200, 2)}, r"one 0/1 label per row of X \(200\)"),
        ({"valid": np.arange(200) < 10}, r"validation rows hold 0 positive\(s\) out of 10"),
    ],
)
def test_select_graph_features_reports_bad_input(kwargs: dict[str, object], match: str) -> None:
    from riskscore.features import select_graph_features

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=200), "g": rng.normal(size=200)})
    y = np.r_[np.zeros(150, dtype=int), np.ones(50, dtype=int)]
    args: dict[str, object] = {"y": y, "graph_columns": ["g"], **kwargs}
    with pytest.raises(FeatureError, match=match):
        select_graph_features(X, **args)  # type: ignore[arg-type]


def test_training_and_scored_nodes_see_label_features_alike() -> None:
    """On a random graph the propagation score says nothing, for labelled and unlabelled nodes.

    The old score ranked the labelled (training) nodes almost perfectly by their own label
    and the unlabelled ones at chance: a signal that exists only in training.
    """
    from bench.graphs import old_label_pagerank
    from riskscore.metrics import roc_auc

    nodes, edges = _scenario(0.0)
    y = nodes["y"].to_numpy()
    train = np.random.default_rng(1).random(len(y)) < 0.6
    feats = neighbour_features(nodes, edges, label_col="y", known_labels_mask=train)
    graph = Graph.from_edges(len(y), edges["src"].to_numpy(), edges["dst"].to_numpy())
    old = old_label_pagerank(graph, (y == 1) & train)
    new = feats["label_pagerank"].to_numpy()
    np.testing.assert_allclose(new, graph.label_pagerank((y == 1) & train), atol=0)
    auc = {
        (name, side): roc_auc(y[rows], score[rows])
        for name, score in (("new", new), ("old", old))
        for side, rows in (("train", train), ("scored", ~train))
    }
    assert auc["old", "train"] > 0.85 and abs(auc["old", "scored"] - 0.5) < 0.1
    assert abs(auc["new", "train"] - 0.5) < 0.1 and abs(auc["new", "scored"] - 0.5) < 0.1
    # among positives, training and scored nodes get scores of the same size
    pos = y == 1
    assert old[pos & train].mean() > 1.4 * old[pos & ~train].mean()
    assert new[pos & train].mean() == pytest.approx(new[pos & ~train].mean(), rel=0.3)


@pytest.mark.parametrize("damping", [1.0, -0.1, 2.0, float("nan"), "0.5"])
def test_neighbour_features_refuses_damping_out_of_range_even_without_labels(damping) -> None:
    nodes = pd.DataFrame({"node_id": ["a", "b"]})
    edges = pd.DataFrame({"src": ["a"], "dst": ["b"]})
    with pytest.raises(FeatureError, match="'damping' parameter of neighbour_features"):
        neighbour_features(nodes, edges, damping=damping)
