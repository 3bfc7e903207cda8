"""``riskscore score``: files in and out, row accounting, exit codes, crash and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from riskscore.cli import main
from tests.scoring.conftest import score_args

_args = score_args


def test_scores_every_seller_and_accounts_for_every_id(
    model_dir, data_dir, marketplace, tmp_path, capsys
):
    out = tmp_path / "scores.parquet"
    assert main(_args(model_dir, data_dir, out, "--chunk-size", 64)) == 0
    printed = capsys.readouterr().out
    scores = pd.read_parquet(out)
    rejects = pd.read_parquet(tmp_path / "scores.rejects.parquet")
    n = len(marketplace["sellers"])
    assert len(scores) + len(rejects) == n
    assert set(scores["seller_id"]) | set(rejects["seller_id"]) == set(
        marketplace["sellers"]["seller_id"]
    )
    assert set(rejects["reason"]) == {"no activity before as_of"}
    assert (
        f"= {n} input ids" in printed
        and f"scored {len(scores)} + rejected {len(rejects)}" in printed
    )
    assert "top 5 by risk score:" in printed
    assert (scores["model_version"] == "local").all() and (
        scores["as_of"] == "2024-06-30T00:00:00"
    ).all()
    assert (scores["model_name"] == "riskscore-seller-fraud").all()
    flagged = scores["band"].isin(["high", "critical"])
    assert scores.loc[flagged, "reason_1_text"].notna().all()


@pytest.mark.slow
def test_ids_file_csv_output_and_unknown_ids(
    model_dir, data_dir, seller_features, tmp_path, capsys
):
    ids = [*seller_features["seller_id"].tolist()[:5], "GHOST"]
    pd.DataFrame({"seller_id": ids}).to_csv(tmp_path / "ids.csv", index=False)
    out = tmp_path / "s.csv"
    code = main(_args(model_dir, data_dir, out, "--ids", tmp_path / "ids.csv", "--explain", "all"))
    assert code == 0
    scores = pd.read_csv(out, dtype={"seller_id": str})
    rejects = pd.read_csv(tmp_path / "s.rejects.csv")
    assert scores["seller_id"].tolist() == ids[:5]
    assert rejects[["seller_id", "reason"]].values.tolist() == [["GHOST", "unknown id"]]
    assert scores["reason_1_code"].notna().any()
    assert "scored 5 + rejected 1 (unknown id 1," in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--model": "no/such/model"}, "no model at 'no/such/model'"),
        ({"--as-of": "not-a-date"}, "not-a-date"),
        ({"--out": "scores.json"}, "must end in .parquet or .csv"),
        ({"--data": "no/such/data"}, "does not exist"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    model_dir, data_dir, tmp_path, capsys, change, message, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    args = _args(model_dir, data_dir, tmp_path / "s.parquet")
    for flag, value in change.items():
        args[args.index(flag) + 1] = value
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_duplicate_ids_exit_2(model_dir, data_dir, tmp_path, capsys):
    pd.DataFrame({"seller_id": ["A", "B", "A"]}).to_csv(tmp_path / "ids.csv", index=False)
    assert (
        main(_args(model_dir, data_dir, tmp_path / "s.parquet", "--ids", tmp_path / "ids.csv")) == 2
    )
    assert "1 duplicated id(s), e.g. A" in capsys.readouterr().err


def test_bad_option_value_exits_2(model_dir, data_dir, tmp_path):
    assert main(_args(model_dir, data_dir, tmp_path / "s.parquet", "--chunk-size", 0)) == 2
    assert main(_args(model_dir, data_dir, tmp_path / "s.parquet", "--explain", "some")) == 2


def _cli(args, **env):
    return [sys.executable, "-m", "riskscore", *args], {**os.environ, **env}


@pytest.mark.slow
def test_killed_mid_run_then_resume_gives_an_identical_file(model_dir, data_dir, tmp_path):
    chunking = ("--chunk-size", 20, "--explain", "all")
    full = tmp_path / "full" / "scores.parquet"
    full.parent.mkdir()
    cmd, env = _cli(_args(model_dir, data_dir, full, *chunking))
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=300)

    out = tmp_path / "crash" / "scores.parquet"
    out.parent.mkdir()
    parts = out.parent / "scores.parquet.parts"
    cmd, env = _cli(_args(model_dir, data_dir, out, *chunking), RISKSCORE_BATCH_CHUNK_PAUSE="0.5")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(list(parts.glob("scores-*.parquet"))) < 2:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no chunk completed in time"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists()
    done = len(list(parts.glob("scores-*.parquet")))
    assert 2 <= done < 13  # 260 sellers in chunks of 20

    cmd, env = _cli([*_args(model_dir, data_dir, out, *chunking), "--resume"])
    result = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True, timeout=300)
    assert "= 300 input ids" in result.stdout
    assert out.read_bytes() == full.read_bytes()
    rejects = "scores.rejects.parquet"
    assert (out.parent / rejects).read_bytes() == (full.parent / rejects).read_bytes()
    assert not parts.exists()
