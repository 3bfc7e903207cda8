"""The Scorer contract: one code path, inputs untouched, clear errors."""

from __future__ import annotations

import json
import math
import threading

import hypothesis.extra.numpy as hnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskscore import ScoringError
from riskscore.scoring import RiskScore, Scorer
from tests.scoring.conftest import SCORED_AT

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False, width=64)


def _frame(scorer: Scorer, values: np.ndarray, ids: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(values, columns=scorer.feature_names)
    frame.insert(0, "seller_id", ids or [f"S{i}" for i in range(len(values))])
    return frame


def _features(scorer: Scorer, n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _frame(scorer, rng.normal(size=(n, len(scorer.feature_names))) * 2)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=hnp.arrays(np.float64, st.tuples(st.integers(1, 12), st.just(5)), elements=finite),
    nan_rows=st.lists(st.integers(0, 11), max_size=4),
)
def test_row_i_of_score_many_equals_score_one_of_row_i(scorer, values, nan_rows):
    for r in nan_rows:  # the first and last features may be missing (catalog fill is NaN)
        if r < len(values):
            values[r, 0] = np.nan
            values[r, 4] = np.nan
    frame = _frame(scorer, values)
    many = scorer.score_many(frame, explain="all", as_of="2024-06-30", scored_at=SCORED_AT)
    for i, record in enumerate(frame.to_dict("records")):
        one = scorer.score_one(record, as_of="2024-06-30", scored_at=SCORED_AT)
        assert RiskScore.from_row(many.iloc[i].to_dict(), entity="seller") == one


def test_flagged_rows_only_get_reasons_in_flag_band_or_above(scorer):
    out = scorer.score_many(_features(scorer, 300), explain="flagged")
    flagged = out["band"].isin(["high", "critical"])
    assert flagged.any() and (~flagged).any()
    assert out.loc[~flagged, "reason_1_code"].isna().all()
    assert out.loc[flagged, "reason_1_code"].notna().all()
    none = scorer.score_many(_features(scorer, 300), explain="none")
    assert none["reason_1_code"].isna().all()
    pd.testing.assert_series_equal(none["score"], out["score"])


def test_output_columns_and_values(scorer):
    out = scorer.score_many(_features(scorer, 20), as_of="2024-06-30", scored_at=SCORED_AT)
    assert list(out.columns) == scorer.columns
    assert out["score"].between(0, 1).all() and np.isfinite(out["risk_score"]).all()
    # score and risk_score order the rows alike (both strictly increasing in the raw score)
    assert (out["score"].rank().to_numpy() == out["risk_score"].rank().to_numpy()).all()
    assert set(out["band"]) <= {"low", "medium", "high", "critical"}
    assert (out["model_version"] == scorer.model_version).all()
    assert (out["as_of"] == "2024-06-30T00:00:00").all()
    assert out["seller_id"].tolist() == [f"S{i}" for i in range(20)]


def test_inputs_are_not_mutated(scorer):
    frame = _features(scorer, 30)
    frame.loc[3, scorer.feature_names[0]] = np.nan
    before = frame.copy(deep=True)
    scorer.score_many(frame, explain="all")
    pd.testing.assert_frame_equal(frame, before)
    record = frame.iloc[3].to_dict()
    record_before = dict(record)
    scorer.score_one(record)
    assert record.keys() == record_before.keys()
    assert all(
        (record[k] == record_before[k])
        or (record[k] != record[k] and record_before[k] != record_before[k])
        for k in record
    )


def test_column_order_has_no_effect_and_extra_columns_are_ignored(scorer):
    frame = _features(scorer, 40)
    base = scorer.score_many(frame, explain="all", scored_at=SCORED_AT)
    shuffled = frame[list(reversed(frame.columns))].assign(extra=1.0, note="text")
    out = scorer.score_many(shuffled, explain="all", scored_at=SCORED_AT)
    pd.testing.assert_frame_equal(out, base)
    record = {"unrelated": "x", **frame.iloc[0].to_dict()}
    assert scorer.score_one(record, scored_at=SCORED_AT) == RiskScore.from_row(
        base.iloc[0].to_dict(), entity="seller"
    )


def test_polars_input_gives_the_same_scores(scorer):
    pl = pytest.importorskip("polars")
    frame = _features(scorer, 10)
    out = scorer.score_many(pl.from_pandas(frame), scored_at=SCORED_AT)
    pd.testing.assert_frame_equal(out, scorer.score_many(frame, scored_at=SCORED_AT))


def test_frame_without_id_column_scores_with_missing_ids(scorer):
    out = scorer.score_many(_features(scorer, 3).drop(columns="seller_id"))
    assert out["seller_id"].isna().all() and len(out) == 3


def test_missing_feature_column_is_named_with_a_diff(scorer):
    frame = _features(scorer, 3).drop(columns=["account__listing_count"])
    with pytest.raises(
        ScoringError, match=r"missing 1 feature column\(s\).*account__listing_count"
    ) as err:
        scorer.score_many(frame)
    assert "-account__listing_count" in str(err.value)
    record = frame.iloc[0].to_dict()
    with pytest.raises(ScoringError, match=r"record is missing 1 feature.*account__listing_count"):
        scorer.score_one(record)


def test_catalog_mismatch_shows_expected_vs_received_diff(scorer):
    frame = _features(scorer, 3).rename(
        columns={
            "activity__orders_30d": "activity__n_orders_30d",
            "account__listing_count": "account__listings",
        }
    )
    with pytest.raises(ScoringError) as err:
        scorer.score_many(frame)
    text = str(err.value)
    assert "--- expected (model)" in text and "+++ received (input)" in text
    for line in (
        "-activity__orders_30d",
        "+activity__n_orders_30d",
        "-account__listing_count",
        "+account__listings",
    ):
        assert f"\n{line}" in text


def test_optional_feature_is_filled_from_the_catalog(scorer):
    # complaints__rate_30d needs the optional complaints table: its catalog fill (NaN) when
    # the column is absent
    frame = _features(scorer, 5)
    dropped = frame.drop(columns=["complaints__rate_30d"])
    filled = frame.assign(complaints__rate_30d=np.nan)
    assert not frame["complaints__rate_30d"].isna().any()
    column = scorer.feature_names.index("complaints__rate_30d")
    assert np.isnan(scorer.layout.matrix_from_frame(dropped)[:, column]).all()
    pd.testing.assert_frame_equal(
        scorer.score_many(dropped, explain="all", scored_at=SCORED_AT),
        scorer.score_many(filled, explain="all", scored_at=SCORED_AT),
    )


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.inf, r"'account__listing_count' is inf"),
        (-np.inf, r"'account__listing_count' is -inf"),
        (np.nan, r"'account__listing_count' is missing \(NaN\)"),
    ],
)
def test_invalid_values_are_named(scorer, value, match):
    frame = _features(scorer, 4)
    frame.loc[2, "account__listing_count"] = value
    with pytest.raises(
        ScoringError, match=r"1 row\(s\) have invalid feature values.*seller_id S2.*" + match
    ):
        scorer.score_many(frame)
    with pytest.raises(ScoringError, match="record seller_id='S2': invalid value: " + match):
        scorer.score_one(frame.iloc[2].to_dict())


