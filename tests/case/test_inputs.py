"""What write_case accepts as its rule set and legal result (quick: no case is written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskscore.case import CaseFileError
from riskscore.case._write import _legal_files, _rules_of
from riskscore.rules import RuleSet

RULES = """\
name: inputs-test
version: "2"
rules:
  - name: new_shop
    when: account__age_days < 30
    action: review
    reason: {en: "New shop", zh: "新店"}
"""


def test_a_rules_file_is_copied_a_uri_or_object_is_saved(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    loaded, copied = _rules_of(path)
    assert isinstance(loaded, RuleSet) and loaded.label == "inputs-test@2" and copied == path
    from_uri, none = _rules_of(path.resolve().as_uri())
    assert from_uri.label == "inputs-test@2" and none is None
    assert _rules_of(loaded) == (loaded, None)
    assert _rules_of(None) == (None, None)


def test_the_legal_markdown_follows_the_case_language():
    class Result:
        def to_dict(self) -> dict:
            return {"tier": "none"}

        def to_markdown(self, language: str = "en") -> str:
            return {"en": "# Legal threshold", "zh": "# 立案标准"}[language]

    files = _legal_files(Result(), "zh")
    assert files["legal.md"] == "# 立案标准\n"
    assert files["legal.json"] == '{\n  "tier": "none"\n}\n'
    with pytest.raises(CaseFileError, match=r"\(list\) has no to_dict\(\)"):
        _legal_files([], "en")
