"""``riskscore case``: arguments and help (quick; the writing is tested in test_case.py)."""

from __future__ import annotations

import pytest

from riskscore.cli import main


def test_cli_needs_seller_and_options(capsys: pytest.CaptureFixture[str]):
    assert main(["case", "S1", "--as-of", "2024-07-01"]) == 2
    assert "riskscore case needs --data, --model" in capsys.readouterr().err


def test_cli_help_is_readable_at_80_columns(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("TERM", "dumb")
    main(["case", "--help"])
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 80
    for flag in ("--as-of", "--data", "--model", "--rules", "--language", "--out", "--verify"):
        assert flag in text
    assert "…" not in text  # no help text cut short
