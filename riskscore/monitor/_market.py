"""Marketplace statistics: how the marketplace's own rates moved since training.

Per-feature PSI sees the marketplace only through the features, mixed with how each
seller moved. A marketplace-wide change — a complaint form that loses its "counterfeit"
option, fake-phone bursts that stop — is plainer in the marketplace's own rates, and
features relative to the marketplace (a seller's rate as a multiple of the market's) do
not show it at all. These statistics watch the marketplace itself.

:func:`market_summary` measures, over the ``window_days`` before ``as_of`` (30 by default):
orders per selling seller, complaints per order (all kinds and per kind), and the share of
those orders refunded / cancelled before ``as_of`` (when the orders table has
``refunded_at`` / ``cancelled_at``). :func:`market_profile` keeps them at each reference
cutoff (the training and test cutoffs); :func:`riskscore.monitor.compare` with
``market=`` compares a run's summary with that range. The range, not one value, is the
reference: these rates move from month to month on their own (on the simulator, 1,500
sellers, complaints per order ranged 0.034-0.038 over three monthly cutoffs, carried by a
few fake-phone bursts), so a finding needs the run's value to lie a multiple outside it
(``Thresholds.watch_market`` 1.5x, ``act_market`` 2x).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from riskscore.features.complaints import KINDS
from riskscore.monitor._errors import MonitorError

__all__ = ["MARKET_WINDOW_DAYS", "market_profile", "market_summary"]

#: Days before ``as_of`` the marketplace statistics are measured over.
MARKET_WINDOW_DAYS = 30

#: Complaint kinds with their own statistic: the complaints family's (``None``: all kinds).
_KINDS = tuple(kind for kind in KINDS if kind is not None)


def _frame(tables: Mapping[str, Any], name: str, columns: Iterable[str]) -> pd.DataFrame | None:
    table = tables.get(name)
    if table is None:
        return None
    if not isinstance(table, pd.DataFrame):
        raise MonitorError(
            f"market_summary: table {name!r} must be a pandas DataFrame (load the folder "
            f"with riskscore.io.load_tables); got {type(table).__name__}"
        )
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise MonitorError(
            f"market_summary: table {name!r} lacks column(s) {missing}; the data contract "
            "(docs/data-contract.md) lists them"
        )
    return table


def market_summary(
    tables: Mapping[str, Any], as_of: Any, *, window_days: int = MARKET_WINDOW_DAYS
) -> dict[str, float]:
    """Return the marketplace statistics over the ``window_days`` before ``as_of``.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables (``orders`` needed; ``complaints`` optional).
    as_of : timestamp-like
        Only rows created in ``[as_of - window_days, as_of)`` count.
    window_days : int, default 30

    Returns
    -------
    dict of str to float
        ``orders_per_seller``, ``complaint_rate`` and ``complaint_rate:<kind>`` (with a
        complaints table), ``refund_rate`` / ``cancel_rate`` (with ``refunded_at`` /
        ``cancelled_at``). NaN where the window holds no order.

    Examples
    --------
    >>> orders = pd.DataFrame({"seller_id": ["S1", "S1", "S2", "S3"],
    ...     "created_at": pd.to_datetime(["2024-05-20", "2024-05-25", "2024-05-26",
    ...                                   "2024-01-01"])})
    >>> complaints = pd.DataFrame({"seller_id": ["S1"], "kind": ["counterfeit"],
    ...     "created_at": pd.to_datetime(["2024-05-28"])})
    >>> stats = market_summary({"orders": orders, "complaints": complaints}, "2024-06-01")
    >>> stats["orders_per_seller"], round(stats["complaint_rate:counterfeit"], 3)
    (1.5, 0.333)
    """
    if not isinstance(tables, Mapping):
        raise MonitorError("market_summary needs a mapping of table name to DataFrame")
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise MonitorError(f"market_summary: window_days must be an int >= 1; got {window_days!r}")
    try:
        end = pd.Timestamp(as_of)
    except (TypeError, ValueError) as err:
        raise MonitorError(f"market_summary: as_of {as_of!r} is not a time ({err})") from None
    start = end - pd.Timedelta(days=window_days)
    orders = _frame(tables, "orders", ("seller_id", "created_at"))
    if orders is None:
        raise MonitorError("market_summary needs the 'orders' table")
    created = pd.to_datetime(orders["created_at"])
    inside = ((created >= start) & (created < end)).to_numpy()
    n = int(inside.sum())
    nan = float("nan")
    out: dict[str, float] = {
        "orders_per_seller": n / orders.loc[inside, "seller_id"].nunique() if n else nan
    }
    complaints = _frame(tables, "complaints", ("kind", "created_at"))
    if complaints is not None:
        at = pd.to_datetime(complaints["created_at"])
        kinds = complaints.loc[((at >= start) & (at < end)).to_numpy(), "kind"].astype(str)
        out["complaint_rate"] = len(kinds) / n if n else nan
        for kind in _KINDS:
            out[f"complaint_rate:{kind}"] = int((kinds == kind).sum()) / n if n else nan
    for status, column in (("refund", "refunded_at"), ("cancel", "cancelled_at")):
        if column in orders.columns:
            when = pd.to_datetime(orders.loc[inside, column])
            out[f"{status}_rate"] = int((when < end).sum()) / n if n else nan
    return out


def market_profile(
    tables: Mapping[str, Any], cutoffs: Iterable[Any], *, window_days: int = MARKET_WINDOW_DAYS
) -> dict[str, Any]:
    """Return the marketplace statistics at each reference cutoff, for the reference.

    Pass the result to :func:`riskscore.monitor.build_reference` /
    :func:`riskscore.monitor.reference_from_result` as ``market=``.

    Returns
    -------
    dict
        ``window_days``, ``as_of`` (the cutoffs, ISO strings) and ``stats``: per statistic
        its value at each cutoff.

    Examples
    --------
    >>> orders = pd.DataFrame({"seller_id": ["S1", "S2"],
    ...     "created_at": pd.to_datetime(["2024-04-20", "2024-05-20"])})
    >>> market_profile({"orders": orders}, ["2024-05-01", "2024-06-01"])["stats"]
    {'orders_per_seller': [1.0, 1.0]}
    """
    try:
        moments = [pd.Timestamp(c) for c in cutoffs]
    except (TypeError, ValueError) as err:
        raise MonitorError(
            f"market_profile: cutoffs must be times, e.g. ['2024-03-01', '2024-04-01'] ({err})"
        ) from None
    if not moments:
        raise MonitorError("market_profile needs at least one cutoff")
    summaries = [market_summary(tables, m, window_days=window_days) for m in moments]
    names = list(dict.fromkeys(k for s in summaries for k in s))
    return {
        "window_days": window_days,
        "as_of": [m.isoformat() for m in moments],
        "stats": {k: [float(s.get(k, math.nan)) for s in summaries] for k in names},
    }
