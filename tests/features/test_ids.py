"""``build_features(..., ids=...)``: the rows of a few entities, equal to the full build's.

A scoped build aggregates the requested entities' own rows and takes what compares them
with the marketplace from :class:`~riskscore.features.MarketStats`. The property below is
the whole contract: for any marketplace, cutoff and subset of ids, the scoped rows are
the full build's rows (to 1e-12 relative; in practice bit for bit).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskscore.datasets import make_marketplace
from riskscore.exceptions import FeatureError
from riskscore.features import MarketStats, build_features, market_stats
from riskscore.features import _build as build_module


@functools.cache
def _tables(n_sellers: int, seed: int) -> dict[str, pd.DataFrame]:
    market = make_marketplace(n_sellers=n_sellers, seed=seed)
    return {k: v for k, v in market.items() if k != "truth"}


@functools.cache
def _full(n_sellers: int, seed: int, entity: str, as_of: str) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return build_features(_tables(n_sellers, seed), entity, as_of=as_of)  # type: ignore[arg-type]


def _assert_rows(sub: pd.DataFrame, full: pd.DataFrame, ids: list[str]) -> None:
    expected = full.loc[sorted(i for i in set(ids) if i in full.index)]
    assert list(sub.columns) == list(full.columns)
    assert sub.index.name == full.index.name
    pd.testing.assert_frame_equal(sub, expected, check_exact=False, rtol=1e-12, atol=0.0)


marketplaces = st.tuples(st.sampled_from([150, 220, 300]), st.integers(0, 2))
#: Cutoffs from before most sellers registered to the end of the simulated year.
cutoffs = st.dates(pd.Timestamp("2023-10-01").date(), pd.Timestamp("2024-12-31").date())


@pytest.mark.slow
@pytest.mark.parametrize("entity", ["seller", "listing"])
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(market=marketplaces, as_of=cutoffs, data=st.data())
def test_subset_equals_the_rows_of_the_full_build(entity, market, as_of, data) -> None:
    n_sellers, seed = market
    tables = _tables(n_sellers, seed)
    day = str(as_of)
    full = _full(n_sellers, seed, entity, day)
    key = "seller_id" if entity == "seller" else "listing_id"
    every = tables["sellers" if entity == "seller" else "listings"][key].tolist()
    ids = data.draw(st.lists(st.sampled_from(every), min_size=1, max_size=12, unique=True))
    ids += data.draw(st.lists(st.sampled_from(["nobody", "S999999", "L99999999"]), max_size=2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sub = build_features(tables, entity, as_of=day, ids=ids)
    _assert_rows(sub, full, ids)


def test_many_calls_share_one_market() -> None:
    tables = _tables(150, 0)
    market = market_stats(tables, "2024-06-30")
    assert isinstance(market, MarketStats)
    assert market.computed == []
    full = _full(150, 0, "seller", "2024-06-30")
    ids = full.index[:40].tolist()
    for chunk in (ids[:1], ids[1:15], ids[15:]):
        got = build_features(tables, "seller", as_of="2024-06-30", ids=chunk, market=market)
        _assert_rows(got, full, chunk)
    computed = market.computed
    assert "network_frame" in computed and "pricing_by_product" in computed
    network = market.value("network_frame", lambda ctx: pytest.fail("recomputed"))
    assert len(network) == len(full)  # one row per seller of the marketplace


def test_listing_build_and_seller_build_share_one_market() -> None:
    tables = _tables(150, 1)
    market = market_stats(tables, "2024-09-01")
    listings = _full(150, 1, "listing", "2024-09-01").index[:5].tolist()
    got = build_features(tables, "listing", as_of="2024-09-01", ids=listings, market=market)
    _assert_rows(got, _full(150, 1, "listing", "2024-09-01"), listings)
    sellers = _full(150, 1, "seller", "2024-09-01").index[-3:].tolist()
    got = build_features(tables, "seller", as_of="2024-09-01", ids=sellers, market=market)
    _assert_rows(got, _full(150, 1, "seller", "2024-09-01"), sellers)


def test_ids_with_families_and_windows() -> None:
    tables = _tables(150, 2)
    full = build_features(
        tables, as_of="2024-05-01", families=["activity"], windows=(3, 60), prior_weight=5.0
    )
    ids = full.index[::17].tolist()
    got = build_features(
        tables,
        as_of="2024-05-01",
        families=["activity"],
        windows=(3, 60),
        prior_weight=5.0,
        ids=ids,
    )
    _assert_rows(got, full, ids)


def test_unknown_or_unregistered_ids_get_no_row() -> None:
    tables = _tables(150, 0)
    sellers = tables["sellers"]
    late = sellers.loc[sellers["registered_at"] >= "2024-06-30", "seller_id"].iloc[0]
    got = build_features(tables, as_of="2024-06-30", ids=["nobody", late])
    assert got.empty
    assert list(got.columns) == list(_full(150, 0, "seller", "2024-06-30").columns)


def test_a_single_id_string_is_one_id() -> None:
    tables = _tables(150, 0)
    full = _full(150, 0, "seller", "2024-06-30")
    got = build_features(tables, as_of="2024-06-30", ids=full.index[3])
    _assert_rows(got, full, [full.index[3]])


def test_a_market_of_another_build_is_refused() -> None:
    tables = _tables(150, 0)
    market = market_stats(tables, "2024-06-30", windows=(7, 30))
    with pytest.raises(FeatureError, match=r"market was computed for another build: as_of"):
        build_features(tables, as_of="2024-07-01", ids=["S000001"], market=market, windows=(7, 30))
    with pytest.raises(FeatureError, match=r"parameters FeatureParams"):
        build_features(tables, as_of="2024-06-30", ids=["S000001"], market=market)
    with pytest.raises(FeatureError, match=r"market must be a MarketStats"):
        build_features(tables, as_of="2024-06-30", ids=["S000001"], market={})  # type: ignore[arg-type]


def test_as_of_before_all_data_is_refused_with_ids() -> None:
    with pytest.raises(FeatureError, match="is before all data"):
        build_features(_tables(150, 0), as_of="2000-01-01", ids=["S000001"])


def test_the_cache_keeps_the_market_of_the_same_tables() -> None:
    tables = dict(_tables(150, 0))
    build_features(tables, as_of="2024-03-01", ids=["S000001"])
    first = build_module._cached_market(
        tables, pd.Timestamp("2024-03-01").to_pydatetime(), None, _params()
    )
    build_features(tables, as_of="2024-03-01", ids=["S000002"])
    again = build_module._cached_market(
        tables, pd.Timestamp("2024-03-01").to_pydatetime(), None, _params()
    )
    assert again is first
    tables["orders"] = tables["orders"].iloc[:-10]  # another table: another market
    other = build_module._cached_market(
        tables, pd.Timestamp("2024-03-01").to_pydatetime(), None, _params()
    )
    assert other is not first


def _params():  # type: ignore[no-untyped-def]
    from riskscore.features import FeatureParams

    return FeatureParams()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["polars", "duckdb"])
def test_other_backends_return_the_same_rows(backend) -> None:
    pytest.importorskip(backend)
    tables = _tables(150, 0)
    full = _full(150, 0, "seller", "2024-06-30")
    ids = full.index[::29].tolist()
    got = build_features(tables, as_of="2024-06-30", backend=backend, ids=ids)
    got = got.to_pandas() if hasattr(got, "to_pandas") else got.df()
    got = got.set_index("seller_id")
    got.index = got.index.astype(full.index.dtype)
    _assert_rows(got.astype(np.float64), full, ids)


@pytest.mark.spark
def test_spark_returns_the_same_rows(spark) -> None:
    import pyarrow as pa

    tables = _tables(150, 0)
    full = _full(150, 0, "seller", "2024-06-30")
    ids = full.index[::29].tolist()
    frames = {
        k: spark.createDataFrame(pa.Table.from_pandas(v, preserve_index=False))
        for k, v in tables.items()
    }
    got = build_features(frames, as_of="2024-06-30", ids=ids).toPandas().set_index("seller_id")
    got.index = got.index.astype(full.index.dtype)
    _assert_rows(got.astype(np.float64), full, ids)
