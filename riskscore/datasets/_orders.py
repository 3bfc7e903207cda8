"""Orders and complaints: who buys what, when, where it ships, and what goes wrong.

One row per order is drawn with array operations only (no Python loop per order or per
seller). Times are float days since ``start``.

Each order has a life: paid at ``t``, shipped 0.1-2 days later, delivered 1-6 days after
shipping, unless it is cancelled (within hours, at most 3 days), lost or never sent (fake
phone shops), or refunded: 1-14 days after a complaint, 2-28 days after delivery for a quiet
return, 7-35 days after the order when it never arrived. The tables are a snapshot at the
end of the period: ``status`` is the latest step before it, and ``delivered_at``,
``refunded_at`` and ``cancelled_at`` hold the steps taken before it (missing otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from riskscore.datasets import _catalogue as cat
from riskscore.datasets._listings import ListingPlan
from riskscore.datasets._sellers import (
    CF_KIND,
    CLICK_FARM,
    COUNTERFEIT,
    FAKE_PHONE,
    NEW_LEGIT,
    NOT_RECEIVED,
    RING,
    SellerPlan,
)

#: Order status codes, in the order of ``riskscore.schema.ORDER_STATUSES``.
PAID, SHIPPED, DELIVERED, REFUNDED, CANCELLED = range(5)
ORGANIC, FARM, RING_POOL = range(3)

#: Share of ordinary orders placed by the marketplace's few "power buyers".
POWER_BUYER_SHARE = 0.005


@dataclass
class OrderPlan:
    """Per-order arrays sorted by time, plus the counters behind buyer/address ids."""

    seller: np.ndarray
    listing: np.ndarray
    buyer: np.ndarray
    address: np.ndarray  # -1 = missing
    quantity: np.ndarray
    amount: np.ndarray
    t: np.ndarray
    status: np.ndarray
    delivered: np.ndarray  # nan = not delivered (yet)
    refunded: np.ndarray  # nan = not refunded (yet)
    cancelled: np.ndarray  # nan = not cancelled (yet)
    first_order: np.ndarray  # per listing: time of its first order (inf = none)
    n_buyers: int
    n_addresses: int


@dataclass
class ComplaintPlan:
    """Per-complaint arrays (unsorted)."""

    order: np.ndarray  # index into the sorted orders, -1 = not tied to an order
    seller: np.ndarray
    kind: np.ndarray
    t: np.ndarray


def day_weights(start: pd.Timestamp, days: int) -> np.ndarray:
    """Relative order volume per calendar day: weekends, shopping festivals, New Year."""
    dates = pd.date_range(start, periods=days, freq="D")
    month = dates.month.to_numpy()
    day = dates.day.to_numpy()
    w = np.where(dates.day_of_week.to_numpy() >= 5, 1.08, 1.0)
    w = w * np.where((month == 11) & (day == 11), 3.0, 1.0)
    w = w * np.where((month == 11) & ((day == 10) | (day == 12)), 1.6, 1.0)
    w = w * np.where((month == 11) & (day < 10), 1.15, 1.0)
    w = w * np.where((month == 6) & (day == 18), 2.2, 1.0)
    w = w * np.where((month == 6) & ((day == 17) | (day == 19)), 1.4, 1.0)
    w = w * np.where((month == 12) & (day == 12), 1.5, 1.0)
    for year in sorted(set(dates.year.tolist())):
        new_year = cat.SPRING_FESTIVAL.get(year)
        if new_year is None:
            continue
        offset = ((dates - pd.Timestamp(new_year)).days).to_numpy()
        w = w * np.where((offset >= -5) & (offset <= 7), 0.5, 1.0)
    return w


def _exclusive_cumsum(x: np.ndarray) -> np.ndarray:
    out = np.zeros(len(x), dtype=np.int64)
    if len(x) > 1:
        np.cumsum(x[:-1], out=out[1:])
    return out


def _within(u: np.ndarray, count: np.ndarray | int) -> np.ndarray:
    """Integer in ``[0, count)`` from uniforms ``u``."""
    return np.minimum((u * count).astype(np.int64), np.maximum(count - 1, 0))


def simulate_orders(
    rng: np.random.Generator,
    sellers: SellerPlan,
    listings: ListingPlan,
    start: pd.Timestamp,
) -> tuple[OrderPlan, ComplaintPlan]:
    """Draw all orders and complaints."""
    d = float(sellers.days)
    n_orders = sellers.n_orders
    total = int(n_orders.sum())
    # int32 row indices halve the memory traffic of the gathers below.
    s = np.repeat(np.arange(sellers.n, dtype=np.int32), n_orders)
    pos = np.arange(total) - np.repeat(_exclusive_cumsum(n_orders), n_orders)
    n_org = n_orders - sellers.n_farm - sellers.n_ring_orders
    src = np.where(
        pos < n_org[s],
        ORGANIC,
        np.where(pos < (n_org + sellers.n_farm)[s], FARM, RING_POOL),
    ).astype(np.int8)
    del pos
    kind = sellers.kind[s]
    legitish = kind <= NEW_LEGIT

    # When: a day inside the shop's window, weighted by the marketplace calendar (rising
    # for growing shops), then an hour (evening peak for real buyers, flat for farms).
    # (Day k of the calendar is day k + first_day of the simulation: the warm-up first.)
    first_day = sellers.first_day
    calendar = day_weights(start + pd.Timedelta(days=first_day), sellers.days - first_day)
    cum_days = np.concatenate([[0.0], np.cumsum(calendar)])
    a = sellers.act_a.astype(np.int64)[s] - first_day
    b = sellers.act_b.astype(np.int64)[s] - first_day
    v = rng.random(total)
    v = np.where(sellers.growing[s], np.sqrt(v), v)
    day = np.searchsorted(cum_days, cum_days[a] + (cum_days[b] - cum_days[a]) * v, "right") - 1
    day = np.clip(day, a, b - 1) + first_day
    del a, b, v
    hour_cum = np.cumsum(cat.HOUR_WEIGHTS) / np.sum(cat.HOUR_WEIGHTS)
    hour = np.searchsorted(hour_cum, rng.random(total), side="right")
    hour = np.where(src == FARM, _within(rng.random(total), 24), hour)
    t = day + (np.minimum(hour, 23) + rng.random(total)) / 24.0
    del day, hour

    # Who: organic buyers (a few repeat customers, rare power buyers), ring buyer pools,
    # click-farm accounts.
    # (Weighted draws with replacement = multinomial counts in a random order; ~10x
    # faster than a binary search per order into millions of buyers.)
    n_org_buyers = max(20, int(np.ceil(0.4 * total)))
    activity = np.exp(rng.normal(0.0, 0.8, n_org_buyers))
    per_buyer = rng.multinomial(total, activity / activity.sum())
    buyer = np.repeat(np.arange(n_org_buyers, dtype=np.int64), per_buyer)[rng.permutation(total)]
    del activity, per_buyer
    n_power = min(n_org_buyers, max(3, sellers.n // 400))
    power = (src == ORGANIC) & legitish & (rng.random(total) < POWER_BUYER_SHARE)
    buyer[power] = _within(rng.random(int(power.sum())), n_power)
    del power

    n_rings = sellers.n_rings
    ring_buyers = 4 + rng.integers(0, 17, size=n_rings)
    ring_buyer_off = n_org_buyers + _exclusive_cumsum(ring_buyers)
    farm_buyers = np.where(sellers.kind == CLICK_FARM, 3 + rng.integers(0, 8, sellers.n), 0)
    farm_buyer_off = n_org_buyers + int(ring_buyers.sum()) + _exclusive_cumsum(farm_buyers)
    n_buyers = n_org_buyers + int(ring_buyers.sum()) + int(farm_buyers.sum())

    # Where it ships: most buyers use one address; rings and farms ship to a few.
    u = rng.random(n_org_buyers)
    buyer_addrs = 1 + (u > 0.82).astype(np.int64) + (u > 0.96)
    buyer_addr_off = _exclusive_cumsum(buyer_addrs)
    n_buyer_addrs = int(buyer_addrs.sum())
    ring_addrs = 2 + rng.integers(0, 4, size=n_rings)
    ring_addr_off = n_buyer_addrs + _exclusive_cumsum(ring_addrs)
    farm_addrs = np.where(sellers.kind == CLICK_FARM, 1 + rng.integers(0, 3, sellers.n), 0)
    farm_addr_off = n_buyer_addrs + int(ring_addrs.sum()) + _exclusive_cumsum(farm_addrs)
    n_addresses = n_buyer_addrs + int(ring_addrs.sum()) + int(farm_addrs.sum())

    u = rng.random((2, total))
    address = buyer_addr_off[buyer] + np.where(u[0] < 0.85, 0, _within(u[1], buyer_addrs[buyer]))
    ring_rows = np.flatnonzero(src == RING_POOL)
    if len(ring_rows):
        r = sellers.ring[s[ring_rows]]
        buyer[ring_rows] = ring_buyer_off[r] + _within(u[0][ring_rows], ring_buyers[r])
        address[ring_rows] = ring_addr_off[r] + _within(u[1][ring_rows], ring_addrs[r])
    farm_rows = np.flatnonzero(src == FARM)
    if len(farm_rows):
        fs = s[farm_rows]
        buyer[farm_rows] = farm_buyer_off[fs] + _within(u[0][farm_rows] ** 1.5, farm_buyers[fs])
        address[farm_rows] = farm_addr_off[fs] + _within(u[1][farm_rows], farm_addrs[fs])
    address[rng.random(total) < 0.003] = -1
    del u, ring_rows, farm_rows

    # What: a listing of the shop, by listing popularity.
    listing = _pick_listings(rng, s, listings, sellers.n_listings)
    category = listings.category[listing]
    multi = (rng.random(total) < np.array(cat.MULTI_UNIT)[category]) & (src != FARM)
    quantity = np.where(multi, 1 + rng.geometric(0.55, total), 1).astype(np.int64)
    u = rng.random((2, total))
    coupon = np.where(u[0] < 0.15, 0.85 + 0.13 * u[1], 1.0)
    amount = np.round(listings.price[listing] * quantity * coupon, 2)
    del multi, category, coupon, u

    # What goes wrong: at most one complaint per order.
    ckind = np.full(total, -1, dtype=np.int8)
    acc = np.zeros(total)
    u = rng.random(total)
    not_farm = src != FARM
    for k in range(4):
        rate = sellers.rates[:, k][s]
        if k == NOT_RECEIVED:
            rate = rate + sellers.nr_extra[s]
        elif k == CF_KIND:
            rate = rate + sellers.cf_extra[s] * listings.is_counterfeit[listing]
        rate = rate * not_farm
        hit = (ckind < 0) & (u < acc + rate)
        ckind[hit] = k
        acc += rate
    del acc, rate, hit

    outcome, undelivered = _outcomes(rng, sellers, s, src, kind, ckind)
    del kind, src

    # Complaints are filed days after the order; later than the period = not seen yet.
    rows = np.flatnonzero(ckind >= 0)
    ck = ckind[rows]
    lo = np.array([10.0, 3.0, 2.0, 0.5])[ck]
    span = np.array([20.0, 22.0, 13.0, 19.5])[ck]
    ct = t[rows] + lo + span * rng.random(len(rows))
    complained_at = np.full(total, np.nan)
    complained_at[rows] = ct
    # The timeline draws from a generator jumped ahead of ``rng``, so every other table
    # (and every draw after this one) is what it was before orders had timestamps.
    life = np.random.Generator(cast(np.random.PCG64, rng.bit_generator).jumped())
    status, delivered, refunded, cancelled = _timeline(
        life, outcome, undelivered, complained_at, t, d
    )
    del outcome, undelivered, complained_at
    keep = ct < d
    rows, ck, ct = rows[keep], ck[keep], ct[keep]

    # Sort orders by time (stable), and point complaints at sorted positions.
    # Sorting integer seconds (the stored resolution) is faster than sorting floats.
    order = np.argsort(np.floor(t * 86_400.0).astype(np.int64), kind="stable")
    rank = np.empty(total, dtype=np.int64)
    rank[order] = np.arange(total)
    corder = np.where(rng.random(len(rows)) < 0.08, -1, rank[rows])
    complaints = ComplaintPlan(order=corder, seller=s[rows], kind=ck, t=ct)

    first_order = np.full(len(listings.seller), np.inf)
    np.minimum.at(first_order, listing, t)
    orders = OrderPlan(
        seller=s[order],
        listing=listing[order],
        buyer=buyer[order],
        address=address[order],
        quantity=quantity[order],
        amount=amount[order],
        t=t[order],
        status=status[order],
        delivered=delivered[order],
        refunded=refunded[order],
        cancelled=cancelled[order],
        first_order=first_order,
        n_buyers=n_buyers,
        n_addresses=n_addresses,
    )
    return orders, complaints


def _pick_listings(
    rng: np.random.Generator, s: np.ndarray, listings: ListingPlan, counts: np.ndarray
) -> np.ndarray:
    """Pick one of seller ``s``'s listings per order, by listing popularity."""
    seller_l = listings.seller
    start = listings.start
    last = start + counts - 1
    cum = np.cumsum(listings.popularity)
    has = counts > 0
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    group_total = np.where(has, cum[np.maximum(last, 0)] - before, 1.0)
    within = (cum - before[seller_l]) / group_total[seller_l]
    within[last[has]] = 1.0
    key = seller_l + within  # increasing: seller index + share in (0, 1]
    listing = np.searchsorted(key, s + (1.0 - rng.random(len(s))), side="left")
    return np.clip(listing, start[s], last[s])


