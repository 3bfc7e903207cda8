"""Skew: values shared by 10,000 sellers must not blow up the seller web.

One device, one power buyer and one parcel locker are each held by all 10,000 sellers of
the marketplace below. Expanding each of them into seller pairs would make 49,995,000
pairs per value (about 150 million in all): minutes and gigabytes on any backend. The
hub cap (``NetworkParams.identifier_cap`` / ``order_cap``) drops such values *before*
any pair is formed, on the sparse path and on the join path alike, so the build takes
about as long as reading the rows, and the few real links come out exactly.
"""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd
import pytest

from riskscore.features._backend import prepare
from riskscore.features._context import AsOfContext
from riskscore.features.network import NetworkParams, network_frame

N = 10_000
AS_OF = datetime(2024, 6, 1)
T0 = pd.Timestamp("2024-01-01")
LATE = pd.Timestamp("2024-08-01")  # after the cutoff


def _skewed() -> dict[str, pd.DataFrame]:
    """10,000 sellers on one device, one power buyer and one parcel locker.

    - S0 and S1 share payment account P-RING (an identifier link).
    - S0 and S2 share buyers B-a and B-b, shipped to A-a and A-b (buyer and delivery
      address links; every seller also has one ordinary buyer of its own, so the overlap
      is far beyond chance).
    - S3 orders from B-a and B-b only after the cutoff: no link.
    - S-late registers after the cutoff holding P-RING: not a node, no link.
    """
    ids = [f"S{i}" for i in range(N)]
    sellers = pd.DataFrame(
        {
            "seller_id": [*ids, "S-late"],
            "registered_at": [T0] * N + [LATE],
            "region": "Zhejiang",
            "payment_account": ["P-RING", "P-RING", *(f"P{i}" for i in range(2, N)), "P-RING"],
            "device_id": "HUB-DEVICE",
            "contact_phone": None,
            "return_address": [f"R{i}" for i in range(N + 1)],
        }
    )
    day = pd.Timedelta(days=1)
    rows = [
        *[(s, "POWER", "LOCKER", T0 + day) for s in ids],
        *[(s, f"U{i}", f"AU{i}", T0 + 2 * day) for i, s in enumerate(ids)],
        ("S0", "B-a", "A-a", T0 + 3 * day),
        ("S0", "B-b", "A-b", T0 + 4 * day),
        ("S2", "B-a", "A-a", T0 + 5 * day),
        ("S2", "B-b", "A-b", T0 + 6 * day),
        ("S3", "B-a", "A-a", LATE),
        ("S3", "B-b", "A-b", LATE),
    ]
    orders = pd.DataFrame(
        {
            "order_id": [f"O{i}" for i in range(len(rows))],
            "listing_id": [f"L-{r[0]}" for r in rows],
            "seller_id": [r[0] for r in rows],
            "buyer_id": [r[1] for r in rows],
            "quantity": 1,
            "amount": 10.0,
            "created_at": pd.to_datetime([r[3] for r in rows]),
            "ship_address_id": [r[2] for r in rows],
            "status": "delivered",
        }
    )
    listings = pd.DataFrame(
        {
            "listing_id": ["L-S0"],
            "seller_id": ["S0"],
            "product_id": ["X"],
            "category": ["bags"],
            "brand": ["b"],
            "title": ["t"],
            "price": [10.0],
            "currency": ["CNY"],
            "created_at": [T0],
        }
    )
    return {"sellers": sellers, "listings": listings, "orders": orders}


def _naive_pairs(tables: dict[str, pd.DataFrame]) -> int:
    """Seller pairs a self-join on every shared value would form before aggregating."""
    sellers, orders = tables["sellers"], tables["orders"]
    held = [
        sellers[["seller_id", c]].rename(columns={c: "key"}).assign(link=c)
        for c in ("payment_account", "device_id")
    ] + [
        orders[["seller_id", c]].rename(columns={c: "key"}).assign(link=c)
        for c in ("buyer_id", "ship_address_id")
    ]
    n = pd.concat(held).drop_duplicates().groupby(["link", "key"]).size()
    return int((n * (n - 1) // 2).sum())


def _check(got: pd.DataFrame) -> None:
    got = got.set_index("seller_id")
    assert len(got) == N  # S-late is not a node
    assert (got["network__device_links"] == 0).all()  # the shared device is a hub
    linked = got.index[got["network__linked_sellers"] > 0].tolist()
    assert sorted(linked) == ["S0", "S1", "S2"]
    s0 = got.loc["S0"]
    assert s0["network__payment_links"] == 1
    assert s0["network__buyer_links"] == 1  # S2; POWER is a hub, S3's orders are late
    assert s0["network__ship_address_links"] == 1  # S2; LOCKER is a hub
    assert s0["network__linked_sellers"] == 2
    assert s0["network__component_size"] == 2
    # one payment account (2 holders) + two buyers + two addresses (2 holders each)
    weights = {str(k): float(v) for k, v in got["network__link_weight"].items()}
    assert math.isclose(weights["S0"], 5 / math.log(3), rel_tol=1e-12)
    assert math.isclose(weights["S1"], 1 / math.log(3), rel_tol=1e-12)
    assert got.loc["S3", "network__linked_sellers"] == 0


def _frame(tables: dict[str, pd.DataFrame], backend: str, method: str) -> pd.DataFrame:
    frames, _ = prepare(tables, backend)
    ctx = AsOfContext(frames, as_of=AS_OF, entity="seller")
    return network_frame(ctx, NetworkParams(method=method), neighbours=False)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def skewed() -> dict[str, pd.DataFrame]:
    return _skewed()


def test_the_naive_expansion_is_infeasible(skewed: dict[str, pd.DataFrame]) -> None:
    # what the test below protects against: three values held by all 10,000 sellers
    assert _naive_pairs(skewed) >= 3 * (N * (N - 1) // 2)


@pytest.mark.parametrize("method", ["auto", "join"])
@pytest.mark.parametrize("backend", ["pandas", "polars", "duckdb"])
def test_hub_values_are_capped_before_any_pair(
    skewed: dict[str, pd.DataFrame], backend: str, method: str
) -> None:
    pytest.importorskip(backend)
    _check(_frame(skewed, backend, method))


def test_the_cap_is_what_stops_the_expansion(skewed: dict[str, pd.DataFrame]) -> None:
    # the check can fail: 300 of the sellers with a cap above their shared device pair up
    # on it, every seller with the 299 others (44,850 pairs)
    small = {
        "sellers": skewed["sellers"].iloc[:300],
        "listings": skewed["listings"],
        "orders": skewed["orders"].iloc[:0],
    }
    frames, _ = prepare(small, "pandas")
    ctx = AsOfContext(frames, as_of=AS_OF, entity="seller")
    capped = network_frame(ctx, NetworkParams(), neighbours=False)
    assert (capped["network__device_links"] == 0).all()
    uncapped = network_frame(ctx, NetworkParams(identifier_cap=300), neighbours=False)
    assert (uncapped["network__device_links"] == 299).all()


@pytest.mark.spark
@pytest.mark.slow
def test_spark_caps_hub_values_before_the_join(
    skewed: dict[str, pd.DataFrame], spark: object
) -> None:
    _check(_frame(skewed, "spark", "auto"))
