"""Fast proxy outcomes: when the label-free estimate can no longer be trusted.

:func:`~riskscore.monitor.estimate_performance` reads precision off the calibrated
probabilities, which is right only while the relation between features and fraud holds
(covariate shift). Under concept shift — the same features, a new fraud pattern — it keeps
reporting good health while fraud walks past the model. Enforcement labels take weeks;
some outcomes arrive within days: non-delivery complaints and refunds. They are not
labels (an honest shop has refunds too), but their rate among the sellers the model left
unflagged is what concept shift moves.

:func:`proxy_outcomes` measures, for one scoring run as of ``as_of``, the share of
trading sellers with a proxy outcome in the following ``days`` — flagged and unflagged
separately — next to what the model expected there (the mean calibrated probability).
:func:`proxy_check` compares a run with a baseline run whose estimate was confirmed (for
example the first scoring run after training, once its labels matured): when the
unflagged sellers' proxy rate rises well beyond what their probabilities rose, or the
flagged sellers' falls well below, the estimate is flagged as unreliable (``act``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskscore._validation import check_int, check_real, fail
from riskscore.monitor._compare import Finding
from riskscore.monitor._errors import MonitorError
from riskscore.monitor._reference import FLAG_BANDS

__all__ = ["PROXY_KINDS", "ProxyOutcomes", "proxy_check", "proxy_outcomes"]

#: Complaint kinds that count as a proxy outcome (refunds count too).
PROXY_KINDS: tuple[str, ...] = ("not_received",)
#: The two groups of a scoring run.
GROUPS: tuple[str, ...] = ("flagged", "unflagged")


@dataclass(frozen=True)
class ProxyOutcomes:
    """Proxy-outcome rates of one scoring run, flagged and unflagged sellers apart.

    Attributes
    ----------
    as_of : str
        The scoring time; outcomes count in ``(as_of, as_of + days]``.
    days : int
    groups : dict
        ``flagged`` / ``unflagged`` → ``sellers`` (trading in the window), ``with_proxy``,
        ``rate`` and ``expected`` (the mean calibrated probability of those sellers).
    """

    as_of: str
    days: int
    groups: dict[str, dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None)."""
        out = asdict(self)
        for g in out["groups"].values():
            for k, v in g.items():
                if isinstance(v, float) and not math.isfinite(v):
                    g[k] = None
        return out


def proxy_outcomes(
    scores: pd.DataFrame,
    tables: Mapping[str, Any],
    *,
    as_of: Any,
    days: int = 14,
    flag_bands: Sequence[str] = FLAG_BANDS,
) -> ProxyOutcomes:
    """Measure fast proxy outcomes after a scoring run.

    A seller has a proxy outcome when, in ``(as_of, as_of + days]``, a buyer filed a
    non-delivery complaint (:data:`PROXY_KINDS`) or one of its orders was refunded
    (``orders.refunded_at``; without that column refunds are not counted). Only sellers
    with an order in the window count (a closed shop has no outcomes to show).

    Parameters
    ----------
    scores : DataFrame
        The run: ``entity_id`` or ``seller_id`` (seller ids), ``score`` (calibrated
        probability) and ``band`` — a ``score_many`` / ``riskscore score`` output.
    tables : mapping of str to DataFrame
        ``orders`` and ``complaints`` covering the window after ``as_of``.
    as_of : datetime-like
    days : int, default 14
    flag_bands : sequence of str, default ("high", "critical")

    Returns
    -------
    ProxyOutcomes

    Raises
    ------
    MonitorError
        Missing columns or tables, or a bad ``days``.

    Examples
    --------
    >>> scores = pd.DataFrame({"entity_id": ["S1", "S2", "S3"], "score": [0.9, 0.1, 0.1],
    ...     "band": ["high", "low", "low"]})
    >>> orders = pd.DataFrame({"order_id": ["O1", "O2", "O3"], "seller_id": ["S1", "S2", "S3"],
    ...     "created_at": pd.to_datetime(["2024-06-02"] * 3)})
    >>> complaints = pd.DataFrame({"seller_id": ["S1", "S3"], "kind": ["not_received"] * 2,
    ...     "created_at": pd.to_datetime(["2024-06-05", "2024-06-30"])})
    >>> out = proxy_outcomes(scores, {"orders": orders, "complaints": complaints},
    ...     as_of="2024-06-01")
    >>> out.groups["flagged"]["rate"], out.groups["unflagged"]["rate"]
    (1.0, 0.0)
    """
    where = "proxy_outcomes"
    cols = set(scores.columns) if isinstance(scores, pd.DataFrame) else set()
    key = "entity_id" if "entity_id" in cols else "seller_id"
    if not {key, "score", "band"} <= cols:
        got = list(scores.columns)[:6] if isinstance(scores, pd.DataFrame) else scores
        raise fail(
            "scores",
            where,
            "a DataFrame with entity_id (or seller_id), score and band",
            got,
            error=MonitorError,
        )
    days = check_int(days, "days", where, minimum=1, error=MonitorError)
    if not isinstance(tables, Mapping) or "orders" not in tables:
        raise MonitorError(
            "proxy_outcomes needs the marketplace tables with 'orders' (and 'complaints') "
            "covering the days after as_of, e.g. riskscore.io.load_tables(folder)"
        )
    start = pd.Timestamp(as_of)
    end = start + pd.Timedelta(days=days)
    orders = pd.DataFrame(tables["orders"])
    made = pd.to_datetime(orders["created_at"])
    trading = set(orders.loc[(made > start) & (made <= end), "seller_id"].astype(str))
    hit: set[str] = set()
    if "complaints" in tables:
        comp = pd.DataFrame(tables["complaints"])
        filed = pd.to_datetime(comp["created_at"])
        inside = (filed > start) & (filed <= end) & comp["kind"].isin(PROXY_KINDS)
        hit |= set(comp.loc[inside, "seller_id"].astype(str))
    if "refunded_at" in orders.columns:
        refunded = pd.to_datetime(orders["refunded_at"])
        hit |= set(orders.loc[(refunded > start) & (refunded <= end), "seller_id"].astype(str))
    ids = scores[key].astype(str)
    active = ids.isin(trading).to_numpy()
    proxy = ids.isin(hit).to_numpy()
    p = pd.to_numeric(scores["score"], errors="coerce").to_numpy(dtype=float)
    flagged = scores["band"].astype(str).isin([str(b) for b in flag_bands]).to_numpy()
    groups: dict[str, dict[str, float]] = {}
    for name, member in zip(GROUPS, (flagged, ~flagged), strict=True):
        rows = member & active
        n = int(rows.sum())
        k = int((rows & proxy).sum())
        groups[name] = {
            "sellers": float(n),
            "with_proxy": float(k),
            "rate": k / n if n else math.nan,
            "expected": float(np.nanmean(p[rows])) if n else math.nan,
        }
    return ProxyOutcomes(as_of=str(start), days=days, groups=groups)


