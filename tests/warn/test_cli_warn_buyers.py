"""``riskscore warn-buyers``: the file holds the same rows as the Python function."""

from __future__ import annotations

import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.warn import WARNING_COLUMNS, warn_buyers

AS_OF = "2024-06-30"


@pytest.fixture(scope="module")
def scores(seller_model, seller_features) -> pd.DataFrame:
    """The trained seller model's scores as of AS_OF, as ``riskscore score`` makes them."""
    from riskscore.scoring import Scorer

    return Scorer(seller_model).score_many(seller_features, explain="none", as_of=AS_OF)


@pytest.fixture(scope="module")
def tables(marketplace) -> dict[str, pd.DataFrame]:
    return {k: v for k, v in marketplace.items() if k != "truth"}


def _read_csv(path) -> pd.DataFrame:
    text = ["buyer_id", "order_id", "seller_id", "listing_id", "currency", "seller_band"]
    text += ["seller_action", "reason_codes", "reason_text", "message", "language"]
    frame = pd.read_csv(path, dtype=dict.fromkeys(text, "str"), encoding="utf-8")
    for col in ("created_at", "as_of"):
        frame[col] = pd.to_datetime(frame[col])
    for col in ("seller_band", "seller_action"):  # an empty CSV cell is None in the function
        frame[col] = frame[col].astype("object").where(frame[col].notna(), None)
    return frame


def test_csv_of_the_hand_made_marketplace_equals_the_function(
    exposure_tables, exposure_scores, tmp_path
):
    from riskscore.io import write_tables
    from tests.warn.conftest import AS_OF as moment

    data = write_tables(exposure_tables, tmp_path / "data")
    exposure_scores.to_csv(tmp_path / "scores.csv", index=False)
    out = tmp_path / "warnings.csv"
    args = ["warn-buyers", "--data", str(data), "--scores", str(tmp_path / "scores.csv")]
    assert main([*args, "--as-of", moment.isoformat(), "--out", str(out)]) == 0
    expected = warn_buyers(exposure_tables, exposure_scores, as_of=moment)
    assert len(expected) == 6
    pd.testing.assert_frame_equal(_read_csv(out), expected, check_dtype=False)


@pytest.mark.slow
def test_csv_holds_the_rows_of_the_function(tables, scores, data_dir, tmp_path, capsys):
    scores.to_parquet(tmp_path / "scores.parquet")
    out = tmp_path / "warnings.csv"
    args = ["warn-buyers", "--data", str(data_dir), "--scores", str(tmp_path / "scores.parquet")]
    args += ["--as-of", AS_OF, "--min-band", "high", "--language", "zh", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    expected = warn_buyers(tables, scores, as_of=AS_OF, min_band="high", language="zh")
    assert len(expected) > 5  # the comparison is not vacuous
    got = _read_csv(out)
    assert list(got.columns) == list(WARNING_COLUMNS)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert f"{len(expected)} order(s) of {expected['buyer_id'].nunique()} buyer(s)" in printed
    assert "nothing was sent" in printed


@pytest.mark.slow
def test_model_option_scores_at_as_of_and_gives_the_same_rows(
    tables, scores, data_dir, model_dir, tmp_path
):
    out = tmp_path / "warnings.parquet"
    args = ["warn-buyers", "--data", str(data_dir), "--model", str(model_dir)]
    args += ["--as-of", AS_OF, "--undelivered-days", "3", "--out", str(out)]
    assert main(args) == 0
    expected = warn_buyers(tables, scores, as_of=AS_OF, undelivered_days=3)
    pd.testing.assert_frame_equal(pd.read_parquet(out), expected, check_dtype=False)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "needs exactly one of --scores"),
        (["--scores", "missing.parquet"], "is not a file"),
        (["--scores", "x.parquet", "--model", "m"], "needs exactly one of --scores"),
    ],
)
def test_bad_options_exit_2_with_the_fix(data_dir, tmp_path, capsys, extra, message):
    args = ["warn-buyers", "--data", str(data_dir), "--as-of", AS_OF]
    args += ["--out", str(tmp_path / "w.csv"), *extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_out_must_be_csv_or_parquet(data_dir, tmp_path, capsys):
    args = ["warn-buyers", "--data", str(data_dir), "--as-of", AS_OF, "--scores", "s.csv"]
    assert main([*args, "--out", str(tmp_path / "w.xlsx")]) == 2
    assert "must end in .csv or .parquet" in capsys.readouterr().err


def test_help_fits_80_columns():
    from typer.testing import CliRunner

    from riskscore.cli import app

    result = CliRunner().invoke(app, ["warn-buyers", "--help"], terminal_width=80)
    assert result.exit_code == 0
    assert all(len(line) <= 80 for line in result.output.splitlines())
    for option in ("--scores", "--model", "--min-band", "--undelivered-days", "--language"):
        assert option in result.output
