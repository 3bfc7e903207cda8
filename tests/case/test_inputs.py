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


def test_bad_arguments_are_refused_before_any_work(tmp_path: Path):
    from riskscore.case import read_case, verify_case, write_case
    from riskscore.exceptions import ParameterError

    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"'tables' must be a mapping.*got list"):
        write_case([], "S1", "2024-03-01", scorer=None, out=tmp_path)
    with pytest.raises(
        ParameterError,
        match=r"'top_k' must be a positive int; got 0; 'max_records' must be a positive int; "
        r"got 'x'; 'rules' must be .* got int; 'out' .* is a file",
    ):
        write_case(
            {}, "S1", "2024-03-01", scorer=None, top_k=0, max_records="x", rules=5, out=a_file
        )
    with pytest.raises(CaseFileError, match=r"read_case takes the path .* got int"):
        read_case(123)  # type: ignore[arg-type]
    with pytest.raises(CaseFileError, match=r"verify_case takes the path .* got NoneType"):
        verify_case(None)  # type: ignore[arg-type]
    with pytest.raises(CaseFileError, match=r"'.*a-file' is not a zip file"):
        read_case(a_file)
    with pytest.raises(CaseFileError, match=r"no manifest.json in case"):
        read_case(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing written