def test_nan_is_valid_where_the_catalog_fill_is_nan(scorer):
    record = dict.fromkeys(scorer.feature_names, 1.0)
    record["pricing__median_price_ratio"] = None
    assert math.isfinite(scorer.score_one(record).score)


def test_text_in_a_feature_is_an_error(scorer):
    frame = _features(scorer, 3)
    frame["activity__orders_30d"] = frame["activity__orders_30d"].astype("str")
    with pytest.raises(
        ScoringError, match="feature column 'activity__orders_30d' holds str values"
    ):
        scorer.score_many(frame)
    record = {**dict.fromkeys(scorer.feature_names, 1.0), "activity__orders_30d": "3"}
    with pytest.raises(ScoringError, match="feature 'activity__orders_30d' is str '3'"):
        scorer.score_one(record)
    record["activity__orders_30d"] = [1, 2]
    with pytest.raises(ScoringError, match="feature 'activity__orders_30d' is list"):
        scorer.score_one(record)


def test_empty_frame_duplicate_ids_and_wrong_types_are_errors(scorer):
    with pytest.raises(ScoringError, match=r"empty \(0 rows\)"):
        scorer.score_many(_features(scorer, 3).iloc[:0])
    frame = _features(scorer, 4)
    frame.loc[3, "seller_id"] = "S1"
    with pytest.raises(ScoringError, match=r"2 rows with duplicated ids, e.g. S1"):
        scorer.score_many(frame)
    with pytest.raises(ScoringError, match="score one mapping with score_one"):
        scorer.score_many(dict.fromkeys(scorer.feature_names, 1.0))
    with pytest.raises(ScoringError, match="use score_many for frames"):
        scorer.score_one(_features(scorer, 1))  # type: ignore[arg-type]
    with pytest.raises(ScoringError, match="'explain' parameter must be one of 'flagged'"):
        scorer.score_many(_features(scorer, 1), explain="some")  # type: ignore[arg-type]
    with pytest.raises(ScoringError, match="as_of='yesterday' cannot be read as a timestamp"):
        scorer.score_many(_features(scorer, 1), as_of="yesterday")


