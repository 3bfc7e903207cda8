"""Specification of the synthetic marketplace: contract, determinism, seller patterns."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskscore.datasets import SCENARIOS, SELLER_TYPES, WARMUP_DAYS, Scenario, make_marketplace
from riskscore.exceptions import DatasetError
from riskscore.io import write_tables
from riskscore.schema import CONTRACT, validate

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
START = pd.Timestamp("2024-01-01")
END = START + pd.Timedelta(days=365)
#: The default history simulated before the period (the steady-state warm-up).
WARM = START - pd.Timedelta(days=WARMUP_DAYS)
BAD = ("fake_phone", "counterfeit", "counterfeit_ring", "click_farm")
REPLICA = re.compile(r"replica|1:1|AAA|original quality|高仿|A货|原单|复刻|超A|精仿")
#: Scale-model titles, where "1:1" is a size (the catalogue's toys), not a replica claim.
SCALE = re.compile(r"1:1 (?:比例|scale)")


@pytest.fixture(scope="module")
def market() -> dict[str, pd.DataFrame]:
    """The default-size marketplace (2,000 sellers, ~200k orders in the year), seed 0."""
    return make_marketplace()


@pytest.fixture(scope="module")
def truth(market: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Truth per seller with a ``group`` column splitting camouflaged ring members out."""
    t = market["truth"].copy()
    t["group"] = np.where(t["camouflaged"], "camouflaged", t["seller_type"])
    return t.set_index("seller_id")


@pytest.fixture(scope="module")
def per_seller(market: dict[str, pd.DataFrame], truth: pd.DataFrame) -> pd.DataFrame:
    """Per-seller summaries: price ratio, orders, complaint rates, top-3 buyer share."""
    listings = market["listings"].merge(
        market["products"][["product_id", "reference_price"]], on="product_id"
    )
    ratio = (listings["price"] / listings["reference_price"]).groupby(listings["seller_id"])
    orders = market["orders"]
    n_orders = orders.groupby("seller_id").size()
    complaints = market["complaints"]
    by_kind = complaints.groupby(["seller_id", "kind"]).size().unstack(fill_value=0)
    per_buyer = orders.groupby(["seller_id", "buyer_id"]).size().rename("k").reset_index()
    per_buyer = per_buyer.sort_values(["seller_id", "k"], ascending=[True, False])
    top = per_buyer[per_buyer.groupby("seller_id").cumcount() < 3]
    top3 = top.groupby("seller_id")["k"].sum() / n_orders
    out = pd.DataFrame(
        {
            "group": truth["group"],
            "ratio": ratio.median(),
            "orders": n_orders,
            "top3": top3,
        }
    )
    out["orders"] = out["orders"].fillna(0)
    for kind in ("counterfeit", "not_received", "not_as_described", "other"):
        out[kind] = by_kind[kind].reindex(out.index, fill_value=0) / out["orders"].clip(lower=1)
    return out


def _group_rate(per_seller: pd.DataFrame, column: str) -> pd.Series:
    """Complaints of a kind per order, pooled over the sellers of each group."""
    n = per_seller["orders"]
    return (per_seller[column] * n.clip(lower=1)).groupby(per_seller["group"]).sum() / (
        n.groupby(per_seller["group"]).sum()
    )


# --- contract and determinism ------------------------------------------------------------


def test_tables_pass_validation_unchanged(market: dict[str, pd.DataFrame]) -> None:
    checked = validate(market)
    for name in CONTRACT.keys() & market.keys():
        pd.testing.assert_frame_equal(checked[name], market[name])
    # listing_views comes only with digital goods (riskscore.datasets.add_digital_goods).
    assert set(market) == {*CONTRACT, "truth"} - {"listing_views"}


def test_column_dtypes_follow_the_contract(market: dict[str, pd.DataFrame]) -> None:
    kinds = {"str": "str", "float": "float64", "int": "int64", "datetime": "datetime64[us]"}
    for name, spec in CONTRACT.items():
        if name not in market:
            continue
        frame = market[name]
        # every required column, and the optional ones the simulator writes, in order
        expected = [c.name for c in spec.columns if c.required or c.name in frame.columns]
        assert list(frame.columns[: len(expected)]) == expected
        for col in spec.columns:
            if col.name in frame.columns:
                assert str(frame[col.name].dtype) == kinds[col.kind], (name, col.name)


def test_truth_table_shape(market: dict[str, pd.DataFrame]) -> None:
    truth = market["truth"]
    assert list(truth.columns) == [
        "seller_id",
        "seller_type",
        "ring_id",
        "is_counterfeit",
        "is_fraud",
        "camouflaged",
    ]
    assert truth["seller_id"].tolist() == market["sellers"]["seller_id"].tolist()
    assert set(truth["seller_type"]) == set(SELLER_TYPES)
    assert truth["ring_id"].notna().eq(truth["seller_type"] == "counterfeit_ring").all()
    assert (
        truth["is_counterfeit"]
        .eq(truth["seller_type"].isin(["counterfeit", "counterfeit_ring"]))
        .all()
    )
    assert truth["is_fraud"].eq(truth["seller_type"].isin(["fake_phone", "click_farm"])).all()
    assert not truth.loc[truth["seller_type"] != "counterfeit_ring", "camouflaged"].any()
    shares = truth["seller_type"].value_counts(normalize=True)
    assert shares["legit"] == pytest.approx(0.74, abs=0.01)
    assert shares["counterfeit_ring"] == pytest.approx(0.05, abs=0.01)


def test_same_seed_gives_identical_parquet_bytes(tmp_path: Path) -> None:
    a = write_tables(make_marketplace(n_sellers=120, seed=5), tmp_path / "a")
    b = write_tables(make_marketplace(n_sellers=120, seed=5), tmp_path / "b")
    c = write_tables(make_marketplace(n_sellers=120, seed=6), tmp_path / "c")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    assert len(names) == 7
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "orders.parquet").read_bytes() != (c / "orders.parquet").read_bytes()


