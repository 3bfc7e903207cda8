"""score_entities builds the features of its ids only, and scores them like the batch."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.features import build_features, market_stats
from riskscore.scoring import _entities
from riskscore.scoring._entities import entity_features
from tests.scoring.conftest import AS_OF, SCORED_AT


def _tables(marketplace):
    return {k: v for k, v in marketplace.items() if k != "truth"}


@pytest.fixture
def spy(monkeypatch):
    """Record the ``ids`` each feature build was asked for (``None``: whole marketplace)."""
    asked: list[object] = []

    def recording(tables, entity, **kw):
        asked.append(None if kw.get("ids") is None else list(kw["ids"]))
        return build_features(tables, entity, **kw)

    monkeypatch.setattr("riskscore.features.build_features", recording)
    return asked


def test_a_subset_is_built_alone_and_scores_as_the_whole_build(
    seller_scorer, marketplace, seller_features, spy
):
    tables = _tables(marketplace)
    ids = seller_features["seller_id"].tolist()[5::11][::-1]  # any order, not sorted
    market = market_stats(tables, AS_OF)
    out = seller_scorer.score_entities(tables, ids, AS_OF, scored_at=SCORED_AT, market=market)
    assert spy == [ids]  # only these sellers were built
    whole = seller_scorer.score_many(seller_features, as_of=AS_OF, scored_at=SCORED_AT)
    expected = whole.set_index("seller_id").loc[ids].reset_index()
    pd.testing.assert_frame_equal(out, expected)
    # a second call at the same as_of reuses the statistics: nothing marketplace-wide again
    computed = set(market.computed)
    one = seller_scorer.score_entities(tables, ids[:1], AS_OF, scored_at=SCORED_AT, market=market)
    assert set(market.computed) == computed
    pd.testing.assert_frame_equal(one, expected.iloc[:1])


def test_most_of_the_marketplace_is_one_whole_build(seller_scorer, marketplace, spy):
    tables = _tables(marketplace)
    ids = tables["sellers"]["seller_id"].tolist()
    n = len(ids) // _entities._WHOLE_BUILD_SHARE + 1
    features, rejects = entity_features(
        tables, ids[:n], AS_OF, entity="seller", layout=seller_scorer.layout
    )
    assert spy == [None]
    scoped, scoped_rejects = entity_features(
        tables,
        ids[: n - 2],
        AS_OF,
        entity="seller",
        layout=seller_scorer.layout,
        market=market_stats(tables, AS_OF),
    )
    assert spy[1] is not None
    keep = features["seller_id"].isin(scoped["seller_id"])
    pd.testing.assert_frame_equal(scoped, features.loc[keep].reset_index(drop=True))
    gone = rejects["seller_id"].isin(ids[: n - 2])
    pd.testing.assert_frame_equal(scoped_rejects, rejects.loc[gone].reset_index(drop=True))


def test_rejects_are_accounted_for_the_same_way(seller_scorer, marketplace):
    tables = _tables(marketplace)
    sellers = tables["sellers"]
    late = sellers.loc[sellers["registered_at"] >= AS_OF, "seller_id"].tolist()[:2]
    ids = ["nobody", *late, *sellers["seller_id"].tolist()[:3]]
    features, rejects = entity_features(
        tables,
        ids,
        AS_OF,
        entity="seller",
        layout=seller_scorer.layout,
        market=market_stats(tables, AS_OF),
    )
    assert rejects["seller_id"].tolist() == [i for i in ids if i not in set(features["seller_id"])]
    assert rejects["reason"].iloc[0] == "unknown id"
    assert set(rejects["reason"].iloc[1 : 1 + len(late)]) == {"no activity before as_of"}
