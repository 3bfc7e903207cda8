"""OnlineScorer and SellerIndex: one seller's features and score as of any moment.

The main requirement is correctness: the per-seller features computed from the index equal
``build_features(tables, "seller", as_of=T)`` (to 1e-9, NaN equal) for every seller and
``T``, including ``T`` on an event's exact time (rows strictly before ``as_of`` only).
The marketplace fixture is the 300-seller simulated marketplace of ``conftest.py``.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskscore.exceptions import RiskscoreError, ScoringError
from riskscore.features import build_features
from riskscore.features._online_index import SellerIndex, feature_sources
from riskscore.scoring import OnlineRiskScore, OnlineScorer, RiskScore

from .conftest import AS_OF, SCORED_AT

BATCH = datetime(2024, 6, 30)


@pytest.fixture(scope="module")
def tables(marketplace) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in marketplace.items() if k != "truth"}


@pytest.fixture(scope="module")
def index(tables) -> SellerIndex:
    return SellerIndex(tables)


@pytest.fixture(scope="module")
def batch_snapshot(index):
    return index.snapshot(BATCH)


@pytest.fixture(scope="module")
def online(seller_scorer, tables) -> OnlineScorer:
    return OnlineScorer(seller_scorer, tables, batch_as_of=AS_OF)


def _built(tables, as_of) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return build_features(tables, "seller", as_of=as_of)


def _mismatches(index, snapshot, full: pd.DataFrame, as_of, names=None) -> dict[str, list]:
    """Features (of ``names``, default all) that differ from ``full``, with examples."""
    bad: dict[str, list] = {}
    for seller in full.index:
        row = index.features_one(seller, as_of, snapshot)
        keys = list(row) if names is None else names
        got = np.array([row[k] for k in keys])
        want = full.loc[seller, keys].to_numpy(dtype=np.float64)
        ok = np.isclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True)
        for name in np.asarray(keys)[~ok]:
            bad.setdefault(str(name), []).append((seller, row[name], full.loc[seller, name]))
    return bad


def test_every_feature_equals_build_features_at_the_batch_moment(index, batch_snapshot, tables):
    full = _built(tables, BATCH)
    row = index.features_one(full.index[0], BATCH, batch_snapshot)
    assert list(row) == list(full.columns)
    assert len(full) > 250
    assert _mismatches(index, batch_snapshot, full, BATCH) == {}


def test_the_comparison_can_fail(index, batch_snapshot, tables):
    # features one day later are not the batch's: the check above has teeth
    full = _built(tables, BATCH)
    later = BATCH + timedelta(days=1)
    assert _mismatches(index, batch_snapshot, full, later) != {}


_OTHERS: dict[int, tuple[dict[str, pd.DataFrame], SellerIndex]] = {}


def _other_marketplace(seed: int) -> tuple[dict[str, pd.DataFrame], SellerIndex]:
    if seed not in _OTHERS:
        from riskscore.datasets import make_marketplace

        other = make_marketplace(n_sellers=300, seed=seed)
        other_tables = {k: v for k, v in other.items() if k != "truth"}
        _OTHERS[seed] = (other_tables, SellerIndex(other_tables))
    return _OTHERS[seed]


_TIMES = st.datetimes(min_value=datetime(2024, 1, 20), max_value=datetime(2025, 1, 5))


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_property_equals_build_features_at_random_moments(index, tables, data):
    """Every feature of every seller, at random times, some on an order's exact time.

    On the fixture marketplace (seed 3) and on others (300 sellers, seeds 11 and 29).
    """
    seed = data.draw(st.sampled_from([3, 11, 29]), label="seed")
    if seed != 3:
        tables, index = _other_marketplace(seed)
    order_times = tables["orders"]["created_at"]
    as_of = data.draw(
        st.one_of(
            _TIMES,
            st.sampled_from(order_times.iloc[::97].dt.to_pydatetime().tolist()),
        ),
        label="as_of",
    )
    full = _built(tables, as_of)
    snapshot = index.snapshot(as_of)
    assert _mismatches(index, snapshot, full, as_of) == {}


def test_fresh_features_ten_days_after_the_batch(index, batch_snapshot, tables):
    as_of = BATCH + timedelta(days=10, hours=6)
    full = _built(tables, as_of)
    fresh = [n for n, src in feature_sources(list(full.columns)).items() if src == "fresh"]
    assert _mismatches(index, batch_snapshot, full, as_of, fresh) == {}
    # the market-relative ones use the batch's marketplace statistics, so they differ
    market = [n for n, src in feature_sources(list(full.columns)).items() if src == "market"]
    assert _mismatches(index, batch_snapshot, full, as_of, market) != {}


@pytest.mark.slow
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days=st.floats(min_value=0.0, max_value=120.0),
    exact=st.booleans(),
)
def test_fresh_features_follow_as_of_past_the_batch(index, batch_snapshot, tables, days, exact):
    """Features marked fresh equal build_features at a later as_of (market statistics not)."""
    as_of = BATCH + timedelta(days=days)
    if exact:  # on the time of the first order at or after that moment
        times = tables["orders"]["created_at"]
        later = times[times >= pd.Timestamp(as_of)]
        if len(later):
            as_of = later.min().to_pydatetime()
    full = _built(tables, as_of)
    fresh = [n for n, src in feature_sources(list(full.columns)).items() if src == "fresh"]
    assert len(fresh) > 20
    assert _mismatches(index, batch_snapshot, full.iloc[::3], as_of, fresh) == {}


def test_events_at_or_after_as_of_change_nothing(tables, index, batch_snapshot):
    seller = "S000010"
    before = index.features_one(seller, BATCH, batch_snapshot)
    orders = tables["orders"]
    extra = orders.loc[orders["seller_id"] == seller].head(5).copy()
    extra["created_at"] = pd.Timestamp(BATCH)  # exactly as_of: not before it
    extra["order_id"] = [f"X{i}" for i in range(len(extra))]
    changed = {**tables, "orders": pd.concat([orders, extra], ignore_index=True)}
    moved = SellerIndex(changed)
    assert moved.features_one(seller, BATCH, batch_snapshot) == pytest.approx(before, nan_ok=True)
    after = moved.features_one(seller, BATCH + timedelta(microseconds=1), batch_snapshot)
    assert after["activity__orders_7d"] == before["activity__orders_7d"] + len(extra)


def test_score_equals_score_entities_at_the_batch_moment(online, seller_scorer, tables):
    ids = ["S000001", "S000050", "S000123", "S000222"]
    expected = seller_scorer.score_entities(tables, ids, AS_OF, explain="all")
    for seller in ids:
        got = online.score(seller, AS_OF, scored_at=SCORED_AT)
        want = expected.loc[expected["seller_id"] == seller].iloc[0]
        assert got.score == pytest.approx(float(want["score"]), rel=1e-9)
        assert got.risk_score == pytest.approx(float(want["risk_score"]), rel=1e-9)
        assert got.band == want["band"]
        assert [r.code for r in got.reasons] == [
            want[f"reason_{i}_code"] for i in range(1, len(got.reasons) + 1)
        ]


def test_result_is_a_risk_score_with_freshness(online):
    result = online.score("S000001", "2024-07-03 06:00", scored_at=SCORED_AT)
    assert isinstance(result, OnlineRiskScore)
    assert isinstance(result, RiskScore)
    assert result.entity_id == "S000001"
    assert result.as_of == "2024-07-03T06:00:00"
    assert result.batch_as_of == "2024-06-30T00:00:00"
    assert result.batch_age_days == pytest.approx(3.25)
    sources = result.feature_sources
    assert sources["account__age_days"] == "fresh"
    assert sources["complaints__rate_30d"] == "market"
    assert sources["pricing__median_price_ratio"] == "market"
    assert sources["activity__aov_vs_category"] == "market"
    assert {s for n, s in sources.items() if n.startswith("network__")} == {"batch"}
    assert set(sources) == set(online.scorer.feature_names)
    payload = result.to_dict()
    assert payload["batch_as_of"] == "2024-06-30T00:00:00"
    assert payload["feature_sources"]["account__age_days"] == "fresh"


def test_default_as_of_is_now(online):
    result = online.score("S000001", explain="none")
    assert pd.Timestamp(result.as_of) > pd.Timestamp("2025-01-01")
    assert result.batch_age_days > 100


def test_batch_features_give_the_batch_values(seller_scorer, tables, online):
    batch = _built(tables, AS_OF)
    given_batch = OnlineScorer(seller_scorer, tables, batch, batch_as_of=AS_OF)
    for seller in ["S000002", "S000077"]:
        assert given_batch.features(seller, "2024-07-02") == pytest.approx(
            online.features(seller, "2024-07-02"), nan_ok=True
        )
    # the network values come from the frame given
    tweaked = batch.copy()
    name = next(c for c in batch.columns if c.startswith("network__"))
    tweaked[name] = 123.0
    from_tweaked = OnlineScorer(seller_scorer, tables, tweaked, batch_as_of=AS_OF)
    assert from_tweaked.features("S000002", "2024-07-02")[name] == 123.0


def test_default_batch_moment_is_after_the_latest_event(seller_scorer, tables):
    online = OnlineScorer(seller_scorer, tables)
    latest = max(tables[t]["created_at"].max() for t in ("orders", "listings", "complaints"))
    latest = max(
        latest, tables["labels"]["decided_at"].max(), tables["sellers"]["registered_at"].max()
    )
    assert pd.Timestamp(online.batch_as_of) == latest + pd.Timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("seller", "as_of", "match"),
    [
        ("S999999", AS_OF, "not in the sellers table"),
        ("S000001", "2024-06-01", "before the batch moment"),
        ("S000001", "not a time", "not a timestamp"),
    ],
)
def test_errors_a_caller_can_trigger(online, seller, as_of, match):
    with pytest.raises(ScoringError, match=match):
        online.score(seller, as_of)


def test_seller_registered_after_as_of_is_refused(online, tables):
    sellers = tables["sellers"]
    late = sellers.loc[sellers["registered_at"] >= pd.Timestamp("2024-07-05"), "seller_id"]
    assert len(late)
    with pytest.raises(ScoringError, match="not before as_of"):
        online.score(str(late.iloc[0]), "2024-07-02")


def test_bad_construction(seller_scorer, scorer, tables):
    with pytest.raises(ScoringError, match="without batch_as_of"):
        OnlineScorer(seller_scorer, tables, _built(tables, AS_OF))
    with pytest.raises(ScoringError, match="takes a Scorer"):
        OnlineScorer(object(), tables)
    with pytest.raises(ScoringError, match="needs the table\\(s\\) listings, orders"):
        OnlineScorer(seller_scorer, {"sellers": tables["sellers"]}, batch_as_of=AS_OF)
    with pytest.raises(RiskscoreError, match="lacks"):
        OnlineScorer(
            seller_scorer,
            tables,
            pd.DataFrame(index=pd.Index([], name="seller_id")),
            batch_as_of=AS_OF,
        )


# -- new events: SellerIndex.append equals a rebuild ----------------------------------------

_TIME_COLUMNS = {
    "sellers": "registered_at",
    "listings": "created_at",
    "orders": "created_at",
    "complaints": "created_at",
}


def _split(tables, cut: datetime) -> tuple[dict, dict]:
    """The tables as known before ``cut``, and the rows at or after it (the new events)."""
    before, after = dict(tables), {}
    for name, column in _TIME_COLUMNS.items():
        late = tables[name][column] >= pd.Timestamp(cut)
        before[name] = tables[name].loc[~late].reset_index(drop=True)
        after[name] = tables[name].loc[late].reset_index(drop=True)
    return before, after


def _appended_mismatches(tables, cut: datetime, as_of: datetime, rows_per_append: int) -> dict:
    """Build on the rows before ``cut``, append the rest, compare with a full build.

    Up to :data:`SMALL_APPEND` rows per append take the plain-Python path (odd-numbered
    appends are given as records, like events), more the pandas one.
    """
    from riskscore.features import market_stats

    before, after = _split(tables, cut)
    index = SellerIndex(before)
    for name in ("sellers", "listings", "orders", "complaints"):  # sellers first, then rows
        rows = after[name]
        for i, start in enumerate(range(0, len(rows), rows_per_append)):
            part = rows.iloc[start : start + rows_per_append]
            index.append(name, part.to_dict("records") if i % 2 else part)
    snapshot = index.snapshot(as_of, market=market_stats(tables, as_of))
    return _mismatches(index, snapshot, _built(tables, as_of), as_of)


@pytest.mark.slow
def test_appended_events_equal_a_rebuild(tables):
    """An index built in May, fed June's events in chunks, answers as one built on all."""
    assert _appended_mismatches(tables, datetime(2024, 6, 1), BATCH, 5_000) == {}


