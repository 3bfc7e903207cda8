"""The command line: help, exit codes, and the foundation commands."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from riskscore.cli import main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("simulate", "validate", "demo"):
        assert command in out


def test_python_dash_m_works_the_same():
    proc = subprocess.run(
        [sys.executable, "-m", "riskscore", "--help"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0
    assert "simulate" in proc.stdout


def test_simulate_then_validate(tmp_path, capsys):
    assert main(["simulate", "--sellers", "60", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert len(pd.read_parquet(tmp_path / "sellers.parquet")) == 60
    assert main(["validate", "--data", str(tmp_path)]) == 0
    assert "marketplace: 60 sellers" in capsys.readouterr().out


def test_bad_input_exits_2_with_the_problem(tmp_path, capsys):
    assert main(["simulate", "--sellers", "30", "--out", str(tmp_path)]) == 0
    orders = pd.read_parquet(tmp_path / "orders.parquet")
    orders.loc[0, "amount"] = -1.0
    orders.to_parquet(tmp_path / "orders.parquet", index=False)
    assert main(["validate", "--data", str(tmp_path)]) == 2
    assert "orders.amount: negative values in 1 row(s)" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys):
    assert main(["simulate", "--no-such-option"]) == 2
