"""The ``network__`` family: links, hub down-weighting, point-in-time labels, the simulator.

The small marketplace ``web`` below is drawn by hand; every expected number in these
tests can be checked against it.
"""

from __future__ import annotations

import functools
from datetime import datetime

import narwhals as nw
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import spsolve

from riskscore.exceptions import FeatureError
from riskscore.features._context import AsOfContext
from riskscore.features.network import (
    LINK_TYPES,
    NetworkParams,
    hub_weight,
    network_frame,
    seller_links,
    seller_web,
)

AS_OF = datetime(2024, 6, 1)
T0 = pd.Timestamp("2024-01-01")


def _orders(rows: list[tuple[str, str, str | None, pd.Timestamp]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(rows))],
            "listing_id": [f"L-{r[0]}" for r in rows],
            "seller_id": [r[0] for r in rows],
            "buyer_id": [r[1] for r in rows],
            "ship_address_id": [r[2] for r in rows],
            "quantity": 1,
            "amount": 10.0,
            "created_at": pd.to_datetime(pd.Series([r[3] for r in rows], dtype="object")),
            "status": "delivered",
        }
    )


@pytest.fixture
def web() -> dict[str, pd.DataFrame]:
    """Eight sellers registered in January; S9 registers after the cutoff.

    - S1, S2 share payment account P1; S1, S3 share device D1.
    - S5..S8 share return address HUB (4 sellers: a hub when identifier_cap=3).
    - S1, S2 share buyers B1, B2 (a buyer link); S3, S4 share only B3 (no link).
    - Power buyer BP bought from S5..S8 (a hub when order_cap=3).
    - S4 is otherwise alone.
    - S2 was labelled counterfeit in March; S3 fraud in May; S1 counterfeit after the cutoff.
    - S9 (registered in July) shares P1 with S1 and S2.
    """
    ids = [f"S{i}" for i in range(1, 10)]
    sellers = pd.DataFrame(
        {
            "seller_id": ids,
            "registered_at": [T0] * 8 + [pd.Timestamp("2024-07-01")],
            "region": "Zhejiang",
            "payment_account": ["P1", "P1", "P3", "P4", "P5", "P6", "P7", "P8", "P1"],
            "device_id": ["D1", "D2", "D1", "D4", "D5", "D6", "D7", "D8", "D9"],
            "contact_phone": ["T1", "T2", "T3", "T4", None, None, "T7", "T8", "T9"],
            "return_address": ["R1", "R2", "R3", "R4", "HUB", "HUB", "HUB", "HUB", "R9"],
        }
    )
    day = pd.Timedelta(days=1)
    rows = [
        ("S1", "B1", "A1", T0 + 10 * day),
        ("S1", "B2", "A2", T0 + 11 * day),
        ("S2", "B1", "A1", T0 + 12 * day),
        ("S2", "B2", "A2", T0 + 13 * day),
        ("S2", "B2", "A2", T0 + 14 * day),
        ("S3", "B3", "A3", T0 + 15 * day),
        ("S4", "B3", None, T0 + 16 * day),
        *[(f"S{i}", "BP", "AP", T0 + (20 + i) * day) for i in range(5, 9)],
        *[(f"S{i}", "BP", "AP2", T0 + (30 + i) * day) for i in range(5, 9)],
        ("S4", "B1", "A1", pd.Timestamp("2024-08-01")),  # after the cutoff
        ("S4", "B2", "A2", pd.Timestamp("2024-08-02")),  # after the cutoff
    ]
    labels = pd.DataFrame(
        {
            "seller_id": ["S2", "S3", "S1"],
            "listing_id": [None, None, None],
            "label": ["counterfeit", "fraud", "counterfeit"],
            "decided_at": pd.to_datetime(["2024-03-01", "2024-05-01", "2024-06-01"]),
        }
    )
    return {"sellers": sellers, "orders": _orders(rows), "labels": labels}


