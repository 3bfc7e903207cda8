"""One TrainConfig: defaults written once, shared by train, prequential, the CLI and the recipe."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import typer

from riskscore.exceptions import TrainingError
from riskscore.metrics import pr_auc
from riskscore.modeling import (
    TrainConfig,
    TrainingWarning,
    family_value,
    lgbm_params,
    make_training_table,
    marketplace_config,
    prequential,
    train,
)
from riskscore.modeling._family_value import _cluster_weights, _weighted_pr_auc


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_training_table(1200, 6, positive_rate=0.1, seed=1)


def test_unknown_setting_names_the_closest() -> None:
    with pytest.raises(TrainingError, match=r"unknown training setting 'capcity'.*'capacity'"):
        TrainConfig.build(capcity=5)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"capacity": 0}, "capacity must be a whole number of at least 1"),
        ({"capacity": 2.5}, "capacity must be a whole number"),
        ({"n_bootstrap": -1}, "n_bootstrap must be a whole number of at least 0"),
        ({"calibration": "sigmoid"}, "calibration must be one of"),
        ({"class_weight": -2.0}, "class_weight must be 'balanced' or a positive number"),
        ({"cost_ratio": float("inf")}, "cost_ratio must be a positive number"),
        ({"fpr_floor": 1.5}, "fpr_floor must be between 0 and 1"),
        ({"gap": "soon"}, "gap must be a duration"),
        ({"segment_cols": "region"}, "segment_cols must be a list of column names"),
        ({"params": [("num_leaves", 3)]}, "params must be a mapping"),
        ({"id_col": ""}, "id_col must be a non-empty string"),
    ],
)
def test_bad_settings_are_training_errors(changes: dict, match: str) -> None:
    with pytest.raises(TrainingError, match=match):
        TrainConfig(**changes)


def test_numpy_integers_are_accepted_and_normalised() -> None:
    cfg = TrainConfig(capacity=np.int64(7), seed=np.int32(3))
    assert (cfg.capacity, cfg.seed) == (7, 3)
    assert type(cfg.capacity) is int


def test_to_dict_is_json_ready_and_round_trips() -> None:
    cfg = TrainConfig(segment_cols=["region"], gap="30D", fractions=[0.6, 0.1, 0.1, 0.2])
    data = json.loads(json.dumps(cfg.to_dict()))
    assert TrainConfig(**data) == cfg
    assert set(data) == set(TrainConfig.fields())


def test_train_with_a_config_equals_train_with_keywords(table: pd.DataFrame) -> None:
    settings = {"capacity": 20, "n_bootstrap": 0, "seed": 4, "family_report": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        a = train(table, TrainConfig(**settings))
        b = train(table, **settings)
    assert a.model.booster.model_to_string() == b.model.booster.model_to_string()
    assert a.train_config == b.train_config == TrainConfig(**settings)
    assert a.config["capacity"] == 20 and a.config["split_mode"] == "time"
    assert a.model.metadata["capacity"] == 20 and a.model.metadata["seed"] == 4


def test_keywords_override_the_config(table: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        r = train(
            table,
            TrainConfig(capacity=20, seed=1),
            seed=2,
            n_bootstrap=0,
            refit=False,
            family_report=False,
        )
    assert r.train_config is not None
    assert (r.train_config.capacity, r.train_config.seed) == (20, 2)
    assert r.evaluated_model is None  # refit=False from the keywords


def test_prequential_takes_the_same_config(table: pd.DataFrame) -> None:
    cfg = TrainConfig(capacity=20, family_report=False)
    a = prequential(table, cfg, n_windows=2)
    b = prequential(table, n_windows=2, capacity=20)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(TrainingError, match="unknown training setting"):
        prequential(table, n_windows=2, capcity=20)


def test_marketplace_recipe_settings() -> None:
    from riskscore.features import SEGMENT_COLUMNS

    cfg = marketplace_config("seller", "fraud", capacity=25)
    assert (cfg.entity, cfg.target, cfg.valid_windows, cfg.capacity) == ("seller", "fraud", 2, 25)
    assert cfg.segment_cols == tuple(SEGMENT_COLUMNS)
    assert marketplace_config("seller", "fraud", valid_windows=1).valid_windows == 1


# the CLI option of each setting (typer defaults cannot import the config: fast --help)
_CLI_NAMES = {
    "seed": "seed",
    "capacity": "capacity",
    "calibration": "calibration",
    "search_iter": "search_iter",
    "test_windows": "test_windows",
    "entity_disjoint": "entity_disjoint",
    "min_positives": "min_positives",
    "refit": "refit",
    "family_report": "family_report",
    "bootstrap": "n_bootstrap",
    "label_col": "label_col",
    "id_col": "id_col",
}


def test_cli_defaults_are_the_config_defaults() -> None:
    from riskscore.cli import app

    command = typer.main.get_command(app)
    train_cmd = command.commands["train"]  # type: ignore[attr-defined]
    defaults = TrainConfig()
    checked = 0
    for param in train_cmd.params:
        field = _CLI_NAMES.get(str(param.name))
        if field is None:
            continue
        assert param.default == getattr(defaults, field), (param.name, param.default)
        checked += 1
    assert checked == len(_CLI_NAMES)
    # --entity has no one default: seller with --data (as in every other command), the
    # config's for a user table (--table)
    [entity] = [p for p in train_cmd.params if p.name == "entity"]
    assert entity.default is None and defaults.entity == "custom"


def test_weighted_pr_auc_with_unit_weights_is_pr_auc() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.1).astype(float)
    s = np.round(rng.normal(size=400) + y, 1)  # ties on purpose
    got = _weighted_pr_auc(y, s, np.ones((1, 400)))[0]
    assert got == pytest.approx(pr_auc(y, s), abs=1e-12)
    w = np.zeros((1, 400))
    w[0, :200] = 2.0  # doubling every row of a subset equals the subset
    assert _weighted_pr_auc(y, s, w)[0] == pytest.approx(pr_auc(y[:200], s[:200]), abs=1e-12)


def test_bootstrap_draws_whole_clusters() -> None:
    clusters = np.array(["a", "a", "b", "c", "c", "c"])
    w = _cluster_weights(clusters, 50, seed=0)
    assert w.shape == (50, 6)
    assert (w[:, 0] == w[:, 1]).all() and (w[:, 3] == w[:, 5]).all()
    assert (w[:, [0, 2, 3]].sum(axis=1) == 3).all()  # three clusters drawn each time


def test_family_value_finds_the_signal_family() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    X = rng.normal(size=(n, 4))
    y = ((X[:, 0] + 0.5 * rng.normal(size=n)) > 1.8).astype(float)
    out = family_value(
        X[:2000],
        y[:2000],
        X[2000:],
        y[2000:],
        ["signal__a", "noise__b", "noise__c", "other__d"],
        params=lgbm_params(0, num_threads=1),
        num_boost_round=40,
        n_bootstrap=200,
    )
    assert out is not None
    rows = out.set_index("family")
    assert rows.loc["signal", "verdict"] == "helps"
    assert rows.loc["signal", "lost_lo"] > 0.2
    assert rows.loc["noise", "verdict"] == "within noise"
    assert (
        rows.loc["noise", "lost_lo"]
        <= rows.loc["noise", "pr_auc_lost"]
        <= rows.loc["noise", "lost_hi"]
    )


def test_train_reports_family_value_in_card_and_metadata() -> None:
    t = make_training_table(1500, 6, positive_rate=0.1, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        r = train(t, capacity=20, n_bootstrap=50, seed=0, refit=False)
    fam = r.family_value
    assert fam is not None
    families = {c.split("__")[0] for c in r.model.feature_names}
    assert set(fam["family"]) >= families
    assert np.allclose(fam["pr_auc_full"], r.model.metadata["family_value"][0]["pr_auc_full"])
    assert "## What each feature family adds" in r.model_card()
    records = r.model.metadata["family_value"]
    assert [rec["family"] for rec in records] == fam["family"].tolist()


def test_train_refuses_infinite_features_from_python(table: pd.DataFrame) -> None:
    bad = table.copy()
    col = next(c for c in bad.columns if c.startswith("orders__"))
    bad.loc[[3, 7], col] = np.inf
    with pytest.raises(TrainingError, match=rf"column '{col}' has 2 infinite value"):
        train(bad, capacity=20, n_bootstrap=0)


def test_a_rolling_window_that_cannot_train_is_named(table: pd.DataFrame) -> None:
    from riskscore.modeling import paired_prequential

    # no train side of this table holds 5,000 positive labels
    cfg = TrainConfig(capacity=20, family_report=False, min_positives=5000, num_boost_round=20)
    with pytest.raises(TrainingError) as err:
        prequential(table, cfg, n_windows=2)
    assert str(err.value).startswith(
        "prequential test window 2024-06-01 (1 of 2; older windows train on less history): only "
    )
    with pytest.raises(TrainingError) as err:
        paired_prequential(table, cfg, cfg, n_windows=2)
    assert str(err.value).startswith(
        "paired_prequential (challenger) test window 2024-06-01 (1 of 2; older windows "
    )
    assert "min_positives=5000" in str(err.value)


def test_a_capacity_covering_every_row_is_a_note(table: pd.DataFrame) -> None:
    from riskscore.modeling import train

    kw = {"n_bootstrap": 0, "refit": False, "family_report": False, "num_boost_round": 20}
    with pytest.warns(TrainingWarning, match="capacity 5000 per group"):
        covered = train(table, capacity=5000, **kw)
    [note] = [n for n in covered.notes if n.startswith("capacity 5000 per group")]
    assert "every row is flagged, so the bands collapse" in note
    cuts = covered.model.bands.thresholds
    assert cuts["medium"] == cuts["high"]  # high and medium at the lowest score: all flagged
    fine = train(table, capacity=20, **kw)
    assert not any(n.startswith("capacity") for n in fine.notes)
