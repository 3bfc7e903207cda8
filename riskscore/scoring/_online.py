"""Score one seller as of now, from raw tables, in milliseconds: :class:`OnlineScorer`.

A service that receives an event ("seller S just listed this") needs S's features as of
now. :meth:`Scorer.score_entities` builds them from the tables with the feature families
(hundreds of milliseconds per seller, whatever the marketplace statistics cached).
:class:`OnlineScorer` pays for the marketplace once, when it is built:

1. a :class:`~riskscore.features._online_index.SellerIndex`: the orders, listings and
   complaints sorted by seller then time as numpy arrays, with each seller's row range;
2. a snapshot of the marketplace statistics at the *batch moment* ``batch_as_of`` (the
   last daily build): category order values, marketplace complaint / refund / cancel
   rates, market prices and category price levels, and the network features;

and then each :meth:`OnlineScorer.score` reads one seller's rows before ``as_of`` and
computes its features with numpy (about a millisecond), then
:meth:`Scorer.score_one` gives the score and reasons. New events (a listing, an order,
a complaint, a new seller) join with :meth:`OnlineScorer.append`, which rebuilds just
the touched sellers' row ranges; the index then answers as one built from the tables
with the events added (a property test holds it to that).

Fresh and batch features
------------------------
Every :class:`OnlineRiskScore` says where each of the model's features comes from
(:attr:`OnlineRiskScore.feature_sources`):

- ``"fresh"``: the seller's own rows strictly before ``as_of`` (account, activity counts,
  GMV and growth, buyers, text, complaint acceleration, branded high-risk share);
- ``"market"``: the seller's own rows before ``as_of`` compared with marketplace
  statistics as of ``batch_as_of`` (complaint / refund / cancel rates smoothed toward the
  marketplace rate, order value vs the category, prices vs market prices);
- ``"batch"``: the value as of ``batch_as_of`` (the network family: the web of shared
  identifiers is a whole-marketplace computation). A seller registered after the batch
  gets the catalog fill.

With ``as_of == batch_as_of`` every feature equals
``build_features(tables, "seller", as_of=as_of)`` for the seller (a property test holds
it to 1e-9), so the score equals :meth:`Scorer.score_entities`'s.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from riskscore.exceptions import FeatureError, ScoringError
from riskscore.scoring._result import RiskScore

__all__ = ["OnlineRiskScore", "OnlineScorer"]


@dataclass(frozen=True)
class OnlineRiskScore(RiskScore):
    """A :class:`RiskScore` with what is fresh and what is as of the last batch.

    Parameters
    ----------
    batch_as_of : str
        ISO time of the marketplace statistics and batch features used.
    batch_age_days : float
        ``as_of - batch_as_of`` in days: how old the batch parts are at ``as_of``.
    feature_sources : dict of str to str
        For each model feature: ``"fresh"`` (the seller's rows before ``as_of``),
        ``"market"`` (the seller's rows before ``as_of`` against marketplace statistics
        at ``batch_as_of``) or ``"batch"`` (the value at ``batch_as_of``).
    """

    batch_as_of: str | None = None
    batch_age_days: float | None = None
    feature_sources: dict[str, str] = field(default_factory=dict)


class OnlineScorer:
    """Score one seller from raw tables as of any moment, the marketplace computed once.

    Parameters
    ----------
    scorer : Scorer
        A seller scorer (:func:`riskscore.scoring.load_scorer` or
        :class:`~riskscore.scoring.Scorer`).
    tables : mapping of str to DataFrame
        Marketplace tables following the contract (``sellers``, ``listings``, ``orders``;
        ``complaints``, ``products``, ``labels`` when you have them). Read once; pandas,
        or another library converted to pandas once.
    batch_features : pandas.DataFrame, optional
        The last batch build, ``build_features(tables, "seller", as_of=batch_as_of)``:
        the batch-only (network) features are read from it. Default: computed from the
        tables at ``batch_as_of``.
    batch_as_of : timestamp-like, optional
        The moment of the marketplace statistics (required with ``batch_features``).
        Default: one microsecond after the latest event in the tables.
    market : MarketStats, optional
        Marketplace statistics already computed at ``batch_as_of``
        (:func:`riskscore.features.market_stats`), e.g. shared with a batch run.

    Attributes
    ----------
    index : SellerIndex
        Per-seller row ranges.
    snapshot : MarketSnapshot
        Marketplace statistics at :attr:`batch_as_of`.
    batch_as_of : datetime
    build_seconds : dict of str to float
        Seconds spent on the index and on the snapshot.

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from riskscore.datasets import make_marketplace
    >>> from riskscore.scoring import Scorer
    >>> from riskscore.scoring._demo import demo_model
    >>> tables = make_marketplace(n_sellers=30, seed=0)
    >>> online = OnlineScorer(Scorer(demo_model()), tables, batch_as_of="2024-06-30")
    >>> result = online.score("S000001", as_of="2024-07-01 12:00")
    >>> result.entity_id, result.batch_as_of, result.batch_age_days
    ('S000001', '2024-06-30T00:00:00', 1.5)
    >>> result.feature_sources["activity__orders_30d"], result.feature_sources[
    ...     "complaints__rate_30d"]
    ('fresh', 'market')
    """

    def __init__(
        self,
        scorer: Any,
        tables: Mapping[str, Any],
        batch_features: pd.DataFrame | None = None,
        *,
        batch_as_of: Any = None,
        market: Any = None,
    ) -> None:
        from riskscore.features._build import parse_time
        from riskscore.features._online_index import SellerIndex, feature_sources
        from riskscore.scoring._scorer import Scorer

        if not isinstance(scorer, Scorer):
            raise ScoringError(
                f"OnlineScorer takes a Scorer (riskscore.scoring.load_scorer(...)); got "
                f"{type(scorer).__name__}"
            )
        if scorer.entity != "seller":
            raise ScoringError(
                f"OnlineScorer scores sellers; the model scores {scorer.entity}s; load a "
                "seller model"
            )
        if not isinstance(tables, Mapping):
            raise ScoringError(
                f"tables must be a mapping of table name to DataFrame; got {type(tables).__name__}"
            )
        if batch_features is not None and batch_as_of is None:
            raise ScoringError(
                "batch_features was given without batch_as_of; pass the as_of the batch "
                "features were built at, e.g. batch_as_of='2024-06-30'"
            )
        self.scorer = scorer
        t0 = time.perf_counter()
        try:
            params = (
                {}
                if market is None
                else {
                    "windows": market.params.windows,
                    "prior_weight": market.params.prior_weight,
                }
            )
            self.index = SellerIndex(tables, **params)
            t1 = time.perf_counter()
            moment = (
                _latest(tables) if batch_as_of is None else parse_time(batch_as_of, "batch_as_of")
            )
            self.snapshot = self.index.snapshot(
                moment, market=market, batch_features=batch_features
            )
        except FeatureError as err:
            raise ScoringError(str(err)) from None
        t2 = time.perf_counter()
        self.batch_as_of: datetime = self.snapshot.as_of
        self.build_seconds = {"index": t1 - t0, "snapshot": t2 - t1}
        missing = [n for n in scorer.feature_names if n not in self.index.fills]
        if missing:
            raise ScoringError(
                f"the model reads {len(missing)} feature(s) the seller catalog does not "
                f"build, e.g. {', '.join(missing[:3])}; use a model trained on "
                "build_features(tables, 'seller', ...) columns"
            )
        sources = feature_sources(self.index.names)
        self._sources = {n: sources[n] for n in scorer.feature_names}

    def features(self, seller_id: str, as_of: Any = None) -> dict[str, float]:
        """Return every seller feature of ``seller_id`` as of ``as_of`` (default: now, UTC).

        Parameters
        ----------
        seller_id : str
        as_of : timestamp-like, optional
            Rows strictly before it are used; not before :attr:`batch_as_of`.

        Returns
        -------
        dict of str to float
            Feature name to value, in catalog order.

        Raises
        ------
        ScoringError
            Unknown seller, a seller registered at or after ``as_of``, an ``as_of`` that
            is not a time or is before :attr:`batch_as_of`.
        """
        moment = self._as_of(as_of)
        try:
            return self.index.features_one(str(seller_id), moment, self.snapshot)
        except FeatureError as err:
            raise ScoringError(str(err)) from None

    def score(
        self,
        seller_id: str,
        as_of: Any = None,
        *,
        explain: Any = True,
        scored_at: Any = None,
    ) -> OnlineRiskScore:
        """Score ``seller_id`` as of ``as_of`` (default: now, UTC), with reasons.

        Parameters
        ----------
        seller_id : str
        as_of : timestamp-like, optional
            Rows strictly before it are used; not before :attr:`batch_as_of`.
        explain : bool or {"flagged", "all", "none"}, default True
            As for :meth:`Scorer.score_one`.
        scored_at : timestamp-like, optional
            Written into the result (default: now, UTC).

        Returns
        -------
        OnlineRiskScore
            :meth:`Scorer.score_one`'s result plus :attr:`~OnlineRiskScore.batch_as_of`,
            :attr:`~OnlineRiskScore.batch_age_days` and
            :attr:`~OnlineRiskScore.feature_sources`.

        Raises
        ------
        ScoringError
            As :meth:`features`, or a feature value the model refuses.
        """
        moment = self._as_of(as_of)
        record: dict[str, Any] = self.features(seller_id, moment)
        record["seller_id"] = str(seller_id)
        base = self.scorer.score_one(record, explain, as_of=moment, scored_at=scored_at)
        age = (moment - self.batch_as_of).total_seconds() / 86400.0
        return OnlineRiskScore(
            **{f: getattr(base, f) for f in RiskScore.__dataclass_fields__},
            batch_as_of=self.batch_as_of.isoformat(),
            batch_age_days=age,
            feature_sources=dict(self._sources),
        )

    def append(self, table: str, rows: Any) -> int:
        """Add new events (rows of ``table``) so that later scores see them.

        The touched sellers' row ranges are rebuilt from their rows, old and new (about a
        millisecond per seller); the index then answers as one built from the tables with
        the rows added. The marketplace statistics stay those of :attr:`batch_as_of`.

        Parameters
        ----------
        table : {"sellers", "listings", "orders", "complaints"}
        rows : DataFrame
            New rows with the table's contract columns. Append a new seller's ``sellers``
            row before its other rows, and a listing before the orders on it.

        Returns
        -------
        int
            How many sellers the rows touched.

        Raises
        ------
        ScoringError
            An unknown table, missing columns, rows of an unknown seller, a seller
            appended twice.

        Examples
        --------
        >>> import warnings; warnings.simplefilter("ignore")
        >>> import pandas as pd
        >>> from riskscore.datasets import make_marketplace
        >>> from riskscore.scoring import Scorer
        >>> from riskscore.scoring._demo import demo_model
        >>> tables = make_marketplace(n_sellers=30, seed=0)
        >>> online = OnlineScorer(Scorer(demo_model()), tables, batch_as_of="2024-06-30")
        >>> event = tables["orders"].iloc[:1].assign(
        ...     seller_id="S000002", created_at=pd.Timestamp("2024-07-01 09:00"))
        >>> before = online.features("S000002", "2024-07-01 10:00")["activity__orders_7d"]
        >>> online.append("orders", event)
        1
        >>> online.features("S000002", "2024-07-01 10:00")["activity__orders_7d"] - before
        1.0
        """
        try:
            return self.index.append(table, rows)
        except FeatureError as err:
            raise ScoringError(str(err)) from None

    def _as_of(self, as_of: Any) -> datetime:
        from riskscore.features._build import parse_time

        if as_of is None:
            moment = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        elif isinstance(as_of, datetime) and as_of.tzinfo is None and type(as_of) is datetime:
            moment = as_of
        else:
            try:
                moment = parse_time(as_of)
            except FeatureError as err:
                raise ScoringError(str(err)) from None
        if moment < self.batch_as_of:
            raise ScoringError(
                f"as_of {moment.isoformat()} is before the batch moment "
                f"{self.batch_as_of.isoformat()}: the marketplace statistics would come from "
                "after as_of; pass a later as_of, or build an OnlineScorer with an earlier "
                "batch_as_of"
            )
        return moment


def _latest(tables: Mapping[str, Any]) -> datetime:
    """One microsecond after the latest time in the time columns of the tables."""
    from riskscore.features._online_index import _pandas
    from riskscore.schema import CONTRACT

    latest = None
    for name, spec in CONTRACT.items():
        if name not in tables or spec.time_column is None:
            continue
        column = _pandas(tables[name])[spec.time_column]
        value = pd.Timestamp(column.max())
        if value is pd.NaT:
            continue
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        latest = value if latest is None else max(latest, value)
    if latest is None:
        raise ScoringError("the tables hold no timestamps; pass batch_as_of")
    return (latest.ceil("us") + pd.Timedelta(microseconds=1)).to_pydatetime()
