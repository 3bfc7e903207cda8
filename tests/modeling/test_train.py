from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from riskscore.exceptions import TrainingError
from riskscore.metrics import METRICS
from riskscore.modeling import (
    TrainingWarning,
    TrainResult,
    evaluate,
    make_training_table,
    prequential,
    train,
)


def test_result_contents(result: TrainResult) -> None:
    m = result.metrics
    assert list(m.index) == list(METRICS)
    for col in ("model", "model_lo", "model_hi", "baseline", "baseline_lo", "delta"):
        assert col in m.columns
    assert (m["model_lo"] <= m["model"] + 1e-12).all() and (
        m["model"] <= m["model_hi"] + 1e-12
    ).all()
    assert m.loc["roc_auc", "model"] > 0.65  # the generated features carry signal
    assert result.model.metadata["metrics"]["model"]["pr_auc"] == m.loc["pr_auc", "model"]
    assert len(result.predictions) == len(result.split.test) == len(result.test_frame)
    assert set(result.predictions.columns) >= {
        "raw",
        "score",
        "risk_score",
        "band",
        "baseline_score",
    }
    assert result.importance["gain"].sum() == pytest.approx(1.0)
    assert result.importance["feature"].iloc[0] in {
        "complaints__rate_90d",
        "listings__price_ratio_median",
        "network__shared_ids",
    }
    assert result.config["lgbm"]["deterministic"] is True


def test_capacity_is_scaled_to_the_test_share(result: TrainResult) -> None:
    meta = result.gate_model.metadata  # the evaluated fit, measured on the test side
    share = meta["population_share"]
    assert 0.1 < share < 0.3  # ~20 % of the entities of the newest cutoff
    assert meta["capacity_test"] == max(1, round(20 * share))
    # the high band holds about one capacity of the whole population per cutoff
    high = result.gate_model.bands.thresholds["high"]
    flagged = int((result.predictions["risk_score"] >= high).sum())
    assert flagged / share <= 20
    # the deployed refit sets its bands on out-of-fold scores of every entity
    assert result.model.metadata["population_share"] == 1.0


def test_evaluate_reproduces_the_test_metrics(result: TrainResult) -> None:
    ev = evaluate(
        result.gate_model,
        result.test_frame,
        population_share=result.gate_model.metadata["population_share"],
        n_bootstrap=0,
    )
    for metric in METRICS:
        a, b = ev.metrics.loc[metric, "model"], result.metrics.loc[metric, "model"]
        assert a == pytest.approx(b, nan_ok=True)
    assert ev.k == result.gate_model.metadata["capacity_test"]


def test_evaluate_names_the_times_a_model_was_fitted_on(
    result: TrainResult, table: pd.DataFrame
) -> None:
    # the evaluated fit on its own test window: out of sample, nothing to say
    honest = evaluate(result.gate_model, result.test_frame, n_bootstrap=0)
    assert honest.in_sample == ""
    # the deployed refit learnt every labelled row up to the test window (2024-06-01)
    with pytest.warns(TrainingWarning, match="in-sample, not an evaluation") as caught:
        flattered = evaluate(result.model, table, n_bootstrap=0)
    assert str(caught[0].message) == flattered.in_sample
    assert "fitted on every labelled row of cutoffs up to 2024-06-01:" in flattered.in_sample
    assert "its figures at 6 cutoff(s) (2024-01-01 .. 2024-06-01)" in flattered.in_sample
    assert flattered.metrics.loc["roc_auc", "model"] > honest.metrics.loc["roc_auc", "model"]
    # the evaluated fit, with the label horizon: its calibration labels reach the test window
    with pytest.warns(TrainingWarning):
        overlap = evaluate(result.gate_model, table, n_bootstrap=0, horizon="60D")
    assert "its train, validation and calibration cutoffs up to 2024-05-01" in overlap.in_sample
    assert "(labels to 2024-06-30)" in overlap.in_sample
    assert "its figures at 6 cutoff(s)" in overlap.in_sample
    # a champion beside the candidate is named too: a comparison it learnt is not fair
    with pytest.warns(TrainingWarning) as caught:
        paired = evaluate(result.gate_model, result.test_frame, other=result.model, n_bootstrap=0)
    assert len(caught) == 1 and "every labelled row" in paired.in_sample
    with pytest.raises(TrainingError, match="'horizon' parameter of evaluate"):
        evaluate(result.gate_model, result.test_frame, n_bootstrap=0, horizon="sixty days")


