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


# -- pages wholly in the chosen language ------------------------------------------------------

from html.parser import HTMLParser  # noqa: E402

from riskscore.explain import _translations  # noqa: E402
from riskscore.explain._evidence_render import section_table  # noqa: E402

#: Entries whose English text is also what a Chinese page shows (format-only templates).
_SAME_IN_EVERY_LANGUAGE = {("labels", "note_error")}


def _table_problems(tables: Mapping[str, Mapping[str, Mapping[str, str]]]) -> list[str]:
    """Translation tables missing a language or a key, or whose fields disagree."""
    problems = []
    for concept, table in tables.items():
        reference = table.get("en", {})
        for lang in LANGUAGES:
            texts = table.get(lang)
            if texts is None:
                problems.append(f"{concept}: no language {lang!r}")
                continue
            problems += [f"{concept}.{lang}: no {k!r}" for k in sorted(set(reference) - set(texts))]
            problems += [
                f"{concept}.{lang}: {k!r} has fields {sorted(_fields(v))}"
                for k, v in texts.items()
                if k in reference and _fields(v) != _fields(reference[k])
            ]
    return problems


def english_ui_strings() -> list[str]:
    """Every English text a page can show that is ours (not data): the translation tables."""
    out = set()
    for concept, table in _translations.TABLES.items():
        for key, text in table["en"].items():
            if (concept, key) in _SAME_IN_EVERY_LANGUAGE:
                continue
            # the literal words of a template, without its {fields}
            out |= {part.strip() for part in re.split(r"\{[^}]*\}", text) if part.strip()}
    return sorted(out, key=len, reverse=True)


def english_left(text: str, data: list[str]) -> list[str]:
    """English UI strings found in ``text`` once the data values in it are taken out."""
    for value in sorted({d for d in data if d}, key=len, reverse=True):
        text = text.replace(value, " ")
    found = []
    for ui in english_ui_strings():
        if not re.search(r"[A-Za-z]", ui):
            continue  # punctuation such as "(" or "/"
        if re.search(rf"(?<![A-Za-z_]){re.escape(ui)}(?![A-Za-z_])", text):
            found.append(ui)
    return found


