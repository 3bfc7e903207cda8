"""Point-in-time correctness: events at or after ``as_of`` never change features at ``as_of``.

Hypothesis draws small random marketplaces (including inconsistent ones, e.g. orders
before their listing) and a cutoff, then adds, removes and changes events at or after the
cutoff and shuffles row order. Features at the cutoff must not move. Orders placed before
the cutoff also change after it: a delivery, refund or cancellation at or after ``as_of``
is added, moved or removed, and ``status`` (the latest status) follows it.
"""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskscore.features import build_features

BASE = pd.Timestamp("2024-01-01")
SPAN_HOURS = 24 * 200
TITLES = ["lamp", "Replica AAA watch", "全新高仿 1:1", "原单 bag", "phone"]
TIME_COLUMNS = {
    "sellers": "registered_at",
    "listings": "created_at",
    "orders": "created_at",
    "complaints": "created_at",
    "labels": "decided_at",
}

hours = st.integers(min_value=0, max_value=SPAN_HOURS)


def _stamp(h: int) -> pd.Timestamp:
    return BASE + pd.Timedelta(hours=h)


@st.composite
def marketplaces(draw: Any) -> dict[str, list[dict[str, Any]]]:
    """Row lists of a random marketplace; S1 and L1 exist from the very start."""
    n_sellers = draw(st.integers(1, 5))
    sellers = [
        {"seller_id": f"S{i}", "registered_at": _stamp(0 if i == 1 else draw(hours))}
        for i in range(1, n_sellers + 1)
    ]
    seller_ids = [s["seller_id"] for s in sellers]
    listings = []
    for i in range(1, draw(st.integers(1, 8)) + 1):
        listings.append(
            {
                "listing_id": f"L{i}",
                "seller_id": draw(st.sampled_from(seller_ids)),
                "product_id": draw(st.sampled_from(["P1", "P2", "P3", None])),
                "category": draw(st.sampled_from(["phones", "home"])),
                "brand": draw(st.sampled_from(["Apple", None])),
                "title": draw(st.sampled_from(TITLES)),
                "price": float(draw(st.sampled_from([0, 10, 50, 100, 500]))),
                "created_at": _stamp(0 if i == 1 else draw(hours)),
            }
        )
    return {"sellers": sellers, "listings": listings, **_events(draw, listings, seller_ids)}


#: Order steps with a time column, and the status each one leaves the order in.
STEPS = {"delivered_at": "delivered", "refunded_at": "refunded", "cancelled_at": "cancelled"}

#: Hours from an order to a later step: within the day up to about two months.
step_hours = st.integers(min_value=0, max_value=24 * 60)


def _order_life(draw: Any, created: pd.Timestamp) -> dict[str, Any]:
    """Status and step times of an order placed at ``created`` (steps may be later)."""
    status = draw(st.sampled_from(["paid", "delivered", "refunded", "cancelled"]))
    life: dict[str, Any] = {"status": status}
    if status in ("delivered", "refunded"):
        life["delivered_at"] = created + pd.Timedelta(hours=draw(step_hours))
    if status == "refunded":
        life["refunded_at"] = created + pd.Timedelta(hours=draw(step_hours))
    if status == "cancelled":
        life["cancelled_at"] = created + pd.Timedelta(hours=draw(st.integers(0, 72)))
    return life