def test_evaluate_pairs_two_models(result: TrainResult, table: pd.DataFrame) -> None:
    weak = train(
        table,
        feature_cols=["noise__a", "noise__b", "profile__account_age_days"],
        capacity=20,
        n_bootstrap=0,
    )
    ev = evaluate(
        result.gate_model,
        result.test_frame,
        other=weak.gate_model,
        n_bootstrap=30,
        names=("candidate", "champion"),
    )
    assert {"candidate", "champion", "delta", "delta_lo"} <= set(ev.metrics.columns)
    assert ev.metrics.loc["pr_auc", "delta"] > 0


def test_no_positives(table: pd.DataFrame) -> None:
    with pytest.raises(TrainingError, match="no positive labels: all 9000 rows"):
        train(table.assign(label=0))


def test_single_class_in_a_window(table: pd.DataFrame) -> None:
    t = table.copy()
    t.loc[t["cutoff"] == "2024-06-01", "label"] = 0
    with pytest.raises(TrainingError, match=r"the test side \(2024-06-01.*no positive label"):
        train(t, capacity=20)


def test_too_few_positives(table: pd.DataFrame) -> None:
    t = table.copy()
    rng = np.random.default_rng(0)
    pos = t.index[(t["label"] == 1) & (t["cutoff"] < "2024-05-01")]
    t.loc[rng.choice(pos, size=len(pos) - 40, replace=False), "label"] = 0
    with pytest.raises(
        TrainingError, match=r"only \d+ positive rows on the train side.*min_positives=30"
    ):
        train(t, capacity=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        assert train(t, capacity=20, min_positives=5, n_bootstrap=0).model is not None


def test_useless_columns_are_dropped_with_a_warning(table: pd.DataFrame) -> None:
    t = table.assign(empty__x=np.nan, const__y=3.0)
    with pytest.warns(
        TrainingWarning,
        match=r"dropped 2 feature column.*'empty__x' all values missing.*'const__y' constant",
    ):
        r = train(t, capacity=20, n_bootstrap=0)
    assert "empty__x" not in r.model.feature_names
    assert r.model.metadata["dropped_features"] == {
        "empty__x": "all values missing",
        "const__y": "constant (3.0)",
    }
    with (
        pytest.raises(TrainingError, match="no usable feature columns"),
        pytest.warns(TrainingWarning),
    ):
        train(t, feature_cols=["empty__x", "const__y"])


def test_label_and_table_checks(table: pd.DataFrame) -> None:
    with pytest.raises(TrainingError, match=r"must hold 0/1.*\['0', '1', '2'\]"):
        train(table.assign(label=table["label"].where(table.index % 7 > 0, 2)))
    with pytest.raises(TrainingError, match="2 missing value"):
        train(table.assign(label=table["label"].astype(float).where(table.index > 1)))
    with pytest.raises(TrainingError, match=r"rows share their \(entity_id, cutoff\)"):
        train(pd.concat([table, table.head(3)]))
    with pytest.raises(
        TrainingError, match=r"column\(s\) \['account'\] are not in the table.*--id"
    ):
        train(table, id_col="account")
    with pytest.raises(TrainingError, match="hold dates"):
        train(table.assign(seen__at=table["cutoff"]))
    with pytest.raises(TrainingError, match="pandas DataFrame"):
        train(table.to_dict())  # type: ignore[arg-type]


def test_user_table_without_time(table: pd.DataFrame) -> None:
    user = table[table["cutoff"] == "2024-06-01"].drop(columns="cutoff")
    user = pd.concat(
        [
            user,
            table[table["cutoff"] == "2024-05-01"]
            .drop(columns="cutoff")
            .assign(entity_id=lambda d: d["entity_id"] + "b"),
        ]
    )
    user = user.rename(columns={"entity_id": "account_id", "label": "banned"})
    user["banned"] = user["banned"].astype(bool)
    with pytest.warns(UserWarning, match="no time column"):
        r = train(
            user,
            id_col="account_id",
            time_col=None,
            label_col="banned",
            capacity=10,
            n_bootstrap=0,
            min_positives=20,
        )
    assert r.split.mode == "stratified"
    assert any("stratified" in n for n in r.notes)
    assert r.model.metadata["group_by"] == "none"


def test_event_table_groups_by_day() -> None:
    rng = np.random.default_rng(0)
    t = make_training_table(6000, 1, positive_rate=0.08, seed=3).drop(columns="cutoff")
    t["ts"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 60, len(t)), unit="D")
    r = train(t, time_col="ts", capacity=5, n_bootstrap=0)
    assert r.model.metadata["group_by"] == "day"
    assert r.split.mode == "time" and r.model.metadata["days_per_group"] == 1.0
    assert r.fingerprint["n_times"] == 6000


