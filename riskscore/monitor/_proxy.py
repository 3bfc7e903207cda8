"""Fast proxy outcomes: when the label-free estimate can no longer be trusted.

:func:`~riskscore.monitor.estimate_performance` reads precision off the calibrated
probabilities, which is right only while the relation between features and fraud holds
(covariate shift). Under concept shift — the same features, a new fraud pattern — it keeps
reporting good health while fraud walks past the model. Enforcement labels take weeks;
some outcomes arrive within days: non-delivery complaints and refunds. They are not
labels (an honest shop has refunds too), but their rate among the sellers the model left
unflagged is what concept shift moves.

:func:`proxy_outcomes` measures, for one scoring run as of ``as_of``, the share of the
orders placed in the following ``days`` that drew a non-delivery complaint — at flagged
and unflagged sellers separately — next to what the model expected there (the mean
calibrated probability).
:func:`proxy_check` compares a run with a baseline run whose estimate was confirmed (for
example the first scoring run after training, once its labels matured): when the
unflagged sellers' proxy rate rises well beyond what their probabilities rose, or the
flagged sellers' falls well below, the estimate is flagged as unreliable (``act``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskscore._validation import check_int, check_real, fail
from riskscore.metrics import roc_auc
from riskscore.monitor._compare import Finding
from riskscore.monitor._errors import MonitorError
from riskscore.monitor._reference import FLAG_BANDS

__all__ = ["PROXY_KINDS", "ProxyOutcomes", "proxy_check", "proxy_outcomes"]

#: Complaint kinds that count as a proxy outcome (refunds count too).
PROXY_KINDS: tuple[str, ...] = ("not_received",)
#: The non-delivery pattern of a seller: at least this many proxy complaints ...
PATTERN_MIN = 2
#: ... making at least this share of its orders around the scoring time.
PATTERN_SHARE = 0.1
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
        ``flagged`` / ``unflagged`` → ``sellers`` (trading in the window), ``orders``
        (placed in it), ``with_proxy`` (of those orders, the ones with a proxy outcome),
        ``rate`` and ``expected`` (the mean calibrated probability of the trading sellers).
    ranking : dict
        ``sellers_with_pattern`` (trading sellers showing the non-delivery pattern),
        ``auc`` (how well the score ranks them above the others) and ``auc_se``.
    """

    as_of: str
    days: int
    groups: dict[str, dict[str, float]]
    ranking: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None)."""
        out = asdict(self)
        for g in [*out["groups"].values(), out["ranking"]]:
            for k, v in g.items():
                if isinstance(v, float) and not math.isfinite(v):
                    g[k] = None
        return out


def proxy_outcomes(
    scores: pd.DataFrame,
    tables: Mapping[str, Any],
    *,
    as_of: Any,
    days: int = 30,
    flag_bands: Sequence[str] = FLAG_BANDS,
    refunds: bool = False,
) -> ProxyOutcomes:
    """Measure fast proxy outcomes after a scoring run.

    The measure is per order: of the orders placed in ``(as_of, as_of + days]`` at the
    group's sellers, the share that drew a non-delivery complaint (:data:`PROXY_KINDS`)
    filed in the same window — and, with ``refunds=True``, the share refunded there too.
    Refunds are off by default: honest shops refund returns all the time (on the
    simulator 8% of trading sellers had one within 14 days), which drowns the signal.
    Orders, not sellers, are counted, because a fake-phone shop sells a burst of orders
    that each go undelivered.

    Parameters
    ----------
    scores : DataFrame
        The run: ``entity_id`` or ``seller_id`` (seller ids), ``score`` (calibrated
        probability) and ``band`` — a ``score_many`` / ``riskscore score`` output.
    tables : mapping of str to DataFrame
        ``orders`` and ``complaints`` covering the window after ``as_of``.
    as_of : datetime-like
    days : int, default 30
    flag_bands : sequence of str, default ("high", "critical")
    refunds : bool, default False
        Count refunded orders (``orders.refunded_at`` in the window) as proxy outcomes.

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
    >>> orders = pd.DataFrame({"order_id": ["O1", "O2", "O3", "O4"],
    ...     "seller_id": ["S1", "S1", "S2", "S3"],
    ...     "created_at": pd.to_datetime(["2024-06-02"] * 4)})
    >>> complaints = pd.DataFrame({"order_id": ["O1", "O4"], "seller_id": ["S1", "S3"],
    ...     "kind": ["not_received"] * 2,
    ...     "created_at": pd.to_datetime(["2024-06-05", "2024-07-30"])})
    >>> out = proxy_outcomes(scores, {"orders": orders, "complaints": complaints},
    ...     as_of="2024-06-01")
    >>> out.groups["flagged"]["rate"], out.groups["unflagged"]["rate"]
    (0.5, 0.0)
    """
    where = "proxy_outcomes"
    key = scores_id_col(scores, where)
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
    # proxy complaints filed in the window: read once, for the rates and the ranking
    proxy = None
    if "complaints" in tables:
        comp = pd.DataFrame(tables["complaints"])
        filed = pd.to_datetime(comp["created_at"])
        proxy = comp[(filed > start) & (filed <= end) & comp["kind"].isin(PROXY_KINDS)]
    window = orders[(made > start) & (made <= end)]
    hit = pd.Series(False, index=window.index)
    if proxy is not None:
        hit |= window["order_id"].isin(set(proxy["order_id"].dropna()))
    if refunds and "refunded_at" in window.columns:
        refunded = pd.to_datetime(window["refunded_at"])
        hit |= ((refunded > start) & (refunded <= end)).fillna(False)
    per_seller = (
        pd.DataFrame({"seller_id": window["seller_id"].astype(str), "hit": hit.to_numpy()})
        .groupby("seller_id")["hit"]
        .agg(["size", "sum"])
    )
    ids = scores[key].astype(str)
    n_orders = per_seller["size"].reindex(ids).fillna(0).to_numpy()
    n_hits = per_seller["sum"].reindex(ids).fillna(0).to_numpy()
    p = pd.to_numeric(scores["score"], errors="coerce").to_numpy(dtype=float)
    flagged = scores["band"].astype(str).isin([str(b) for b in flag_bands]).to_numpy()
    groups: dict[str, dict[str, float]] = {}
    for name, member in zip(GROUPS, (flagged, ~flagged), strict=True):
        trading = member & (n_orders > 0)
        n = float(n_orders[member].sum())
        k = float(n_hits[member].sum())
        groups[name] = {
            "sellers": float(trading.sum()),
            "orders": n,
            "with_proxy": k,
            "rate": k / n if n else math.nan,
            "expected": float(np.nanmean(p[trading])) if trading.any() else math.nan,
        }
    ranking = {"sellers_with_pattern": 0.0, "auc": math.nan, "auc_se": math.nan}
    if proxy is not None:
        span = pd.Timedelta(days=days)
        near = orders[(made > start - span) & (made <= end)]
        auc, se, n_pattern = _pattern_auc(ids, p, near, proxy)
        ranking = {"sellers_with_pattern": float(n_pattern), "auc": auc, "auc_se": se}
    return ProxyOutcomes(as_of=str(start), days=days, groups=groups, ranking=ranking)


def scores_id_col(scores: Any, where: str) -> str:
    """Return the id column of a scoring run (``entity_id`` or ``seller_id``), or raise.

    A run needs that id, ``score`` (calibrated probability) and ``band``.
    """
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
    return key


def _pattern_auc(
    ids: pd.Series, p: np.ndarray, near: pd.DataFrame, proxy: pd.DataFrame
) -> tuple[float, float, int]:
    """AUC of the score for "this seller shows the non-delivery pattern", with its SE.

    The pattern: at least :data:`PATTERN_MIN` of the ``proxy`` complaints (filed in the
    window after the run) making at least :data:`PATTERN_SHARE` of the seller's ``near``
    orders (placed within ``days`` either side of the run); only sellers with such orders
    count. The standard error is Hanley and McNeil's (1982).
    """
    n_orders = near.groupby(near["seller_id"].astype(str)).size()
    n_comp = proxy.groupby(proxy["seller_id"].astype(str)).size()
    trading = ids.isin(n_orders.index).to_numpy()
    k = n_comp.reindex(ids).fillna(0).to_numpy()
    n = n_orders.reindex(ids).fillna(0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (k >= PATTERN_MIN) & (k / n >= PATTERN_SHARE)
    y, score = y[trading], p[trading]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan, math.nan, n_pos
    auc = roc_auc(y.astype(np.int64), score)
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    return auc, float(math.sqrt(max(var, 0.0))), n_pos


def proxy_check(
    current: ProxyOutcomes,
    baseline: ProxyOutcomes,
    *,
    max_ratio: float = 1.5,
    max_auc_drop: float = 0.05,
    level: float = 0.95,
) -> list[Finding]:
    """Say whether proxy outcomes moved against the label-free estimate.

    For each group, the proxy rate's change from ``baseline`` to ``current`` is set
    against the change the model expected (its mean probability there). The estimate is
    flagged as unreliable (``act``) when the unflagged sellers' proxy rate grew more than
    ``max_ratio`` times what their probabilities grew, or the flagged sellers' fell below
    ``1 / max_ratio`` of it — and the change is significant (a one-sided two-proportion
    z-test at ``level`` on orders), so noise on a few orders does not fire it. Orders of one shop
    are not independent, so the test is lenient on a single large burst: read the
    finding's counts before acting.

    The second check needs no probabilities at all: the sellers showing the non-delivery
    pattern (several non-delivery complaints, a tenth of their orders or more) should be
    ranked high by the score. When the score's AUC for them falls more than
    ``max_auc_drop`` below the baseline's, significantly (one-sided, Hanley-McNeil
    standard errors),
    the model no longer describes the fraud that is happening.

    Parameters
    ----------
    current, baseline : ProxyOutcomes
    max_ratio : float, default 1.5
    max_auc_drop : float, default 0.05
    level : float, default 0.95

    Returns
    -------
    list of Finding
        Empty when the proxy outcomes agree with the estimate.

    Examples
    --------
    >>> g = lambda n, k, e: {"sellers": n / 10, "orders": n, "with_proxy": k, "rate": k / n,
    ...     "expected": e}
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

    z_crit = NormalDist().inv_cdf(level)  # one-sided: only moves against the estimate count
    findings = []
    for name in GROUPS:
        now, base = current.groups[name], baseline.groups[name]
        if not (now["orders"] and base["orders"]) or not base["rate"]:
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
                        f"the label-free estimate cannot be trusted: at {name} sellers the "
                        f"share of orders with a non-delivery complaint within "
                        f"{current.days} days {direction} from {base['rate']:.2%} "
                        f"({int(base['with_proxy'])} of {int(base['orders'])} orders, as of "
                        f"{baseline.as_of[:10]}) to {now['rate']:.2%} "
                        f"({int(now['with_proxy'])} of {int(now['orders'])}), while the "
                        "model's probabilities there "
                        f"moved x{expected_change:.2f}; fraud the model does not describe may "
                        "be passing (concept shift): review a sample of those sellers and "
                        "plan a retrain"
                    ),
                )
            )
    now_r, base_r = current.ranking, baseline.ranking
    drop = base_r.get("auc", math.nan) - now_r.get("auc", math.nan)
    se = math.hypot(base_r.get("auc_se", math.nan), now_r.get("auc_se", math.nan))
    if drop > max_auc_drop and (se == 0 or drop / se >= z_crit):
        findings.append(
            Finding(
                level="act",
                kind="proxy",
                subject="ranking",
                value=float(now_r["auc"]),
                message=(
                    "the label-free estimate cannot be trusted: the sellers whose buyers "
                    f"report non-delivery within {current.days} days (the pattern of "
                    f"{int(now_r['sellers_with_pattern'])} sellers now) are ranked by the "
                    f"score with AUC {now_r['auc']:.3f} ± {now_r['auc_se']:.3f}, down from "
                    f"{base_r['auc']:.3f} ± {base_r['auc_se']:.3f} as of "
                    f"{baseline.as_of[:10]}: fraud the model does not describe may be "
                    "passing (concept shift) — review a sample of them and plan a retrain"
                ),
            )
        )
    return findings


def _z_two_proportions(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    n1, n2 = a["orders"], b["orders"]
    p1, p2 = a["with_proxy"] / n1, b["with_proxy"] / n2
    pooled = (a["with_proxy"] + b["with_proxy"]) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return (p1 - p2) / se if se > 0 else 0.0
