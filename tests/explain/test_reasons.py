"""Reason codes: top features by signal, impact bands, sentences, and the two output forms."""

from __future__ import annotations

import json
import math

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskscore.exceptions import ExplanationError
from riskscore.explain import (
    IMPACT_THRESHOLDS,
    REASON_COLUMNS,
    Explainer,
    frame_to_records,
    impact_band,
)

from .conftest import NAMES


def _record(frame: pd.DataFrame, i: int) -> dict[str, object]:
    return {k: (None if pd.isna(v) else v) for k, v in frame.iloc[i].to_dict().items()}


def test_frame_columns_and_order(explainer: Explainer, frame: pd.DataFrame):
    out = explainer.explain_many(frame.head(50), direction="both")
    assert list(out.columns) == list(REASON_COLUMNS)
    assert out["entity_id"].isin(frame.index[:50]).all()
    key = out.assign(
        pos=out["entity_id"].map({e: i for i, e in enumerate(frame.index)}),
        down=out["direction"].eq("down"),
    )
    assert key.sort_values(["pos", "down", "rank"], kind="stable").index.equals(key.index)
    assert set(out["direction"]) == {"up", "down"}
    assert (out.loc[out["direction"] == "up", "contribution"] > 0).all()
    assert (out.loc[out["direction"] == "down", "contribution"] < 0).all()


def test_reasons_are_the_strongest_features_one_per_signal(
    explainer: Explainer, frame: pd.DataFrame, catalog: pd.DataFrame
):
    top_k = 3
    contrib = explainer.contributions(frame).values
    out = explainer.explain_many(frame, top_k=top_k, min_impact=0)
    signal_of = dict(zip(catalog["name"], catalog["signal"], strict=True))
    for pos, (entity, group) in enumerate(out.groupby("entity_id", sort=False)):
        row = frame.index.get_loc(entity)
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
        assert group["signal"].is_unique
        assert group["contribution"].is_monotonic_decreasing
        # expected: walk features by contribution, keep the first of each signal
        expected, seen = [], set()
        for j in np.argsort(-contrib[row], kind="stable"):
            if contrib[row, j] <= 1e-9 or len(expected) == top_k:
                break
            if signal_of[NAMES[j]] not in seen:
                seen.add(signal_of[NAMES[j]])
                expected.append(NAMES[j])
        assert group["feature"].tolist() == expected, entity
        if pos > 200:
            break


def test_one_signal_does_not_fill_all_slots(explainer: Explainer, frame: pd.DataFrame):
    contrib = explainer.contributions(frame).values
    pricing = [NAMES.index(n) for n in NAMES if n.startswith("pricing__")]
    # rows where the three price features are all among the top-3 contributions
    top3 = np.argsort(-contrib, axis=1)[:, :3]
    rows = np.flatnonzero(
        np.isin(top3, pricing).all(axis=1) & (contrib[:, pricing] > 0).all(axis=1)
    )
    assert len(rows) > 0, "fixture should have rows where one signal dominates"
    out = explainer.explain_many(frame.iloc[rows], top_k=3, min_impact=0)
    per_row = out.groupby("entity_id")["signal"]
    assert (per_row.apply(lambda s: (s == "price_vs_market").sum()) == 1).all()


def test_impact_bands_use_fixed_log_odds_thresholds(explainer: Explainer, frame: pd.DataFrame):
    out = explainer.explain_many(frame, direction="both", min_impact=0, top_k=5)
    cuts = np.asarray(IMPACT_THRESHOLDS)
    expected = (np.abs(out["contribution"].to_numpy())[:, None] >= cuts).sum(axis=1)
    np.testing.assert_array_equal(out["impact"].to_numpy(), expected)
    assert out["impact"].between(0, 5).all()
    assert impact_band(0.0) == 0
    assert impact_band(IMPACT_THRESHOLDS[0]) == 1
    assert impact_band(-IMPACT_THRESHOLDS[-1]) == 5


