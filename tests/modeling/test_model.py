from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskscore.exceptions import ModelNotFoundError, ScoringError
from riskscore.modeling import FORMAT_VERSION, RiskModel, TrainResult, make_training_table, train


def test_folder_format(result: TrainResult, tmp_path: Path) -> None:
    folder = result.model.save(tmp_path / "m")
    assert sorted(p.name for p in folder.iterdir()) == [
        "model.txt",
        "riskmodel.json",
        "thresholds.csv",
    ]
    spec = json.loads((folder / "riskmodel.json").read_text())
    assert spec["format_version"] == FORMAT_VERSION
    assert spec["name"] == "riskscore-seller-fraud"
    assert spec["feature_names"] == result.model.feature_names
    assert spec["calibrator"]["method"] in {"platt", "isotonic"}
    assert set(spec["bands"]["thresholds"]) == {"medium", "high", "critical"}
    meta = spec["metadata"]
    assert meta["entity"] == "seller" and meta["target"] == "fraud"
    assert meta["training_window"] == ["2024-01-01T00:00:00", "2024-04-01T00:00:00"]
    assert meta["fingerprint"]["rows"] == 9000 and len(meta["fingerprint"]["sha256"]) == 64
    assert (folder / "model.txt").read_text().startswith("tree\nversion=")


def test_save_load_roundtrip(result: TrainResult, table: pd.DataFrame, tmp_path: Path) -> None:
    model = result.model
    loaded = RiskModel.load(model.save(tmp_path / "m"))
    X = model.to_matrix(table.head(300))
    np.testing.assert_array_equal(loaded.raw_score(X), model.raw_score(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.risk_score(X), model.risk_score(X))
    assert loaded.bands == model.bands and loaded.scale == model.scale
    assert loaded.metadata["fingerprint"]["sha256"] == model.metadata["fingerprint"]["sha256"]
    pd.testing.assert_frame_equal(loaded.threshold_table, model.threshold_table, check_dtype=False)
    # saving what was loaded gives the same bytes
    again = loaded.save(tmp_path / "again")
    for name in ("model.txt", "riskmodel.json"):
        assert (again / name).read_bytes() == (tmp_path / "m" / name).read_bytes()


@pytest.mark.slow
def test_same_data_and_seed_give_identical_files(table: pd.DataFrame, tmp_path: Path) -> None:
    kw = dict(entity="seller", target="fraud", capacity=20, n_bootstrap=0)
    a = train(table, seed=4, **kw).model.save(tmp_path / "a")
    b = train(table.sample(frac=1.0, random_state=0).reset_index(drop=True), seed=4, **kw)
    # row order changes LightGBM's bagging draws, so compare a second run on identical input
    c = train(table, seed=4, **kw).model.save(tmp_path / "c")
    assert (a / "model.txt").read_bytes() == (c / "model.txt").read_bytes()
    assert (a / "riskmodel.json").read_bytes() == (c / "riskmodel.json").read_bytes()
    d = train(table, seed=5, **kw).model.save(tmp_path / "d")
    assert (a / "model.txt").read_bytes() != (d / "model.txt").read_bytes()
    # the split (by hashed id) and the fingerprint do not depend on row order
    assert (
        b.model.metadata["fingerprint"]["test_rows"]
        == train(table, seed=4, **kw).fingerprint["test_rows"]
    )


def test_record_and_frame_paths_agree(result: TrainResult, table: pd.DataFrame) -> None:
    model = result.model
    rows = table.head(5)
    X = model.to_matrix(rows)
    for i, record in enumerate(rows.to_dict("records")):
        np.testing.assert_array_equal(model.to_matrix(record), X[i : i + 1])
    # column order and extra columns have no effect
    shuffled = rows[list(reversed(rows.columns))].assign(extra=1)
    np.testing.assert_array_equal(model.to_matrix(shuffled), X)
    # one row at a time (single thread) equals the batch
    single = np.concatenate([model.raw_score(X[i]) for i in range(5)])
    np.testing.assert_allclose(single, model.raw_score(X), rtol=0, atol=1e-12)


def test_predict_proba_has_the_scikit_learn_layout(result: TrainResult, table: pd.DataFrame):
    model = result.model
    X = model.to_matrix(table.head(40))
    score = model.predict_score(X)
    proba = model.predict_proba(X)
    assert score.shape == (40,) and proba.shape == (40, 2)
    np.testing.assert_array_equal(proba[:, 1], score)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert 0 < score.min() < score.max() < 1  # real probabilities, not a constant


def test_input_not_mutated(result: TrainResult, table: pd.DataFrame) -> None:
    rows = table.head(20).copy()
    before = rows.copy()
    result.model.predict_proba(result.model.to_matrix(rows))
    pd.testing.assert_frame_equal(rows, before)


def test_missing_columns_show_a_diff(result: TrainResult, table: pd.DataFrame) -> None:
    rows = table.head(2).drop(columns=["noise__a"]).rename(columns={"noise__b": "noise__c"})
    with pytest.raises(
        ScoringError, match=r"(?s)2 feature column\(s\).*-noise__a.*-noise__b.*\+noise__c"
    ):
        result.model.to_matrix(rows)
    with pytest.raises(ScoringError, match="missing"):
        result.model.to_matrix({"noise__a": 1.0})
    with pytest.raises(ScoringError, match="expects 7 feature columns"):
        result.model.raw_score(np.zeros((2, 3)))
    with pytest.raises(ScoringError, match="must be a number"):
        result.model.to_matrix({**table.iloc[0].to_dict(), "noise__a": "high"})


def test_scores_from_raw_and_contributions(result: TrainResult, table: pd.DataFrame) -> None:
    model = result.model
    X = model.to_matrix(table.head(50))
    raw = model.raw_score(X)
    out = model.scores_from_raw(raw)
    np.testing.assert_array_equal(out["score"], model.predict_score(X))
    np.testing.assert_array_equal(out["risk_score"], model.risk_score(X))
    assert set(out["band"]) <= {"low", "medium", "high", "critical"}
    contrib = model.contributions(X)
    assert contrib.shape == (50, model.n_features + 1)
    np.testing.assert_allclose(contrib.sum(axis=1), raw, atol=1e-9)


def test_categorical_features_roundtrip(tmp_path: Path) -> None:
    t = make_training_table(1500, 6, positive_rate=0.08, seed=1, with_category=True)
    t["profile__tier"] = np.where(t["orders__n_orders_30d"] > 20, "big", "small")  # str column
    r = train(t, capacity=20, n_bootstrap=0)
    model = r.model
    assert model.categories == {
        "profile__region": ["apac", "eu", "us", "xx"],
        "profile__tier": ["big", "small"],
    }
    loaded = RiskModel.load(model.save(tmp_path / "m"))
    rows = t.head(10).copy()
    np.testing.assert_array_equal(
        loaded.raw_score(loaded.to_matrix(rows)), model.raw_score(model.to_matrix(rows))
    )
    record = {**rows.iloc[0].to_dict(), "profile__region": "mars"}
    assert np.isnan(model.to_matrix(record)[0, model.feature_names.index("profile__region")])


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"expected riskmodel.json and model.txt"):
        RiskModel.load(tmp_path)


def test_newer_format_is_refused(result: TrainResult, tmp_path: Path) -> None:
    folder = result.model.save(tmp_path / "m")
    spec = json.loads((folder / "riskmodel.json").read_text())
    spec["format_version"] = FORMAT_VERSION + 1
    (folder / "riskmodel.json").write_text(json.dumps(spec))
    with pytest.raises(ModelNotFoundError, match="upgrade riskscore"):
        RiskModel.load(folder)
