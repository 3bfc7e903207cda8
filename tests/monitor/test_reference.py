"""The reference: built from a training run or plain frames, small, round-trips, clear errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskscore.monitor import (
    REFERENCE_FILE,
    MonitorError,
    Reference,
    build_reference,
    reference_from_result,
)


def test_reference_of_a_training_run_holds_every_part(reference: Reference, trained: Any):
    model = trained.model
    assert reference.feature_names == model.feature_names
    x = reference.features["orders__n_orders_30d"]
    assert x["kind"] == "numeric" and sorted(x["windows"]) == ["test", "train"]
    assert 5 <= len(x["edges"]) <= 9
    train_n = x["windows"]["train"]["n"]
    assert sum(x["windows"]["train"]["counts"]) == train_n
    # bins are the training window's deciles: each holds about a tenth of its rows
    shares = np.asarray(x["windows"]["train"]["counts"][:-1]) / train_n
    assert shares.max() < 0.2
    miss = reference.features["complaints__rate_90d"]["windows"]["train"]["missing_share"]
    assert miss == pytest.approx(0.1, abs=0.02)  # the generator blanks 10%
    region = reference.features["profile__region"]
    assert region["kind"] == "categorical" and set(region["levels"]) == {"apac", "eu", "us", "xx"}
    assert reference.outputs["score"]["windows"]["test"]["n"] == len(trained.predictions)
    assert reference.bands["thresholds"] == model.bands.thresholds
    shares = reference.bands["windows"]["test"]["shares"]
    assert sum(shares.values()) == pytest.approx(1.0)
    assert reference.bands["windows"]["test"]["flagged_share"] == pytest.approx(
        shares["high"] + shares["critical"]
    )
    assert [c["bin"] for c in reference.calibration] == sorted(
        c["bin"] for c in reference.calibration
    )
    assert reference.performance["positives"] == int(trained.predictions["label"].sum())
    assert reference.model["entity"] == "seller"


def test_reference_is_kilobytes_and_holds_no_rows(reference: Reference, table: pd.DataFrame):
    text = reference.to_json()
    assert len(text) < 40_000
    assert "e17" not in text and "entity_id" not in text  # no ids, no raw rows
    json.loads(text)  # strict JSON (no NaN)


def test_round_trip_through_json_and_folder(reference: Reference, tmp_path: Path):
    assert Reference.from_json(reference.to_json()).to_dict() == reference.to_dict()
    path = reference.save(tmp_path / "model")
    assert path.name == REFERENCE_FILE == "monitor_reference.json"
    assert Reference.load(tmp_path / "model").to_dict() == reference.to_dict()
    assert Reference.load(path).to_dict() == reference.to_dict()


def test_without_a_training_frame_the_test_window_is_the_base(trained: Any):
    ref = reference_from_result(trained)
    assert sorted(ref.features["noise__a"]["windows"]) == ["test"]
    # every row of the test window, not only the entity-disjoint test side
    window = trained.window_frame
    assert ref.features["noise__a"]["max"] == pytest.approx(window["noise__a"].max())
    assert window["noise__a"].max() > trained.test_frame["noise__a"].max()


def test_the_test_window_is_every_row_of_its_cutoffs(trained: Any):
    test_side, window = trained.test_frame, trained.window_frame
    assert set(window["cutoff"]) == set(test_side["cutoff"])
    assert len(window) > len(test_side)
    assert set(test_side["entity_id"]) <= set(window["entity_id"])
    # a result without the window (older pickles, other producers) keeps the test side
    import dataclasses

    older = dataclasses.replace(trained, window_frame=None)
    ref = reference_from_result(older)
    assert ref.features["noise__a"]["max"] == pytest.approx(test_side["noise__a"].max())


def test_from_plain_frames_without_a_model():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "id": range(500),
            "label": rng.integers(0, 2, 500),
            "a": rng.normal(size=500),
            "kind": rng.choice(["x", "y", "z"], 500),
        }
    )
    scores = pd.DataFrame({"score": rng.uniform(size=500), "risk_score": rng.uniform(0, 1000, 500)})
    ref = build_reference(
        test_frame=frame, predictions=scores, bands={"medium": 300, "high": 600, "critical": 800}
    )
    assert ref.feature_names == ["a", "kind"]  # id and label are not features
    assert ref.features["kind"]["kind"] == "categorical"
    assert ref.bands["windows"]["test"]["shares"]["critical"] == pytest.approx(
        float(np.mean(scores["risk_score"] >= 800))
    )


def test_max_levels_pools_the_rare_levels():
    s = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    ref = build_reference(test_frame=pd.DataFrame({"k": s}), max_levels=2)
    assert ref.features["k"]["levels"] == ["a", "b"]
    assert ref.features["k"]["windows"]["test"]["counts"] == [50, 30, 20, 0]


def test_errors_say_what_and_how_to_fix(tmp_path: Path, trained: Any):
    with pytest.raises(MonitorError, match="at least one of train_frame"):
        build_reference()
    with pytest.raises(MonitorError, match=r"lacks 1 feature column\(s\), e.g. \['noise__a'\]"):
        build_reference(trained.model, test_frame=trained.test_frame.drop(columns="noise__a"))
    with pytest.raises(MonitorError, match="'test_frame' parameter of build_reference"):
        build_reference(test_frame=[1, 2])
    with pytest.raises(MonitorError, match=r"No monitoring reference at .*monitor_reference\.json"):
        Reference.load(tmp_path)
    (tmp_path / REFERENCE_FILE).write_text('{"kind": "other"}')
    with pytest.raises(MonitorError, match="not a riskscore monitoring reference"):
        Reference.load(tmp_path)
    with pytest.raises(MonitorError, match="not valid JSON"):
        Reference.from_json("{")
    with pytest.raises(MonitorError, match="'result' parameter of reference_from_result"):
        reference_from_result(object())


def test_a_refit_reference_describes_the_scores_the_refit_hands_out(table: pd.DataFrame):
    import warnings

    from riskscore.modeling import train

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = train(
            table, entity="seller", target="fraud", capacity=20, n_bootstrap=0, family_report=False
        )
    deployed, window, model = result.deployed_predictions, result.window_frame, result.model
    assert deployed is not None and result.deployed["fit"] == "refit"
    # the refit's own scores on every row of the test windows, row for row
    assert deployed["entity_id"].tolist() == window["entity_id"].tolist()
    expected = model.scores_from_raw(model.raw_score(model.to_matrix(window)))
    np.testing.assert_array_equal(deployed["score"].to_numpy(), expected["score"])
    np.testing.assert_array_equal(deployed["band"].to_numpy(), expected["band"].astype(str))
    # the out-of-fold scores its calibration and bands were set on, on the same rows
    oof = model.scores_from_raw(deployed["oof_raw"].to_numpy())
    np.testing.assert_array_equal(deployed["oof_band"].to_numpy(), oof["band"].astype(str))
    flagged_oof = np.isin(deployed["oof_band"], ["high", "critical"])
    assert flagged_oof.sum() == 20  # capacity=20 on the one cutoff of the test window
    # in-sample the refit flags about the window's positives, whatever the capacity
    flagged_in_sample = np.isin(deployed["band"], ["high", "critical"])
    assert flagged_in_sample.sum() != 20
    ref = reference_from_result(result)
    assert ref.model["scores_from"].startswith("the deployed refit")
    assert ref.outputs["score"]["windows"]["test"]["n"] == len(window)
    from riskscore.monitor._psi import quantile_edges

    edges = quantile_edges(deployed["score"].to_numpy(), 10)
    np.testing.assert_allclose(ref.outputs["score"]["edges"], edges)
    assert ref.bands["windows"]["test"]["flagged_share"] == pytest.approx(flagged_oof.mean())
    # precision and recall at the flag band: out of fold (in-sample flags are ~all hits)
    labels = deployed["label"].to_numpy()
    assert ref.performance["rows"] == len(window)
    assert ref.performance["flagged"] == 20
    assert ref.performance["flagged_positives"] == int(labels[flagged_oof].sum())
    assert ref.performance["positives"] == int(labels.sum())
    assert ref.performance["mean_score"] == pytest.approx(deployed["oof_score"].mean())
    # the calibration curve stays the evaluated fit's on its test side
    evaluated = result.predictions
    assert sum(c["n"] for c in ref.calibration) == len(evaluated)
    # refit=False: the evaluated fit is deployed and describes itself
    plain = reference_from_result(dataclasses.replace(result, deployed_predictions=None))
    assert plain.model["scores_from"].startswith("the evaluated fit")
    assert plain.outputs["score"]["windows"]["test"]["n"] == len(evaluated)


def test_deployed_scores_give_the_distribution_and_volumes_the_counts():
    seg = pd.DataFrame({"segment__tenure": ["new"] * 4 + ["old"] * 6})
    window = seg.assign(a=np.arange(10.0))
    deployed = pd.DataFrame({"risk_score": [900.0, 900, 900, 0, 0, 0, 0, 0, 0, 900]})
    predictions = pd.DataFrame(
        {"risk_score": [900.0, 0, 0, 900], "score": [0.9, 0, 0, 0.9], "label": [0, 0, 1, 1]}
        | {"segment__tenure": ["new", "new", "old", "old"]}
    )
    cuts = {"medium": 300, "high": 600, "critical": 800}
    ref = build_reference(test_frame=window, predictions=predictions, deployed=deployed, bands=cuts)
    assert ref.bands["windows"]["test"]["flagged_share"] == pytest.approx(0.4)
    assert ref.outputs["risk_score"]["windows"]["test"]["n"] == 10
    # unlabelled deployed rows: precision and recall from the labelled predictions
    assert ref.performance["flagged"] == 2 and ref.performance["flagged_positives"] == 1
    assert ref.slices["segment__tenure"] == {
        "new": {"n": 4, "flagged": 3},
        "old": {"n": 6, "flagged": 1},
    }
    # volumes= gives band shares, flag rates, performance and false positives;
    # deployed= still the distribution, predictions= the calibration curve
    volumes = pd.DataFrame(
        {
            "band": ["critical"] + ["low"] * 9,
            "score": [0.9] + [0.01] * 9,
            "label": [1, 0, 0, 0, 1] + [0] * 5,
        }
    )
    ref = build_reference(
        test_frame=window, predictions=predictions, deployed=deployed, volumes=volumes, bands=cuts
    )
    assert ref.bands["windows"]["test"]["flagged_share"] == pytest.approx(0.1)
    assert ref.outputs["risk_score"]["max"] == 900.0
    assert ref.performance["rows"] == 10 and ref.performance["positives"] == 2
    assert ref.performance["flagged"] == 1 and ref.performance["flagged_positives"] == 1
    assert ref.slices["segment__tenure"] == {
        "new": {"n": 4, "flagged": 1, "negatives": 3, "false_positives": 0},
        "old": {"n": 6, "flagged": 0, "negatives": 5, "false_positives": 0},
    }
    assert sum(c["n"] for c in ref.calibration) == 4  # the predictions' rows


def test_a_label_column_of_another_name_is_read_from_the_model(table: pd.DataFrame):
    import warnings

    from riskscore.modeling import train

    banned = table.rename(columns={"label": "banned"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = train(
            banned,
            label_col="banned",
            capacity=20,
            n_bootstrap=0,
            refit=False,
            family_report=False,
        )
    ref = reference_from_result(result)
    # before, the reference looked for a column named "label" and kept no performance
    assert ref.performance["positives"] == int(result.predictions["banned"].sum()) > 0
    assert ref.calibration
