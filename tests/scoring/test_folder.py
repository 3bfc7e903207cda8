"""The deployable model folder: export, manifest, verified load without mlflow, sample model."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from riskscore import ModelNotFoundError
from riskscore.cli import main
from riskscore.rules import RuleSet
from riskscore.scoring import Scorer, load_scorer
from riskscore.scoring._folder import (
    MANIFEST_FILE,
    ModelFolderError,
    export_model,
    load_folder,
    read_manifest,
)
from riskscore.scoring._load import clear_cache
from riskscore.scoring._sample import SAMPLE_DATA, SAMPLE_MODEL, build_portable
from tests.scoring.conftest import SCORED_AT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def exported(seller_model, tmp_path) -> Path:
    return export_model(seller_model, tmp_path / "models" / "seller-fraud", version="4")


def _scores(scorer: Scorer, features: pd.DataFrame) -> pd.DataFrame:
    return scorer.score_many(features, explain="all", scored_at=SCORED_AT)


def test_export_writes_the_files_and_a_manifest_of_their_hashes(exported):
    import hashlib

    manifest = json.loads((exported / MANIFEST_FILE).read_text())
    assert manifest["format"] == "riskscore-model-folder" and manifest["format_version"] == 1
    assert manifest["model"] == {
        "name": "riskscore-seller-fraud",
        "version": "4",
        "entity": "seller",
        "target": "fraud",
        "n_features": manifest["model"]["n_features"],
    }
    assert set(manifest["written_by"]) == {"riskscore", "lightgbm"}
    files = sorted(p.name for p in exported.iterdir())
    assert files == sorted([*manifest["files"], MANIFEST_FILE])
    assert {"model.txt", "riskmodel.json", "catalog.csv", "model_card.md"} <= set(files)
    for name, entry in manifest["files"].items():
        data = (exported / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
        data.decode("utf-8")  # every file is text: no pickle
        assert not data.startswith(b"\x80")
    spec = json.loads((exported / "riskmodel.json").read_text())
    assert {"calibrator", "risk_scale", "bands"} <= set(spec)


def test_round_trip_gives_identical_scores_and_the_manifest_identity(
    exported, seller_model, seller_features
):
    clear_cache()
    loaded = load_scorer(exported)
    assert (loaded.model_name, loaded.model_version) == ("riskscore-seller-fraud", "4")
    got = _scores(loaded, seller_features)
    expected = _scores(Scorer(seller_model, model_version="4"), seller_features)
    pd.testing.assert_frame_equal(got, expected)
    again = export_model(exported, exported.parent / "copy")  # a folder exports too
    assert read_manifest(again)["files"] == read_manifest(exported)["files"]


def test_a_changed_file_is_refused_naming_it(exported):
    path = exported / "catalog.csv"
    path.write_bytes(path.read_bytes().replace(b"a", b"b", 1))
    with pytest.raises(ModelFolderError, match=r"catalog\.csv has SHA-256 .* the manifest says"):
        load_folder(exported)
    (exported / "model_card.md").unlink()
    clear_cache()
    with pytest.raises(ModelFolderError, match=r"catalog\.csv has .*model_card\.md is missing"):
        load_scorer(exported)


def test_a_manifest_naming_a_file_outside_the_folder_is_refused(exported):
    manifest = read_manifest(exported)
    manifest["files"]["../secret"] = {"sha256": "0" * 64, "bytes": 1}
    (exported / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelFolderError, match=r"'\.\./secret' is not a file name inside"):
        load_folder(exported)


@pytest.mark.parametrize(
    ("version", "match"),
    [
        (
            2,
            r"format version 2 is not supported; this riskscore .* reads format version 1. "
            r"Fix: upgrade riskscore",
        ),
        (0, r"format version 0 is not supported.*export the model again"),
        ("1", r"format version '1' is not supported"),
    ],
)
def test_an_incompatible_format_version_is_refused(exported, version, match):
    manifest = read_manifest(exported)
    manifest["format_version"] = version
    (exported / MANIFEST_FILE).write_text(json.dumps(manifest))
    clear_cache()
    with pytest.raises(ModelFolderError, match=match):
        load_scorer(exported)


def test_a_broken_or_foreign_manifest_is_refused(exported, tmp_path):
    (exported / MANIFEST_FILE).write_text("{not json")
    with pytest.raises(ModelFolderError, match="not a valid manifest"):
        load_folder(exported)
    (exported / MANIFEST_FILE).write_text('{"format": "something-else"}')
    with pytest.raises(ModelFolderError, match="expected a manifest with format"):
        load_folder(exported)
    with pytest.raises(ModelNotFoundError, match=r"no manifest\.json"):
        load_folder(tmp_path)


def test_export_refuses_an_existing_folder_unless_asked(exported, seller_model):
    with pytest.raises(ModelFolderError, match=r"already exists.*overwrite=True"):
        export_model(seller_model, exported)
    export_model(seller_model, exported, version="5", overwrite=True)
    assert read_manifest(exported)["model"]["version"] == "5"
    assert not [p for p in exported.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_monitoring_reference_and_rules_travel_with_the_model(seller_model, tmp_path):
    source = seller_model.save(tmp_path / "train-out" / "model")
    (source / "monitor_reference.json").write_text('{"format_version": 1}\n')
    (source.parent / "model_card.md").write_text("# my card\n")
    rules = tmp_path / "my-rules.yaml"
    text = 'name: mine\nversion: "1"\nrules: []\n'
    rules.write_text(text)
    folder = export_model(source, tmp_path / "out", rules=rules)
    manifest = read_manifest(folder)
    files = manifest["files"]
    assert {"monitor_reference.json", "rules.yaml", "model_card.md"} <= set(files)
    assert (folder / "model_card.md").read_text() == "# my card\n"
    assert (folder / "rules.yaml").read_text() == text
    assert manifest["rules"]["file"] == "rules.yaml"
    assert manifest["rules"]["label"] == "mine@1"
    assert manifest["rules"]["sha256"] == RuleSet.load(rules).sha256()
    assert load_folder(folder).rules.label == "mine@1"
    (tmp_path / "broken.yaml").write_text("rules: []\n")
    with pytest.raises(
        ModelFolderError, match=r"(?s)the rule set does not load.*'name' is a required"
    ):
        export_model(source, tmp_path / "bad", rules=tmp_path / "broken.yaml")
    (tmp_path / "r.txt").write_text("x")
    with pytest.raises(ModelFolderError, match=r"extension \.txt; expected \.yaml"):
        export_model(source, tmp_path / "bad", rules=tmp_path / "r.txt")
    with pytest.raises(ModelFolderError, match=r"the rules file '.*nope.yaml' does not exist"):
        export_model(source, tmp_path / "bad", rules=tmp_path / "nope.yaml")
    assert not (tmp_path / "bad").exists()


def test_the_export_command(seller_model, tmp_path, capsys):
    source = seller_model.save(tmp_path / "model")
    out = tmp_path / "models" / "seller"
    assert main(["export", str(source), "--out", str(out), "--version", "9"]) == 0
    assert "exported riskscore-seller-fraud version 9" in capsys.readouterr().out
    assert main(["export", str(source), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.slow
def test_export_from_the_registry_scores_like_the_registry_model(tmp_path, monkeypatch):
    """models:/name/1 -> models/<name>: identical scores, its version, the run's model card."""
    from riskscore import registry
    from riskscore.modeling import make_training_table, train

    table = make_training_table(1500, 6, positive_rate=0.08, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = train(
            table,
            id_col="entity_id",
            time_col="cutoff",
            label_col="label",
            entity="seller",
            target="fraud",
            capacity=20,
            n_bootstrap=0,
            family_report=False,
        )
        tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
        run = registry.log_training(result, tracking_uri=tracking, plots=False, include_code=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    uri = f"models:/{run.name}/{run.version}"
    out = tmp_path / "models" / "seller-fraud"
    assert main(["export", uri, "--out", str(out)]) == 0
    manifest = read_manifest(out)
    assert manifest["model"]["version"] == run.version and manifest["source"] == uri
    assert (out / "model_card.md").read_text() == result.model_card()
    clear_cache()
    rows = table[result.model.feature_names].head(200)
    got = load_scorer(out).score_many(rows, explain="none", scored_at=SCORED_AT)
    expected = load_scorer(uri).score_many(rows, explain="none", scored_at=SCORED_AT)
    pd.testing.assert_frame_equal(got, expected)
    clear_cache()


@pytest.mark.slow
def test_loading_a_folder_and_scoring_never_imports_mlflow(exported, seller_features):
    record = seller_features.iloc[0].to_dict()
    code = f"""
import json, sys
import riskscore as rs
scorer = rs.load_scorer({str(exported)!r})
risk = scorer.score_one(json.loads({json.dumps(json.dumps(record, default=str))}))
print(json.dumps({{"mlflow": "mlflow" in sys.modules, "version": risk.model_version,
                  "reasons": len(risk.reasons)}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    )
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"mlflow": False, "version": "4", "reasons": answer["reasons"]}
    assert answer["reasons"] >= 1


# ------------------------------------------------------------------ the committed sample model
def test_the_committed_sample_model_loads_and_scores_a_seller():
    """What the README's first lines do, right after make install."""
    import riskscore as rs

    clear_cache()
    scorer = rs.load_scorer(ROOT / SAMPLE_MODEL)
    assert (scorer.model_name, scorer.model_version) == ("riskscore-seller-counterfeit", "sample")
    record = dict.fromkeys(scorer.feature_names, 0.0)
    risk = scorer.score_one({"seller_id": "S000001", **record})
    assert risk.entity_id == "S000001" and 0 <= risk.score <= 1 and risk.reasons
    clear_cache()


def test_a_failed_portable_build_says_what_and_how_to_fix(tmp_path):
    from riskscore.exceptions import TrainingError

    with pytest.raises(TrainingError, match="rerun `make sample-model`") as info:
        build_portable(tmp_path / "no-such-data", tmp_path / "sample", source_root=ROOT)
    assert "no-such-data" in str(info.value)
    assert not (tmp_path / "sample").exists()


@pytest.mark.slow
def test_the_committed_sample_model_is_fresh(tmp_path):
    """Rebuilding from data/sample gives the committed bytes (run `make sample-model`).

    Built as `make sample-model` builds it (numpy's AVX-512 kernels off), so the bytes
    do not depend on the CPU the test runs on.
    """
    fresh = build_portable(ROOT / SAMPLE_DATA, tmp_path / "sample", source_root=ROOT)
    committed = ROOT / SAMPLE_MODEL
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in committed.iterdir())
    stale = [n for n in names if (fresh / n).read_bytes() != (committed / n).read_bytes()]
    assert not stale, f"{SAMPLE_MODEL} is stale ({', '.join(stale)}): run `make sample-model`"