def _ctx(tables: dict[str, pd.DataFrame], as_of: datetime = AS_OF) -> AsOfContext:
    frames = {name: nw.from_native(frame).lazy() for name, frame in tables.items()}
    return AsOfContext(frames, as_of=as_of, entity="seller")


def _network(
    tables: dict[str, pd.DataFrame], as_of: datetime = AS_OF, **params: object
) -> pd.DataFrame:
    """Network features without neighbour means.

    The hand-drawn webs are far too small for the chance test of order links (two shared
    buyers among four is not surprising), so it is off unless ``max_pvalue`` is given.
    """
    params.setdefault("max_pvalue", 1.0)
    return network_frame(
        _ctx(tables, as_of),
        NetworkParams(**params),
        neighbours=False,  # type: ignore[arg-type]
    ).set_index("seller_id")


def test_links_by_type_on_the_hand_drawn_web(web: dict[str, pd.DataFrame]) -> None:
    out = _network(web, identifier_cap=3, order_cap=3)
    assert list(out.index) == [f"S{i}" for i in range(1, 9)]  # S9 registers after as_of
    assert out["network__payment_links"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]
    assert out["network__device_links"].tolist() == [1, 0, 1, 0, 0, 0, 0, 0]
    assert out["network__buyer_links"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]
    assert out["network__ship_address_links"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0]
    assert out["network__return_address_links"].sum() == 0  # HUB is a hub at cap 3
    assert out["network__linked_sellers"].tolist() == [2, 1, 1, 0, 0, 0, 0, 0]
    assert out["network__component_size"].tolist() == [2, 2, 2, 0, 0, 0, 0, 0]
    # S1-S2: payment (2 holders) + 2 buyers (2 holders each) + 2 addresses (2 each)
    pair = hub_weight(2.0)
    assert out.loc["S2", "network__link_weight"] == pytest.approx(5 * pair)
    assert out.loc["S1", "network__link_weight"] == pytest.approx(6 * pair)
    # labels before the cutoff: S2 counterfeit, S3 fraud; S1's (at the cutoff) is unseen
    assert out["network__bad_neighbours"].tolist() == [2, 0, 0, 0, 0, 0, 0, 0]
    assert out["network__counterfeit_neighbours"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert out["network__fraud_neighbours"].tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
    assert out.loc["S1", "network__bad_neighbour_share"] == 1.0
    assert out["network__bad_2hop"].tolist() == [0, 1, 1, 0, 0, 0, 0, 0]
    assert out.loc["S1", "network__bad_pagerank"] > out.loc["S2", "network__bad_pagerank"] > 0


def test_hub_values_are_dropped_above_the_cap_and_down_weighted_below(
    web: dict[str, pd.DataFrame],
) -> None:
    capped = _network(web, identifier_cap=3, order_cap=3)
    loose = _network(web, identifier_cap=4, order_cap=4)
    hub = ["S5", "S6", "S7", "S8"]
    assert (capped.loc[hub, "network__linked_sellers"] == 0).all()
    assert (loose.loc[hub, "network__return_address_links"] == 3).all()
    assert (loose.loc[hub, "network__buyer_links"] == 0).all()  # BP is only one buyer
    assert (loose.loc[hub, "network__ship_address_links"] == 3).all()  # AP and AP2
    # each hub pair gets 1/log(5) per value shared by 4 sellers, less than a pair's 1/log(3)
    links = seller_links(_ctx(web), NetworkParams(identifier_cap=4, order_cap=4, max_pvalue=1.0))
    hub_pairs = links[links["link"] == "return_address"]
    assert len(hub_pairs) == 6
    np.testing.assert_allclose(hub_pairs["weight"], 1 / np.log(5))
    payment = links.loc[links["link"] == "payment_account", "weight"]
    assert (hub_pairs["weight"] < payment.iloc[0]).all()
    assert hub_weight(np.array([2, 5, 25])).tolist() == sorted(
        hub_weight(np.array([2, 5, 25])).tolist(), reverse=True
    )


def test_order_links_need_min_shared(web: dict[str, pd.DataFrame]) -> None:
    one = _network(web, identifier_cap=3, order_cap=3, min_shared=1)
    assert one.loc["S3", "network__buyer_links"] == 1  # S3 and S4 share B3
    assert one.loc["S4", "network__ship_address_links"] == 0  # S4's order had no address
    three = _network(web, identifier_cap=3, order_cap=3, min_shared=3)
    assert three["network__buyer_links"].sum() == 0


def test_overlaps_that_chance_explains_link_nobody() -> None:
    """40 shops draw 100 buyers each at random from 2,000: they overlap by chance only.

    Two small shops R1, R2 with 10 buyers each share 6 buyers no one else buys from: a
    pool of fake buyers. Only they are linked.
    """
    rng = np.random.default_rng(0)
    rows = [
        (f"X{s:02d}", f"B{b}", None, T0)
        for s in range(40)
        for b in rng.choice(2000, size=100, replace=False)
    ]
    rows += [(r, f"P{b}", None, T0) for r in ("R1", "R2") for b in range(6)]
    rows += [
        (r, f"B{b}", None, T0)
        for r, start in (("R1", 0), ("R2", 4))
        for b in range(start, start + 4)
    ]
    orders = _orders(rows)
    ids = sorted(set(orders["seller_id"]))
    sellers = pd.DataFrame({"seller_id": ids, "registered_at": T0, "region": "Zhejiang"})
    tables = {"sellers": sellers, "orders": orders}
    by_count_only = _network(tables, order_cap=40)
    assert (by_count_only.filter(like="X", axis=0)["network__buyer_links"] > 30).all()
    out = _network(tables, order_cap=40, max_pvalue=1e-4)
    linked = out.index[out["network__buyer_links"] > 0].tolist()
    assert linked == ["R1", "R2"]


def test_isolated_sellers_get_zeros_not_nan(web: dict[str, pd.DataFrame]) -> None:
    out = _network(web, identifier_cap=3, order_cap=3)
    assert not out.isna().any().any()
    assert (out.loc["S4"] == 0).all()


def test_without_orders_or_labels_only_identifier_features(
    web: dict[str, pd.DataFrame],
) -> None:
    out = _network({"sellers": web["sellers"]})
    assert "network__bad_neighbours" not in out.columns
    assert out["network__buyer_links"].sum() == 0
    assert out.loc["S1", "network__linked_sellers"] == 2


def test_labels_after_the_cutoff_are_invisible(web: dict[str, pd.DataFrame]) -> None:
    before = _network(web)
    later = dict(web)
    extra = pd.DataFrame(
        {
            "seller_id": ["S1", "S4", "S5"],
            "listing_id": [None, None, None],
            "label": ["fraud", "counterfeit", "fraud"],
            "decided_at": pd.to_datetime(["2024-06-01", "2024-06-02", "2030-01-01"]),
        }
    )
    later["labels"] = pd.concat([web["labels"], extra], ignore_index=True)
    pd.testing.assert_frame_equal(_network(later), before)


def test_listing_labels_do_not_mark_sellers(web: dict[str, pd.DataFrame]) -> None:
    tables = dict(web)
    tables["labels"] = web["labels"].assign(listing_id=["L-S2", "L-S3", None])
    out = _network(tables)
    assert out.loc["S1", "network__bad_neighbours"] == 0


@st.composite
def marketplaces(draw: st.DrawFn) -> tuple[dict[str, pd.DataFrame], datetime]:
    """Up to 8 sellers drawing identifiers from small pools, orders and labels at any time."""
    n = draw(st.integers(2, 8))
    days = st.integers(0, 120)
    pool = st.sampled_from(["a", "b", "c", None])
    ids = [f"S{i}" for i in range(n)]
    sellers = pd.DataFrame(
        {
            "seller_id": ids,
            "registered_at": [T0 + pd.Timedelta(days=draw(days)) for _ in ids],
            "region": "Zhejiang",
            **{
                col: [draw(pool) for _ in ids]
                for col in ("payment_account", "device_id", "contact_phone", "return_address")
            },
        }
    )
    m = draw(st.integers(0, 25))
    rows = [
        (
            draw(st.sampled_from(ids)),
            draw(st.sampled_from(["B1", "B2", "B3", "B4"])),
            draw(st.sampled_from(["A1", "A2", "A3", None])),
            T0 + pd.Timedelta(days=draw(days), hours=draw(st.integers(0, 23))),
        )
        for _ in range(m)
    ]
    k = draw(st.integers(0, 6))
    labels = pd.DataFrame(
        {
            "seller_id": [draw(st.sampled_from(ids)) for _ in range(k)],
            "label": [draw(st.sampled_from(["counterfeit", "fraud"])) for _ in range(k)],
            "decided_at": pd.to_datetime(
                pd.Series([T0 + pd.Timedelta(days=draw(days)) for _ in range(k)], dtype="object")
            ),
        }
    )
    cutoff = (T0 + pd.Timedelta(days=draw(st.integers(1, 120)))).to_pydatetime()
    return {"sellers": sellers, "orders": _orders(rows), "labels": labels}, cutoff


def _drop_from(tables: dict[str, pd.DataFrame], as_of: datetime) -> dict[str, pd.DataFrame]:
    """The same tables with every row at or after ``as_of`` removed."""
    times = {"sellers": "registered_at", "orders": "created_at", "labels": "decided_at"}
    return {name: t[t[times[name]] < pd.Timestamp(as_of)] for name, t in tables.items()}


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(marketplaces(), st.integers(0, 2**31 - 1))
def test_events_at_or_after_the_cutoff_never_change_features(
    drawn: tuple[dict[str, pd.DataFrame], datetime], seed: int
) -> None:
    tables, as_of = drawn
    if not (tables["sellers"]["registered_at"] < pd.Timestamp(as_of)).any():
        return
    params = {"identifier_cap": 3, "order_cap": 3, "min_shared": 2}
    full = _network(tables, as_of, **params)
    pd.testing.assert_frame_equal(_network(_drop_from(tables, as_of), as_of, **params), full)
    # moving every label decided at or after the cutoff to another later time changes nothing
    rng = np.random.default_rng(seed)
    labels = tables["labels"].copy()
    late = labels["decided_at"] >= pd.Timestamp(as_of)
    shift = pd.to_timedelta(rng.integers(0, 400, size=int(late.sum())), unit="D")
    labels.loc[late, "decided_at"] = labels.loc[late, "decided_at"] + shift
    labels.loc[late, "label"] = rng.choice(["counterfeit", "fraud"], size=int(late.sum()))
    moved = {**tables, "labels": labels}
    pd.testing.assert_frame_equal(_network(moved, as_of, **params), full)


def test_sparse_and_join_paths_agree_on_the_simulator(sim: dict[str, pd.DataFrame]) -> None:
    ctx = _ctx(sim, datetime(2024, 9, 1))
    sparse = seller_links(ctx, NetworkParams(method="sparse"))
    joined = seller_links(ctx, NetworkParams(method="join"))
    key = ["seller_a", "seller_b", "link"]
    sparse = sparse.sort_values(key, ignore_index=True)
    joined = joined.sort_values(key, ignore_index=True)
    assert len(sparse) > 100
    pd.testing.assert_frame_equal(sparse, joined, check_exact=False, rtol=1e-12)
    assert set(sparse["link"]) <= set(LINK_TYPES)


def test_camouflaged_ring_members_stand_out(sim: dict[str, pd.DataFrame]) -> None:
    """Ring members whose prices and complaints look ordinary are exposed by their web."""
    out = _network(sim, datetime(2024, 9, 1), max_pvalue=1e-4).join(
        sim["truth"].set_index("seller_id")
    )
    camo = out[out["camouflaged"].astype(bool)]
    legit = out[out["seller_type"] == "legit"]
    assert len(camo) >= 10
    for name in ("network__linked_sellers", "network__bad_neighbours", "network__bad_pagerank"):
        assert camo[name].mean() > 4 * legit[name].mean(), name
    # ranking by the propagated label alone separates them well
    scores = pd.concat([camo["network__bad_pagerank"], legit["network__bad_pagerank"]])
    truth = np.r_[np.ones(len(camo)), np.zeros(len(legit))]
    ranks = scores.rank().to_numpy()
    auc = (ranks[truth == 1].sum() - len(camo) * (len(camo) + 1) / 2) / (len(camo) * len(legit))
    assert auc > 0.75


@pytest.fixture(scope="module")
def sim() -> dict[str, pd.DataFrame]:
    """A 1,500-seller simulated marketplace (with camouflaged ring members)."""
    from riskscore.datasets import make_marketplace

    return make_marketplace(n_sellers=1500, seed=7)


def test_seller_web_lists_links_and_labels(web: dict[str, pd.DataFrame]) -> None:
    params = NetworkParams(identifier_cap=3, order_cap=3, max_pvalue=1.0)
    out = seller_web(web, "S1", "2024-06-01", params)
    assert out["seller_id"].tolist() == ["S2", "S3"]
    first = out.iloc[0]
    assert first["links"].split(",") == ["payment_account", "ship_address", "buyer"]
    assert "payment_account=P1" in first["shared"] and "buyer=B1,B2" in first["shared"]
    assert out["label"].tolist() == ["counterfeit", "fraud"]
    assert out.attrs["component_size"] == 2
    assert out.attrs["label"] == ""  # S1's own label comes at the cutoff
    with pytest.raises(FeatureError, match=r"seller 'S9' is registered on or after 2024-06-01"):
        seller_web(web, "S9", "2024-06-01")
    with pytest.raises(FeatureError, match=r"seller 'NOPE' is unknown"):
        seller_web(web, "NOPE", "2024-06-01")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"identifier_cap": 1}, r"identifier_cap must be a whole number >= 2; got 1"),
        ({"min_shared": 0}, r"min_shared must be a whole number >= 1; got 0"),
        ({"damping": 1.0}, r"damping must be in \[0, 1\); got 1.0"),
        ({"max_pvalue": 0.0}, r"max_pvalue must be in \(0, 1\]; got 0.0"),
        ({"method": "graphx"}, r"method must be 'auto', 'sparse' or 'join'"),
    ],
)
def test_bad_parameters_are_reported(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(FeatureError, match=match):
        NetworkParams(**kwargs)  # type: ignore[arg-type]


def test_sparse_method_runs_on_every_local_backend(web: dict[str, pd.DataFrame]) -> None:
    pl = pytest.importorskip("polars")
    frames = {k: nw.from_native(pl.from_pandas(v)).lazy() for k, v in web.items()}
    ctx = AsOfContext(frames, as_of=AS_OF, entity="seller")
    expected = _network(web)
    for method in ("sparse", "join", "auto"):
        got = network_frame(ctx, NetworkParams(max_pvalue=1.0, method=method), neighbours=False)
        pd.testing.assert_frame_equal(got.set_index("seller_id"), expected)


def test_family_is_in_the_catalog_with_reason_texts() -> None:
    from riskscore.features import catalog

    table = catalog("seller")
    network = table[table["family"] == "network"]
    assert len(network) == 18
    assert network["name"].is_unique and network["reason_code"].is_unique
    row = network.set_index("name").loc["network__counterfeit_neighbours"]
    assert row["text_en"].format(value=3) == (
        "Shares payment accounts, devices, addresses or buyers with 3 sellers already "
        "banned for counterfeits"
    )
    assert row["text_zh"].format(value=3).startswith("与3个已因售假被处罚的店铺")
    assert set(network.loc[network["unit"] == "count", "fill"]) == {0.0}


@pytest.fixture(scope="module")
def small_sim() -> dict[str, pd.DataFrame]:
    """A 200-seller simulated marketplace without the truth table."""
    from riskscore.datasets import make_marketplace

    tables = make_marketplace(n_sellers=200, seed=3)
    return {k: v for k, v in tables.items() if k != "truth"}


def test_build_features_runs_the_family_after_pricing_and_complaints(
    small_sim: dict[str, pd.DataFrame],
) -> None:
    from riskscore.features import build_features

    out = build_features(small_sim, "seller", as_of="2024-08-01", families=["network"])
    network = out.filter(like="network__")
    assert network.shape[1] == 18
    means = ["network__neighbour_price_ratio", "network__neighbour_complaint_rate"]
    assert not network.drop(columns=means).isna().any().any()
    # the neighbour means read the other families' outputs; missing without linked sellers
    linked = out["network__linked_sellers"] > 0
    assert linked.any() and (~linked).any()
    assert out.loc[~linked, means].isna().all().all()
    assert out.loc[linked, "network__neighbour_price_ratio"].notna().mean() > 0.9


@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_backends_give_the_same_features(small_sim: dict[str, pd.DataFrame], backend: str) -> None:
    pytest.importorskip(backend)
    from riskscore.features import build_features
    from riskscore.features._backend import to_pandas

    expected = build_features(small_sim, "seller", as_of="2024-08-01", families=["network"])
    got = build_features(
        small_sim, "seller", as_of="2024-08-01", families=["network"], backend=backend
    )
    got = to_pandas(got).set_index("seller_id").sort_index()
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.parametrize("method", ["auto", "join"])
def test_spark_builds_the_same_links(
    small_sim: dict[str, pd.DataFrame], spark: object, method: str
) -> None:
    # "auto": holder arrays turned into pairs by Spark (_network_spark); "join": narwhals
    from riskscore.features._backend import prepare

    frames, _ = prepare(small_sim, "spark")
    ctx = AsOfContext(frames, as_of=datetime(2024, 8, 1), entity="seller")
    params = NetworkParams(method=method)  # type: ignore[arg-type]
    got = network_frame(ctx, params, neighbours=False).set_index("seller_id").sort_index()
    expected = _network(small_sim, datetime(2024, 8, 1), max_pvalue=1e-4).sort_index()
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)