@pytest.mark.slow
def test_appended_events_one_by_one_equal_a_rebuild(tables):
    """Events one or a few at a time (the plain-Python path), some as dicts."""
    assert _appended_mismatches(tables, datetime(2024, 6, 26), BATCH, 3) == {}


def test_python_title_terms_equal_the_text_family(tables):
    import narwhals as nw

    from riskscore.features._online_index import SMALL_APPEND, _replica_terms
    from riskscore.features.text import (
        REPLICA_TERMS_EN,
        REPLICA_TERMS_ZH,
        _term_count,
        normalised_title,
    )

    assert SMALL_APPEND >= 1
    crafted = [
        "高仿 1 ： 1 包",
        "1:18 Diecast",
        "1:1 Scale model",
        "LEGO 42056 1:1",
        "AAA　Replica",
    ]
    titles = pd.DataFrame({"title": [*tables["listings"]["title"].tolist(), *crafted, None]})
    text = (
        nw.from_native(titles, eager_only=True)
        .with_columns(norm=normalised_title())
        .with_columns(en=_term_count(REPLICA_TERMS_EN), zh=_term_count(REPLICA_TERMS_ZH))
    )
    want = (text["en"] + text["zh"]).to_numpy()
    got = np.array([_replica_terms(t) for t in titles["title"]])
    assert want[-6:-1].sum() > 0
    np.testing.assert_array_equal(got, want)


