"""Rendering of an evidence file: Markdown, self-contained HTML and JSON, in each language.

The texts of the page (headings, section titles, notes) live in :data:`LABELS`, one dict
per language of :data:`~riskscore.explain._reasons.LANGUAGES`; a test checks that every
language has every label and that a label's format fields agree across languages.

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

if TYPE_CHECKING:
    from riskscore.explain._evidence_model import Evidence
    from riskscore.explain._evidence_sections import Note

__all__ = [
    "EVIDENCE_FORMAT_VERSION",
    "LABELS",
    "evidence_dict",
    "evidence_html",
    "evidence_markdown",
    "label",
    "note_text",
]

#: Version of the JSON layout of :func:`evidence_dict`.
EVIDENCE_FORMAT_VERSION = 1

#: The highest impact band (reasons show "impact k/MAX_IMPACT").
MAX_IMPACT = len(IMPACT_THRESHOLDS)

#: Texts of the evidence file per language: headings, section titles (keys of
#: :data:`~riskscore.explain._evidence_sections.EVIDENCE_SECTIONS` values) and notes
#: (``note_*``, formatted with the values of a
#: :class:`~riskscore.explain._evidence_sections.Note`).
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Risk evidence for seller",
        "score": "Score",
        "risk_score": "Risk score (0-1000)",
        "band": "Band",
        "model": "Model",
        "as_of": "As of",
        "generated_at": "Generated at",
        "reasons": "Reasons",
        "families": "Contribution by feature family (log-odds)",
        "evidence": "Supporting records",
        "waterfall": "How the score builds up (SHAP waterfall, log-odds)",
        "impact": "impact",
        "no_reasons": "No feature raised this score noticeably.",
        "no_rows": "No records before the scoring time.",
        "see": "see",
        "listings_below_market": "Listings furthest below the market price",
        "complaints_by_month": "Complaints by kind and month",
        "top_buyers": "Top buyers and shared delivery addresses",
        "linked_sellers": "Linked sellers and shared identifiers",
        "replica_titles": "Listing titles with replica wording",
        "account": "Account",
        "activity_by_month": "Orders by month",
        "base_value": "base value",
        "family": "family",
        "log_odds": "log-odds",
        "html_lang": "en",
        "note_no_products": "No products table: no market reference prices.",
        "note_unmatched_listings": (
            "{unmatched} of {listings} listings have no matched product and reference price."
        ),
        "note_no_complaints": "No complaints table was given.",
        "note_top_buyers": (
            "{buyers} buyers, {orders} orders; {share:.0%} of orders ship to {addresses} "
            "address(es) shared by several of this seller's buyers."
        ),
        "note_linked_sellers": "The seller's web reaches {others} other seller(s).",
        "note_linked_sellers_labelled": (
            "The seller's web reaches {others} other seller(s). The seller itself was "
            "labelled {label} before the scoring time."
        ),
        "note_replica_titles": "{hits} of {listings} listing titles use replica wording.",
        "note_error": "{text}",
    },
    "zh": {
        "title": "卖家风险证据",
        "score": "风险概率",
        "risk_score": "风险分（0-1000）",
        "band": "风险等级",
        "model": "模型",
        "as_of": "评分时点",
        "generated_at": "生成时间",
        "reasons": "风险原因",
        "families": "各特征族贡献（对数几率）",
        "evidence": "支撑记录",
        "waterfall": "分数构成（SHAP 瀑布图，对数几率）",
        "impact": "影响",
        "no_reasons": "没有明显推高此分数的特征。",
        "no_rows": "评分时点之前无记录。",
        "see": "见",
        "listings_below_market": "售价最低于市场价的商品",
        "complaints_by_month": "按月份和类型统计的投诉",
        "top_buyers": "主要买家及共用收货地址",
        "linked_sellers": "关联卖家及共用标识",
        "replica_titles": "含仿冒用语的商品标题",
        "account": "账户",
        "activity_by_month": "按月份统计的订单",
        "base_value": "基准值",
        "family": "特征族",
        "log_odds": "对数几率",
        "html_lang": "zh-CN",
        "note_no_products": "未提供商品表：没有市场参考价。",
        "note_unmatched_listings": "{listings}件商品中有{unmatched}件没有匹配的商品和参考价。",
        "note_no_complaints": "未提供投诉表。",
        "note_top_buyers": (
            "{buyers}位买家，{orders}笔订单；{share:.0%}的订单寄往{addresses}个"
            "由该卖家多名买家共用的地址。"
        ),
        "note_linked_sellers": "该卖家的关联网络可达{others}个其他卖家。",
        "note_linked_sellers_labelled": (
            "该卖家的关联网络可达{others}个其他卖家。该卖家本身在评分时点前已被标记为{label}。"
        ),
        "note_replica_titles": "{listings}个商品标题中有{hits}个含仿冒用语。",
        "note_error": "{text}",
    },
}

_HTML_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans", Arial,
       sans-serif; margin: 2em auto; max-width: 1100px; color: #1a1a1a; background: #fff; }}
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
    """Return a section note worded in ``language``.

    Examples
    --------
    >>> from riskscore.explain._evidence_sections import Note
    >>> note = Note("note_replica_titles", {"hits": 2, "listings": 5})
    >>> note_text(note, "en"), note_text(note, "zh")
    ('2 of 5 listing titles use replica wording.', '5个商品标题中有2个含仿冒用语。')
    """
    return label(language, note.key).format(**note.values)


def _model_text(ev: Evidence) -> str:
    name = ev.model_name or "model"
    return f"{name} (version {ev.model_version})" if ev.model_version else name


def evidence_dict(ev: Evidence) -> dict[str, Any]:
    """Return the evidence as a JSON-serialisable dict (the plot is left out)."""
    return {
        "kind": "riskscore-evidence",
        "format_version": EVIDENCE_FORMAT_VERSION,
        "seller_id": ev.seller_id,
        "as_of": ev.as_of,
        "generated_at": ev.generated_at,
        "model": {"name": ev.model_name, "version": ev.model_version},
        "score": ev.score,
        "risk_score": ev.risk_score,
        "band": ev.band,
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
    """Return the evidence as Markdown (tables for the records)."""

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
        lines.append(f"- **{lab('band')}**: {ev.band}")
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
    rows = [[f, f"{v:+.3f}"] for f, v in ev.families.items()]
    rows.append([lab("base_value"), f"{ev.base_value:+.3f}"])
    lines += _md_table([lab("family"), lab("log_odds")], rows)
    lines += ["", f"## {lab('evidence')}"]
    for name, frame in ev.sections.items():
        lines += ["", f"### {lab(name)}", ""]
        if ev.notes.get(name):
            lines += [f"_{_md_escape(ev.notes[name])}_", ""]
        if frame.empty:
            lines.append(lab("no_rows"))
            continue
        lines += _md_table(
            [str(c) for c in frame.columns],
            [[_cell(v) for v in row] for row in frame.itertuples(index=False)],
        )
    return "\n".join(lines) + "\n"


def evidence_html(ev: Evidence) -> str:
    """Return the evidence as one self-contained HTML page (plot embedded as PNG)."""

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
            f'<td><span class="band band-{esc(ev.band)}">{esc(ev.band)}</span></td></tr>'
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
            f'<img class="waterfall" alt="SHAP waterfall" src="data:image/png;base64,{data}">',
        ]
    fam_rows = [[f, f"{v:+.3f}"] for f, v in ev.families.items()]
    fam_rows.append([lab("base_value"), f"{ev.base_value:+.3f}"])
    body += [
        f"<h2>{esc(lab('families'))}</h2>",
        _html_table([lab("family"), lab("log_odds")], fam_rows),
    ]
    body.append(f"<h2>{esc(lab('evidence'))}</h2>")
    for name, frame in ev.sections.items():
        body.append(f'<h3 id="{esc(name)}">{esc(lab(name))}</h3>')
        if ev.notes.get(name):
            body.append(f'<p class="note">{esc(ev.notes[name])}</p>')
        if frame.empty:
            body.append(f"<p>{esc(lab('no_rows'))}</p>")
            continue
        body.append(
            _html_table(
                [str(c) for c in frame.columns],
                [[_cell(v) for v in row] for row in frame.itertuples(index=False)],
            )
        )
    return _HTML_PAGE.format(
        lang=esc(lab("html_lang")),
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