def _events(draw: Any, listings: list[dict[str, Any]], seller_ids: list[str]) -> dict[str, Any]:
    orders = []
    for i in range(draw(st.integers(0, 15))):
        listing = draw(st.sampled_from(listings))
        created = _stamp(draw(hours))
        orders.append(
            {
                "order_id": f"O{i}",
                "listing_id": listing["listing_id"],
                "seller_id": listing["seller_id"],
                "buyer_id": draw(st.sampled_from(["B1", "B2", "B3", "B4"])),
                "amount": float(draw(st.sampled_from([0, 5, 20, 100]))),
                "ship_address_id": draw(st.sampled_from(["A1", "A2", None])),
                "created_at": created,
                **_order_life(draw, created),
            }
        )
    complaints = [
        {
            "complaint_id": f"C{i}",
            "seller_id": draw(st.sampled_from(seller_ids)),
            "kind": draw(st.sampled_from(["counterfeit", "not_received", "other"])),
            "created_at": _stamp(draw(hours)),
        }
        for i in range(draw(st.integers(0, 6)))
    ]
    labels = [
        {
            "seller_id": draw(st.sampled_from(seller_ids)),
            "label": draw(st.sampled_from(["counterfeit", "fraud"])),
            "decided_at": _stamp(draw(hours)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    return {"orders": orders, "complaints": complaints, "labels": labels}


def _future_steps(draw: Any, row: dict[str, Any], as_of: pd.Timestamp) -> dict[str, Any]:
    """Return an order placed before ``as_of`` whose steps at or after ``as_of`` changed.

    Steps before ``as_of`` stay; each later step is removed or moved, a new one may be
    taken, and the latest status follows the latest step.
    """
    out = dict(row)
    later = st.integers(min_value=0, max_value=24 * 90)
    for column in STEPS:
        when = out.get(column)
        if when is not None and when >= as_of:
            out[column] = as_of + pd.Timedelta(hours=draw(later)) if draw(st.booleans()) else None
    new_step = draw(st.sampled_from([None, *STEPS]))
    if new_step is not None and out.get(new_step) is None:
        out[new_step] = as_of + pd.Timedelta(hours=draw(later))
    taken = [(out[c], STEPS[c]) for c in STEPS if out.get(c) is not None]
    out["status"] = max(taken)[1] if taken else draw(st.sampled_from(["paid", "shipped"]))
    return out


def _future_edit(draw: Any, rows: dict[str, list[dict[str, Any]]], as_of: pd.Timestamp) -> dict:
    """Drop, change and add rows at or after ``as_of``; shuffle every table."""
    edited: dict[str, list[dict[str, Any]]] = {}
    later = st.integers(
        min_value=int((as_of - BASE) / pd.Timedelta(hours=1)), max_value=SPAN_HOURS + 24
    )
    seller_ids = [s["seller_id"] for s in rows["sellers"]]
    for name, table in rows.items():
        time = TIME_COLUMNS[name]
        out = []
        for row in table:
            if row[time] < as_of:
                out.append(_future_steps(draw, row, as_of) if name == "orders" else dict(row))
            elif not draw(st.booleans()):  # drop it, or keep a changed copy
                changed = dict(row)
                for col, value in changed.items():
                    if isinstance(value, float):
                        changed[col] = value * 3 + 1
                if name == "sellers":
                    changed["registered_at"] = _stamp(draw(later))
                out.append(changed)
        edited[name] = out
    # new future events, built from the same generators and moved to >= as_of
    new = _events(draw, rows["listings"], seller_ids)
    for name, table in new.items():
        for i, row in enumerate(table):
            row[TIME_COLUMNS[name]] = _stamp(draw(later))
            if name == "orders":
                row.update({c: None for c in STEPS}, **_order_life(draw, row["created_at"]))
            for key in ("order_id", "complaint_id"):
                if key in row:
                    row[key] = f"new-{row[key]}-{i}"
            edited[name].append(row)
    edited["listings"].append(
        {**rows["listings"][0], "listing_id": "L-new", "price": 1.0, "created_at": as_of}
    )
    edited["sellers"].append({"seller_id": "S-new", "registered_at": as_of})
    for table in edited.values():
        order = draw(st.permutations(range(len(table))))
        table[:] = [table[i] for i in order]
    return edited


COLUMNS = {
    "sellers": {"seller_id": "str", "region": "str", "registered_at": "datetime64[us]"},
    "listings": {
        "listing_id": "str",
        "seller_id": "str",
        "product_id": "str",
        "category": "str",
        "brand": "str",
        "title": "str",
        "price": "float64",
        "currency": "str",
        "created_at": "datetime64[us]",
    },
    "orders": {
        "order_id": "str",
        "listing_id": "str",
        "seller_id": "str",
        "buyer_id": "str",
        "quantity": "int64",
        "amount": "float64",
        "created_at": "datetime64[us]",
        "ship_address_id": "str",
        "status": "str",
        "delivered_at": "datetime64[us]",
        "refunded_at": "datetime64[us]",
        "cancelled_at": "datetime64[us]",
    },
    "complaints": {
        "complaint_id": "str",
        "order_id": "str",
        "seller_id": "str",
        "kind": "str",
        "created_at": "datetime64[us]",
    },
    "labels": {
        "seller_id": "str",
        "listing_id": "str",
        "label": "str",
        "decided_at": "datetime64[us]",
    },
}
DEFAULTS = {"region": "Zhejiang", "currency": "CNY", "quantity": 1}


def _frames(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pd.DataFrame]:
    out = {}
    for name, table in rows.items():
        dtypes = COLUMNS[name]
        filled = [{c: r.get(c, DEFAULTS.get(c)) for c in dtypes} for r in table]
        frame = pd.DataFrame(filled, columns=list(dtypes))
        for col, dtype in dtypes.items():
            if dtype == "str":
                frame[col] = frame[col].astype("object").astype("str").where(frame[col].notna())
            else:
                frame[col] = frame[col].astype(dtype)
        out[name] = frame
    out["products"] = pd.DataFrame(
        {
            "product_id": ["P1", "P2"],
            "brand": ["Apple", "Apple"],
            "category": ["phones", "phones"],
            "reference_price": [100.0, None],
        }
    )
    return out


def _build(rows: dict[str, list[dict[str, Any]]], entity: str, as_of: pd.Timestamp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return build_features(_frames(rows), entity, as_of=as_of)


def _marketplace_settings(examples: int) -> Any:
    """Hypothesis settings of a property that builds features of drawn marketplaces."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.mark.slow
@pytest.mark.parametrize("entity", ["seller", "listing"])
@_marketplace_settings(25)
@given(data=st.data())
def test_events_at_or_after_as_of_never_change_features(entity: str, data: Any) -> None:
    rows = data.draw(marketplaces())
    as_of = _stamp(data.draw(st.integers(min_value=1, max_value=SPAN_HOURS)))
    before = _build(rows, entity, as_of)
    after = _build(_future_edit(data.draw, rows, as_of), entity, as_of)
    pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=1e-12, atol=0)


def test_an_event_just_before_as_of_does_change_features() -> None:
    """The property is not vacuous: a past order moves the features."""
    rows = {
        "sellers": [{"seller_id": "S1", "registered_at": BASE}],
        "listings": [
            {
                "listing_id": "L1",
                "seller_id": "S1",
                "product_id": None,
                "category": "home",
                "brand": None,
                "title": "lamp",
                "price": 10.0,
                "created_at": BASE,
            }
        ],
        "orders": [],
        "complaints": [],
        "labels": [],
    }
    as_of = BASE + pd.Timedelta(days=10)
    empty = _build(rows, "seller", as_of)
    rows["orders"] = [
        {
            "order_id": "O1",
            "listing_id": "L1",
            "seller_id": "S1",
            "buyer_id": "B1",
            "amount": 10.0,
            "ship_address_id": None,
            "status": "delivered",
            "created_at": as_of - pd.Timedelta(microseconds=1),
        }
    ]
    one = _build(rows, "seller", as_of)
    assert empty.loc["S1", "activity__orders_7d"] == 0.0
    assert one.loc["S1", "activity__orders_7d"] == 1.0


def _refunded_later(steps: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], pd.Timestamp]:
    """One seller with two orders before the cutoff; the second is refunded after it.

    Returns the marketplace at the cutoff, the same marketplace a week later (the refund
    recorded, the status now 'refunded'), and the cutoff.
    """
    as_of = BASE + pd.Timedelta(days=30)
    listing = {
        "listing_id": "L1",
        "seller_id": "S1",
        "product_id": None,
        "category": "home",
        "brand": None,
        "title": "lamp",
        "price": 10.0,
        "created_at": BASE,
    }
    orders = [
        {
            "order_id": f"O{i}",
            "listing_id": "L1",
            "seller_id": "S1",
            "buyer_id": "B1",
            "amount": 10.0,
            "ship_address_id": None,
            "created_at": BASE + pd.Timedelta(days=10 + i),
            "status": "delivered",
            "delivered_at": BASE + pd.Timedelta(days=13 + i),
        }
        for i in range(2)
    ]
    at_cutoff = {
        "sellers": [{"seller_id": "S1", "registered_at": BASE}],
        "listings": [listing],
        "orders": orders,
        "complaints": [],
        "labels": [],
    }
    refund = {"status": "refunded", "refunded_at": as_of + pd.Timedelta(days=2), **steps}
    week_later = {**at_cutoff, "orders": [orders[0], {**orders[1], **refund}]}
    return at_cutoff, week_later, as_of


def _latest_status_only(rows: dict[str, Any]) -> dict[str, pd.DataFrame]:
    frames = _frames(rows)
    frames["orders"] = frames["orders"].drop(columns=list(STEPS))
    return frames


def test_a_refund_after_as_of_changes_nothing_with_refunded_at() -> None:
    at_cutoff, week_later, as_of = _refunded_later({})
    before = _build(at_cutoff, "seller", as_of)
    after = _build(week_later, "seller", as_of)
    pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=1e-12, atol=0)


def test_the_check_catches_a_planted_status_leak() -> None:
    """Without ``refunded_at`` the latest status leaks the later refund, and the check fails.

    The same comparison as the property above, on tables with only the latest status: the
    refund rate at the cutoff moves when a refund recorded after the cutoff is added.
    """
    at_cutoff, week_later, as_of = _refunded_later({})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = build_features(_latest_status_only(at_cutoff), "seller", as_of=as_of)
        after = build_features(_latest_status_only(week_later), "seller", as_of=as_of)
    with pytest.raises(AssertionError, match=r"complaints__refund_rate"):
        pd.testing.assert_frame_equal(before, after, check_exact=False, rtol=1e-12, atol=0)
    same = (before == after) | (before.isna() & after.isna())  # missing rates stay missing
    moved = before.columns[~same.all()].tolist()
    assert moved == ["complaints__refund_rate"]
    assert after.loc["S1", "complaints__refund_rate"] > before.loc["S1", "complaints__refund_rate"]


# -- the rows before as_of of a table sorted by time (pandas: its first rows, by `head`) --


@settings(max_examples=150, deadline=None)
@given(
    times=st.lists(st.one_of(st.none(), hours), max_size=25),
    sort=st.booleans(),
    cut=hours,
)
def test_the_rows_before_as_of_are_the_rows_a_filter_keeps(
    times: list[int | None], sort: bool, cut: int
) -> None:
    import narwhals as nw

    from riskscore.features._context import AsOfContext, sorted_prefix

    stamps = pd.Series([None if h is None else _stamp(h) for h in times], dtype="datetime64[us]")
    if sort:
        stamps = stamps.sort_values(ignore_index=True)  # a missing time sorts last
    orders = pd.DataFrame(
        {"order_id": [f"O{i}" for i in range(len(stamps))], "created_at": stamps}
    ).astype({"order_id": "str"})
    as_of = _stamp(cut).to_pydatetime()
    ctx = AsOfContext({"orders": nw.from_native(orders).lazy()}, as_of=as_of, entity="seller")
    want = orders[orders["created_at"] < _stamp(cut)]
    prefix = sorted_prefix(ctx.frames["orders"], "created_at", as_of)
    has_missing = stamps.isna().any()
    assert (prefix is not None) == (stamps.is_monotonic_increasing and not has_missing)
    for columns in (["order_id"], None):
        got = ctx.table("orders", columns).collect().to_native()
        expected = want if columns is None else want[columns]
        pd.testing.assert_frame_equal(got, expected)  # the same rows, index labels too


@pytest.mark.slow
@_marketplace_settings(15)
@given(data=st.data())
def test_tables_sorted_by_time_give_the_features_of_the_same_rows_shuffled(data: Any) -> None:
    rows = data.draw(marketplaces())
    as_of = _stamp(data.draw(st.integers(min_value=1, max_value=SPAN_HOURS)))
    ordered = {
        name: sorted(table, key=lambda r, c=TIME_COLUMNS[name]: r[c])
        if name in TIME_COLUMNS
        else table
        for name, table in rows.items()
    }
    shuffled = {
        name: [table[i] for i in data.draw(st.permutations(range(len(table))))]
        for name, table in rows.items()
    }
    got, want = _build(ordered, "seller", as_of), _build(shuffled, "seller", as_of)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12, atol=0)
