"""Fixtures for feature tests: a table builder for hand-made marketplaces and a small
simulated marketplace (the ``spark`` session fixture is in ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import pytest

#: Cutoff used by most hand-made tests.
AS_OF = pd.Timestamp("2024-06-30")

_DEFAULTS: dict[str, dict[str, Any]] = {
    "sellers": {"registered_at": "2024-01-01", "region": "Zhejiang"},
    "listings": {
        "seller_id": "S1",
        "product_id": None,
        "category": "home",
        "brand": None,
        "title": "lamp",
        "price": 100.0,
        "currency": "CNY",
        "created_at": "2024-02-01",
    },
    "orders": {
        "listing_id": "L1",
        "seller_id": "S1",
        "buyer_id": "B1",
        "quantity": 1,
        "amount": 100.0,
        "created_at": "2024-06-01",
        "ship_address_id": None,
        "status": "delivered",
    },
    "complaints": {
        "order_id": None,
        "seller_id": "S1",
        "kind": "other",
        "created_at": "2024-06-01",
    },
    "products": {"brand": "Apple", "category": "phones", "reference_price": 100.0},
    "labels": {"listing_id": None, "label": "counterfeit", "decided_at": "2024-07-15"},
}
_KEYS = {
    "sellers": "seller_id",
    "listings": "listing_id",
    "orders": "order_id",
    "complaints": "complaint_id",
    "products": "product_id",
}
_PREFIX = {"sellers": "S", "listings": "L", "orders": "O", "complaints": "C", "products": "P"}
_TIMES = ("registered_at", "created_at", "decided_at")
_STR = (
    "seller_id",
    "listing_id",
    "order_id",
    "complaint_id",
    "product_id",
    "brand",
    "buyer_id",
    "ship_address_id",
)


def frame(name: str, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Return table ``name`` from ``rows``, filling contract columns with defaults.

    Keys default to ``S1, S2, ...`` (``L1``, ``O1``, ... for other tables) by position.
    """
    filled = []
    for i, row in enumerate(rows, start=1):
        full = dict(_DEFAULTS[name])
        if name in _KEYS:
            full[_KEYS[name]] = f"{_PREFIX[name]}{i}"
        full.update(row)
        filled.append(full)
    columns = list(dict.fromkeys([*(_KEYS.get(name, "seller_id"),), *_DEFAULTS[name]]))
    if name == "labels":
        columns = ["seller_id", *_DEFAULTS[name]]
    out = pd.DataFrame(filled, columns=columns if not rows else None)
    for col in out.columns:
        if col in _TIMES:
            out[col] = pd.to_datetime(out[col], format="ISO8601").astype("datetime64[us]")
        elif col in _STR:
            out[col] = out[col].astype("str").where(out[col].notna())
        elif col in ("price", "amount", "reference_price"):
            out[col] = out[col].astype("float64")
        elif col == "quantity":
            out[col] = out[col].astype("int64")
    return out


def make_tables(**tables: Sequence[dict[str, Any]]) -> dict[str, pd.DataFrame]:
    """Build a marketplace from row lists; ``sellers``/``listings``/``orders`` default to one row.

    Pass ``complaints=None`` (etc.) to leave an optional table out.
    """
    spec: dict[str, Sequence[dict[str, Any]] | None] = {
        "sellers": [{}],
        "listings": [{}],
        "orders": [{}],
        "complaints": [],
        "products": [],
        "labels": [],
    }
    spec.update(tables)
    return {name: frame(name, rows) for name, rows in spec.items() if rows is not None}


@pytest.fixture
def in_library(request: pytest.FixtureRequest) -> Callable[..., dict[str, Any]]:
    """Turn pandas tables into ``library``'s own (pandas, polars, duckdb or spark)."""

    def convert(tables: dict[str, pd.DataFrame], library: str) -> dict[str, Any]:
        if library == "pandas":
            return dict(tables)
        if library == "polars":
            pl = pytest.importorskip("polars")
            return {k: pl.from_pandas(v) for k, v in tables.items()}
        import pyarrow as pa

        if library == "duckdb":
            duckdb = pytest.importorskip("duckdb")
            return {
                k: duckdb.from_arrow(pa.Table.from_pandas(v, preserve_index=False))
                for k, v in tables.items()
            }
        spark = request.getfixturevalue("spark")
        return {
            k: spark.createDataFrame(pa.Table.from_pandas(v, preserve_index=False))
            for k, v in tables.items()
        }

    return convert


@pytest.fixture
def build() -> Callable[..., dict[str, pd.DataFrame]]:
    """The :func:`make_tables` builder."""
    return make_tables


@pytest.fixture(scope="session")
def _market() -> dict[str, pd.DataFrame]:
    from riskscore.datasets import make_marketplace

    return make_marketplace(n_sellers=150, seed=7)


@pytest.fixture
def market(_market: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """A simulated marketplace of 150 sellers (shallow copies; do not mutate in place)."""
    return {name: table.copy(deep=False) for name, table in _market.items()}