def test_committed_sample_is_what_the_simulator_makes() -> None:
    expected = make_marketplace(n_sellers=300, seed=7)
    files = sorted(p.stem for p in SAMPLE.glob("*.parquet"))
    assert files == sorted(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(pd.read_parquet(SAMPLE / f"{name}.parquet"), frame)


def test_ids_look_like_marketplace_ids(market: dict[str, pd.DataFrame]) -> None:
    patterns = {
        ("sellers", "seller_id"): r"S\d{6}",
        ("listings", "listing_id"): r"L\d{8}",
        ("orders", "order_id"): r"O\d{9}",
        ("orders", "buyer_id"): r"B\d{9}",
        ("orders", "ship_address_id"): r"A\d{9}",
        ("sellers", "return_address"): r"A\d{9}",
        ("sellers", "contact_phone"): r"1[3-9]\d{9}",
        ("products", "product_id"): r"P\d{5}",
        ("complaints", "complaint_id"): r"C\d{8}",
    }
    for (table, column), pattern in patterns.items():
        values = market[table][column].dropna()
        assert values.str.fullmatch(pattern).all(), (table, column)
    assert market["sellers"]["seller_id"].iloc[0] == "S000001"
    assert market["sellers"]["registered_at"].is_monotonic_increasing
    assert market["orders"]["created_at"].is_monotonic_increasing


def test_scale_and_currency(market: dict[str, pd.DataFrame]) -> None:
    in_period = market["orders"]["created_at"] >= START
    assert in_period.sum() == pytest.approx(200_000, rel=0.05)
    # The warm-up adds the shops' history before the period, at the same pace.
    assert len(market["orders"]) == pytest.approx(2.3 * in_period.sum(), rel=0.1)
    assert market["listings"]["currency"].eq("CNY").all()
    n_buyers = market["orders"]["buyer_id"].nunique()
    assert 0.2 * len(market["orders"]) < n_buyers < 0.45 * len(market["orders"])
    regions = market["sellers"]["region"]
    assert {"Guangdong", "Zhejiang", "Shanghai"} <= set(regions)


def test_catalogue_has_brands_and_realistic_reference_prices(
    market: dict[str, pd.DataFrame],
) -> None:
    products = market["products"]
    assert {"Apple", "Huawei", "Louis Vuitton", "SK-II", "Pfizer", "Zhonghua"} <= set(
        products["brand"]
    )
    median = products.groupby("category")["reference_price"].median()
    assert 1500 < median["phones"] < 9000
    assert median["luxury"] > 10_000
    assert 100 < median["cosmetics"] < 2000
    assert set(median.index) == {
        "phones",
        "luxury",
        "cosmetics",
        "medicine",
        "tobacco",
        "electronics",
        "apparel",
        "home",
        "toys",
        "grocery",
    }


def test_titles_mix_languages_and_some_listings_are_unbranded(
    market: dict[str, pd.DataFrame],
) -> None:
    listings = market["listings"]
    titles = listings["title"]
    assert titles.str.contains(r"[\u4e00-\u9fff]").mean() > 0.5
    assert titles.str.contains(r"[A-Za-z]{3,}").mean() > 0.5
    assert not titles.str.contains("  ").any()
    assert 0.05 < listings["brand"].isna().mean() < 0.4
    brand_only = listings["product_id"].isna() & listings["brand"].notna()
    assert 0.05 < brand_only.mean() < 0.4


# --- times ---------------------------------------------------------------------------------


def test_event_times_fall_in_the_warm_up_and_the_period(
    market: dict[str, pd.DataFrame],
) -> None:
    for table, column in (
        ("orders", "created_at"),
        ("complaints", "created_at"),
        ("labels", "decided_at"),
    ):
        times = market[table][column]
        assert times.min() >= WARM and times.max() < END, table
    # honest shops' orders and complaints all through the warm-up; bad shops (and so
    # labels) from 120 days before the period
    assert market["orders"]["created_at"].min() < WARM + pd.Timedelta(days=30)
    assert market["complaints"]["created_at"].min() < WARM + pd.Timedelta(days=60)
    labels = market["labels"]["decided_at"]
    assert labels.min() < START and labels.min() >= START - pd.Timedelta(days=120)
    plain = make_marketplace(n_sellers=300, seed=0, warmup=0)
    for table, column in (("orders", "created_at"), ("labels", "decided_at")):
        assert plain[table][column].min() >= START, table
    assert market["listings"]["created_at"].max() < END
    assert market["sellers"]["registered_at"].max() < END
    # Accounts of all ages: years before the period, and new ones during it.
    reg = market["sellers"]["registered_at"]
    assert reg.min() < START - pd.Timedelta(days=5 * 365)
    assert 0.1 < (reg >= START).mean() < 0.4


def test_events_respect_causality(market: dict[str, pd.DataFrame]) -> None:
    sellers = market["sellers"].set_index("seller_id")["registered_at"]
    listings = market["listings"].set_index("listing_id")
    orders = market["orders"]
    assert (listings["created_at"] >= listings["seller_id"].map(sellers)).all()
    assert (orders["created_at"] >= orders["listing_id"].map(listings["created_at"])).all()
    assert (orders["seller_id"] == orders["listing_id"].map(listings["seller_id"])).all()
    complaints = market["complaints"]
    assert 0.02 < complaints["order_id"].isna().mean() < 0.15
    linked = complaints.dropna(subset=["order_id"])
    order_time = orders.set_index("order_id")["created_at"]
    assert (linked["created_at"] > linked["order_id"].map(order_time)).all()
    order_seller = orders.set_index("order_id")["seller_id"]
    assert (linked["seller_id"] == linked["order_id"].map(order_seller)).all()


# --- seller patterns ----------------------------------------------------------------------


def test_prices_relative_to_reference(per_seller: pd.DataFrame) -> None:
    ratio = per_seller.groupby("group")["ratio"].median()
    assert 0.9 < ratio["legit"] < 1.1
    assert 0.9 < ratio["new_legit"] < 1.1
    assert 0.55 < ratio["discount"] < 0.85
    assert ratio["counterfeit"] < 0.75
    assert ratio["counterfeit_ring"] < 0.75
    assert 0.4 < ratio["fake_phone"] < 0.65
    # Camouflaged ring members price like honest shops.
    assert abs(ratio["camouflaged"] - ratio["legit"]) < 0.1


def test_complaint_patterns(per_seller: pd.DataFrame) -> None:
    not_received = _group_rate(per_seller, "not_received")
    counterfeit = _group_rate(per_seller, "counterfeit")
    assert not_received["fake_phone"] > 0.4
    assert not_received["fake_phone"] > 50 * not_received["legit"]
    assert 0.05 < counterfeit["counterfeit"] < 0.2
    assert 0.05 < counterfeit["counterfeit_ring"] < 0.2
    assert counterfeit["legit"] < 0.002
    assert counterfeit["camouflaged"] < 0.01
    total = sum(
        _group_rate(per_seller, k)
        for k in ("counterfeit", "not_received", "not_as_described", "other")
    )
    assert 0.005 < total["legit"] < 0.02
    assert total["camouflaged"] < 0.03


def test_fake_phone_shops_burst_then_go_quiet(market: dict[str, pd.DataFrame]) -> None:
    truth = market["truth"]
    fake = truth.loc[truth["seller_type"] == "fake_phone", "seller_id"]
    orders = market["orders"][market["orders"]["seller_id"].isin(fake)]
    span = orders.groupby("seller_id")["created_at"].agg(lambda s: s.max() - s.min())
    assert (span <= pd.Timedelta(days=21)).all()
    sellers = market["sellers"].set_index("seller_id")
    assert (sellers.loc[fake, "registered_at"] >= START).all()
    listings = market["listings"][market["listings"]["seller_id"].isin(fake)]
    assert listings["category"].eq("phones").mean() > 0.7
    statuses = orders["status"].value_counts(normalize=True)
    assert statuses["refunded"] > 0.5


def test_click_farms_concentrate_buyers(per_seller: pd.DataFrame) -> None:
    busy = per_seller[per_seller["orders"] >= 20]
    top3 = busy.groupby("group")["top3"].median()
    assert top3["click_farm"] > 0.2
    assert top3["click_farm"] > 4 * top3["legit"]


def test_click_farms_ship_to_a_few_addresses(market: dict[str, pd.DataFrame]) -> None:
    truth = market["truth"]
    farms = truth.loc[truth["seller_type"] == "click_farm", "seller_id"]
    orders = market["orders"][market["orders"]["seller_id"].isin(farms)]
    top_address = orders.groupby("seller_id")["ship_address_id"].agg(
        lambda s: s.value_counts(normalize=True).iloc[0] if s.notna().any() else 0.0
    )
    assert top_address.median() > 0.1


def _sharing(sellers: pd.DataFrame) -> pd.DataFrame:
    """Per identifier column: does the seller share its value with another seller?"""
    cols = ["payment_account", "device_id", "contact_phone", "return_address"]
    return pd.DataFrame(
        {c: sellers[c].map(sellers[c].value_counts()).fillna(0).gt(1) for c in cols}
    )


def test_ring_members_share_identifiers(market: dict[str, pd.DataFrame]) -> None:
    sellers = market["sellers"].merge(market["truth"], on="seller_id")
    ring = sellers[sellers["ring_id"].notna()]
    cols = ["payment_account", "device_id", "contact_phone", "return_address"]
    linked_within = np.zeros(len(ring), dtype=bool)
    for col in cols:
        counts = ring.groupby(["ring_id", col]).size()
        key = pd.MultiIndex.from_frame(ring[["ring_id", col]])
        linked_within |= counts.reindex(key).fillna(0).to_numpy() > 1
    assert linked_within.mean() > 0.9
    # Not every member shares everything.
    assert _sharing(ring).mean().max() < 0.9
    sizes = ring.groupby("ring_id").size()
    assert sizes.min() >= 3 and sizes.max() <= 30
    # Camouflaged members are linked as much as the others.
    camo = linked_within[ring["camouflaged"].to_numpy()]
    assert camo.mean() > 0.85
    # Ring members register at different times across the period.
    spread = ring.groupby("ring_id")["registered_at"].agg(lambda s: s.max() - s.min())
    assert spread.median() > pd.Timedelta(days=60)


def test_honest_sellers_share_some_identifiers_too(market: dict[str, pd.DataFrame]) -> None:
    sellers = market["sellers"].merge(market["truth"], on="seller_id")
    share = _sharing(sellers).any(axis=1)
    legit = share[sellers["seller_type"].eq("legit").to_numpy()].mean()
    assert 0.05 < legit < 0.35
    # A marketplace-wide returns hub is used by many shops.
    assert sellers["return_address"].value_counts().iloc[0] >= 20


def test_rings_share_buyers(market: dict[str, pd.DataFrame]) -> None:
    orders = market["orders"].merge(market["truth"], on="seller_id")
    ring_orders = orders[orders["ring_id"].notna()]
    members_per_buyer = ring_orders.groupby(["ring_id", "buyer_id"])["seller_id"].nunique()
    # (~40 with the warm-up's 20-120 day member lives, ~80 when members sold all year)
    assert (members_per_buyer >= 2).sum() > 25


def test_power_buyers_buy_from_many_legit_shops(market: dict[str, pd.DataFrame]) -> None:
    orders = market["orders"].merge(market["truth"], on="seller_id")
    legit = orders[orders["seller_type"] == "legit"]
    shops = legit.groupby("buyer_id")["seller_id"].nunique().sort_values(ascending=False)
    assert shops.iloc[0] >= 50
    assert shops.median() <= 2


def test_new_legit_shops_grow(market: dict[str, pd.DataFrame]) -> None:
    truth = market["truth"]
    new = truth.loc[truth["seller_type"] == "new_legit", "seller_id"]
    sellers = market["sellers"].set_index("seller_id")
    assert (sellers.loc[new, "registered_at"] >= START).all()
    orders = market["orders"].merge(sellers["registered_at"], on="seller_id")
    orders = orders[orders["seller_id"].isin(new)]
    age = (orders["created_at"] - orders["registered_at"]) / (END - orders["registered_at"])
    assert (age > 0.5).mean() > 0.65  # more orders in the second half of their life


def test_replica_words_in_some_counterfeit_titles(market: dict[str, pd.DataFrame]) -> None:
    listings = market["listings"].merge(market["truth"], on="seller_id")
    loud = listings["seller_type"].eq("counterfeit") | (
        listings["seller_type"].eq("counterfeit_ring") & ~listings["camouflaged"]
    )
    replica = listings["title"].str.contains(REPLICA)
    assert 0.05 < replica[loud].mean() < 0.5
    assert replica[listings["seller_type"] == "legit"].mean() < 0.02
    assert replica[listings["camouflaged"]].mean() < 0.02


def test_bad_sellers_are_active_in_every_month(market: dict[str, pd.DataFrame]) -> None:
    truth = market["truth"]
    orders = market["orders"].merge(truth, on="seller_id")
    labelled = set(market["labels"]["seller_id"])
    positives = orders[orders["seller_type"].isin(BAD) & orders["seller_id"].isin(labelled)]
    window = (positives["created_at"] - START).dt.days // 30
    in_period = (window >= 0) & (window < 12)  # full windows of the period
    active = positives[in_period].groupby(window)["seller_id"].nunique()
    assert len(active) == 12 and active.min() >= 5


# --- steady state (the warm-up) ------------------------------------------------------------


def test_honest_shops_open_at_a_steady_pace(market: dict[str, pd.DataFrame]) -> None:
    """As many honest shops make their first sale in each warm-up year as in the period."""
    truth = market["truth"].set_index("seller_id")
    first = market["orders"].groupby("seller_id")["created_at"].min()
    honest = first[truth.loc[first.index, "seller_type"].isin(["legit", "discount", "new_legit"])]
    per_year = ((honest - START).dt.days // 365).value_counts().sort_index()
    assert per_year.index.tolist() == [-3, -2, -1, 0]
    assert per_year.max() < 1.25 * per_year.min()
    # accounts may be older than their shop: dormant until it opened
    reg = market["sellers"].set_index("seller_id")["registered_at"]
    assert (reg[honest.index] <= honest).all()
    assert (reg < WARM).mean() > 0.2


def test_bad_shops_do_not_pile_up(market: dict[str, pd.DataFrame]) -> None:
    """Bad shops come and go at a steady pace: about as many active in December as in March."""
    truth = market["truth"].set_index("seller_id")
    orders = market["orders"]
    kinds = orders["seller_id"].map(truth["seller_type"])
    bad = orders[kinds.isin(["counterfeit", "counterfeit_ring", "click_farm"])]
    bad = bad[bad["created_at"] >= START]
    active = bad.groupby(bad["created_at"].dt.month)["seller_id"].nunique()
    assert active.loc[3:12].max() < 1.6 * active.loc[3:12].min()
    # without the warm-up they pile up (nothing ends them but a label)
    old = make_marketplace(seed=0, warmup=0)
    o_kinds = old["orders"]["seller_id"].map(old["truth"].set_index("seller_id")["seller_type"])
    o_bad = old["orders"][o_kinds.isin(["counterfeit", "counterfeit_ring", "click_farm"])]
    o_active = o_bad.groupby(o_bad["created_at"].dt.month)["seller_id"].nunique()
    assert o_active.loc[12] > 1.6 * o_active.loc[3]


def test_warm_up_keeps_the_period_volume(market: dict[str, pd.DataFrame]) -> None:
    """``orders_per_seller`` sets the period's volume; the warm-up adds history before it."""
    old = make_marketplace(seed=0, warmup=0)
    in_period = market["orders"][market["orders"]["created_at"] >= START]
    by_month = in_period.groupby(in_period["created_at"].dt.month).size()
    old_by_month = old["orders"].groupby(old["orders"]["created_at"].dt.month).size()
    assert (by_month / old_by_month).between(0.95, 1.05).all()


# --- labels -------------------------------------------------------------------------------


def test_labels_cover_a_share_of_bad_sellers(market: dict[str, pd.DataFrame]) -> None:
    truth = market["truth"].set_index("seller_id")
    labels = market["labels"]
    seller_labels = labels[labels["listing_id"].isna()]
    assert not seller_labels["seller_id"].duplicated().any()
    is_bad = truth["seller_type"].isin(BAD)
    labelled = truth.index.isin(seller_labels["seller_id"])
    assert 0.35 < labelled[is_bad.to_numpy()].mean() < 0.6
    assert labelled[~is_bad.to_numpy()].mean() < 0.01
    kinds = seller_labels.set_index("seller_id")["label"]
    kind_of_bad = truth.loc[kinds.index, "seller_type"].map(
        {
            "fake_phone": "fraud",
            "click_farm": "fraud",
            "counterfeit": "counterfeit",
            "counterfeit_ring": "counterfeit",
        }
    )
    bad_rows = kind_of_bad.notna()
    assert (kinds[bad_rows] == kind_of_bad[bad_rows]).all()
    # Camouflaged ring members are labelled like the rest of the ring.
    camo = truth.index[truth["camouflaged"]]
    assert 0.3 < camo.isin(seller_labels["seller_id"]).mean() < 0.8


def test_labels_come_after_registration_and_listing(market: dict[str, pd.DataFrame]) -> None:
    labels = market["labels"]
    reg = market["sellers"].set_index("seller_id")["registered_at"]
    assert (labels["decided_at"] > labels["seller_id"].map(reg) + pd.Timedelta(days=1)).all()
    listing_labels = labels.dropna(subset=["listing_id"])
    assert len(listing_labels) > 50
    listings = market["listings"].set_index("listing_id")
    assert (
        listing_labels["seller_id"] == listing_labels["listing_id"].map(listings["seller_id"])
    ).all()
    created = listing_labels["listing_id"].map(listings["created_at"])
    assert (listing_labels["decided_at"] > created).all()
    assert listing_labels["label"].eq("counterfeit").all()
    truth = market["truth"].set_index("seller_id")
    assert truth.loc[listing_labels["seller_id"], "is_counterfeit"].all()


def test_labelled_shops_close(market: dict[str, pd.DataFrame]) -> None:
    labels = market["labels"]
    truth = market["truth"].set_index("seller_id")
    seller_labels = labels[labels["listing_id"].isna()].set_index("seller_id")["decided_at"]
    bad = seller_labels[truth.loc[seller_labels.index, "seller_type"].isin(BAD).to_numpy()]
    orders = market["orders"]
    last = orders.groupby("seller_id")["created_at"].max().reindex(bad.index)
    assert (last.dropna() < bad[last.notna()]).all()


def test_coverage_and_noise_parameters() -> None:
    none = make_marketplace(n_sellers=300, seed=2, label_coverage=0.0, label_noise=0.0)
    assert none["labels"].empty
    validate(none)
    everything = make_marketplace(n_sellers=300, seed=2, label_coverage=1.0, label_noise=0.0)
    truth = everything["truth"].set_index("seller_id")
    labelled = everything["labels"]["seller_id"].unique()
    assert truth.loc[labelled, "seller_type"].isin(BAD).all()


def test_mix_changes_the_seller_types() -> None:
    only_legit = make_marketplace(n_sellers=100, seed=1, mix={"legit": 1.0})
    assert only_legit["truth"]["seller_type"].eq("legit").all()
    rings = make_marketplace(n_sellers=100, seed=1, mix={"legit": 1, "counterfeit_ring": 1})
    assert rings["truth"]["seller_type"].value_counts()["counterfeit_ring"] == 50
    validate(rings)


def test_small_marketplaces_still_work() -> None:
    for n in (1, 2, 7):
        tables = make_marketplace(n_sellers=n, seed=n, days=30)
        validate(tables)
        assert len(tables["sellers"]) == n


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_sellers": 0}, "'n_sellers' parameter of make_marketplace must be an int >= 1"),
        ({"n_sellers": 2.5}, "'n_sellers'"),
        ({"seed": -1}, "'seed'"),
        ({"days": 10}, "'days' .* >= 30. Got 10"),
        ({"label_coverage": 1.5}, r"'label_coverage' .* \[0, 1\]"),
        ({"label_noise": -0.1}, "'label_noise'"),
        ({"orders_per_seller": 0}, "'orders_per_seller'"),
        ({"mix": {"legit": 1, "scammer": 1}}, "'mix' .* keys among"),
        ({"mix": {"legit": -1}}, "'mix' .* non-negative"),
        ({"start": "not a date"}, "'start'"),
        ({"start": "2024-01-01T00:00:00+08:00"}, "timezone-naive"),
        ({"warmup": -1}, r"'warmup' .* \[0, 3650\]. Got -1"),
        ({"warmup": 30.5}, "'warmup'"),
        ({"start": "2001-01-01"}, "'warmup' .* after 2000-01-02"),
    ],
)
def test_invalid_parameters_are_rejected(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(DatasetError, match=match) as info:
        make_marketplace(**kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, ValueError)  # callers catching ValueError keep working


def test_order_status_follows_its_timestamps(market: dict[str, pd.DataFrame]) -> None:
    orders = market["orders"]
    status = orders["status"]
    has = {c: orders[f"{c}_at"].notna() for c in ("delivered", "refunded", "cancelled")}
    # the latest step taken before the end of the period is the status
    assert (has["cancelled"] == status.eq("cancelled")).all()
    assert (has["refunded"] == status.eq("refunded")).all()
    assert (has["delivered"][status.eq("delivered")]).all()
    assert not has["delivered"][status.isin(["paid", "shipped", "cancelled"])].any()
    for when in ("delivered_at", "refunded_at", "cancelled_at"):
        known = orders[when].dropna()
        assert (known >= orders.loc[known.index, "created_at"]).all()
        assert (known < END).all()
    days = {
        c: (orders[f"{c}_at"] - orders["created_at"]).dt.total_seconds() / 86_400
        for c in ("delivered", "refunded", "cancelled")
    }
    assert days["delivered"].min() >= 1.1 and days["delivered"].max() <= 8.0
    assert 2.0 <= days["delivered"].median() <= 6.0
    assert days["cancelled"].max() <= 3.0 and days["cancelled"].median() < 0.5
    # refunds come days to weeks later: after delivery when delivered, else after a wait
    after = orders["refunded_at"] - orders["delivered_at"]
    assert (after.dropna() >= pd.Timedelta(days=1)).all()
    assert 7.0 <= days["refunded"].median() <= 35.0 and days["refunded"].max() <= 60.0
    undelivered = has["refunded"] & ~has["delivered"]
    assert 0.2 < undelivered.sum() / has["refunded"].sum() < 0.8


def test_a_past_cutoff_sees_fewer_refunds_than_the_latest_status(
    market: dict[str, pd.DataFrame],
) -> None:
    """Refunds land weeks after the order: the latest status overstates them at a cutoff."""
    orders = market["orders"]
    cutoff = pd.Timestamp("2024-07-01")
    before = orders[orders["created_at"] < cutoff]
    latest = before["status"].eq("refunded").mean()
    at_cutoff = (before["refunded_at"] < cutoff).mean()
    recent = before[before["created_at"] >= cutoff - pd.Timedelta(days=30)]
    assert at_cutoff < latest
    assert (recent["refunded_at"] < cutoff).mean() < 0.6 * recent["status"].eq("refunded").mean()


# --- scenarios ---------------------------------------------------------------------------

#: Digest of the tables (n_sellers=300, seed=0) before scenario switches and the warm-up
#: existed; ``warmup=0`` still makes them.
NO_WARMUP_DIGEST = "8b360fbc9958a605b35be8c60c1e4471fc119d7352a16a19b08bd6c8231954ab"
#: Digest of the default tables (n_sellers=300, seed=0), with the steady-state warm-up.
DEFAULT_DIGEST = "4d5d39637422f9604e735f8a4b011a6f560310a6707d87b18647a549845fb9fa"
_SCENARIO_CACHE: dict[str, dict[str, pd.DataFrame]] = {}


def _digest(tables: dict[str, pd.DataFrame]) -> str:
    """SHA-256 over every table's name, column names, dtypes and row hashes."""
    import hashlib

    h = hashlib.sha256()
    for name in sorted(tables):
        frame = tables[name]
        h.update(name.encode())
        h.update(repr(list(zip(frame.columns, map(str, frame.dtypes), strict=True))).encode())
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _scenario(name: str) -> dict[str, pd.DataFrame]:
    """A 2,000-seller marketplace of the named scenario, seed 0 (built once per module)."""
    if name not in _SCENARIO_CACHE:
        _SCENARIO_CACHE[name] = make_marketplace(seed=0, scenario=name)
    return _SCENARIO_CACHE[name]


def _price_ratio(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Median price / reference price of each seller's catalogue listings."""
    listings = tables["listings"].merge(
        tables["products"][["product_id", "reference_price"]], on="product_id"
    )
    return (listings["price"] / listings["reference_price"]).groupby(listings["seller_id"]).median()


def _seller_labels(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    labels = tables["labels"]
    return labels[labels["listing_id"].isna()]


def test_default_scenario_leaves_the_tables_unchanged() -> None:
    plain = make_marketplace(n_sellers=300, seed=0)
    assert _digest(plain) == DEFAULT_DIGEST
    for same in ("default", Scenario(), None):
        assert _digest(make_marketplace(n_sellers=300, seed=0, scenario=same)) == DEFAULT_DIGEST
    assert "scenario_role" not in plain["truth"].columns


def test_no_warm_up_makes_the_tables_of_earlier_releases() -> None:
    old = make_marketplace(n_sellers=300, seed=0, warmup=0)
    assert _digest(old) == NO_WARMUP_DIGEST
    assert old["orders"]["created_at"].min() >= START


def test_every_scenario_passes_the_contract() -> None:
    for name in SCENARIOS:
        tables = make_marketplace(n_sellers=300, seed=3, scenario=name)
        validate(tables)
        assert ("scenario_role" in tables["truth"].columns) == (name != "default")


def test_unknown_scenario_is_rejected() -> None:
    with pytest.raises(
        DatasetError, match=r"'scenario' parameter .* one of .*'drift'.* Got 'easy'"
    ):
        make_marketplace(n_sellers=10, scenario="easy")  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match=r"'drift' switch of Scenario must be a bool\. Got 1"):
        make_marketplace(n_sellers=10, scenario=Scenario(drift=1))  # type: ignore[arg-type]


def test_drift_confines_fraud_to_early_months() -> None:
    split = START + pd.Timedelta(days=0.4 * 365)
    for name, early_only in (("default", False), ("drift", True)):
        tables = _scenario(name)
        truth = tables["truth"].set_index("seller_id")
        orders = tables["orders"]
        fraud = orders[orders["seller_id"].map(truth["is_fraud"]) & (orders["created_at"] >= START)]
        late_share = float((fraud["created_at"] >= split + pd.Timedelta(days=14)).mean())
        if early_only:
            assert len(fraud) > 1000
            assert late_share == 0.0
        else:
            assert late_share > 0.3
    # The fraud rate per month: orders of fraud sellers / all orders.
    tables = _scenario("drift")
    orders = tables["orders"]
    is_fraud = orders["seller_id"].map(tables["truth"].set_index("seller_id")["is_fraud"])
    in_period = orders["created_at"] >= START
    rate = is_fraud[in_period].groupby(orders.loc[in_period, "created_at"].dt.month).mean()
    assert rate.loc[1:4].min() > 0.02
    assert rate.loc[7:12].max() == 0.0


def test_drift_flips_counterfeit_complaints_and_quiets_late_counterfeiters() -> None:
    split = START + pd.Timedelta(days=0.4 * 365)
    for name, expect_late in (("default", True), ("drift", False)):
        complaints = _scenario(name)["complaints"]
        cf = complaints[complaints["kind"] == "counterfeit"]
        assert cf["created_at"].between(START, split, inclusive="left").sum() > 20
        assert ((cf["created_at"] >= split).sum() > 20) == expect_late
    tables = _scenario("drift")
    truth = tables["truth"].set_index("seller_id")
    ratio = _price_ratio(tables)
    role = truth["scenario_role"].reindex(ratio.index)
    late = ratio[role == "late_quiet"]
    loud = ratio[(role == "").to_numpy() & truth["is_counterfeit"].reindex(ratio.index).to_numpy()]
    assert len(late) >= 20
    assert late.median() == pytest.approx(0.97, abs=0.06)
    assert loud.median() < 0.7
    late_titles = tables["listings"]["title"][
        tables["listings"]["seller_id"].map(truth["scenario_role"]) == "late_quiet"
    ]
    assert not late_titles.str.contains(REPLICA).any()


def test_label_noise_flips_drops_delays_and_invents_labels() -> None:
    stats = {}
    for name in ("default", "label_noise"):
        tables = _scenario(name)
        truth = tables["truth"].set_index("seller_id")
        labels = _seller_labels(tables).set_index("seller_id")
        bad = truth["seller_type"].isin(BAD)
        good_labelled = (~bad[labels.index]).sum() / (~bad).sum()
        on_bad = labels[bad[labels.index].to_numpy()]
        wrong_kind = (on_bad["label"].eq("fraud") != truth.loc[on_bad.index, "is_fraud"]).mean()
        first = tables["orders"].groupby("seller_id")["created_at"].min()
        delay = (on_bad["decided_at"] - first.reindex(on_bad.index)).dt.days.dropna()
        stats[name] = (good_labelled, wrong_kind, len(on_bad) / bad.sum(), delay)
    good, wrong, covered, delay = stats["label_noise"]
    assert stats["default"][1] == 0.0
    assert good == pytest.approx(0.02, abs=0.008)
    assert stats["default"][0] < 0.005
    assert wrong == pytest.approx(0.15, abs=0.06)
    assert covered < stats["default"][2] - 0.1
    # Longer and more variable delays (observed ones: labels after the period are unseen).
    assert delay.median() > stats["default"][3].median() + 20
    assert delay.std() > 1.4 * stats["default"][3].std()


def test_camouflaged_rings_look_normal_alone_but_stay_linked() -> None:
    tables = _scenario("camouflage")
    truth = tables["truth"].set_index("seller_id")
    ring = truth["seller_type"] == "counterfeit_ring"
    assert truth.loc[ring, "camouflaged"].all()
    assert truth.loc[ring, "scenario_role"].eq("hidden_ring").all()
    ratio = _price_ratio(tables)
    ring_ratio = ratio[ring.reindex(ratio.index).to_numpy()]
    legit_ratio = ratio[truth["seller_type"].reindex(ratio.index).eq("legit").to_numpy()]
    assert ring_ratio.median() == pytest.approx(legit_ratio.median(), abs=0.05)
    assert ring_ratio.quantile(0.1) > 0.8
    orders = tables["orders"].groupby("seller_id").size()
    complaints = tables["complaints"]
    for kinds in (None, ["counterfeit"]):
        c = complaints if kinds is None else complaints[complaints["kind"].isin(kinds)]
        per_seller = c.groupby("seller_id").size()
        rate = {
            group: per_seller.reindex(ids).sum() / orders.reindex(ids).sum()
            for group, ids in (
                ("ring", truth.index[ring]),
                ("legit", truth.index[truth["seller_type"] == "legit"]),
            )
        }
        assert rate["ring"] < 1.5 * rate["legit"], (kinds, rate)
    titles = tables["listings"]["title"][tables["listings"]["seller_id"].map(ring)]
    assert not (titles.str.contains(REPLICA) & ~titles.str.contains(SCALE)).any()
    # ... and the links are still there: most members share an identifier in their ring.
    shared = _sharing(tables["sellers"].set_index("seller_id")).reindex(truth.index[ring])
    assert shared.any(axis=1).mean() > 0.8


def test_honest_lookalikes_say_one_to_one_and_are_never_labelled() -> None:
    from riskscore.features import build_features

    tables = _scenario("honest_lookalikes")
    truth = tables["truth"].set_index("seller_id")
    role = truth["scenario_role"]
    models = truth.index[role == "scale_model"]
    discounters = truth.index[role == "discounter"]
    assert len(models) == pytest.approx(0.04 * 2000, rel=0.25)
    assert (truth.loc[discounters, "seller_type"] == "discount").all()
    assert len(discounters) > 0.08 * 2000
    labelled = set(tables["labels"]["seller_id"])
    assert labelled.isdisjoint(models) and labelled.isdisjoint(discounters)
    listings = tables["listings"]
    model_listings = listings[listings["seller_id"].isin(models)]
    scale = model_listings["title"].str.contains(r"1:(?:1 |\d\d)")
    assert scale.mean() > 0.8
    assert model_listings["title"].str.contains("1:1 ").sum() > 100
    ratio = _price_ratio(tables).reindex(discounters).dropna()
    assert ratio.median() == pytest.approx(0.525, abs=0.05)
    text = build_features(
        {k: tables[k] for k in ("sellers", "listings", "orders")},
        "listing",
        as_of=END,
        families=["text"],
    )
    hits = text["text__replica_terms"].reindex(model_listings["listing_id"])
    assert len(hits) == len(model_listings) and hits.eq(0).all()


def test_missing_brand_empties_a_stated_share_of_brands() -> None:
    shares = {}
    for name in ("default", "missing_brand"):
        tables = _scenario(name)
        truth = tables["truth"].set_index("seller_id")
        catalogued = tables["listings"][tables["listings"]["product_id"].notna()]
        cf_seller = catalogued["seller_id"].map(truth["is_counterfeit"])
        no_brand = catalogued["brand"].isna()
        shares[name] = (no_brand[~cf_seller].mean(), no_brand[cf_seller].mean())
    assert shares["default"] == (0.0, 0.0)
    honest, counterfeit = shares["missing_brand"]
    assert honest == pytest.approx(0.30, abs=0.02)
    # 80% of a counterfeiter's listings are counterfeit (0.6), the rest cover goods (0.3).
    assert counterfeit == pytest.approx(0.8 * 0.6 + 0.2 * 0.3, abs=0.05)


# --- digital goods and listing views (issue 16, item 2) ---------------------------------


@pytest.fixture(scope="module")
def digital() -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """A 400-seller marketplace (seed 2) and the same with 30% digital-goods shops."""
    from riskscore.datasets import add_digital_goods

    plain = make_marketplace(n_sellers=400, seed=2)
    return plain, add_digital_goods(plain, share=0.3, seed=1)


def test_digital_goods_pass_the_contract_and_touch_only_the_chosen_shops(digital) -> None:
    plain, tables = digital
    checked = validate({k: v for k, v in tables.items() if k != "truth"})
    pd.testing.assert_frame_equal(checked["listing_views"], tables["listing_views"])
    chosen = set(tables["truth"].loc[tables["truth"]["sells_digital"], "seller_id"])
    types = tables["truth"].set_index("seller_id")["seller_type"]
    assert chosen and not {types[s] for s in chosen} & {"fake_phone", "click_farm"}
    listings = tables["listings"]
    assert set(listings.loc[listings["category"] == "digital", "seller_id"]) == chosen
    same = ~listings["seller_id"].isin(chosen)
    pd.testing.assert_frame_equal(listings[same], plain["listings"][same])
    assert listings.loc[~same, ["brand", "product_id"]].isna().all().all()
    for name in ("sellers", "complaints", "labels", "products"):
        assert tables[name] is plain[name]
    orders, before = tables["orders"], plain["orders"]
    moved = orders["seller_id"].isin(chosen)
    pd.testing.assert_frame_equal(orders[~moved], before[~moved])
    assert orders["quantity"].equals(before["quantity"])
    assert plain["orders"] is before and "listing_views" not in plain  # input untouched


def test_pirates_sell_cheap_copies_and_honest_shops_genuine_ones(digital) -> None:
    _, tables = digital
    listings = tables["listings"].merge(tables["truth"], on="seller_id")
    listings = listings.loc[listings["category"] == "digital"]
    pirate = listings["seller_type"].isin(["counterfeit", "counterfeit_ring"])
    assert pirate.any() and (~pirate).any()
    ref = listings["title"].map(lambda t: next(p for n, p in _ref_names() if n in t))
    ratio = listings["price"] / ref
    assert ratio[pirate].between(0.0, 0.125).all()
    assert ratio[~pirate].between(0.84, 1.06).all()
    assert listings.loc[pirate, "title"].str.contains("破解|网盘|百度云|cracked|cloud|打包").all()
    assert listings.loc[~pirate, "title"].str.contains("正版|official").all()
    # Orders are repriced: amount = new price x quantity x the same coupon (<= 1).
    orders = tables["orders"].merge(listings[["listing_id", "price"]], on="listing_id")
    full = orders["price"] * orders["quantity"]
    assert (orders["amount"] <= full + 0.01).all() and (orders["amount"] >= 0.84 * full).all()


def _works() -> tuple[tuple[str, str, str, float], ...]:
    from riskscore.datasets._digital import WORKS

    return WORKS


def _ref_names() -> list[tuple[str, float]]:
    """(name, price) for both languages of every work."""
    return [(w[1], w[3]) for w in _works()] + [(w[2], w[3]) for w in _works()]


def test_listing_views_are_daily_counts_while_the_listing_is_up(digital) -> None:
    _, tables = digital
    views = tables["listing_views"]
    listings = tables["listings"].set_index("listing_id")
    assert (views["views"] > 0).all()
    assert (views["viewed_at"] == views["viewed_at"].dt.floor("D")).all()
    assert not views.duplicated(["listing_id", "viewed_at"]).any()
    assert views["listing_id"].map(listings["category"]).eq("digital").all()
    assert views["seller_id"].equals(views["listing_id"].map(listings["seller_id"]))
    created = views["listing_id"].map(listings["created_at"]).dt.floor("D")
    assert (views["viewed_at"] >= created).all()
    first = tables["orders"]["created_at"].min().floor("D")  # the warm-up has views too
    assert views["viewed_at"].between(first, END - pd.Timedelta(days=1)).all()
    # A shop closed by a seller label gets no views from that day on.
    labels = tables["labels"]
    closed = labels.loc[labels["listing_id"].isna()].groupby("seller_id")["decided_at"].min()
    at = views["seller_id"].map(closed)
    assert not (views["viewed_at"] >= at.dt.floor("D")).any()
    # A listing taken down gets no views from that day on.
    down = labels.loc[labels["listing_id"].notna()].groupby("listing_id")["decided_at"].min()
    at = views["listing_id"].map(down)
    assert at.notna().any()
    assert not (views["viewed_at"] >= at.dt.floor("D")).any()
    # Pirates convert fewer lookers into orders than honest shops.
    orders = tables["orders"].groupby("listing_id").size()
    per_seller = views.groupby("seller_id")["views"].sum()
    n = orders.groupby(tables["listings"].set_index("listing_id")["seller_id"]).sum()
    conv = (n.reindex(per_seller.index) / per_seller).dropna()
    kind = tables["truth"].set_index("seller_id")["seller_type"].reindex(conv.index)
    pirate = kind.isin(["counterfeit", "counterfeit_ring"])
    assert conv[pirate].median() < 0.5 * conv[~pirate].median()


def test_digital_goods_are_reproducible_and_off_at_share_zero(digital) -> None:
    from riskscore.datasets import add_digital_goods

    plain, tables = digital
    again = add_digital_goods(plain, share=0.3, seed=1)
    pd.testing.assert_frame_equal(again["listing_views"], tables["listing_views"])
    pd.testing.assert_frame_equal(again["orders"], tables["orders"])
    none = add_digital_goods(plain, share=0.0)
    assert none["listing_views"].empty and not none["truth"]["sells_digital"].any()
    pd.testing.assert_frame_equal(none["listings"], plain["listings"])
    validate({k: v for k, v in none.items() if k != "truth"})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"share": 1.5}, r"'share' parameter of add_digital_goods must be a float in the range"),
        ({"share": "a"}, r"'share' parameter .* Got 'a' instead"),
        ({"seed": -1}, r"'seed' parameter of add_digital_goods must be an int >= 0\. Got -1"),
        ({"seed": True}, r"'seed' parameter"),
    ],
)
def test_digital_goods_reject_bad_parameters(digital, kwargs, match) -> None:
    from riskscore.datasets import add_digital_goods

    with pytest.raises(DatasetError, match=match):
        add_digital_goods(digital[0], **kwargs)


def test_digital_goods_need_the_truth_table(digital) -> None:
    from riskscore.datasets import add_digital_goods

    tables = {k: v for k, v in digital[0].items() if k != "truth"}
    with pytest.raises(DatasetError, match=r"needs the tables .*; missing: truth"):
        add_digital_goods(tables)
    with pytest.raises(DatasetError, match=r"'tables' parameter .* Got list instead"):
        add_digital_goods([])  # type: ignore[arg-type]
