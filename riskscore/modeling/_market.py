"""The marketplace's own rates across training windows: whether the market itself moved.

Features relative to the marketplace (a seller's complaint rate as a multiple of the
market's) do not show a marketplace-wide change — a complaint form that loses its
"counterfeit" option, a fraud wave that stops. The marketplace statistics of
:func:`riskscore.monitor.market_profile` do, and the same range rule serves the monitor
(a scoring run against the reference cutoffs) and the training diagnostics (the test
windows against the training windows): a value counts as moved only when it lies a
multiple outside the **range** at the reference cutoffs, since these rates move from month
to month on their own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MARKET_ACT", "market_moves", "market_shift", "stat_label"]

#: How far outside the training range a marketplace statistic of a test window must lie
#: for a training finding: the monitor's ``act`` level (``Thresholds.act_market``).
MARKET_ACT = 2.0

_NAMES = {
    "orders_per_seller": "orders per selling seller",
    "complaint_rate": "complaints per order",
    "refund_rate": "share of orders refunded",
    "cancel_rate": "share of orders cancelled",
}


def stat_label(name: str) -> str:
    """Plain words for a statistic's key.

    Examples
    --------
    >>> stat_label("complaint_rate:counterfeit")
    "'counterfeit' complaints per order"
    """
    if name.startswith("complaint_rate:"):
        return f"'{name.split(':', 1)[1]}' complaints per order"
    return _NAMES.get(name, name)


def market_shift(reference: Sequence[float], now: float) -> tuple[float, str, float, float]:
    """How far ``now`` lies outside the reference range, as a ratio (1.0: inside).

    Returns ``(ratio, direction, lowest, highest)``: direction ``"rose"`` / ``"fell"`` /
    ``""``, and the range of the finite reference values (NaN, NaN without any). A rate
    that appears (reference all zero) or vanishes (now zero) is an infinite ratio.

    Examples
    --------
    >>> market_shift([0.02, 0.03], 0.09)
    (3.0, 'rose', 0.02, 0.03)
    >>> market_shift([0.02, 0.03], 0.025)[:2]
    (1.0, '')
    >>> market_shift([0.002, 0.0015], 0.0)[:2]
    (inf, 'fell')
    """
    values = np.asarray(reference, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return 1.0, "", math.nan, math.nan
    lo, hi = float(values.min()), float(values.max())
    if math.isfinite(now) and now > hi:
        return (now / hi if hi > 0 else math.inf), "rose", lo, hi
    if math.isfinite(now) and now < lo:
        return (lo / now if now > 0 else math.inf), "fell", lo, hi
    return 1.0, "", lo, hi


def market_moves(
    profile: Mapping[str, Any],
    reference: Iterable[Any],
    current: Iterable[Any],
    *,
    threshold: float = MARKET_ACT,
) -> pd.DataFrame:
    """Marketplace statistics at the ``current`` cutoffs against their ``reference`` range.

    Parameters
    ----------
    profile : mapping
        :func:`riskscore.monitor.market_profile` over (at least) every cutoff named here:
        ``as_of`` (ISO times) and ``stats`` (per statistic, its value at each cutoff).
    reference, current : iterables of times
        The cutoffs that set the range (the training windows) and those compared with it
        (the test windows).
    threshold : float, default :data:`MARKET_ACT`
        A row is ``moved`` when its ratio is at least this (an infinite ratio — a rate that
        vanished or appeared — always is).

    Returns
    -------
    pandas.DataFrame
        One row per statistic and current cutoff: ``stat``, ``as_of``, ``now``, ``ref_min``,
        ``ref_max``, ``ratio``, ``direction``, ``moved``; empty when the profile holds
        none of the cutoffs on either side.

    Examples
    --------
    >>> profile = {"as_of": ["2024-03-01", "2024-04-01", "2024-10-01"],
    ...            "stats": {"complaint_rate:counterfeit": [0.002, 0.003, 0.0],
    ...                      "complaint_rate": [0.030, 0.034, 0.036]}}
    >>> moves = market_moves(profile, ["2024-03-01", "2024-04-01"], ["2024-10-01"])
    >>> moves[["stat", "ratio", "direction", "moved"]].to_dict("records")[0]
    {'stat': 'complaint_rate:counterfeit', 'ratio': inf, 'direction': 'fell', 'moved': True}
    >>> bool(moves["moved"].iloc[1])
    False
    """
    at = {pd.Timestamp(t): i for i, t in enumerate(profile.get("as_of") or [])}
    ref = [at[t] for t in sorted({pd.Timestamp(t) for t in reference}) if t in at]
    cur = [(t, at[t]) for t in sorted({pd.Timestamp(t) for t in current}) if t in at]
    rows = []
    if ref and cur:
        for name, values in (profile.get("stats") or {}).items():
            for when, i in cur:
                ratio, direction, lo, hi = market_shift([values[j] for j in ref], values[i])
                rows.append(
                    {
                        "stat": name,
                        "as_of": when,
                        "now": float(values[i]),
                        "ref_min": lo,
                        "ref_max": hi,
                        "ratio": ratio,
                        "direction": direction,
                        "moved": bool(ratio >= threshold),
                    }
                )
    columns = ["stat", "as_of", "now", "ref_min", "ref_max", "ratio", "direction", "moved"]
    return pd.DataFrame(rows, columns=columns)
