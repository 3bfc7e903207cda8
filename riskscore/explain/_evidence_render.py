"""Rendering of an evidence file: Markdown, self-contained HTML and JSON, in each language.

Every word of the page comes from :mod:`riskscore.explain._translations`, one table per
concept (headings and notes in :data:`LABELS`, band words, family names, table headings,
account facts, link types, label kinds), so a page reads wholly in its language; the page
declares its ``lang`` and a CJK-capable font stack. Column names stay the data contract's
in JSON; only what a reader sees is translated.

Text that comes from the data (ids, titles, notes, reason sentences) is escaped in both
Markdown and HTML: many Markdown viewers render inline HTML, so a listing title such as
``<script>...`` or ``<img onmouseover=...>`` appears as text, never as markup, and
Markdown syntax in it (links, emphasis, table pipes) is shown literally.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskscore.explain._reasons import IMPACT_THRESHOLDS
from riskscore.explain._translations import (
    BAND_NAMES,
    COLUMN_NAMES,
    FACT_NAMES,
    FAMILY_NAMES,
    FONT_STACKS,
    HTML_LANG,
    LABELS,
    LINK_NAMES,
    OUTCOME_NAMES,
    translate_list,
    translate_shared,
    word,
)

if TYPE_CHECKING:
    from riskscore.explain._evidence_model import Evidence
    from riskscore.explain._evidence_sections import Note

__all__ = [
    "EVIDENCE_FORMAT_VERSION",
    "LABELS",
    "band_text",
    "evidence_dict",
    "evidence_html",
    "evidence_markdown",
    "label",
    "note_text",
    "section_table",
]

#: Version of the JSON layout of :func:`evidence_dict`.
EVIDENCE_FORMAT_VERSION = 1

#: The highest impact band (reasons show "impact k/MAX_IMPACT").
MAX_IMPACT = len(IMPACT_THRESHOLDS)

_HTML_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: {fonts};
       margin: 2em auto; max-width: 1100px; color: #1a1a1a; background: #fff; }}
h1 {{ border-bottom: 3px solid #b00020; padding-bottom: .3em; }}
h2 {{ margin-top: 1.6em; border-bottom: 1px solid #ccc; }}
table {{ border-collapse: collapse; margin: .6em 0; font-size: 14px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f2f2f2; }}
table.summary th {{ width: 12em; }}
.band {{ padding: 2px 8px; border-radius: 4px; background: #eee; font-weight: bold; }}
.band-critical {{ background: #b00020; color: #fff; }}
.band-high {{ background: #e65100; color: #fff; }}
.band-medium {{ background: #f9a825; }}
.band-low {{ background: #2e7d32; color: #fff; }}
.impact {{ color: #555; font-size: 13px; }}
.note {{ color: #555; font-style: italic; }}
img.waterfall {{ max-width: 100%; border: 1px solid #ddd; }}
li {{ margin: .3em 0; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def label(language: str, key: str) -> str:
    """Return the text of ``key`` in ``language`` (English, then the key, when absent).

    Examples
    --------
    >>> label("zh", "reasons"), label("en", "linked_sellers")
    ('风险原因', 'Linked sellers and shared identifiers')
    """
    return LABELS.get(language, LABELS["en"]).get(key, LABELS["en"].get(key, key))


def note_text(note: Note, language: str) -> str:
    """Return a section note worded in ``language`` (label kinds in it translated too).

    Examples
    --------
    >>> from riskscore.explain._evidence_sections import Note
    >>> note = Note("note_replica_titles", {"hits": 2, "listings": 5})
    >>> note_text(note, "en"), note_text(note, "zh")
    ('2 of 5 listing titles use replica wording.', '5个商品标题中有2个含仿冒用语。')
    >>> note_text(Note("note_linked_sellers_labelled", {"others": 3, "label": "fraud"}), "zh")
    '该卖家的关联网络可达3个其他卖家。该卖家本身在评分时点前已被标记为欺诈。'
    """
    values = dict(note.values)
    if "label" in values:
        values["label"] = translate_list(OUTCOME_NAMES, language, str(values["label"]))
    return label(language, note.key).format(**values)


def band_text(band: str, language: str) -> str:
    """Return a band's word in ``language`` (a custom band is shown as it is).

    Examples
    --------
    >>> band_text("high", "zh"), band_text("high", "en")
    ('高', 'high')
    """
    return word(BAND_NAMES, language, band)


def _model_text(ev: Evidence) -> str:
    name = ev.model_name or label(ev.language, "model")
    if not ev.model_version:
        return name
    return label(ev.language, "model_version").format(name=name, version=ev.model_version)


#: How the cells of a column are translated (columns whose values are our own words).
_CELL_WORDS: dict[str, Any] = {
    "fact": lambda lang, v: word(FACT_NAMES, lang, v),
    "links": lambda lang, v: translate_list(LINK_NAMES, lang, v),
    "shared": translate_shared,
    "label": lambda lang, v: translate_list(OUTCOME_NAMES, lang, v),
}


def section_table(frame: pd.DataFrame, language: str) -> tuple[list[str], list[list[str]]]:
    """Return a section's headings and cells as shown on a page in ``language``.

    Headings come from :data:`~riskscore.explain._translations.COLUMN_NAMES`; cells that
    hold our own words (account facts, link types, label kinds) are translated, data is
    shown as it is.

    Examples
    --------
    >>> frame = pd.DataFrame({"seller_id": ["S9"], "links": ["device_id,buyer"],
    ...                       "label": ["fraud"]})
    >>> section_table(frame, "zh")
    (['卖家', '关联方式', '标记'], [['S9', '设备、买家', '欺诈']])
    """
    columns = [str(c) for c in frame.columns]
    headings = [word(COLUMN_NAMES, language, c) for c in columns]
    rows = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(columns, row, strict=True):
            text = _cell(value)
            change = _CELL_WORDS.get(column)
            cells.append(change(language, text) if change and text else text)
        rows.append(cells)
    return headings, rows


def _family_rows(ev: Evidence) -> list[list[str]]:
    rows = [[word(FAMILY_NAMES, ev.language, f), f"{v:+.3f}"] for f, v in ev.families.items()]
    rows.append([label(ev.language, "base_value"), f"{ev.base_value:+.3f}"])
    return rows


def evidence_dict(ev: Evidence) -> dict[str, Any]:
    """Return the evidence as a JSON-serialisable dict (the plot is left out).

    Keys and record columns are the data contract's names in every language; the
    ``language``, the band's word (``band_text``) and the section titles follow the
    file's language.
    """
    return {
        "kind": "riskscore-evidence",
        "format_version": EVIDENCE_FORMAT_VERSION,
        "language": ev.language,
        "seller_id": ev.seller_id,
        "as_of": ev.as_of,
        "generated_at": ev.generated_at,
        "model": {"name": ev.model_name, "version": ev.model_version},
        "score": ev.score,
        "risk_score": ev.risk_score,
        "band": ev.band,
        "band_text": None if ev.band is None else band_text(ev.band, ev.language),
        "raw_score": ev.raw_score,
        "base_value": ev.base_value,
        "families": dict(ev.families),
        "reasons": [dict(r) for r in ev.reasons],
        "evidence": {
            name: {
                "title": label(ev.language, name),
                "note": ev.notes.get(name),
                "rows": _records(frame),
            }
            for name, frame in ev.sections.items()
        },
    }


def evidence_markdown(ev: Evidence) -> str:
    """Return the evidence as Markdown (tables for the records), wholly in its language."""

    def lab(key: str) -> str:
        return label(ev.language, key)

    lines = [
        f"# {lab('title')} {_md_escape(ev.seller_id)}",
        "",
        f"- **{lab('score')}**: {ev.score:.3f}",
    ]
    if ev.risk_score is not None:
        lines.append(f"- **{lab('risk_score')}**: {ev.risk_score:.0f}")
    if ev.band is not None:
        lines.append(f"- **{lab('band')}**: {_md_escape(band_text(ev.band, ev.language))}")
    lines += [
        f"- **{lab('model')}**: {_md_escape(_model_text(ev))}",
        f"- **{lab('as_of')}**: {ev.as_of}",
        f"- **{lab('generated_at')}**: {ev.generated_at}",
        "",
        f"## {lab('reasons')}",
        "",
    ]
    if not ev.reasons:
        lines.append(lab("no_reasons"))
    for r in ev.reasons:
        see = f" ({lab('see')}: {lab(r['evidence'])})" if r.get("evidence") else ""
        lines.append(
            f"{r['rank']}. **{_md_escape(r['code'])}** — {_md_escape(r['text'])} "
            f"[{lab('impact')} {r['impact']}/{MAX_IMPACT}, {r['contribution']:+.3f}]{see}"
        )
    lines += ["", f"## {lab('families')}", ""]
    lines += _md_table([lab("family"), lab("log_odds")], _family_rows(ev))
    lines += ["", f"## {lab('evidence')}"]
    for name, frame in ev.sections.items():
        lines += ["", f"### {lab(name)}", ""]
        if ev.notes.get(name):
            lines += [f"_{_md_escape(ev.notes[name])}_", ""]
        if frame.empty:
            lines.append(lab("no_rows"))
            continue
        lines += _md_table(*section_table(frame, ev.language))
    return "\n".join(lines) + "\n"


def evidence_html(ev: Evidence) -> str:
    """Return the evidence as one self-contained HTML page (plot embedded as PNG).

    The page declares its language (``<html lang="zh-CN">`` for Chinese) and a font
    stack that reaches a CJK font (:data:`~riskscore.explain._translations.FONT_STACKS`).
    """

    def lab(key: str) -> str:
        return label(ev.language, key)

    esc = html.escape
    head = [
        f"<tr><th>{esc(lab('score'))}</th><td>{ev.score:.3f}</td></tr>",
    ]
    if ev.risk_score is not None:
        head.append(f"<tr><th>{esc(lab('risk_score'))}</th><td>{ev.risk_score:.0f}</td></tr>")
    if ev.band is not None:
        head.append(
            f"<tr><th>{esc(lab('band'))}</th>"
            f'<td><span class="band band-{esc(ev.band)}">'
            f"{esc(band_text(ev.band, ev.language))}</span></td></tr>"
        )
    head += [
        f"<tr><th>{esc(lab('model'))}</th><td>{esc(_model_text(ev))}</td></tr>",
        f"<tr><th>{esc(lab('as_of'))}</th><td>{esc(ev.as_of)}</td></tr>",
        f"<tr><th>{esc(lab('generated_at'))}</th><td>{esc(ev.generated_at)}</td></tr>",
    ]
    reasons = []
    for r in ev.reasons:
        see = ""
        if r.get("evidence"):
            target = esc(r["evidence"])
            see = f' <a href="#{target}">{esc(lab("see"))}: {esc(lab(r["evidence"]))}</a>'
        reasons.append(
            f"<li><code>{esc(r['code'])}</code> {esc(r['text'])} "
            f'<span class="impact">{esc(lab("impact"))} {r["impact"]}/{MAX_IMPACT} '
            f"({r['contribution']:+.3f})</span>{see}</li>"
        )
    body = [
        f"<h1>{esc(lab('title'))} {esc(ev.seller_id)}</h1>",
        f'<table class="summary">{"".join(head)}</table>',
        f"<h2>{esc(lab('reasons'))}</h2>",
        f"<ol>{''.join(reasons)}</ol>" if reasons else f"<p>{esc(lab('no_reasons'))}</p>",
    ]
    if ev.waterfall_png:
        data = base64.b64encode(ev.waterfall_png).decode("ascii")
        body += [
            f"<h2>{esc(lab('waterfall'))}</h2>",
            f'<img class="waterfall" alt="{esc(lab("waterfall_alt"))}" '
            f'src="data:image/png;base64,{data}">',
        ]
    body += [
        f"<h2>{esc(lab('families'))}</h2>",
        _html_table([lab("family"), lab("log_odds")], _family_rows(ev)),
    ]
    body.append(f"<h2>{esc(lab('evidence'))}</h2>")
    for name, frame in ev.sections.items():
        body.append(f'<h3 id="{esc(name)}">{esc(lab(name))}</h3>')
        if ev.notes.get(name):
            body.append(f'<p class="note">{esc(ev.notes[name])}</p>')
        if frame.empty:
            body.append(f"<p>{esc(lab('no_rows'))}</p>")
            continue
        body.append(_html_table(*section_table(frame, ev.language)))
    return _HTML_PAGE.format(
        lang=esc(HTML_LANG.get(ev.language, ev.language)),
        fonts=FONT_STACKS.get(ev.language, FONT_STACKS["en"]),
        title=esc(f"{lab('title')} {ev.seller_id}"),
        body="\n".join(body),
    )


# -- formatting -------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """Format one table cell; missing values are empty, never "nan"."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:,.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, float | int):
        return str(value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _json_value(v) for k, v in row.items()} for row in frame.to_dict("records")]


#: Markdown characters that can start markup inside a line (links, emphasis, code, tables).
_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*[]|"})


def _md_escape(text: str) -> str:
    r"""Return ``text`` safe inside one Markdown line or table cell.

    HTML is escaped as on the HTML page (``<`` ``>`` ``&`` and quotes become entities,
    which Markdown viewers show as the characters), Markdown's inline markup characters
    are backslash-escaped, and line breaks become spaces.

    Examples
    --------
    >>> print(_md_escape('<img src=x onmouseover="alert(1)"> [a](javascript:x) | *b*'))
    &lt;img src=x onmouseover=&quot;alert(1)&quot;&gt; \[a\](javascript:x) \| \*b\*
    """
    flat = " ".join(str(text).splitlines())
    return html.escape(flat.translate(_MD_SPECIAL), quote=True)


def _md_table(columns: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(_md_escape(c) for c in columns) + " |"]
    out.append("|" + "|".join("---" for _ in columns) + "|")
    out += ["| " + " | ".join(_md_escape(v) for v in row) + " |" for row in rows]
    return out


def _html_table(columns: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
