"""``riskscore rules check FILE``: valid files print their rules, invalid ones exit 2."""

from __future__ import annotations

from pathlib import Path

from riskscore.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rules" / "marketplace.yaml"


def test_check_prints_the_rules_in_precedence_order(capsys):
    assert main(["rules", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("marketplace@2026.12.1: 3 rule(s) for sellers, valid")
    lines = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    assert lines == ["block", "hold", "review"]


def test_check_refuses_a_bad_file_with_the_rule_position_and_fix(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace(
            "network__bad_neighbours >= 3", "network__bad_neighbors >= 3"
        ),
        encoding="utf-8",
    )
    assert main(["rules", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "rule 'linked_to_banned_shops': unknown column 'network__bad_neighbors'" in err
    assert "at position 1 of its condition" in err
    assert "did you mean 'network__bad_neighbours'" in err
