"""The feature catalog: every feature declared once, with sensible reason texts."""

from __future__ import annotations

import math
import re

import narwhals as nw
import pandas as pd
import pytest

from riskscore.exceptions import FeatureError
from riskscore.features import FeatureSpec, build_features, catalog, not_point_in_time
from riskscore.features._catalog import Family, _run_order, families, windowed

COLUMNS = [
    "name",
    "family",
    "entity",
    "description",
    "unit",
    "fill",
    "reason_code",
    "signal",
    "text_en",
    "text_zh",
    "needs",
    "point_in_time_needs",
    "point_in_time",
]
HAN = re.compile(r"[\u4e00-\u9fff]")


def test_catalog_has_one_row_per_feature_with_the_declared_columns() -> None:
    table = catalog()
    assert list(table.columns) == COLUMNS
    assert table["name"].is_unique
    assert table["fill"].dtype == "float64"
    assert set(table["entity"]) == {"seller", "listing"}


def test_names_follow_family_prefix_and_reason_codes_are_stable_upper_case() -> None:
    table = catalog()
    for row in table.itertuples():
        assert row.name.startswith(f"{row.family}__"), row.name
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", row.reason_code), row.reason_code
        assert row.signal and row.description and row.unit
    assert table["reason_code"].is_unique


@pytest.mark.parametrize("value", [0.0, 0.37, 1.5, 42.0, 123456.0])
def test_every_reason_text_renders_in_english_and_chinese(value: float) -> None:
    for row in catalog().itertuples():
        en = row.text_en.format(value=value)
        zh = row.text_zh.format(value=value)
        assert "{" not in en and "{" not in zh, row.name
        assert HAN.search(zh), f"{row.name}: Chinese text has no Chinese"
        assert not HAN.search(en.replace("高仿", "").replace("原单", "")), row.name


def test_fill_is_nan_or_zero_and_counts_fill_zero() -> None:
    table = catalog()
    assert all(math.isnan(f) or f == 0.0 for f in table["fill"])
    counts = table[table["unit"] == "count"]
    assert (counts["fill"] == 0.0).all()


def test_windowed_features_follow_the_windows() -> None:
    names = catalog(windows=(14, 60))["name"].tolist()
    assert "complaints__rate_14d" in names and "activity__gmv_60d" in names
    assert not any(n.endswith("_30d") for n in names)


def test_listing_rows_hold_own_features_then_seller_features() -> None:
    listing = catalog("listing")
    seller = catalog("seller")
    own = listing[listing["entity"] == "listing"]
    assert listing["name"].tolist() == own["name"].tolist() + seller["name"].tolist()
    assert set(own["family"]) == {"pricing", "text"}


def test_catalog_rejects_unknown_entity() -> None:
    with pytest.raises(FeatureError, match="unknown entity 'shop'"):
        catalog("shop")  # type: ignore[arg-type]


@pytest.mark.parametrize("entity", ["seller", "listing"])
def test_built_columns_are_the_catalog_in_order(build, entity) -> None:
    feats = build_features(build(), entity, as_of="2024-06-30")
    assert feats.columns.tolist() == catalog(entity)["name"].tolist()
    assert (feats.dtypes == "float64").all()


def test_feature_spec_validates_its_declaration() -> None:
    with pytest.raises(ValueError, match="name must look like 'demo__<feature>'"):
        FeatureSpec(
            name="ratio",
            family="demo",
            entity="seller",
            description="d",
            unit="ratio",
            fill=0.0,
            reason_code="DEMO",
            signal="s",
            text_en="{value}",
            text_zh="{value}",
        )
    with pytest.raises(ValueError, match="text_zh must contain"):
        FeatureSpec(
            name="demo__x",
            family="demo",
            entity="seller",
            description="d",
            unit="ratio",
            fill=0.0,
            reason_code="DEMO",
            signal="s",
            text_en="{value}",
            text_zh="无",
        )


def test_windowed_expands_one_template_per_window() -> None:
    specs = windowed(
        (3, 5),
        name="demo__n_{w}d",
        family="demo",
        entity="seller",
        description="In {w} days.",
        unit="count",
        fill=0.0,
        reason_code="DEMO_{w}D",
        signal="demo",
        text_en="{value:.0f} in {w} days",
        text_zh="{w}天{value:.0f}",
    )
    assert [s.reason_code for s in specs] == ["DEMO_3D", "DEMO_5D"]
    assert specs[0].render(2.0, "zh") == "3天2"


