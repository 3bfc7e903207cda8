"""Seller plan: types, rings, registration, activity windows, identifiers, behaviour.

Everything is decided per seller, as numpy arrays, before any listing or order exists.
Times are float days since ``start`` (negative = before the period).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskscore.datasets import _catalogue as cat
from riskscore.datasets import _scenario as sc

#: Seller types the simulator knows, in a fixed order (the index is the type code).
SELLER_TYPES: tuple[str, ...] = (
    "legit",
    "discount",
    "new_legit",
    "fake_phone",
    "counterfeit",
    "counterfeit_ring",
    "click_farm",
)
LEGIT, DISCOUNT, NEW_LEGIT, FAKE_PHONE, COUNTERFEIT, RING, CLICK_FARM = range(7)

#: Default shares of seller types.
DEFAULT_MIX: dict[str, float] = {
    "legit": 0.74,
    "discount": 0.06,
    "new_legit": 0.06,
    "fake_phone": 0.03,
    "counterfeit": 0.03,
    "counterfeit_ring": 0.05,
    "click_farm": 0.03,
}

#: Complaint kinds in the order used by rate matrices.
NOT_RECEIVED, CF_KIND, NOT_AS_DESCRIBED, OTHER = range(4)
COMPLAINT_KINDS: tuple[str, ...] = ("not_received", "counterfeit", "not_as_described", "other")

#: Identifier kinds (columns of ``SellerPlan.ids``).
ID_KINDS: tuple[str, ...] = ("payment_account", "device_id", "contact_phone", "return_address")
PAYMENT, DEVICE, PHONE, RETURN = range(4)

# Ring members share each identifier kind with these probabilities (at least one kind).
_RING_SHARE = np.array([0.55, 0.5, 0.45, 0.5])
# Missing identifier rates per kind.
_NULL_RATE = np.array([0.02, 0.04, 0.03, 0.05])


@dataclass
class SellerPlan:
    """Per-seller arrays; index ``i`` is the i-th simulated seller."""

    n: int
    days: int
    kind: np.ndarray  # int8 type code
    ring: np.ndarray  # int64 ring index, -1 when none
    n_rings: int
    camouflaged: np.ndarray  # bool
    reg: np.ndarray  # registration, days
    bad_start: np.ndarray  # when bad behaviour starts (nan for good sellers)
    act_a: np.ndarray  # first day with orders (integer valued)
    act_b: np.ndarray  # day after the last day with orders (integer valued)
    growing: np.ndarray  # bool: order rate grows over the window
    region: np.ndarray  # index into cat.REGIONS
    primary: np.ndarray  # main category index
    ids: np.ndarray  # (n, 4) int64 identifier counters, -1 = missing
    n_id_values: np.ndarray  # (4,) counters used per identifier kind
    label_at: np.ndarray  # seller label decision time (inf = never)
    label_kind: np.ndarray  # 0 counterfeit, 1 fraud
    n_orders: np.ndarray  # int64 orders to simulate
    n_farm: np.ndarray  # of which click-farm orders
    n_ring_orders: np.ndarray  # of which ring-pool orders
    n_listings: np.ndarray  # int64
    rates: np.ndarray  # (n, 4) base complaint rate per kind
    cf_extra: np.ndarray  # extra counterfeit complaint rate on counterfeit listings
    nr_extra: np.ndarray  # extra not_received rate (fake phone shops)
    cancel: np.ndarray  # cancellation rate
    replica: np.ndarray  # share of counterfeit titles with replica words
    price_level: np.ndarray  # seller-wide price factor
    role: np.ndarray  # int8 scenario role code (_scenario.ROLES), 0 = none
    warmup: int = 0  # days of simulated history before the period

    @property
    def first_day(self) -> int:
        """First simulated day (``-warmup``): orders may start there."""
        return -int(self.warmup)

    @property
    def is_bad(self) -> np.ndarray:
        """Fraud or counterfeit sellers."""
        return self.kind >= FAKE_PHONE

    @property
    def is_counterfeit(self) -> np.ndarray:
        """Counterfeit sellers (solo and ring, camouflaged or not)."""
        return (self.kind == COUNTERFEIT) | (self.kind == RING)

    @property
    def list_from(self) -> np.ndarray:
        """Earliest time a listing may go up: registration, or just before going bad."""
        start = np.where(self.is_bad, np.nan_to_num(self.bad_start) - 2.0, self.reg)
        return np.maximum(self.reg, start)


def type_counts(n: int, shares: np.ndarray) -> np.ndarray:
    """Split ``n`` sellers by ``shares`` with largest remainders (deterministic ties)."""
    raw = n * shares / shares.sum()
    base = np.floor(raw).astype(np.int64)
    extra = n - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:extra]] += 1
    return base


def _groups(rng: np.random.Generator, m: int, low: int, high: int) -> np.ndarray:
    """Cut ``m`` items into consecutive groups of ``low..high`` items; return group ids."""
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    sizes = rng.integers(low, high + 1, size=m // low + 1)
    ends = np.cumsum(sizes)
    k = int(np.searchsorted(ends, m))  # group holding the last item
    sizes = sizes[: k + 1].copy()
    sizes[k] = m - (ends[k - 1] if k > 0 else 0)
    if k > 0 and sizes[k] < low:  # fold a short tail into the previous group
        sizes[k - 1] += sizes[k]
        sizes = sizes[:k]
    return np.repeat(np.arange(len(sizes)), sizes)


def _choice(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    cum = np.cumsum(weights / weights.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size), side="right")


def plan_sellers(
    rng: np.random.Generator,
    n: int,
    days: int,
    shares: np.ndarray,
    *,
    camouflage: float,
    label_coverage: float,
    label_noise: float,
    orders_per_seller: float,
    earliest: float,
    scenario: sc.Scenario | None = None,
    srng: np.random.Generator | None = None,
    warmup: int = 0,
    wrng: np.random.Generator | None = None,
) -> SellerPlan:
    """Draw every per-seller decision of the simulation.

    ``earliest`` is the first allowed registration time (days since start). The switches
    of ``scenario`` draw from ``srng`` only, so without them ``rng`` sees the same draws.

    ``warmup`` (days) turns on the steady state (:func:`_steady_state`): shops that sell
    before the period do so from a time in ``[-warmup, 0)``, bad shops start and stop
    before it too, and enforcement may decide during it. Its draws come from ``wrng``
    only, so with ``warmup=0`` the plan is what it was before warm-ups existed.
    """
    d = float(days)
    w = float(warmup)
    wrng = wrng if wrng is not None else np.random.default_rng(0)
    scen = scenario or sc.Scenario()
    srng = srng if srng is not None else np.random.default_rng(0)
    kind = rng.permutation(np.repeat(np.arange(7), type_counts(n, shares))).astype(np.int8)
    role = np.zeros(n, dtype=np.int8)
    if scen.honest_lookalikes:
        # Some honest shops become scale-model shops, some more become discounters.
        u = srng.random(n)
        legit_share = max(float(np.mean(kind == LEGIT)), 1e-9)
        model_p = sc.SCALE_MODEL_SHARE / legit_share
        disc_p = model_p + sc.EXTRA_DISCOUNT_SHARE / legit_share
        role[(kind == LEGIT) & (u < model_p)] = sc.SCALE_MODEL
        kind = np.where((kind == LEGIT) & (u >= model_p) & (u < disc_p), DISCOUNT, kind)
        kind = kind.astype(np.int8)
        role[kind == DISCOUNT] = sc.DISCOUNTER
    legitish = kind <= NEW_LEGIT
    bad = kind >= FAKE_PHONE
    cf = (kind == COUNTERFEIT) | (kind == RING)

    # Rings: members in (random) index order cut into groups of 3..15 shops.
    members = np.flatnonzero(kind == RING)
    ring = np.full(n, -1, dtype=np.int64)
    ring[members] = _groups(rng, len(members), 3, 15)
    n_rings = int(ring.max()) + 1 if len(members) else 0
    camouflaged = (kind == RING) & (rng.random(n) < camouflage)
    if scen.camouflage:
        camouflaged = kind == RING
        role[camouflaged] = sc.HIDDEN_RING

    # Registration and activity windows.
    u = rng.random((8, n))
    reg_old = -(14.0 + 8 * 365.0 * u[0] ** 1.6)
    reg_new = u[1] * max(d - 14.0, 1.0)
    reg = np.where(u[2] < 0.82, reg_old, reg_new)
    reg = np.where(kind == NEW_LEGIT, reg_new, reg)
    # Bad shops: most open during the period and turn bad within days; some are aged
    # accounts (bought or dormant) that wake up at any time in the period.
    aged = (kind != FAKE_PHONE) & (u[3] < 0.2)
    # Fake-phone shops open during the period; other bad shops may predate it slightly,
    # so the period starts with some of them already active.
    lead = np.where(kind == FAKE_PHONE, 0.0, 120.0)
    fresh_reg = -lead + u[4] * (max(d - 10.0, 1.0) + lead)
    lag = np.where(kind == FAKE_PHONE, 2.0 + 18.0 * u[5], 10.0 * u[5])
    bad_start = np.where(aged, u[6] * max(d - 10.0, 1.0), fresh_reg + lag)
    bad_start = np.minimum(bad_start, d - 1.0)
    reg = np.where(bad, np.where(aged, -(30.0 + 3 * 365.0 * u[7]), fresh_reg), reg)
    bad_start = np.where(bad, bad_start, np.nan)
    opened = np.full(n, np.nan)  # honest shops' first selling day, when before the period
    quit_at = np.full(n, np.inf)  # bad shops that stop on their own
    if w > 0:
        reg, bad_start, opened, quit_at = _steady_state(
            wrng, kind, reg, bad_start, aged, w, d, lead
        )
    fraud = (kind == FAKE_PHONE) | (kind == CLICK_FARM)
    split = sc.DRIFT_SPLIT * d
    if scen.drift:
        # Fraud turns bad in the first part of the period only (registration moves along).
        shift = np.where(fraud, np.minimum(bad_start, d) * sc.DRIFT_SPLIT - bad_start, 0.0)
        bad_start = bad_start + shift
        reg = reg + shift
        role[fraud] = sc.EARLY_FRAUD
    takeover = np.zeros(n, dtype=bool)
    if scen.concept_shift:
        # Fake-phone shops that start after the split are taken-over dormant accounts,
        # registered years ago, pricing at market: the features a model learnt on earlier
        # fake-phone shops (new, half price) no longer describe them.
        takeover = (kind == FAKE_PHONE) & (bad_start >= sc.CONCEPT_SPLIT * d)
        reg = np.where(takeover, bad_start - (200.0 + 1500.0 * srng.random(n)), reg)
        role[takeover] = sc.TAKEOVER
    reg = np.maximum(reg, earliest)

    opened = np.maximum(opened, earliest)
    first_day = np.where(np.isnan(opened), np.maximum(reg, 0.0), opened)
    act_a = np.where(bad, np.maximum(bad_start, -w), first_day)
    act_b = np.full(n, d)
    u = rng.random((3, n))
    churn = (legitish & (kind != NEW_LEGIT)) & (u[0] < 0.06)
    # Churn falls in the period (the warm-up has none: every shop it holds is still there).
    in_a = np.maximum(act_a, 0.0)
    act_b = np.where(churn, in_a + u[1] * (d - in_a), act_b)
    act_b = np.minimum(act_b, np.maximum(quit_at, act_a))
    burst = 7.0 + 14.0 * u[2]
    act_b = np.where(kind == FAKE_PHONE, np.minimum(act_a + burst, d), act_b)
    if scen.drift:
        # ... and stops soon after the split.
        stop = split + 14.0 * srng.random(n)
        act_b = np.where(fraud, np.maximum(np.minimum(act_b, stop), act_a), act_b)

    # Seller labels: a share of bad sellers, some weeks after going bad; enforcement
    # closes the shop. A few ordinary sellers are labelled by mistake (not closed).
    u = rng.random((6, n))
    label_at = np.full(n, np.inf)
    label_on = bad & (u[0] < label_coverage)
    # Shops that went bad before the period and are still open get decided early in it.
    # (With a warm-up, enforcement works during it too: no pile-up at the start.)
    floor = 1.0 + 59.0 * u[5] if w == 0 else -w
    due = np.maximum(bad_start + 20.0 + 100.0 * u[1], floor)
    if scen.label_noise:
        v = srng.random((3, n))
        delay = 20.0 + sc.LABEL_DELAY_MEDIAN * np.exp(sc.LABEL_DELAY_SIGMA * srng.normal(size=n))
        due = np.maximum(bad_start + delay, floor)
        label_on = label_on & (v[0] >= sc.LABEL_MISSING)
    label_at = np.where(label_on, due, label_at)
    closed = label_on & (label_at < d)
    act_b = np.where(closed, np.minimum(act_b, label_at), act_b)
    label_kind = np.where((kind == FAKE_PHONE) | (kind == CLICK_FARM), 1, 0).astype(np.int8)
    first = np.maximum(reg, 0.0) + 10.0
    noisy = legitish & (u[2] < label_noise) & (first < d)
    if scen.label_noise:
        label_kind = np.where(label_on & (v[1] < sc.LABEL_FLIP), 1 - label_kind, label_kind)
        noisy = legitish & (v[2] < max(label_noise, sc.LABEL_FALSE)) & (first < d)
    if scen.honest_lookalikes:
        noisy = noisy & (role != sc.SCALE_MODEL) & (role != sc.DISCOUNTER)
    label_at = np.where(noisy, first + u[3] * (d - first), label_at)
    label_kind = np.where(noisy, (u[4] < 0.3).astype(np.int8), label_kind)

    act_a = np.ceil(act_a)
    act_b = np.floor(act_b)
    active = np.clip(act_b - act_a, 0.0, None)
    # Days in the period: ``orders_per_seller`` sets the volume there, warm-up or not.
    active_in = np.clip(act_b - np.maximum(act_a, 0.0), 0.0, None) if w > 0 else active

    # Volumes: a heavy-tailed shop size scaled by how long the shop sells.
    size = np.exp(rng.normal(0.0, 1.0, n) - 0.5)
    mult = np.array([1.0, 1.3, 0.7, 0.0, 0.8, 0.6, 0.6])[kind]
    expected = size * mult * active_in / d
    u = rng.random((3, n))
    burst_total = (0.4 + 0.8 * u[0]) * np.where(burst > 0, np.minimum(active / burst, 1.0), 0)
    expected = np.where(kind == FAKE_PHONE, burst_total, expected)
    farm_share = np.where(kind == CLICK_FARM, 0.35 + 0.4 * u[1], 0.0)
    expected = expected / (1.0 - farm_share)
    ring_share = np.where(kind == RING, 0.08 + 0.22 * u[2], 0.0)
    total = expected.sum()
    if w > 0:  # the same pace over the whole selling window, warm-up included
        full = np.where(kind == FAKE_PHONE, burst_total, size * mult * active / d)
        expected = full / (1.0 - farm_share)
    if total > 0:
        expected *= n * orders_per_seller / total
    n_orders = rng.poisson(expected).astype(np.int64)
    n_orders[active <= 0] = 0
    n_farm = rng.binomial(n_orders, farm_share).astype(np.int64)
    n_ring_orders = rng.binomial(n_orders - n_farm, ring_share).astype(np.int64)
    n_listings = np.where(
        kind == FAKE_PHONE,
        2 + rng.poisson(4.0, n),
        1 + rng.poisson(2.0 + 7.0 * np.sqrt(size)),
    ).astype(np.int64)

    # Where they sell, and what.
    region_w = np.array([w for _, w in cat.REGIONS])
    boost = np.array([cat.BAD_REGION_BOOST.get(r, 1.0) for r, _ in cat.REGIONS])
    region = np.where(
        (kind == FAKE_PHONE) | cf,
        _choice(rng, region_w * boost, n),
        _choice(rng, region_w, n),
    )
    if n_rings:
        ring_region = _choice(rng, region_w * boost, n_rings)
        same = (ring >= 0) & (rng.random(n) < 0.7)
        region = np.where(same, ring_region[np.maximum(ring, 0)], region)
    primary = np.where(
        cf,
        _choice(rng, np.array(cat.COUNTERFEIT_WEIGHTS), n),
        _choice(rng, np.array(cat.MARKET_WEIGHTS), n),
    )
    primary = np.where(kind == FAKE_PHONE, 0, primary)
    if scen.camouflage:
        # Hidden ring members register where ordinary shops do.
        region = np.where(camouflaged, _choice(srng, region_w, n), region)
    if scen.concept_shift:
        region = np.where(takeover, _choice(srng, region_w, n), region)
    if scen.honest_lookalikes:
        primary = np.where(role == sc.SCALE_MODEL, cat.CATEGORIES.index("toys"), primary)

    ids, n_id_values = _identifiers(rng, kind, ring, n_rings)

    # Behaviour: complaint rates per kind, cancellations, title habits, price level.
    if scen.drift:
        # Counterfeiters that turn bad after the split have learnt to look ordinary.
        late = cf & (bad_start >= split) & ~camouflaged
        camouflaged = camouflaged | late
        role[late] = sc.LATE_QUIET
    hidden = camouflaged & scen.camouflage
    u = rng.random((4, n))
    total_rate = np.where(
        (kind == DISCOUNT) | camouflaged, 0.008 + 0.017 * u[0], 0.005 + 0.015 * u[0]
    )
    shares_by_kind = np.array(
        [
            [0.17, 0.06, 0.47, 0.30],  # legit
            [0.15, 0.20, 0.40, 0.25],  # discount
            [0.17, 0.06, 0.47, 0.30],  # new_legit
            [0.00, 0.05, 0.50, 0.45],  # fake_phone
            [0.17, 0.06, 0.47, 0.30],  # counterfeit (plus cf_extra)
            [0.17, 0.06, 0.47, 0.30],  # counterfeit_ring (plus cf_extra)
            [0.17, 0.06, 0.47, 0.30],  # click_farm (organic orders)
        ]
    )[kind]
    shares_by_kind = np.where(camouflaged[:, None], [0.12, 0.23, 0.40, 0.25], shares_by_kind)
    if scen.camouflage:
        # Hidden ring members draw complaints like ordinary shops, of ordinary kinds.
        total_rate = np.where(hidden, 0.005 + 0.015 * u[0], total_rate)
        shares_by_kind = np.where(hidden[:, None], [0.17, 0.06, 0.47, 0.30], shares_by_kind)
    rates = total_rate[:, None] * shares_by_kind
    cf_extra = np.where(cf & ~camouflaged, 0.05 + 0.17 * u[1], 0.0)
    nr_extra = np.where(kind == FAKE_PHONE, 0.6 + 0.3 * u[2], 0.0)
    cancel = np.array([0.02, 0.025, 0.02, 0.15, 0.03, 0.03, 0.015])[kind]
    cancel = np.where(takeover, 0.02, cancel)
    replica = np.where(cf & ~camouflaged, 0.6 * u[3] ** 1.5, 0.0)
    price_level = np.exp(rng.normal(0.0, 0.03, n))

    return SellerPlan(
        n=n,
        days=days,
        kind=kind,
        ring=ring,
        n_rings=n_rings,
        camouflaged=camouflaged,
        reg=reg,
        bad_start=bad_start,
        act_a=act_a,
        act_b=act_b,
        growing=kind == NEW_LEGIT,
        region=region,
        primary=primary,
        ids=ids,
        n_id_values=n_id_values,
        label_at=label_at,
        label_kind=label_kind,
        n_orders=n_orders,
        n_farm=n_farm,
        n_ring_orders=n_ring_orders,
        n_listings=n_listings,
        rates=rates,
        cf_extra=cf_extra,
        nr_extra=nr_extra,
        cancel=cancel,
        replica=replica,
        price_level=price_level,
        role=role,
        warmup=int(warmup),
    )


def _steady_state(
    rng: np.random.Generator,
    kind: np.ndarray,
    reg: np.ndarray,
    bad_start: np.ndarray,
    aged: np.ndarray,
    w: float,
    d: float,
    lead: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Move the plan into a steady state over a warm-up of ``w`` days before the period.

    - Honest shops registered before the period opened (first listing, first order) at a
      uniform time in ``[-w, 0)``: shops open at a constant pace across the warm-up, about
      the pace of new shops in the period when ``w`` is 2-3 years. An account registered
      earlier sat dormant until then (its registration stays); one registered later is
      moved back to the day its shop opened.
    - Bad shops other than fake-phone bursts (whose burst is the pattern) turn bad at a
      uniform time in ``[-lead, d - 10)``, aged accounts too (not only during the period),
      sell from then, in the warm-up when that is before the period, and quit 20-120 days
      later if enforcement has not closed them first (as long as enforcement takes): as
      many are active at the start of the period as later in it.

    Returns (registration, bad start, honest opening day or nan, quit time or inf).
    """
    n = len(kind)
    u = rng.random((3, n))
    honest_old = (kind < NEW_LEGIT) & (reg < 0)
    opened = np.where(honest_old, -w * u[0], np.nan)
    reg = np.where(honest_old, np.fmin(reg, opened), reg)
    bad = kind >= FAKE_PHONE
    renew = bad & aged
    aged_start = -lead + u[1] * (max(d - 10.0, 1.0) + lead)
    bad_start = np.where(renew, np.minimum(aged_start, d - 1.0), bad_start)
    # An aged account was registered at least 30 days before it turns bad.
    reg = np.where(renew, np.minimum(reg, bad_start - 30.0), reg)
    quit_at = np.where(bad & (kind != FAKE_PHONE), bad_start + 20.0 + 100.0 * u[2], np.inf)
    return reg, bad_start, opened, quit_at