def test_risk_score_is_json_serialisable(scorer):
    record = {"seller_id": "S9", **dict.fromkeys(scorer.feature_names, 3.0)}
    result = scorer.score_one(record, as_of="2024-06-30")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["entity_id"] == "S9" and data["as_of"] == "2024-06-30T00:00:00"
    assert isinstance(data["reasons"], list)
    assert all(
        set(r) == {"code", "feature", "value", "impact", "contribution", "text"}
        for r in data["reasons"]
    )


def test_scorer_is_safe_to_share_between_threads(scorer):
    frame = _features(scorer, 64)
    expected = scorer.score_many(frame, explain="all", scored_at=SCORED_AT)
    records = frame.to_dict("records")
    results: dict[int, RiskScore] = {}

    def work(offset: int) -> None:
        for i in range(offset, len(records), 4):
            results[i] = scorer.score_one(records[i], scored_at=SCORED_AT)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, one in results.items():
        assert one == RiskScore.from_row(expected.iloc[i].to_dict(), entity="seller")
    assert len(results) == len(records)


# -- issue 14, item 5: ids from the index of build_features output --------------------


def test_score_many_takes_ids_from_the_index_of_build_features(seller_scorer, marketplace):
    from riskscore.features import build_features

    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    built = build_features(tables, "seller", as_of="2024-06-30")
    assert built.index.name == "seller_id" and "seller_id" not in built.columns
    out = seller_scorer.score_many(built, explain="none", scored_at=SCORED_AT)
    assert out["seller_id"].tolist() == built.index.tolist()
    assert out["seller_id"].notna().all()
    column = seller_scorer.score_many(built.reset_index(), explain="none", scored_at=SCORED_AT)
    pd.testing.assert_frame_equal(out, column)
    doubled = pd.concat([built.head(3), built.head(1)])
    with pytest.raises(
        ScoringError,
        match=rf"index 'seller_id' has 2 rows with duplicated ids, e.g. {built.index[0]}",
    ):
        seller_scorer.score_many(doubled)


def test_invalid_rows_are_named_by_the_index_ids(scorer):
    frame = _features(scorer, 3).set_index("seller_id")
    frame.iloc[1, 1] = np.inf
    with pytest.raises(ScoringError, match=r"1 row\(s\), e.g. seller_id S1; first"):
        scorer.score_many(frame)


def test_ids_that_are_lists_are_an_error(scorer):
    frame = _features(scorer, 2)
    frame["seller_id"] = pd.Series([["S1"], ["S2"]], dtype=object)
    with pytest.raises(ScoringError, match=r"column 'seller_id' holds values that are not ids"):
        scorer.score_many(frame)


# -- issue 14, item 7: errors of the Python API are RiskscoreErrors -------------------


def test_a_number_beyond_float64_is_a_scoring_error(scorer):
    record = {"seller_id": "S1", **dict.fromkeys(scorer.feature_names, 1.0)}
    record["activity__orders_30d"] = 10**400
    with pytest.raises(
        ScoringError,
        match=r"record seller_id='S1': feature 'activity__orders_30d' is 1000.*beyond the "
        r"float64 range",
    ):
        scorer.score_one(record)
    frame = _features(scorer, 2).astype({"activity__orders_30d": object})
    frame.loc[1, "activity__orders_30d"] = -(10**400)
    with pytest.raises(
        ScoringError,
        match=r"feature column 'activity__orders_30d' holds numbers beyond the float64 range"
        r".* e.g. seller_id S1",
    ):
        scorer.score_many(frame)