def proxy_check(
    current: ProxyOutcomes,
    baseline: ProxyOutcomes,
    *,
    max_ratio: float = 1.5,
    level: float = 0.95,
) -> list[Finding]:
    """Say whether proxy outcomes moved against the label-free estimate.

    For each group, the proxy rate's change from ``baseline`` to ``current`` is set
    against the change the model expected (its mean probability there). The estimate is
    flagged as unreliable (``act``) when the unflagged sellers' proxy rate grew more than
    ``max_ratio`` times what their probabilities grew, or the flagged sellers' fell below
    ``1 / max_ratio`` of it — and the change is significant (a two-proportion z-test at
    ``level``), so noise on a few sellers does not fire it.

    Parameters
    ----------
    current, baseline : ProxyOutcomes
    max_ratio : float, default 1.5
    level : float, default 0.95

    Returns
    -------
    list of Finding
        Empty when the proxy outcomes agree with the estimate.

    Examples
    --------
    >>> g = lambda n, k, e: {"sellers": n, "with_proxy": k, "rate": k / n, "expected": e}
    >>> base = ProxyOutcomes("2024-03-01", 14, {"flagged": g(100, 40, 0.5),
    ...     "unflagged": g(4000, 40, 0.01)})
    >>> now = ProxyOutcomes("2024-09-01", 14, {"flagged": g(100, 38, 0.5),
    ...     "unflagged": g(4000, 160, 0.01)})
    >>> [f.kind for f in proxy_check(now, base)], proxy_check(base, base)
    (['proxy'], [])
    """
    for name, value in (("current", current), ("baseline", baseline)):
        if not isinstance(value, ProxyOutcomes):
            raise fail(name, "proxy_check", "a ProxyOutcomes", value, error=MonitorError)
    max_ratio = check_real(max_ratio, "max_ratio", "proxy_check", low=1.0, error=MonitorError)
    level = check_real(
        level,
        "level",
        "proxy_check",
        low=0,
        high=1,
        low_open=True,
        high_open=True,
        error=MonitorError,
    )
    from statistics import NormalDist

    z_crit = NormalDist().inv_cdf(1 - (1 - level) / 2)
    findings = []
    for name in GROUPS:
        now, base = current.groups[name], baseline.groups[name]
        if not (now["sellers"] and base["sellers"]) or not base["rate"]:
            continue
        expected_change = (
            now["expected"] / base["expected"] if base["expected"] and now["expected"] else 1.0
        )
        change = now["rate"] / base["rate"]
        ratio = change / expected_change
        z = _z_two_proportions(now, base)
        against = ratio > max_ratio if name == "unflagged" else ratio < 1 / max_ratio
        if against and abs(z) >= z_crit:
            direction = "rose" if change > 1 else "fell"
            findings.append(
                Finding(
                    level="act",
                    kind="proxy",
                    subject=name,
                    value=float(ratio),
                    message=(
                        f"the label-free estimate cannot be trusted: among {name} sellers "
                        f"the share with a non-delivery complaint or refund within "
                        f"{current.days} days {direction} from {base['rate']:.1%} "
                        f"({int(base['with_proxy'])} of {int(base['sellers'])}, as of "
                        f"{baseline.as_of[:10]}) to {now['rate']:.1%} ({int(now['with_proxy'])} "
                        f"of {int(now['sellers'])}), while the model's probabilities there "
                        f"moved x{expected_change:.2f}; fraud the model does not describe may "
                        "be passing (concept shift): review a sample of those sellers and "
                        "plan a retrain"
                    ),
                )
            )
    return findings


def _z_two_proportions(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    n1, n2 = a["sellers"], b["sellers"]
    p1, p2 = a["with_proxy"] / n1, b["with_proxy"] / n2
    pooled = (a["with_proxy"] + b["with_proxy"]) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (p1 - p2) / se if se > 0 else 0.0