def test_min_impact_drops_weak_reasons(explainer: Explainer, frame: pd.DataFrame):
    strong = explainer.explain_many(frame, min_impact=3)
    assert (strong["impact"] >= 3).all()
    weak = explainer.explain_many(frame, min_impact=0)
    assert len(weak) >= len(strong)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sentences_never_show_nan(explainer: Explainer, frame: pd.DataFrame, lang: str):
    out = explainer.explain_many(frame, direction="both", min_impact=0, language=lang)
    missing = out["value"].isna()
    assert missing.any(), "fixture should give reasons on missing values"
    assert not out["text"].str.contains("nan", case=False).any()
    assert not out["text"].str.contains("{", regex=False).any()
    marker = "missing" if lang == "en" else "缺失"
    assert out.loc[missing, "text"].str.contains(marker).all()
    assert not out.loc[~missing, "text"].str.contains(marker).any()


def test_sentence_text_en_and_zh(explainer: Explainer, frame: pd.DataFrame):
    record = _record(frame, 0) | {"pricing__median_price_ratio": 0.48}
    en = explainer.explain_one(record, top_k=8, min_impact=0, direction="both")
    zh = explainer.explain_one(record, top_k=8, min_impact=0, direction="both", language="zh")
    by_feature_en = {r["feature"]: r["text"] for r in en["reasons"]}
    by_feature_zh = {r["feature"]: r["text"] for r in zh["reasons"]}
    assert by_feature_en["pricing__median_price_ratio"] == (
        "Median price is 48% of the market price for the same products"
    )
    assert by_feature_zh["pricing__median_price_ratio"] == "同款商品售价中位数为市场价的48%"
    assert [r["code"] for r in en["reasons"]] == [r["code"] for r in zh["reasons"]]


_finite_or_missing = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.just(float("inf")),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
)


@settings(max_examples=80, deadline=None)
@given(
    values=st.fixed_dictionaries({n: _finite_or_missing for n in NAMES}),
    lang=st.sampled_from(["en", "zh"]),
)
def test_any_record_gives_clean_json(explainer: Explainer, values: dict, lang: str):
    out = explainer.explain_one(values, top_k=3, direction="both", language=lang, min_impact=0)
    text = json.dumps(out, allow_nan=False, ensure_ascii=False)
    assert "nan" not in " ".join(r["text"] for r in out["reasons"]).lower()
    assert json.loads(text) == out
    raw = sum(r["contribution"] for r in out["reasons"])
    assert math.isfinite(raw)
    for r in out["reasons"]:
        v = values[r["feature"]]
        if v is None or not math.isfinite(v):
            assert r["value"] is None


def test_frame_and_json_forms_carry_the_same_content(explainer: Explainer, frame: pd.DataFrame):
    sub = frame.head(120)
    many = explainer.explain_many(sub, direction="both", language="zh")
    records = frame_to_records(many)
    ones = [
        explainer.explain_one(
            _record(sub, i), entity_id=sub.index[i], direction="both", language="zh"
        )
        for i in range(len(sub))
    ]
    ones = [o for o in ones if o["reasons"]]
    assert len(records) == len(ones) > 0
    for got, want in zip(records, ones, strict=True):
        assert got["entity_id"] == want["entity_id"]
        assert got["raw_score"] == pytest.approx(want["raw_score"], abs=1e-12)
        assert got["base_value"] == pytest.approx(want["base_value"], abs=1e-12)
        assert len(got["reasons"]) == len(want["reasons"])
        for a, b in zip(got["reasons"], want["reasons"], strict=True):
            assert a.keys() == b.keys()
            assert a["contribution"] == pytest.approx(b["contribution"], abs=1e-12)
            assert {k: v for k, v in a.items() if k != "contribution"} == {
                k: v for k, v in b.items() if k != "contribution"
            }
    json.dumps(records, allow_nan=False)


