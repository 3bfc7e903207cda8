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


@pytest.mark.slow  # a simulated marketplace and its segments: ~10 s on two busy cores
def test_data_and_as_of_add_the_sellers_slices(tmp_path: Path, capsys) -> None:
    import numpy as np
    import pandas as pd

    from riskscore.datasets import make_marketplace
    from riskscore.features import add_segments
    from riskscore.io import write_tables
    from riskscore.monitor import build_reference, market_profile

    tables = make_marketplace(n_sellers=400, seed=0)
    tables.pop("truth", None)
    new = "new (<90 days)"
    rng = np.random.default_rng(0)
    n = 4000  # the reference: new sellers flagged at 4%, like everyone else
    tenure = np.where(rng.random(n) < 0.2, new, "established")
    flagged = rng.random(n) < 0.04
    ref = build_reference(
        test_frame=pd.DataFrame({"score": np.where(flagged, 0.5, 0.01)}),
        predictions=pd.DataFrame(
            {
                "score": np.where(flagged, 0.5, 0.01),
                "risk_score": np.where(flagged, 800.0, 100.0),
                "band": np.where(flagged, "high", "low"),
                "segment__tenure": tenure,
            }
        ),
        bands={"medium": 300.0, "high": 700.0, "critical": 900.0},
        market=market_profile(tables, ["2024-04-01", "2024-05-01"]),
    )
    ref.save(tmp_path / "model")

    write_tables(tables, tmp_path / "data")
    as_of = "2024-06-01"
    ids = tables["sellers"]["seller_id"].astype(str)
    truth = add_segments(pd.DataFrame({"entity_id": ids, "cutoff": pd.Timestamp(as_of)}), tables)
    is_new = (truth["segment__tenure"] == new).to_numpy()
    assert 10 < is_new.sum() < len(ids) - 10  # both slices are there
    scores = pd.DataFrame(  # the run flags every new seller and no one else
        {
            "seller_id": ids,
            "score": np.where(is_new, 0.5, 0.01),
            "risk_score": np.where(is_new, 800.0, 100.0),
            "band": np.where(is_new, "high", "low"),
        }
    )
    scores.to_parquet(tmp_path / "scores.parquet")
    args = ["monitor", "--reference", str(tmp_path / "model")]
    args += ["--scores", str(tmp_path / "scores.parquet"), "--out", str(tmp_path / "report")]
    main([*args, "--data", str(tmp_path / "data"), "--as-of", as_of])
    out = capsys.readouterr().out
    assert f"segment__tenure={new}" in out
    data = json.loads((tmp_path / "report" / "report.json").read_text())
    found = [f for f in data["findings"] if f["kind"] == "slice_flagged"]
    assert found and found[0]["level"] == "act"
    # the marketplace's own rates at as_of against the reference's two cutoffs
    assert "market: 7 marketplace statistic(s)" in out
    assert {r["stat"] for r in data["market"]} >= {"complaint_rate", "refund_rate"}
    # without --data the run carries no slice columns: not compared
    main([*args])
    assert "slice_flagged" not in (tmp_path / "report" / "report.json").read_text()
    # --data without --as-of is a clear error (--as-of alone only names a logged report)
    assert main([*args, "--data", str(tmp_path / "data")]) == 2
    assert "slices need --data DIR, --as-of T and --scores" in capsys.readouterr().err
    assert main([*args, "--as-of", as_of]) == 3  # the run's own findings, no input error