@pytest.mark.slow
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cut=st.datetimes(min_value=datetime(2024, 2, 1), max_value=datetime(2024, 12, 1)),
    later_days=st.floats(min_value=0.0, max_value=40.0),
    rows_per_append=st.sampled_from([7, 64, 65, 3_000, 100_000]),
)
def test_property_appended_events_equal_a_rebuild(tables, cut, later_days, rows_per_append):
    as_of = cut + timedelta(days=later_days)
    assert _appended_mismatches(tables, cut, as_of, rows_per_append) == {}


def test_append_refuses_what_it_cannot_place(tables):
    index = SellerIndex(tables)
    with pytest.raises(RiskscoreError, match="append their sellers rows first"):
        index.append("orders", tables["orders"].iloc[:1].assign(seller_id="S999999"))
    with pytest.raises(RiskscoreError, match="already known"):
        index.append("sellers", tables["sellers"].iloc[:1])
    with pytest.raises(RiskscoreError, match="takes rows of one of the tables"):
        index.append("labels", tables["labels"])
    with pytest.raises(RiskscoreError, match="lack the column"):
        index.append("orders", tables["orders"].iloc[:1].drop(columns="amount"))


def test_online_scorer_append_sees_the_event(seller_scorer, tables):
    online = OnlineScorer(seller_scorer, tables, batch_as_of=AS_OF)
    orders = tables["orders"]
    event = orders.loc[orders["seller_id"] == "S000005"].head(1)
    event = event.assign(order_id="NEW1", created_at=pd.Timestamp("2024-07-01 09:00"))
    before = online.features("S000005", "2024-07-01 10:00")
    assert online.append("orders", event) == 1
    after = online.features("S000005", "2024-07-01 10:00")
    assert after["activity__orders_7d"] == before["activity__orders_7d"] + 1
    assert after["account__days_since_last_order"] == pytest.approx(1 / 24)
    # an as_of at the event's time does not see it
    at = online.features("S000005", "2024-07-01 09:00")
    assert at["activity__orders_7d"] == before["activity__orders_7d"]
    with pytest.raises(ScoringError, match="append their sellers rows first"):
        online.append("orders", event.assign(seller_id="S999999"))
