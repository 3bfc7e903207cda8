"""Lists that used to be kept in step by hand: languages, labels, sections, reason texts.

Each check is a small function that returns what is missing, run once on the package (it
must find nothing) and once on a planted defect (it must find it), so none of these tests
can pass vacuously.
"""

from __future__ import annotations

import inspect
import re
import string
from collections.abc import Mapping

import pandas as pd
import pytest

from riskscore.explain import (
    EVIDENCE_SECTIONS,
    LANGUAGES,
    Explainer,
    _evidence_sections,
    _reasons,
    build_evidence,
)
from riskscore.explain._evidence import _demo
from riskscore.explain._evidence_render import LABELS, note_text
from riskscore.explain._evidence_sections import SECTION_QUERIES, Note
from riskscore.features import catalog


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _label_problems(labels: Mapping[str, Mapping[str, str]], keys: set[str]) -> list[str]:
    """What is wrong with ``labels``: a language or key missing, or fields that disagree."""
    problems = [f"no labels for language {lang!r}" for lang in LANGUAGES if lang not in labels]
    reference = labels.get("en", {})
    for lang, texts in labels.items():
        for key in sorted((keys | set(reference)) - set(texts)):
            problems.append(f"{lang}: no label {key!r}")
        for key, text in texts.items():
            if key in reference and _fields(text) != _fields(reference[key]):
                problems.append(f"{lang}: label {key!r} has fields {sorted(_fields(text))}")
    return problems


def _families_without_section(frame: pd.DataFrame, sections: Mapping[str, str]) -> list[str]:
    """Seller feature families with no evidence section, and sections of no family."""
    seller = set(frame.loc[frame["entity"] == "seller", "family"])
    return sorted(seller - set(sections)) + [f"stale:{f}" for f in sorted(set(sections) - seller)]


def _texts_missing(frame: pd.DataFrame) -> list[str]:
    """Reason codes without a usable sentence in some language."""
    missing = []
    for lang in LANGUAGES:
        column = f"text_{lang}"
        if column not in frame.columns:
            return [f"no column {column}"]
        for code, template in zip(frame["reason_code"], frame[column], strict=True):
            text = "" if pd.isna(template) else str(template)
            try:
                usable = "value" in _fields(text) and "{" not in text.format(value=0.5)
            except (KeyError, IndexError, ValueError):
                usable = False
            if not usable:
                missing.append(f"{lang}:{code}")
    return missing


def _note_keys() -> set[str]:
    """Label keys of every note a section query can write (read from its source)."""
    return set(re.findall(r'Note\(\s*"(\w+)"', inspect.getsource(_evidence_sections)))


# -- languages and labels -----------------------------------------------------------------


def test_languages_are_the_language_type():
    assert LANGUAGES == ("en", "zh")
    assert set(_reasons._MISSING_TEXT) == set(LANGUAGES)
    assert {f"text_{lang}" for lang in LANGUAGES} <= set(_reasons.CATALOG_COLUMNS)


def test_every_language_has_every_evidence_label():
    sections = set(EVIDENCE_SECTIONS.values())
    notes = _note_keys()
    assert len(notes) >= 7  # the scan finds the notes (not vacuous)
    assert set(LABELS) == set(LANGUAGES)
    assert _label_problems(LABELS, sections | notes) == []


def test_the_label_check_catches_a_missing_label_and_a_wrong_field():
    planted = {lang: dict(texts) for lang, texts in LABELS.items()}
    del planted["zh"]["linked_sellers"]
    planted["zh"]["note_replica_titles"] = "{hits}个含仿冒用语"
    problems = _label_problems(planted, set(EVIDENCE_SECTIONS.values()))
    assert problems == [
        "zh: no label 'linked_sellers'",
        "zh: label 'note_replica_titles' has fields ['hits']",
    ]
    assert _label_problems({"en": LABELS["en"]}, set()) == ["no labels for language 'zh'"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_note_reads_in_every_language(lang: str):
    values = {
        "unmatched": 1,
        "listings": 3,
        "buyers": 2,
        "orders": 5,
        "share": 0.4,
        "addresses": 1,
        "others": 4,
        "label": "fraud",
        "hits": 1,
        "text": "x",
    }
    for key in sorted(_note_keys()):
        text = note_text(Note(key, {f: values[f] for f in _fields(LABELS["en"][key])}), lang)
        assert text and "{" not in text, key
        if lang == "zh" and key != "note_error":
            assert re.search(r"[\u4e00-\u9fff]", text), (key, text)


# -- sections -----------------------------------------------------------------------------


def test_every_seller_feature_family_has_an_evidence_section():
    assert _families_without_section(catalog(), EVIDENCE_SECTIONS) == []
    assert set(SECTION_QUERIES) == set(EVIDENCE_SECTIONS.values())


def test_the_evidence_docstring_table_lists_every_section():
    from riskscore.explain import _evidence

    doc = _evidence.__doc__ or ""
    rows = set(re.findall(r"^(\w+) +(\w+) ", doc, flags=re.MULTILINE))
    assert rows >= set(EVIDENCE_SECTIONS.items())
    assert len(EVIDENCE_SECTIONS) == 7


def test_the_section_check_catches_a_family_without_section():
    planted = pd.concat(
        [catalog(), pd.DataFrame({"family": ["returns"], "entity": ["seller"]})],
        ignore_index=True,
    )
    sections = {**EVIDENCE_SECTIONS, "old_family": "old_section"}
    assert _families_without_section(planted, sections) == ["returns", "stale:old_family"]


# -- reason texts -------------------------------------------------------------------------


def test_every_reason_code_has_a_text_in_every_language():
    frame = catalog()
    assert len(frame) > 50
    assert _texts_missing(frame) == []


def test_the_text_check_catches_a_missing_translation():
    frame = catalog()
    frame.loc[frame["reason_code"] == "SHARES_BUYERS", "text_zh"] = ""
    frame.loc[frame["reason_code"] == "TOP_BUYER_SHARE", "text_en"] = "{value:.0%} of {gmv}"
    assert _texts_missing(frame) == ["en:TOP_BUYER_SHARE", "zh:SHARES_BUYERS"]
    assert _texts_missing(frame.drop(columns="text_zh")) == ["no column text_zh"]


# -- notes follow the file's language -------------------------------------------------------


def test_evidence_notes_are_written_in_the_files_language():
    tables, model = _demo()
    assert isinstance(model, Explainer)
    notes = {
        lang: build_evidence(tables, "S2", model, "2024-03-01", language=lang, sections="all").notes
        for lang in LANGUAGES
    }
    assert notes["en"]["replica_titles"] == "1 of 1 listing titles use replica wording."
    assert notes["zh"]["replica_titles"] == "1个商品标题中有1个含仿冒用语。"
    assert notes["en"]["complaints_by_month"] == "No complaints table was given."
    assert notes["zh"]["complaints_by_month"] == "未提供投诉表。"
    assert set(notes["en"]) == set(notes["zh"])
