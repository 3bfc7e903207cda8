"""One definition, four engines: pandas, Polars, DuckDB and Spark give the same features."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskscore.features import build_features
from riskscore.features._backend import to_pandas

AS_OF = "2024-06-30"
LOCAL = ["pandas", "polars", "duckdb"]
ALL = [*LOCAL, pytest.param("spark", marks=pytest.mark.spark)]


def _as_pandas(result: Any, key: str) -> pd.DataFrame:
    frame = to_pandas(result)
    if frame.index.name != key:
        frame = frame.set_index(key)
    return frame.sort_index()


def _assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert got.columns.tolist() == expected.columns.tolist()
    assert got.index.tolist() == expected.index.tolist()
    assert (got.dtypes == "float64").all()
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("entity", ["seller", "listing"])
@pytest.mark.parametrize("library", ALL)
def test_same_features_on_every_backend(market, library, entity, in_library) -> None:
    tables = {k: v for k, v in market.items() if k != "truth"}
    expected = build_features(tables, entity, as_of=AS_OF)
    result = build_features(in_library(tables, library), entity, as_of=AS_OF)
    key = "seller_id" if entity == "seller" else "listing_id"
    _assert_same(_as_pandas(result, key), expected)


@pytest.mark.parametrize("library", ALL)
def test_result_comes_back_in_the_callers_library(build, library, in_library) -> None:
    result = build_features(in_library(build(), library), "seller", as_of=AS_OF)
    module = {"pandas": "pandas", "polars": "polars", "duckdb": "duckdb", "spark": "pyspark"}
    assert type(result).__module__.split(".")[0] == module[library]
    if library != "pandas":
        assert to_pandas(result).columns[0] == "seller_id"


@pytest.mark.parametrize("backend", ALL)
def test_backend_argument_converts_pandas_tables(market, backend, request) -> None:
    if backend == "spark":
        request.getfixturevalue("spark")  # the local test session
    tables = {k: v for k, v in market.items() if k != "truth"}
    expected = build_features(tables, "seller", as_of=AS_OF)
    result = build_features(tables, "seller", as_of=AS_OF, backend=backend)
    _assert_same(_as_pandas(result, "seller_id"), expected)


def test_polars_lazy_in_lazy_out(build) -> None:
    pl = pytest.importorskip("polars")
    tables = {k: pl.from_pandas(v).lazy() for k, v in build().items()}
    result = build_features(tables, "seller", as_of=AS_OF)
    assert isinstance(result, pl.LazyFrame)
    assert result.collect().height == 1


@pytest.mark.parametrize("library", ALL)
def test_missing_complaints_fill_the_same_on_every_backend(build, library, in_library) -> None:
    tables = build(complaints=None)
    with pytest.warns(UserWarning, match="no 'complaints' table"):
        expected = build_features(tables, "seller", as_of=AS_OF)
    with pytest.warns(UserWarning, match="no 'complaints' table"):
        result = build_features(in_library(tables, library), "seller", as_of=AS_OF)
    _assert_same(_as_pandas(result, "seller_id"), expected)


def test_duckdb_relations_of_a_private_connection(market) -> None:
    duckdb = pytest.importorskip("duckdb")
    import pyarrow as pa

    tables = {k: v for k, v in market.items() if k != "truth"}
    con = duckdb.connect()
    relations = {
        k: con.from_arrow(pa.Table.from_pandas(v, preserve_index=False)) for k, v in tables.items()
    }
    expected = build_features(tables, "seller", as_of=AS_OF)
    result = build_features(relations, "seller", as_of=AS_OF)  # network family included
    _assert_same(_as_pandas(result, "seller_id"), expected)


@pytest.mark.spark
def test_spark_needs_a_utc_session(build, spark, in_library) -> None:
    from riskscore.exceptions import FeatureError

    tables = in_library(build(), "spark")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Shanghai")
    try:
        with pytest.raises(FeatureError, match=r"spark\.sql\.session\.timeZone', 'UTC'"):
            build_features(tables, "seller", as_of=AS_OF)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


@pytest.mark.parametrize("library", ALL)
@pytest.mark.parametrize("timed", [True, False], ids=["refunded_at", "latest-status"])
def test_refunds_as_of_the_cutoff_on_every_backend(build, library, timed, in_library) -> None:
    """A refund after the cutoff counts only without ``refunded_at``, on every engine."""
    tables = build(
        orders=[
            {"created_at": "2024-06-01", "status": "refunded"},
            {"created_at": "2024-06-02", "status": "refunded"},
            {"created_at": "2024-06-03", "status": "cancelled"},
            {"created_at": "2024-06-04"},
        ]
    )
    if timed:
        tables["orders"] = tables["orders"].assign(
            refunded_at=pd.to_datetime(["2024-06-20", "2024-07-02", None, None]).astype(
                "datetime64[us]"
            ),
            cancelled_at=pd.to_datetime([None, None, "2024-07-01", None]).astype("datetime64[us]"),
        )
    result = build_features(in_library(tables, library), "seller", as_of=AS_OF, prior_weight=0.0)
    row = _as_pandas(result, "seller_id").loc["S1"]
    assert row["complaints__refund_rate"] == pytest.approx(0.25 if timed else 0.5)
    assert row["complaints__cancel_rate"] == pytest.approx(0.0 if timed else 0.25)