def _identifiers(
    rng: np.random.Generator, kind: np.ndarray, ring: np.ndarray, n_rings: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return identifier counters per seller and kind; equal counters are shared values.

    Every seller starts with its own value. Then ordinary reasons to share (families,
    shop-operating agencies, logistics return centres, one marketplace-wide returns hub)
    and ring controllers overwrite some of them.
    """
    n = len(kind)
    ids = np.tile(np.arange(n, dtype=np.int64)[:, None], (1, 4))
    next_value = np.full(4, n, dtype=np.int64)
    own = np.ones((n, 4), dtype=bool)

    def new_values(k: int, count: int) -> np.ndarray:
        values = next_value[k] + np.arange(count, dtype=np.int64)
        next_value[k] += count
        return values

    legitish = kind <= NEW_LEGIT
    # Families: 2-3 shops of one household share a phone, an account, an address.
    fam = np.flatnonzero(legitish & (rng.random(n) < 0.04))
    fam_group = _groups(rng, len(fam), 2, 3)
    n_fam = int(fam_group.max()) + 1 if len(fam) else 0
    share = rng.random((n_fam, 4)) < np.array([0.5, 0.4, 0.7, 0.4])
    share[~share.any(axis=1), PHONE] = True
    for k in range(4):
        values = new_values(k, n_fam)
        hit = share[fam_group, k]
        ids[fam[hit], k] = values[fam_group[hit]]
        own[fam[hit], k] = False

    # Agencies operating 3-10 shops from one device.
    agency = np.flatnonzero(legitish & (rng.random(n) < 0.04))
    agency_group = _groups(rng, len(agency), 3, 10)
    n_agency = int(agency_group.max()) + 1 if len(agency) else 0
    ids[agency, DEVICE] = new_values(DEVICE, n_agency)[agency_group]
    own[agency, DEVICE] = False

    # Logistics return centres (any seller) and one marketplace-wide returns hub.
    n_centres = max(2, n // 300)
    centre_w = 1.0 / np.arange(1, n_centres + 1)
    u = rng.random(n)
    centre = _choice(rng, centre_w, n)
    centres = new_values(RETURN, n_centres)
    use_centre = (u < 0.08) & own[:, RETURN]
    ids[use_centre, RETURN] = centres[centre[use_centre]]
    hub = new_values(RETURN, 1)[0]
    use_hub = (u >= 0.08) & (u < 0.10) & own[:, RETURN]
    ids[use_hub, RETURN] = hub
    own[use_centre | use_hub, RETURN] = False

    # Ring controllers: 1-3 values per kind; each member shares some kinds (>= 1).
    members = np.flatnonzero(ring >= 0)
    if n_rings:
        pool_size = rng.integers(1, np.array([3, 4, 3, 3]), size=(n_rings, 4))
        u = rng.random((len(members), 4))
        share = u < _RING_SHARE
        forced = rng.integers(0, 4, size=len(members))
        share[np.arange(len(members)), forced] |= ~share.any(axis=1)
        pick_u = rng.random((len(members), 4))
        for k in range(4):
            offsets = np.concatenate([[0], np.cumsum(pool_size[:, k])[:-1]])
            pool = new_values(k, int(pool_size[:, k].sum()))
            r = ring[members]
            # Most members use the controller's main value; some a second one.
            j = np.where(
                pick_u[:, k] < 0.7, 0, np.floor(pick_u[:, k] * pool_size[r, k]).astype(np.int64)
            )
            j = np.minimum(j, pool_size[r, k] - 1)
            hit = share[:, k]
            ids[members[hit], k] = pool[offsets[r[hit]] + j[hit]]
            own[members[hit], k] = False

    missing = own & (rng.random((n, 4)) < _NULL_RATE)
    ids[missing] = -1
    return ids, next_value
