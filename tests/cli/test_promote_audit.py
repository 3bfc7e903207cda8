"""``riskscore promote --audit-data``: the gate's audit-sample rows from a marketplace folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.cli._promote import _audit_sample
from riskscore.datasets import make_marketplace
from riskscore.exceptions import ParameterError
from riskscore.io import write_tables

CUTOFFS = ("2024-04-01", "2024-06-01")


@pytest.fixture(scope="module")
def audited_folder(tmp_path_factory) -> Path:
    tables = make_marketplace(n_sellers=400, seed=0, scenario="selective_enforcement")
    tables.pop("truth", None)
    folder = tmp_path_factory.mktemp("audited")
    write_tables(tables, folder)
    return folder


def test_audit_sample_is_taken_in_the_tables_cutoffs(audited_folder):
    rows = pd.DataFrame({"entity_id": ["S1", "S2"], "cutoff": pd.to_datetime(CUTOFFS)})
    sample = _audit_sample(audited_folder, rows, "fraud", "60D", "0D")
    assert set(sample["cutoff"]) <= set(pd.to_datetime(CUTOFFS))
    assert len(sample) > 0
    # the simulator audits established sellers at 2% and new ones at 4% per round
    assert set(sample["weight"].round(6)) <= {50.0, 25.0}
    assert sample["label"].isin([0, 1]).all()


def test_audit_data_needs_the_table_with_cutoffs(audited_folder, tmp_path):
    with pytest.raises(ParameterError, match="--audit-data needs --table"):
        _audit_sample(audited_folder, None, "fraud", "60D", "0D")
    no_cutoff = pd.DataFrame({"entity_id": ["S1"]})
    with pytest.raises(ParameterError, match="'cutoff' column"):
        _audit_sample(audited_folder, no_cutoff, "fraud", "60D", "0D")


def test_promote_with_audit_data_and_no_table_is_a_clear_error(audited_folder, capsys):
    code = main(["promote", "--audit-data", str(audited_folder), "--bootstrap", "0"])
    captured = capsys.readouterr()
    text = captured.err + captured.out
    assert code == 2, text
    assert "--audit-data needs --table" in text
    assert "Traceback" not in text
