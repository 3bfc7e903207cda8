"""Enforcement as platforms run it: reviews the current system triggers, plus random audits.

The ``selective_enforcement`` scenario replaces the simulator's seller labels (a fixed
share of bad sellers, each labelled some weeks after turning bad) by review rounds:

- every :data:`ROUND_DAYS` days the current champion (a noisy detector that sees the
  loud patterns well and the quiet ones badly, :data:`VISIBILITY`) sends its top
  :data:`REVIEW_SHARE` of the active sellers to review (``source="model"``);
- a random audit draws each active seller with probability :data:`AUDIT_SHARE`
  (twice that for sellers younger than :data:`NEW_SELLER_DAYS`), whatever its score,
  and stores that probability (``source="random_audit"``, ``selection_probability``);
- a review confirms the kind the seller is bad for and clears the other kind; an honest
  seller is cleared of both, except that :data:`FALSE_CONFIRM` of them are confirmed by
  mistake, and :data:`APPEAL_REVERSED` of those mistakes are reversed on appeal
  (``outcome="reversed"`` with ``reversed_at``).

So every bad seller the champion does not see stays unlabelled: metrics on all labels
are measured on the sample the champion chose, and only the audit rows estimate the
true rates (with inverse-probability weights where the audit rate varies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskscore.datasets._sellers import CLICK_FARM, COUNTERFEIT, FAKE_PHONE, RING, SellerPlan

__all__ = ["Reviews", "review_rounds"]

#: Days between review rounds.
ROUND_DAYS = 30.0
#: Share of the active sellers the champion sends to review each round.
REVIEW_SHARE = 0.03
#: Audit probability per round of an established seller (new sellers: twice this).
AUDIT_SHARE = 0.02
#: Sellers younger than this many days are audited at twice the rate.
NEW_SELLER_DAYS = 90.0
#: Share of reviewed honest sellers confirmed by mistake.
FALSE_CONFIRM = 0.03
#: Share of those mistakes reversed on appeal (10-40 days after the decision).
APPEAL_REVERSED = 0.6
#: How well the champion sees each bad kind (signal added to a standard normal score).
VISIBILITY = {FAKE_PHONE: 2.5, COUNTERFEIT: 2.0, RING: 1.2, CLICK_FARM: 0.6}
#: Outcome codes, in :data:`riskscore.schema.LABEL_OUTCOMES` order.
CONFIRMED, CLEARED, REVERSED = 0, 1, 2
#: Source codes, in :data:`riskscore.schema.LABEL_SOURCES` order.
SOURCE_MODEL, SOURCE_AUDIT = 0, 5


@dataclass(frozen=True)
class Reviews:
    """One row per (review, label kind): who, which kind, when and what was decided."""

    seller: np.ndarray  # int64 seller index
    kind: np.ndarray  # int8 0 counterfeit, 1 fraud
    t: np.ndarray  # decision time, days
    outcome: np.ndarray  # int8 CONFIRMED / CLEARED / REVERSED
    source: np.ndarray  # int8 SOURCE_MODEL / SOURCE_AUDIT
    reversed_t: np.ndarray  # float days, nan unless reversed
    probability: np.ndarray  # float audit selection probability, nan for model reviews


def review_rounds(rng: np.random.Generator, sellers: SellerPlan) -> Reviews:
    """Simulate the review rounds over the period (draws from ``rng`` only).

    A seller confirmed (and not reversed) leaves the pool; a cleared one may be reviewed
    again in a later round.
    """
    d = float(sellers.days)
    n = sellers.n
    signal = np.array([VISIBILITY.get(k, 0.0) for k in range(7)])[sellers.kind]
    bad_kind = np.where((sellers.kind == FAKE_PHONE) | (sellers.kind == CLICK_FARM), 1, 0)
    removed = np.zeros(n, dtype=bool)
    rows: list[tuple[np.ndarray, ...]] = []
    for t in np.arange(ROUND_DAYS, d, ROUND_DAYS):
        active = (
            (sellers.reg < t) & (sellers.act_a <= t) & (sellers.act_b > t - ROUND_DAYS) & ~removed
        )
        pool = np.flatnonzero(active)
        if len(pool) == 0:
            continue
        bad_now = sellers.is_bad[pool] & (np.nan_to_num(sellers.bad_start[pool], nan=np.inf) <= t)
        score = rng.normal(size=len(pool)) + np.where(bad_now, signal[pool], 0.0)
        k = max(1, round(REVIEW_SHARE * len(pool)))
        top = np.zeros(len(pool), dtype=bool)
        top[np.argsort(-score, kind="stable")[:k]] = True
        p = np.where(t - sellers.reg[pool] < NEW_SELLER_DAYS, 2 * AUDIT_SHARE, AUDIT_SHARE)
        # the audit draws whatever the score; an audited seller is reviewed by the audit
        # (so its stored probability is the one it was drawn with), not by the champion
        audit = rng.random(len(pool)) < p
        top = top & ~audit
        delay = 5.0 + 10.0 * rng.random(len(pool))
        mistake = ~bad_now & (rng.random(len(pool)) < FALSE_CONFIRM)
        appeal = mistake & (rng.random(len(pool)) < APPEAL_REVERSED)
        appeal_t = t + delay + 10.0 + 30.0 * rng.random(len(pool))
        for chosen, source, prob in ((top, SOURCE_MODEL, np.nan), (audit, SOURCE_AUDIT, p)):
            idx = np.flatnonzero(chosen & (t + delay < d))
            if len(idx) == 0:
                continue
            who = pool[idx]
            when = t + delay[idx]
            probs = np.broadcast_to(prob, len(pool))[idx] if source == SOURCE_AUDIT else None
            for kind in (0, 1):
                hit = (bad_now[idx] & (bad_kind[who] == kind)) | mistake[idx]
                if kind == 1:  # a mistaken confirmation names one kind only
                    hit = hit & ~(mistake[idx] & (bad_kind[who] == 0))
                outcome = np.where(hit, CONFIRMED, CLEARED)
                undone = hit & appeal[idx] & (appeal_t[idx] < d)
                outcome = np.where(undone, REVERSED, outcome)
                rows.append(
                    (
                        who,
                        np.full(len(idx), kind, dtype=np.int8),
                        when,
                        outcome.astype(np.int8),
                        np.full(len(idx), source, dtype=np.int8),
                        np.where(undone, appeal_t[idx], np.nan),
                        probs if probs is not None else np.full(len(idx), np.nan),
                    )
                )
            confirmed = bad_now[idx] | (mistake[idx] & ~appeal[idx])
            removed[who[confirmed]] = True
    if not rows:
        empty = np.zeros(0)
        return Reviews(
            empty.astype(np.int64),
            empty.astype(np.int8),
            empty,
            empty.astype(np.int8),
            empty.astype(np.int8),
            empty,
            empty,
        )
    cols = [np.concatenate(c) for c in zip(*rows, strict=True)]
    return Reviews(
        seller=cols[0].astype(np.int64),
        kind=cols[1].astype(np.int8),
        t=cols[2],
        outcome=cols[3].astype(np.int8),
        source=cols[4].astype(np.int8),
        reversed_t=cols[5],
        probability=cols[6],
    )