def test_cli_prints_the_web(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from riskscore.cli import main
    from riskscore.datasets import make_marketplace
    from riskscore.io import write_tables

    tables = make_marketplace(n_sellers=300, seed=5)
    write_tables(tables, tmp_path)
    ctx = _ctx({k: v for k, v in tables.items() if k != "truth"}, datetime(2024, 9, 1))
    links = seller_links(ctx)
    seller = links["seller_a"].value_counts().index[0]
    assert main(["links", seller, "--data", str(tmp_path), "--as-of", "2024-09-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Seller {seller} as of 2024-09-01: linked to ")
    partners = set(links.loc[links["seller_a"] == seller, "seller_b"])
    assert all(p in out for p in partners)
    assert main(["links", "NOPE", "--data", str(tmp_path), "--as-of", "2024-09-01"]) == 2
    assert "seller 'NOPE' is unknown" in capsys.readouterr().err


# -- no label feature of a seller depends on its own label -------------------------------

LABEL_FEATURES = [
    "network__bad_neighbours",
    "network__counterfeit_neighbours",
    "network__fraud_neighbours",
    "network__bad_neighbour_share",
    "network__bad_link_weight",
    "network__bad_2hop",
    "network__bad_pagerank",
]
FLIP_AS_OF = datetime(2024, 10, 1)


@functools.cache
def _small_market(seed: int) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """A 300-seller simulated marketplace and its network features at ``FLIP_AS_OF``."""
    from riskscore import make_marketplace

    tables = make_marketplace(n_sellers=300, seed=seed)
    tables = {name: frame for name, frame in tables.items() if name != "truth"}
    return tables, _network(tables, FLIP_AS_OF, max_pvalue=1e-4)


def _flip_own_label(labels: pd.DataFrame, seller: str, to: str | None) -> pd.DataFrame:
    """The seller's seller-level labels replaced by one ``to`` label (none when ``None``)."""
    own = (labels["seller_id"] == seller) & labels["listing_id"].isna()
    kept = labels[~own]
    if to is None:
        return kept.reset_index(drop=True)
    row = pd.DataFrame(
        {
            "seller_id": [seller],
            "listing_id": [None],
            "label": [to],
            "decided_at": [pd.Timestamp(FLIP_AS_OF) - pd.Timedelta(days=30)],
        }
    ).astype(labels.dtypes.to_dict())
    return pd.concat([kept, row], ignore_index=True)


def _linked(seed: int) -> list[str]:
    """Sellers with at least one link at ``FLIP_AS_OF``, labelled ones first."""
    tables, base = _small_market(seed)
    labels = tables["labels"]
    labelled = set(labels.loc[labels["decided_at"] < FLIP_AS_OF, "seller_id"])
    linked = [str(s) for s in base.index[base["network__linked_sellers"] > 0]]
    return sorted(linked, key=lambda s: s not in labelled)


def _own_label_moves(seed: int, seller: str, to: str | None) -> dict[str, tuple[float, float]]:
    """Flip one seller's own label; return its label features that moved: (before, after)."""
    tables, base = _small_market(seed)
    flipped = {**tables, "labels": _flip_own_label(tables["labels"], seller, to)}
    out = _network(flipped, FLIP_AS_OF, max_pvalue=1e-4)
    before, after = base.loc[seller, LABEL_FEATURES], out.loc[seller, LABEL_FEATURES]
    return {
        name: (float(before[name]), float(after[name]))
        for name in LABEL_FEATURES
        if not np.isclose(before[name], after[name], rtol=0, atol=1e-12)
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 1),
    st.integers(0, 10_000),
    st.sampled_from(["counterfeit", "fraud", None]),
)
def test_flipping_a_sellers_own_label_changes_none_of_its_label_features(
    seed: int, pick: int, to: str | None
) -> None:
    """Add, change or remove a linked seller's own label: its label features stay put."""
    linked = _linked(seed)
    seller = linked[pick % len(linked)]
    assert _own_label_moves(seed, seller, to) == {}


def test_the_flip_check_catches_the_old_propagation(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the pre-issue-12 walk score (return walks count) the same check fails."""
    from riskscore.features._graph import Graph

    def old(self: Graph, seeds: np.ndarray, damping: float = 0.85) -> np.ndarray:
        s = np.asarray(seeds, dtype=np.float64)
        deg = self.weighted_degree()
        p = sp.diags_array(np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0))
        system = sp.csc_array(sp.eye_array(self.n_nodes) - damping * (p @ self.adjacency))
        y = spsolve(system, (1 - damping) * s)
        return np.asarray(y - (1 - damping) * s)

    seller = _linked(0)[0]  # labelled before the cutoff, with links
    assert _own_label_moves(0, seller, None) == {}
    monkeypatch.setattr(Graph, "label_pagerank", old)
    _small_market.cache_clear()
    try:
        moved = _own_label_moves(0, seller, None)
    finally:
        _small_market.cache_clear()
    assert set(moved) == {"network__bad_pagerank"}
    before, after = moved["network__bad_pagerank"]
    # its own ban flowed back into its feature (0.174 vs 0.140 on the steady-state market)
    assert before > after + 0.02