def _outcomes(
    rng: np.random.Generator,
    sellers: SellerPlan,
    s: np.ndarray,
    src: np.ndarray,
    kind: np.ndarray,
    ckind: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """How each order ends, given time (status code), and whether it never arrives.

    ``SHIPPED`` here means lost on the way (never delivered); ``REFUNDED`` orders that
    never arrived (not-received complaints, fake phone shops) are flagged undelivered.
    """
    total = len(s)
    u = rng.random((4, total))  # the 4th row is unused: it keeps the stream of later draws
    outcome = np.full(total, DELIVERED, dtype=np.int8)
    complained = ckind >= 0
    cancel = np.where(src == FARM, 0.005, sellers.cancel[s])
    cancelled = ~complained & (u[0] < cancel)
    outcome[cancelled] = CANCELLED
    fake = (kind == FAKE_PHONE) & ~complained & ~cancelled
    outcome[fake] = np.where(
        u[1][fake] < 0.4, SHIPPED, np.where(u[1][fake] < 0.7, REFUNDED, DELIVERED)
    )
    cf = (kind == COUNTERFEIT) | (kind == RING)
    quiet_refund = ~complained & ~cancelled & ~fake & (u[1] < np.where(cf, 0.03, 0.01))
    outcome[quiet_refund] = REFUNDED
    refund_p = np.array([0.85, 0.6, 0.45, 0.15, 0.0])[np.where(complained, ckind, 4)]
    refunded = complained & (u[2] < refund_p)
    outcome[refunded] = REFUNDED
    not_received = complained & (ckind == NOT_RECEIVED)
    outcome[not_received & ~refunded] = SHIPPED
    undelivered = (
        (outcome == SHIPPED)
        | (outcome == CANCELLED)
        | ((outcome == REFUNDED) & (fake | not_received))
    )
    return outcome, undelivered


def _timeline(
    rng: np.random.Generator,
    outcome: np.ndarray,
    undelivered: np.ndarray,
    complained_at: np.ndarray,
    t: np.ndarray,
    d: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Status at the end of the period ``d`` and the delivery, refund and cancel times.

    Times are float days, ``nan`` where the step is not taken before ``d``; ``status``
    is the latest step taken before ``d`` (paid, shipped, delivered, refunded, cancelled).
    """
    total = len(t)
    v = rng.random((4, total))
    shipped = t + 0.1 + 1.9 * v[0]
    delivered = np.where(undelivered, np.inf, shipped + 1.0 + 5.0 * v[1])
    # A refund follows the complaint that asked for it, else a quiet return after delivery,
    # else (never arrived, no complaint) the buyer-protection window.
    refunded = np.where(
        ~np.isnan(complained_at),
        np.fmax(complained_at, np.where(undelivered, -np.inf, delivered)) + 1.0 + 13.0 * v[2],
        np.where(undelivered, t + 7.0 + 28.0 * v[2], delivered + 2.0 + 26.0 * v[2]),
    )
    refunded = np.where(outcome == REFUNDED, refunded, np.inf)
    cancelled = np.where(outcome == CANCELLED, t + np.minimum(-0.25 * np.log1p(-v[3]), 3.0), np.inf)
    del v
    status = np.where(shipped < d, SHIPPED, PAID).astype(np.int8)
    status[delivered < d] = DELIVERED
    status[refunded < d] = REFUNDED
    status[cancelled < d] = CANCELLED
    known = [np.where(x < d, x, np.nan) for x in (delivered, refunded, cancelled)]
    return status, known[0], known[1], known[2]