class _Text(HTMLParser):
    """The text a reader sees on a page (tag contents, the alt and title texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in ("alt", "title") and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


def evidence_data(ev: object) -> list[str]:
    """The data values an evidence page shows as they are (ids, titles, reason codes...)."""
    from riskscore.explain._evidence_render import _cell

    values = [ev.seller_id, ev.as_of, ev.generated_at, ev.model_name or "", ev.model_version or ""]  # type: ignore[attr-defined]
    for r in ev.reasons:  # type: ignore[attr-defined]
        values.append(r["code"])
    for name, frame in ev.sections.items():  # type: ignore[attr-defined]
        translated = {"fact", "links", "shared", "label"}
        for column in frame.columns:
            if column not in translated:
                values += [_cell(v) for v in frame[column]]
        if "shared" in frame.columns:  # the shared values themselves (after "type=")
            values += re.findall(r"=([^;]+)", " ; ".join(frame["shared"].astype(str)))
        if name == "account":
            values += [str(v) for v in frame["value"]]
    return values


@pytest.fixture(scope="module")
def market_evidence() -> dict[str, object]:
    """Evidence of one busy, linked seller of a 300-seller marketplace, in each language."""
    import warnings

    from riskscore.datasets import make_marketplace
    from riskscore.scoring._demo import demo_model

    tables = make_marketplace(n_sellers=300, seed=0)
    tables.pop("truth")
    listings = tables["listings"]
    replica = listings[listings["title"].str.contains("1:1|高仿", regex=True)]
    seller = str(replica["seller_id"].value_counts().index[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = {
            lang: build_evidence(
                tables, seller, demo_model(), "2024-10-01", language=lang, sections="all"
            )
            for lang in LANGUAGES
        }
    return out


def test_every_translation_table_has_every_language_and_key():
    assert set(_translations.TABLES) >= {"labels", "bands", "families", "columns", "facts"}
    assert _table_problems(_translations.TABLES) == []
    assert set(_translations.FAMILY_NAMES["en"]) == set(EVIDENCE_SECTIONS)
    assert set(_translations.BAND_NAMES["en"]) == {"low", "medium", "high", "critical"}


def test_the_table_check_catches_a_missing_word():
    planted = {k: {lang: dict(t) for lang, t in v.items()} for k, v in _translations.TABLES.items()}
    del planted["bands"]["zh"]["critical"]
    planted["case"]["zh"]["decided_by_band"] = "模型风险等级"
    del planted["facts"]["zh"]
    assert _table_problems(planted) == [
        "bands.zh: no 'critical'",
        "facts: no language 'zh'",
        "case.zh: 'decided_by_band' has fields []",
    ]


def test_every_section_heading_is_translated(market_evidence: dict):
    ev = market_evidence["zh"]
    assert set(ev.sections) == set(EVIDENCE_SECTIONS.values())  # all seven
    for name, frame in ev.sections.items():
        headings, _ = section_table(frame, "zh")
        untranslated = [h for h in headings if re.fullmatch(r"[A-Za-z_ /()]+", h)]
        assert untranslated == [], name


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_the_chinese_page_has_no_english_ui_word(market_evidence: dict, fmt: str):
    ev = market_evidence["zh"]
    page = ev.render(fmt)
    text = visible_text(page) if fmt == "html" else page
    assert english_left(text, evidence_data(ev)) == []
    assert re.search(r"[\u4e00-\u9fff]", text)
    # the same check finds the English words on the English page (it can fail)
    en = market_evidence["en"]
    found = english_left(visible_text(en.render("html")), evidence_data(en))
    assert {"Risk evidence for seller", "Reasons", "Supporting records"} <= set(found)


def test_the_english_word_check_catches_an_untranslated_label(
    market_evidence: dict, monkeypatch: pytest.MonkeyPatch
):
    ev = market_evidence["zh"]
    monkeypatch.delitem(_translations.LABELS["zh"], "reasons")  # falls back to English
    monkeypatch.delitem(_translations.BAND_NAMES["zh"], ev.band)  # shown as the key
    found = english_left(visible_text(ev.to_html()), evidence_data(ev))
    assert "Reasons" in found and ev.band in found


def test_pages_declare_language_and_a_cjk_font_stack(market_evidence: dict):
    zh, en = market_evidence["zh"].to_html(), market_evidence["en"].to_html()
    assert '<html lang="zh-CN">' in zh and '<html lang="en">' in en
    stack = re.search(r"font-family: ([^;]+);", zh)
    assert stack is not None
    assert stack.group(1).startswith('"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC"')
    assert stack.group(1).endswith("sans-serif")
    assert '"Microsoft YaHei"' in stack.group(1) and '"PingFang SC"' in stack.group(1)
    assert '"Noto Sans CJK SC"' in re.search(r"font-family: ([^;]+);", en).group(1)  # type: ignore[union-attr]


def test_band_family_and_json_follow_the_language(market_evidence: dict):
    zh = market_evidence["zh"]
    data = zh.to_dict()
    assert data["language"] == "zh" and data["band"] == zh.band
    assert data["band_text"] == _translations.BAND_NAMES["zh"][zh.band]
    assert f"- **风险等级**: {data['band_text']}" in zh.to_markdown()
    assert "| 价格 |" in zh.to_markdown() and "| pricing |" in market_evidence["en"].to_markdown()


# -- the Chinese page in a real browser ---------------------------------------------------------


@pytest.mark.browser
def test_the_chinese_page_renders_real_glyphs_in_chromium(market_evidence: dict, tmp_path):
    from tests._browser import assert_cjk_glyphs, assert_renders

    page = market_evidence["zh"].write(tmp_path / "zh.html")
    assert assert_cjk_glyphs(page, tmp_path) == "Noto Sans CJK SC"
    assert_renders(page, tmp_path)


@pytest.mark.browser
def test_the_glyph_check_fails_when_the_font_is_missing(market_evidence: dict, tmp_path):
    from tests._browser import assert_cjk_glyphs, cjk_glyph_report

    html = market_evidence["zh"].to_html()
    stack = _translations.FONT_STACKS["zh"]
    assert stack in html
    page = tmp_path / "no-font.html"
    page.write_text(html.replace(stack, '"No Such CJK Font"'), encoding="utf-8")
    report = cjk_glyph_report(page, tmp_path)
    assert report["stack"] == ["No Such CJK Font"]
    assert report["fonts"] == [{"family": "No Such CJK Font", "installed": False}]
    with pytest.raises(pytest.fail.Exception, match="no font of the page's stack"):
        assert_cjk_glyphs(page, tmp_path)
