"""``riskscore serve`` refuses a bad MODEL or option at once, before any server starts."""

from __future__ import annotations

import pytest

from riskscore.cli import main


def test_missing_model_exits_2(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "nope"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "no model at" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [("--language", "fr", "language"), ("--explain", "maybe", "explain")],
)
def test_bad_option_exits_2(model_v1, capsys, option, value, needle):
    assert main(["serve", str(model_v1), "--port", "0", option, value]) == 2
    assert needle in capsys.readouterr().err