def _family(name: str, after: tuple[str, ...] = ()) -> Family:
    return Family(
        name=name,
        entity="seller",
        specs=lambda windows: (),
        compute=lambda ctx: nw.from_native(pd.DataFrame()).lazy(),
        after=after,
    )


def test_families_run_after_the_families_they_read() -> None:
    order = _run_order([_family("net", after=("price",)), _family("price")])
    assert [f.name for f in order] == ["price", "net"]


def test_family_order_rejects_cycles_and_unknown_dependencies() -> None:
    with pytest.raises(FeatureError, match="cycle"):
        _run_order([_family("a", after=("b",)), _family("b", after=("a",))])
    with pytest.raises(FeatureError, match="'ghost', which is not a registered seller family"):
        _run_order([_family("a", after=("ghost",))])


def test_registry_lists_every_family_once_per_entity() -> None:
    seller = [f.name for f in families("seller")]
    assert seller[:6] == ["pricing", "complaints", "buyers", "account", "activity", "text"]
    assert [f.name for f in families("listing")] == ["pricing", "text"]


def _latest_status_only(tables: dict[str, pd.DataFrame], *drop: str) -> dict[str, pd.DataFrame]:
    return {**tables, "orders": tables["orders"].drop(columns=list(drop))}


def test_catalog_marks_status_features_not_point_in_time_without_their_times(market) -> None:
    full = catalog("seller", tables=market).set_index("name")
    assert full["point_in_time"].all()
    assert full.loc["complaints__refund_rate", "point_in_time_needs"] == "orders.refunded_at"
    latest = _latest_status_only(market, "refunded_at", "cancelled_at")
    table = catalog("seller", tables=latest).set_index("name")
    assert table.index[~table["point_in_time"]].tolist() == [
        "complaints__refund_rate",
        "complaints__cancel_rate",
    ]
    # without tables: only what is point-in-time on any contract-conforming table
    assert (~catalog()["point_in_time"]).sum() == 2


@pytest.mark.parametrize("library", ["polars", "duckdb"])
def test_not_point_in_time_reads_only_the_columns_of_any_library(market, library) -> None:
    latest = _latest_status_only(market, "cancelled_at")
    if library == "polars":
        pl = pytest.importorskip("polars")
        native = {k: pl.from_pandas(v) for k, v in latest.items()}
    else:
        duckdb = pytest.importorskip("duckdb")
        native = {k: duckdb.from_df(v) for k, v in latest.items()}
    assert not_point_in_time(native, "listing") == ["complaints__cancel_rate"]
    assert not_point_in_time(native, windows=(30,)) == ["complaints__cancel_rate"]


def test_point_in_time_needs_must_name_a_table_column() -> None:
    with pytest.raises(ValueError, match=r"point_in_time_needs entry 'refunded_at' must be"):
        FeatureSpec(
            name="demo__rate",
            family="demo",
            entity="seller",
            description="A rate.",
            unit="share",
            fill=math.nan,
            reason_code="DEMO_RATE",
            signal="demo",
            text_en="{value:.0%}",
            text_zh="{value:.0%}",
            point_in_time_needs=("refunded_at",),
        )


@pytest.mark.parametrize("windows", [(-1,), (0, 30), (7.5,), "30", (True,), None])
def test_catalog_refuses_windows_that_are_not_positive_days(windows) -> None:
    with pytest.raises(FeatureError, match="'windows' parameter of catalog must be a sequence"):
        catalog(windows=windows)


def test_catalog_accepts_numpy_windows() -> None:
    import numpy as np

    names = catalog("seller", windows=(np.int64(14),))["name"].tolist()
    assert any(n.endswith("_14d") for n in names)
    assert names == catalog("seller", windows=(14,))["name"].tolist()


@pytest.mark.parametrize("tables", [None, ["sellers"], "tables"])
def test_not_point_in_time_refuses_tables_that_are_not_a_mapping(tables) -> None:
    with pytest.raises(FeatureError, match="'tables' parameter of not_point_in_time"):
        not_point_in_time(tables)