def test_raw_score_matches_the_booster(
    explainer: Explainer, booster: lgb.Booster, frame: pd.DataFrame
):
    out = explainer.explain_one(_record(frame, 3))
    raw = booster.predict(frame[NAMES].to_numpy()[3:4], raw_score=True)[0]
    assert out["raw_score"] == pytest.approx(raw, abs=1e-6)


def test_rows_and_precomputed_contributions(explainer: Explainer, frame: pd.DataFrame):
    sub = frame.head(40)
    everything = explainer.explain_many(sub, min_impact=0)
    mask = np.zeros(len(sub), dtype=bool)
    mask[[2, 7, 30]] = True
    some = explainer.explain_many(sub, rows=mask, min_impact=0)
    assert set(some["entity_id"]) <= set(sub.index[[2, 7, 30]])
    expected = everything[everything["entity_id"].isin(sub.index[[2, 7, 30]])].reset_index(
        drop=True
    )
    pd.testing.assert_frame_equal(some, expected)
    by_pos = explainer.explain_many(sub, rows=[2, 7, 30], min_impact=0)
    pd.testing.assert_frame_equal(by_pos, some)
    pre = explainer.contributions(sub.iloc[[2, 7, 30]])
    reused = explainer.explain_many(sub, rows=[2, 7, 30], contributions=pre, min_impact=0)
    pd.testing.assert_frame_equal(reused, some)


def test_ids_from_column_list_or_positions(explainer: Explainer, frame: pd.DataFrame):
    sub = frame.head(5).reset_index()
    by_col = explainer.explain_many(sub, ids="seller_id", min_impact=0)
    assert by_col["entity_id"].str.startswith("S").all()
    by_list = explainer.explain_many(sub, ids=list("abcde"), min_impact=0)
    assert set(by_list["entity_id"]) <= set("abcde")
    by_pos = explainer.explain_many(sub[NAMES].to_numpy(), min_impact=0)
    assert set(by_pos["entity_id"]) <= {0, 1, 2, 3, 4}
    with pytest.raises(ExplanationError, match="got 2 ids for 5 rows"):
        explainer.explain_many(sub, ids=["a", "b"])
    with pytest.raises(ExplanationError, match="ids names column 'listing_id'"):
        explainer.explain_many(sub, ids="listing_id")


def test_reason_lists_from_raw_pred_contrib(
    explainer: Explainer, booster: lgb.Booster, frame: pd.DataFrame
):
    X = frame[NAMES].to_numpy()[:20]
    raw = booster.predict(X, pred_contrib=True)
    lists = explainer.reason_lists(X, raw, top_k=2, language="zh")
    assert len(lists) == 20
    for i, reasons in enumerate(lists):
        assert reasons == explainer.explain_one(X[i], top_k=2, language="zh")["reasons"]
    with pytest.raises(ExplanationError, match=r"contributions have shape \(19, 8\)"):
        explainer.reason_lists(X, raw[1:])


def test_model_attributes_are_read(
    booster: lgb.Booster, catalog: pd.DataFrame, frame: pd.DataFrame
):
    class Model:
        name = "riskscore-seller-fraud"
        version = 3
        entity = "seller"

        def __init__(self) -> None:
            self.booster = booster
            self.catalog = catalog

    explainer = Explainer(Model())
    assert explainer.describe_model() == "model 'riskscore-seller-fraud' version 3"
    record = _record(frame, 0) | {"seller_id": "S-42"}
    assert explainer.explain_one(record)["entity_id"] == "S-42"
    sub = frame.head(3).reset_index()
    assert set(explainer.explain_many(sub, min_impact=0)["entity_id"]) <= set(sub["seller_id"])


# -- bad input -------------------------------------------------------------------------


