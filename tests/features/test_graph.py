"""The generic graph features: hand-computed answers, bad input, invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
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
    y = np.linalg.solve(np.eye(5) - alpha * p, (1 - alpha) * s)
    np.testing.assert_allclose(out["label_pagerank"], y - (1 - alpha) * s, atol=1e-9)
    assert out["label_pagerank"].iloc[4] == 0.0
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
