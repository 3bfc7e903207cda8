"""The warning list as of a time depends only on what was known strictly before it.

The invariant: rewriting the future (order steps at or after ``as_of``, orders and
listings created after it) leaves the list unchanged. Its pair: moving one open order's
delivery to just before ``as_of`` — a planted leak of the kind a snapshot's ``status``
invites — changes the list, so the check can fail.
"""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.warn import warn_buyers

pytestmark = pytest.mark.slow  # two simulated lists of 300 sellers, ~10 s

AS_OF = pd.Timestamp("2024-06-30")


@pytest.fixture(scope="module")
def tables(marketplace) -> dict[str, pd.DataFrame]:
    return {k: v.copy() for k, v in marketplace.items() if k != "truth"}


@pytest.fixture(scope="module")
def bad_sellers(marketplace) -> list[str]:
    truth = marketplace["truth"]
    return truth.loc[truth["is_fraud"] | truth["is_counterfeit"], "seller_id"].tolist()


@pytest.fixture(scope="module")
def listed(tables, bad_sellers) -> pd.DataFrame:
    rows = warn_buyers(tables, bad_sellers, as_of=AS_OF)
    assert len(rows) > 20  # not vacuous
    return rows


def _rewrite_future(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every step at or after AS_OF moved later, every later order cancelled at once."""
    out = dict(tables)
    orders = tables["orders"].copy()
    for col in ("delivered_at", "refunded_at", "cancelled_at"):
        later = orders[col] >= AS_OF
        orders.loc[later, col] = orders.loc[later, col] + pd.Timedelta(days=10)
    new = orders["created_at"] >= AS_OF
    orders.loc[new, "status"] = "cancelled"
    orders.loc[new, "delivered_at"] = pd.NaT
    orders.loc[new, "refunded_at"] = pd.NaT
    orders.loc[new, "cancelled_at"] = orders.loc[new, "created_at"] + pd.Timedelta(hours=1)
    out["orders"] = orders
    listings = tables["listings"].copy()
    future = listings["created_at"] >= AS_OF
    listings.loc[future, "price"] = listings.loc[future, "price"] * 0.1
    out["listings"] = listings
    return out


def test_rewriting_the_future_changes_nothing(tables, bad_sellers, listed):
    again = warn_buyers(_rewrite_future(tables), bad_sellers, as_of=AS_OF)
    pd.testing.assert_frame_equal(again, listed)


def test_a_planted_leak_is_caught(tables, bad_sellers, listed):
    orders = tables["orders"].copy()
    victim = listed["order_id"].iloc[0]
    row = orders["order_id"] == victim
    orders.loc[row, "status"] = "delivered"
    orders.loc[row, "delivered_at"] = AS_OF - pd.Timedelta(seconds=1)
    leaked = warn_buyers({**tables, "orders": orders}, bad_sellers, as_of=AS_OF)
    assert victim not in set(leaked["order_id"])
    assert len(leaked) == len(listed) - 1
