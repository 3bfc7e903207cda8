"""Scoring from raw tables: score_entities and the reasons an id is not scored."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskscore import ScoringError
from riskscore.scoring._entities import entity_features
from tests.scoring.conftest import AS_OF, SCORED_AT


def _tables(marketplace):
    return {k: v for k, v in marketplace.items() if k != "truth"}


def test_score_entities_equals_score_many_of_the_built_features(
    seller_scorer, marketplace, seller_features
):
    ids = seller_features["seller_id"].tolist()[::7]
    out = seller_scorer.score_entities(_tables(marketplace), ids, AS_OF, scored_at=SCORED_AT)
    features = seller_features.set_index("seller_id").loc[ids].reset_index()
    expected = seller_scorer.score_many(features, as_of=AS_OF, scored_at=SCORED_AT)
    pd.testing.assert_frame_equal(out, expected)
    assert out["seller_id"].tolist() == ids


@pytest.mark.slow
@settings(
    max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_subset_of_ids_gets_the_scores_of_the_whole_list(
    seller_scorer, marketplace, seller_features, data
):
    all_ids = seller_features["seller_id"].tolist()
    ids = data.draw(st.lists(st.sampled_from(all_ids), min_size=1, max_size=6, unique=True))
    part = seller_scorer.score_entities(_tables(marketplace), ids, AS_OF, scored_at=SCORED_AT)
    whole = seller_scorer.score_many(seller_features, as_of=AS_OF, scored_at=SCORED_AT)
    expected = whole.set_index("seller_id").loc[ids].reset_index()
    pd.testing.assert_frame_equal(part, expected)


def test_every_id_is_scored_or_rejected(seller_scorer, marketplace):
    tables = _tables(marketplace)
    sellers = tables["sellers"]
    late = sellers.loc[sellers["registered_at"] >= pd.Timestamp(AS_OF), "seller_id"].tolist()
    early = sellers.loc[sellers["registered_at"] < pd.Timestamp(AS_OF), "seller_id"].tolist()
    assert late and early
    ids = [early[0], "NOPE-1", late[0], early[1]]
    features, rejects = entity_features(
        tables, ids, AS_OF, entity="seller", layout=seller_scorer.layout
    )
    assert features["seller_id"].tolist() == [early[0], early[1]]
    assert rejects["seller_id"].tolist() == ["NOPE-1", late[0]]
    assert rejects["reason"].tolist() == ["unknown id", "no activity before as_of"]
    with pytest.raises(
        ScoringError, match=r"2 of 4 seller\(s\) cannot be scored.*NOPE-1: unknown id"
    ):
        seller_scorer.score_entities(tables, ids, AS_OF)


def test_duplicate_and_empty_ids_are_errors(seller_scorer, marketplace):
    with pytest.raises(ScoringError, match="duplicated id"):
        seller_scorer.score_entities(_tables(marketplace), ["S1", "S1"], AS_OF)
    with pytest.raises(ScoringError, match="ids is empty"):
        seller_scorer.score_entities(_tables(marketplace), [], AS_OF)


def test_listing_models_score_listings_with_their_seller_features(marketplace, tmp_path):
    from riskscore.features import build_features
    from riskscore.scoring import Scorer, score_batch
    from tests.scoring.conftest import train_small_model

    tables = _tables(marketplace)
    features = build_features(tables, "listing", as_of=AS_OF).reset_index()
    owners = tables["listings"].set_index("listing_id")["seller_id"]
    truth = marketplace["truth"].set_index("seller_id").reindex(owners.to_numpy())
    truth.index = owners.index
    model = train_small_model(features, truth.reset_index(), entity="listing")
    scorer = Scorer(model)
    assert scorer.id_col == "listing_id"
    ids = [*features["listing_id"].tolist()[:4], "L-NOPE"]
    summary = score_batch(
        scorer, tables, tmp_path / "l.parquet", as_of=AS_OF, ids=ids, progress=False
    )
    assert summary.n_scored == 4 and summary.rejected["unknown id"] == 1
    out = pd.read_parquet(tmp_path / "l.parquet")
    assert out["listing_id"].tolist() == ids[:4]