def test_model_without_catalog_names_the_model(booster: lgb.Booster):
    class Model:
        name = "riskscore-seller-fraud"
        version = "12"
        catalog = None

        def __init__(self) -> None:
            self.booster = booster

    with pytest.raises(
        ExplanationError,
        match=r"model 'riskscore-seller-fraud' version 12 has no feature catalog",
    ):
        Explainer(Model())
    with pytest.raises(ExplanationError, match="the model has no feature catalog"):
        Explainer(booster)


def test_catalog_without_a_model_feature(booster: lgb.Booster, catalog: pd.DataFrame):
    short = catalog[catalog["name"] != "buyers__hhi"]
    with pytest.raises(
        ExplanationError,
        match=r"1 feature\(s\) of model 'm' are not in its feature catalog: 'buyers__hhi'",
    ):
        Explainer(booster, short, model_name="m")
    with pytest.raises(ExplanationError, match="lacks column\\(s\\) text_zh"):
        Explainer(booster, catalog.drop(columns="text_zh"))
    with pytest.raises(ExplanationError, match="must be a pandas DataFrame; got dict"):
        Explainer(booster, {"name": NAMES})  # type: ignore[arg-type]


def test_record_missing_a_feature_names_feature_and_model(
    explainer: Explainer, frame: pd.DataFrame
):
    record = _record(frame, 0)
    del record["complaints__counterfeit_rate_30d"]
    with pytest.raises(
        ExplanationError,
        match=r"model 'riskscore-seller-test' version 7: 1 feature\(s\) the model needs are "
        r"missing: 'complaints__counterfeit_rate_30d'",
    ):
        explainer.explain_one(record)
    with pytest.raises(ExplanationError, match="'complaints__counterfeit_rate_30d'"):
        explainer.explain_many(frame.drop(columns="complaints__counterfeit_rate_30d"))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"top_k": 0}, "top_k must be a positive int. Got 0 instead."),
        ({"direction": "sideways"}, "direction must be one of up, down, both. Got 'sideways'"),
        ({"language": "fr"}, "language must be 'en' or 'zh'. Got 'fr' instead."),
        ({"min_impact": 6}, r"min_impact must be an int in the range \[0, 5\]. Got 6 instead."),
    ],
)
def test_bad_arguments(explainer: Explainer, frame: pd.DataFrame, kwargs: dict, match: str):
    with pytest.raises(ExplanationError, match=match):
        explainer.explain_one(_record(frame, 0), **kwargs)
    with pytest.raises(ExplanationError, match=match):
        explainer.explain_many(frame.head(3), **kwargs)


def test_explain_one_refuses_a_frame(explainer: Explainer, frame: pd.DataFrame):
    with pytest.raises(ExplanationError, match="use explain_many for frames"):
        explainer.explain_one(frame.head(2))


def test_bad_rows(explainer: Explainer, frame: pd.DataFrame):
    with pytest.raises(
        ExplanationError, match=r"rows must be a boolean mask or row positions in \[0, 3\)"
    ):
        explainer.explain_many(frame.head(3), rows=[5])
    with pytest.raises(ExplanationError, match=r"rows mask has shape \(2,\); expected \(3,\)"):
        explainer.explain_many(frame.head(3), rows=np.array([True, False]))


def test_inputs_are_not_modified(explainer: Explainer, frame: pd.DataFrame):
    sub = frame.head(10).copy()
    before = sub.copy()
    explainer.explain_many(sub)
    pd.testing.assert_frame_equal(sub, before)
    record = _record(frame, 1)
    copy = dict(record)
    explainer.explain_one(record)
    assert record == copy