def test_class_weight_and_search(table: pd.DataFrame) -> None:
    r = train(
        table,
        class_weight="balanced",
        search_iter=3,
        capacity=20,
        n_bootstrap=0,
        num_boost_round=100,
    )
    assert r.search is not None and len(r.search) == 3
    assert r.model.metadata["params"]["scale_pos_weight"] > 5
    # calibrated probabilities stay near the base rate despite the weighting
    assert r.predictions["score"].mean() == pytest.approx(r.predictions["label"].mean(), abs=0.04)


def test_cost_ratio_bands(table: pd.DataFrame) -> None:
    r = train(table, cost_ratio=9.0, capacity=20, n_bootstrap=0)
    assert r.model.bands.source == "cost"
    high = r.model.bands.thresholds["high"]
    p = r.model.calibrator.transform(r.model.scale.raw_at(high))
    assert p >= 0.1 - 1e-6


def test_segments(table: pd.DataFrame) -> None:
    t = table.assign(region=np.where(table.index % 3 == 0, "eu", "us"))
    r = train(t, capacity=20, n_bootstrap=0, segment_cols=["region", "profile__account_age_days"])
    assert "region" not in r.model.feature_names
    assert r.slices is not None
    assert set(r.slices["segment"]) == {"region", "profile__account_age_days"}
    assert r.slices.loc[r.slices["segment"] == "region", "n"].sum() == len(r.predictions)


def test_prequential(table: pd.DataFrame) -> None:
    out = prequential(table, n_windows=2, capacity=20)
    assert out.index.tolist() == ["2024-06-01", "2024-05-01", "mean", "std"]
    assert out.loc["mean", "pr_auc"] == pytest.approx(out.iloc[:2]["pr_auc"].mean())
    assert {"baseline_pr_auc", "test_rows", "test_positives"} <= set(out.columns)


@pytest.mark.parametrize("kept", [False, True])
def test_model_card_says_which_features_are_not_point_in_time(
    table: pd.DataFrame, kept: bool
) -> None:
    """A training set from tables with only the latest order status carries a record."""
    from riskscore.features._training_set import POINT_IN_TIME_ATTR

    table = table.copy()
    table.attrs[POINT_IN_TIME_ATTR] = {
        "not_point_in_time": ["complaints__refund_rate"],
        "missing_columns": ["orders.refunded_at"],
        "kept": kept,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = train(table, seed=0, capacity=20, n_bootstrap=0)
    assert result.model.metadata["point_in_time"] == table.attrs[POINT_IN_TIME_ATTR]
    card = result.model_card()
    bullet = next(line for line in card.splitlines() if line.startswith("- point-in-time:"))
    if kept:
        assert "kept on request (allow_not_point_in_time=True): complaints__refund_rate" in bullet
        assert "the metrics flatter them" in bullet
    else:
        assert "so left out: complaints__refund_rate (without orders.refunded_at" in bullet
    assert any(n.startswith("not point-in-time") for n in result.notes)


def test_model_card_of_a_user_table_has_no_point_in_time_line(result: TrainResult) -> None:
    assert result.model.metadata["point_in_time"] is None
    assert "- point-in-time:" not in result.model_card()
    assert not any("point-in-time" in n for n in result.notes)
