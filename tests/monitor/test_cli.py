"""``riskscore monitor``: prints findings, writes the report, exits 3 on "act"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from riskscore.cli import main
from riskscore.monitor import Reference


@pytest.fixture
def run_files(reference: Reference, trained: Any, score_frame, tmp_path: Path) -> dict[str, Path]:
    reference.save(tmp_path / "model")
    same = trained.test_frame
    shifted = same.assign(noise__b=same["noise__b"] + 0.3)
    paths = {"ref": tmp_path / "model"}
    for name, rows in (("same", same), ("shifted", shifted)):
        score_frame(trained.gate_model, rows).to_parquet(tmp_path / f"{name}_scores.parquet")
        rows.to_parquet(tmp_path / f"{name}_features.parquet")
        paths[name] = tmp_path / name
    paths["tmp"] = tmp_path
    return paths


def _args(p: dict[str, Path], name: str, *extra: str) -> list[str]:
    tmp = p["tmp"]
    return [
        "monitor",
        "--reference",
        str(p["ref"]),
        "--scores",
        str(tmp / f"{name}_scores.parquet"),
        "--features",
        str(tmp / f"{name}_features.parquet"),
        "--out",
        str(p[name]),
        *extra,
    ]


def test_a_stable_run_exits_0_and_writes_the_report(run_files, capsys):
    assert main(_args(run_files, "same")) == 0
    out = capsys.readouterr().out
    assert out.startswith("status: ok")
    data = json.loads((run_files["same"] / "report.json").read_text())
    assert data["status"] == "ok"
    assert (run_files["same"] / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_an_act_finding_exits_3_for_the_scheduler(run_files, capsys):
    assert main(_args(run_files, "shifted")) == 3
    out = capsys.readouterr().out
    assert out.startswith("status: act") and "[act] Feature 'noise__b' shifted: PSI" in out
    # a looser act threshold turns the same run into a "watch": exit 0
    assert main(_args(run_files, "shifted", "--watch-psi", "0.1", "--act-psi", "50")) in (0, 3)
    data = json.loads((run_files["shifted"] / "report.json").read_text())
    assert data["thresholds"]["act_psi"] == 50.0
    assert all(f["kind"] != "psi" or f["level"] == "watch" for f in data["findings"])


def test_bad_input_exits_2_with_the_fix(run_files, tmp_path: Path, capsys):
    args = ["monitor", "--reference", str(tmp_path / "nowhere"), "--scores", "x.parquet"]
    assert main(args) == 2
    assert "No monitoring reference at" in capsys.readouterr().err
    assert main(["monitor", "--reference", str(run_files["ref"])]) == 2
    assert "needs --scores and/or --features" in capsys.readouterr().err
    bad = _args(run_files, "same", "--watch-psi", "0.5", "--act-psi", "0.2")
    assert main(bad) == 2
    assert "'watch_psi' parameter of Thresholds" in capsys.readouterr().err
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    assert main(["monitor", "--reference", str(run_files["ref"]), "--scores", str(empty)]) == 2
    assert "empty.parquet" in capsys.readouterr().err
    assert main(_args(run_files, "same", "--window", "valid")) == 2
    assert "'window' parameter of compare" in capsys.readouterr().err
