"""The README's ``train --data`` and ``evaluate --data`` commands, as a new user types them.

The README simulates 5,000 sellers and then trains and evaluates with no ``--cutoffs``,
no ``--n-cutoffs`` and (for ``evaluate``) no ``--entity``: the recipe's defaults must
carry those commands to a result on that marketplace.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from riskscore.cli import main
from riskscore.datasets import make_marketplace
from riskscore.io import write_tables


@pytest.fixture(scope="module")
def readme_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's marketplace: ``simulate --sellers 5000 --seed 0``."""
    return write_tables(make_marketplace(n_sellers=5000, seed=0), tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 sellers: too few fraud labels for a prequential evaluation."""
    return write_tables(make_marketplace(n_sellers=300, seed=1), tmp_path_factory.mktemp("small"))


@pytest.mark.slow
def test_train_data_needs_only_the_target(
    readme_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    args = ["--no-plots", "--bootstrap", "0", "--no-family-report", "--tracking-uri", tracking]
    code = main(["train", "--data", str(readme_data), "--target", "fraud", *args])
    out = capsys.readouterr().out
    assert code == 0, out
    # the seller is the default entity (as in every other command), and the recipe's six
    # monthly cutoffs are the default cutoffs
    assert "building the seller fraud training set" in out
    assert "time split on 'cutoff' (6 windows): train 2024-05-01 .. 2024-07-01" in out
    assert "registered riskscore-seller-fraud version 1" in out


@pytest.mark.slow
def test_evaluate_prequential_adds_a_cutoff_per_window(
    readme_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["evaluate", "--data", str(readme_data), "--prequential", "3", "--bootstrap", "0"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = [line.split()[0] for line in captured.out.splitlines()[1:]]
    # eight cutoffs: the oldest window trains on three months, as train does (with six,
    # its train side held 25 positive labels, under min_positives=30)
    assert rows == ["2024-10-01", "2024-09-01", "2024-08-01", "mean", "std"]


def test_a_prequential_window_that_cannot_train_is_named(
    small_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["evaluate", "--data", str(small_data), "--prequential", "3", "--bootstrap", "0"])
    err = capsys.readouterr().err
    assert code == 2
    assert "error: prequential test window 2024-10-01 (1 of 3; older windows train on" in err
    assert "has 56 rows and no positive label" in err
    assert "Traceback" not in err