def test_categorical_features_show_their_label():
    from riskscore.modeling import Bands, Calibrator, RiskModel, RiskScale

    rng = np.random.default_rng(4)
    levels = ["Zhejiang", "Guangdong", "Hebei"]
    code = rng.integers(0, 3, 600).astype(float)
    ratio = rng.uniform(0.2, 1.2, 600)
    y = ((code == 1) | (ratio < 0.4)).astype(int)
    names = ["account__region", "pricing__median_price_ratio"]
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5},
        lgb.Dataset(np.column_stack([code, ratio]), y, feature_name=names, categorical_feature=[0]),
        20,
    )
    catalog = pd.DataFrame(
        {
            "name": names,
            "reason_code": ["REGION", "PRICE_FAR_BELOW_MARKET"],
            "signal": ["region", "price"],
            "text_en": ["The seller is registered in {value}", "Median price is {value:.0%}"],
            "text_zh": ["卖家注册地为{value}", "售价中位数为市场价的{value:.0%}"],
        }
    )
    model = RiskModel(
        booster,
        feature_names=names,
        calibrator=Calibrator("none"),
        scale=RiskScale([-5.0, 5.0], [0.0, 1000.0]),
        bands=Bands({"medium": 300, "high": 600, "critical": 800}),
        categories={"account__region": levels},
        catalog=catalog,
        metadata={"entity": "seller"},
    )
    explainer = Explainer(model)
    out = explainer.explain_one(
        {"account__region": "Guangdong", "pricing__median_price_ratio": 0.9}, top_k=1
    )
    assert out["reasons"][0]["value"] == "Guangdong"
    assert out["reasons"][0]["text"] == "The seller is registered in Guangdong"
    frame = pd.DataFrame(
        {"account__region": ["Guangdong", None], "pricing__median_price_ratio": [0.9, 0.3]},
        index=["S1", "S2"],
    )
    many = explainer.explain_many(frame, min_impact=0)
    first = many[many["entity_id"] == "S1"].iloc[0]
    assert (first["value"], first["code"]) == ("Guangdong", "REGION")
    assert json.dumps(frame_to_records(many), allow_nan=False)
    with pytest.raises(ExplanationError, match="account__region"):
        explainer.explain_one({"pricing__median_price_ratio": 0.9})


def test_explain_many_refuses_repeated_ids() -> None:
    import numpy as np
    import pandas as pd

    from riskscore.exceptions import ExplanationError
    from riskscore.explain import Explainer
    from riskscore.scoring._demo import demo_model

    model = demo_model()
    frame = pd.DataFrame(np.zeros((3, len(model.feature_names))), columns=list(model.feature_names))
    explainer = Explainer(model)
    with pytest.raises(ExplanationError, match=r"2 rows share their entity id .*e\.g\. S1"):
        explainer.explain_many(frame, ids=["S1", "S2", "S1"])
    out = explainer.explain_many(frame, ids=["S1", "S2", "S3"], min_impact=0)
    assert set(out["entity_id"]) <= {"S1", "S2", "S3"}


def test_impact_band_refuses_text() -> None:
    from riskscore.explain import impact_band

    with pytest.raises(ExplanationError, match="'contribution' parameter of impact_band"):
        impact_band("high")
    assert impact_band(np.float32(-0.2)) == 2  # numbers of any dtype still work


@pytest.mark.parametrize("frame", [None, pd.DataFrame({"entity_id": ["S1"]})])
def test_frame_to_records_refuses_what_is_not_a_reasons_frame(frame) -> None:
    from riskscore.explain import frame_to_records

    with pytest.raises(ExplanationError, match="frame_to_records"):
        frame_to_records(frame)


def test_lang_is_a_deprecated_name_of_language() -> None:
    import numpy as np

    from riskscore.exceptions import ParameterError
    from riskscore.explain import Explainer
    from riskscore.scoring._demo import demo_model

    model = demo_model()
    explainer = Explainer(model)
    row = np.zeros(len(model.feature_names))
    new = explainer.explain_one(row, language="zh", min_impact=0)
    with pytest.warns(DeprecationWarning, match="'lang' is deprecated.*use 'language'"):
        old = explainer.explain_one(row, lang="zh", min_impact=0)
    assert old == new
    with pytest.raises(ParameterError, match="both 'language' and its deprecated name 'lang'"):
        explainer.explain_one(row, language="zh", lang="en")
