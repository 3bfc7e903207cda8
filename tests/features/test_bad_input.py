"""Bad input: clear errors naming the fix, graceful degradation for optional tables."""

from __future__ import annotations

import importlib.util
import warnings

import pandas as pd
import pytest

from riskscore.exceptions import BackendNotAvailable, FeatureError
from riskscore.features import build_features

AS_OF = "2024-06-30"


def test_missing_optional_tables_fill_and_warn_once(build) -> None:
    tables = build(complaints=None, products=None, labels=None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feats = build_features(tables, "seller", as_of=AS_OF)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "no 'complaints' table was given" in message
    assert "complaints__counterfeit_rate_30d" in message and "complaints__acceleration" in message
    assert "pass the 'complaints' table" in message
    assert feats["complaints__rate_7d"].isna().all()
    assert feats["pricing__median_price_ratio"].notna().all()  # falls back to listing medians


def test_all_tables_given_means_no_warning(build) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_features(build(), "seller", as_of=AS_OF)


def test_as_of_before_all_data(build) -> None:
    with pytest.raises(FeatureError, match="as_of 2023-01-01 00:00:00 is before all data"):
        build_features(build(), "seller", as_of="2023-01-01")


def test_as_of_before_any_listing(build) -> None:
    tables = build(listings=[{"created_at": "2024-03-01"}])
    with pytest.raises(FeatureError, match="first listing was created at 2024-03-01"):
        build_features(tables, "listing", as_of="2024-02-01")


@pytest.mark.parametrize("as_of", [None, 20240630, "yesterday-ish"])
def test_as_of_must_be_a_timestamp(build, as_of) -> None:
    with pytest.raises(FeatureError, match="as_of"):
        build_features(build(), "seller", as_of=as_of)


def test_unknown_entity(build) -> None:
    with pytest.raises(FeatureError, match="unknown entity 'buyer'; use one of seller, listing"):
        build_features(build(), "buyer", as_of=AS_OF)  # type: ignore[arg-type]


def test_unknown_family(build) -> None:
    with pytest.raises(FeatureError, match=r"unknown feature famil\(ies\) \['prices'\]"):
        build_features(build(), "seller", as_of=AS_OF, families=["prices"])


def test_unknown_backend(build) -> None:
    with pytest.raises(FeatureError, match="unknown backend 'koalas'"):
        build_features(build(), "seller", as_of=AS_OF, backend="koalas")


def test_backend_not_installed(build, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "polars" else real(name, *a)
    )
    with pytest.raises(BackendNotAvailable, match=r"pip install 'riskscore\[polars\]'"):
        build_features(build(), "seller", as_of=AS_OF, backend="polars")


def test_missing_required_table(build) -> None:
    tables = build()
    del tables["orders"]
    with pytest.raises(FeatureError, match="required table"):
        build_features(tables, "seller", as_of=AS_OF)


def test_missing_column_and_unparsed_times_are_listed(build) -> None:
    tables = build()
    tables["orders"] = tables["orders"].drop(columns=["buyer_id"])
    tables["listings"] = tables["listings"].assign(created_at="2024-02-01")
    with pytest.raises(FeatureError) as err:
        build_features(tables, "seller", as_of=AS_OF)
    text = str(err.value)
    assert "orders.buyer_id: required column is missing" in text
    assert "listings.created_at: expected timestamps" in text
    assert "riskscore.validate" in text


def test_mixed_libraries_need_a_backend(build) -> None:
    pl = pytest.importorskip("polars")
    tables = build()
    tables["orders"] = pl.from_pandas(tables["orders"])
    with pytest.raises(FeatureError, match="pass backend='pandas'"):
        build_features(tables, "seller", as_of=AS_OF)
    feats = build_features(tables, "seller", as_of=AS_OF, backend="pandas")
    assert isinstance(feats, pd.DataFrame)


def test_unsupported_table_type(build) -> None:
    tables = build()
    tables["sellers"] = tables["sellers"].to_dict()
    with pytest.raises(FeatureError, match="tables must be pandas, Polars, DuckDB or PySpark"):
        build_features(tables, "seller", as_of=AS_OF)


@pytest.mark.parametrize("windows", [(), (0, 7), (7, 7), (7.5,)])
def test_bad_windows(build, windows) -> None:
    with pytest.raises(FeatureError, match="windows must"):
        build_features(build(), "seller", as_of=AS_OF, windows=windows)


def test_extra_tables_are_ignored(build) -> None:
    tables = build()
    plain = build_features(tables, "seller", as_of=AS_OF)
    tables["truth"] = pd.DataFrame({"seller_id": ["S1"], "is_counterfeit": [True]})
    tables["notes"] = "not even a table"
    pd.testing.assert_frame_equal(build_features(tables, "seller", as_of=AS_OF), plain)


def test_inputs_are_not_modified(build) -> None:
    tables = build()
    before = {k: v.copy() for k, v in tables.items()}
    build_features(tables, "listing", as_of=AS_OF)
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(frame, before[name])


def test_tz_aware_inputs_are_read_as_utc(build) -> None:
    tables = build(orders=[{"created_at": "2024-06-29T23:00"}])
    naive = build_features(tables, "seller", as_of=AS_OF)
    aware = dict(tables)
    aware["orders"] = tables["orders"].assign(
        created_at=tables["orders"]["created_at"]
        .dt.tz_localize("UTC")
        .dt.tz_convert("Asia/Shanghai")
    )
    pd.testing.assert_frame_equal(build_features(aware, "seller", as_of=AS_OF), naive)