def test_complex_numbers_are_refused_not_truncated(scorer):
    frame = _features(scorer, 2)
    frame["activity__orders_30d"] = frame["activity__orders_30d"] + 1j
    with pytest.raises(ScoringError, match=r"'activity__orders_30d' holds complex128 values"):
        scorer.score_many(frame)


@pytest.mark.parametrize(
    ("as_of", "match"),
    [
        ("10000-01-01", r"as_of='10000-01-01' cannot be read as a timestamp"),
        (pd.NaT, r"as_of is missing \(NaT\)"),
        (5, r"as_of must be a timestamp .*; got int '5'"),
    ],
)
def test_bad_times_are_scoring_errors(scorer, as_of, match):
    record = dict.fromkeys(scorer.feature_names, 1.0)
    with pytest.raises(ScoringError, match=match):
        scorer.score_one(record, as_of=as_of)
    with pytest.raises(ScoringError, match=match.replace("as_of", "scored_at")):
        scorer.score_many(_features(scorer, 1), scored_at=as_of)


def test_as_of_at_the_end_of_time_is_a_scoring_error_for_raw_tables(seller_scorer, marketplace):
    tables = {k: v for k, v in marketplace.items() if k != "truth"}
    seller = str(tables["sellers"]["seller_id"].iloc[0])
    with pytest.raises(
        ScoringError, match=r"as_of='2262-04-11 23:47:16.854775807' is outside the times"
    ):
        seller_scorer.score_entities(tables, [seller], pd.Timestamp.max)
    with pytest.raises(ScoringError, match=r"as_of='not a date' is not a timestamp"):
        seller_scorer.score_entities(tables, [seller], "not a date")


def test_score_one_takes_the_explain_modes_of_score_many(scorer):
    frame = _features(scorer, 300)
    flagged = scorer.score_many(frame, explain="flagged", scored_at=SCORED_AT)
    every = scorer.score_many(frame, explain="all", scored_at=SCORED_AT)
    high = flagged["band"].isin(["high", "critical"]).to_numpy()
    assert high.any() and (~high).any()
    for i in [int(np.flatnonzero(high)[0]), int(np.flatnonzero(~high)[0])]:
        record = frame.iloc[i].to_dict()
        expected = {
            "flagged": RiskScore.from_row(flagged.iloc[i].to_dict(), entity="seller"),
            "all": RiskScore.from_row(every.iloc[i].to_dict(), entity="seller"),
        }
        assert bool(expected["flagged"].reasons) == high[i]
        for mode, want in [("flagged", "flagged"), ("all", "all"), (True, "all")]:
            assert scorer.score_one(record, explain=mode, scored_at=SCORED_AT) == expected[want]
        for mode in ("none", False):
            assert scorer.score_one(record, explain=mode).reasons == ()
    with pytest.raises(
        ScoringError,
        match=r"The 'explain' parameter must be one of True, False, 'flagged', 'all', 'none'. "
        r"Got 'maybe' instead.",
    ):
        scorer.score_one(frame.iloc[0].to_dict(), explain="maybe")  # type: ignore[arg-type]
    with pytest.raises(ScoringError, match=r"Got 1 instead"):
        scorer.score_one(frame.iloc[0].to_dict(), explain=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"top_k": "3"}, "top_k must be a positive int; got '3'"),
        ({"top_k": True}, "top_k must be a positive int; got True"),
        ({"language": ["en"]}, r"language must be 'en' or 'zh'; got \['en'\]"),
        ({"flag_band": ["high"]}, r"flag_band must be one of the model's bands"),
    ],
)
def test_bad_scorer_options_are_scoring_errors(kwargs, match):
    from riskscore.scoring._demo import demo_model

    with pytest.raises(ScoringError, match=match):
        Scorer(demo_model(), **kwargs)
