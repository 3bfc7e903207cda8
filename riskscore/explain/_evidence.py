"""The evidence file for one seller: score, reasons, and the records behind each reason.

A risk analyst freezing payouts, or a brand or police partner receiving a referral, needs
more than a number: the listings, orders, complaints and linked shops that made the model
say so. :func:`build_evidence` scores one seller as of a time, takes its top reasons
(:class:`~riskscore.explain.Explainer`) and, for the family of each reason, pulls the
supporting records from the marketplace tables **as of the same time** (rows strictly
before ``as_of``, as the features saw them):

============ ==================== =====================================================
family       section              records
============ ==================== =====================================================
pricing      listings_below_market the listings furthest below the market price of the
                                  same product (title, price, reference price, ratio)
complaints   complaints_by_month  complaints by kind per month, with orders, refunds and
                                  cancellations of that month
buyers       top_buyers           the largest buyers: orders, GMV, delivery addresses,
                                  and the addresses they share with other buyers
network      linked_sellers       sellers sharing identifiers, addresses or buyers, what
                                  they share and their labels
text         replica_titles       listing titles using replica wording, with the terms
account      account              registration, first listing and order, catalogue size
activity     activity_by_month    orders, GMV and buyers per month
============ ==================== =====================================================

:class:`Evidence` renders the same content as Markdown, self-contained HTML (with the
seller's SHAP waterfall plot embedded as a base64 PNG) or JSON. Text that comes from the
data (ids, titles, notes, reason sentences) is escaped in both Markdown and HTML: many
Markdown viewers render inline HTML, so a listing title such as ``<script>...`` or
``<img onmouseover=...>`` appears as text, never as markup, and Markdown syntax in it
(links, emphasis, table pipes) is shown literally.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskscore.exceptions import ExplanationError, FeatureError
from riskscore.explain._reasons import Explainer, Language

__all__ = ["EVIDENCE_SECTIONS", "Evidence", "Format", "build_evidence"]

Format = Literal["md", "html", "json"]

#: Version of the JSON layout of :meth:`Evidence.to_dict`.
EVIDENCE_FORMAT_VERSION = 1

#: The evidence section that supports a reason of each feature family.
EVIDENCE_SECTIONS: dict[str, str] = {
    "pricing": "listings_below_market",
    "complaints": "complaints_by_month",
    "buyers": "top_buyers",
    "network": "linked_sellers",
    "text": "replica_titles",
    "account": "account",
    "activity": "activity_by_month",
}

_LABELS: dict[str, dict[str, str]] = {
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
    },
}


@dataclass
class Evidence:
    """The evidence file of one seller; render it with :meth:`render` or :meth:`write`.

    Attributes
    ----------
    seller_id : str
    as_of : str
        ISO time the features, score and records are as of.
    model_name, model_version : str or None
    score : float
        Calibrated probability (the booster's sigmoid for a bare booster).
    risk_score : float or None
        0-1000 risk score, when the model has a risk scale.
    band : str or None
        Review band, when the model has bands.
    raw_score, base_value : float
        Log-odds; the family contributions plus the base value equal the raw score.
    families : dict of str to float
        Contribution of each feature family, in log-odds.
    reasons : list of dict
        As in :meth:`Explainer.explain_one`, each with an ``evidence`` key naming its
        section (or None).
    sections : dict of str to pandas.DataFrame
        Supporting records per section name (see :data:`EVIDENCE_SECTIONS`).
    notes : dict of str to str
        A line per section where records are incomplete (e.g. no products table).
    lang : {"en", "zh"}
    generated_at : str
    waterfall_png : bytes or None
        The seller's SHAP waterfall plot (embedded in the HTML).
    """

    seller_id: str
    as_of: str
    model_name: str | None
    model_version: str | None
    score: float
    risk_score: float | None
    band: str | None
    raw_score: float
    base_value: float
    families: dict[str, float]
    reasons: list[dict[str, Any]]
    sections: dict[str, pd.DataFrame]
    notes: dict[str, str] = field(default_factory=dict)
    lang: Language = "en"
    generated_at: str = ""
    waterfall_png: bytes | None = None

    # -- rendering --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return the evidence as a JSON-serialisable dict (the plot is left out)."""
        return {
            "kind": "riskscore-evidence",
            "format_version": EVIDENCE_FORMAT_VERSION,
            "seller_id": self.seller_id,
            "as_of": self.as_of,
            "generated_at": self.generated_at,
            "model": {"name": self.model_name, "version": self.model_version},
            "score": self.score,
            "risk_score": self.risk_score,
            "band": self.band,
            "raw_score": self.raw_score,
            "base_value": self.base_value,
            "families": dict(self.families),
            "reasons": [dict(r) for r in self.reasons],
            "evidence": {
                name: {
                    "title": self._label(name),
                    "note": self.notes.get(name),
                    "rows": _records(frame),
                }
                for name, frame in self.sections.items()
            },
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return :meth:`to_dict` as strict JSON text (UTF-8, no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, allow_nan=False)

    def to_markdown(self) -> str:
        """Return the evidence as Markdown (tables for the records)."""
        lab = self._label
        lines = [
            f"# {lab('title')} {_md_escape(self.seller_id)}",
            "",
            f"- **{lab('score')}**: {self.score:.3f}",
        ]
        if self.risk_score is not None:
            lines.append(f"- **{lab('risk_score')}**: {self.risk_score:.0f}")
        if self.band is not None:
            lines.append(f"- **{lab('band')}**: {self.band}")
        lines += [
            f"- **{lab('model')}**: {_md_escape(self._model_text())}",
            f"- **{lab('as_of')}**: {self.as_of}",
            f"- **{lab('generated_at')}**: {self.generated_at}",
            "",
            f"## {lab('reasons')}",
            "",
        ]
        if not self.reasons:
            lines.append(lab("no_reasons"))
        for r in self.reasons:
            see = f" ({lab('see')}: {lab(r['evidence'])})" if r.get("evidence") else ""
            lines.append(
                f"{r['rank']}. **{_md_escape(r['code'])}** — {_md_escape(r['text'])} "
                f"[{lab('impact')} {r['impact']}/5, {r['contribution']:+.3f}]{see}"
            )
        lines += ["", f"## {lab('families')}", ""]
        rows = [[f, f"{v:+.3f}"] for f, v in self.families.items()]
        rows.append([lab("base_value"), f"{self.base_value:+.3f}"])
        lines += _md_table([lab("family"), lab("log_odds")], rows)
        lines += ["", f"## {lab('evidence')}"]
        for name, frame in self.sections.items():
            lines += ["", f"### {lab(name)}", ""]
            if self.notes.get(name):
                lines += [f"_{_md_escape(self.notes[name])}_", ""]
            if frame.empty:
                lines.append(lab("no_rows"))
                continue
            lines += _md_table(
                [str(c) for c in frame.columns],
                [[_cell(v) for v in row] for row in frame.itertuples(index=False)],
            )
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """Return the evidence as one self-contained HTML page (plot embedded as PNG)."""
        lab = self._label
        esc = html.escape
        head = [
            f"<tr><th>{esc(lab('score'))}</th><td>{self.score:.3f}</td></tr>",
        ]
        if self.risk_score is not None:
            head.append(f"<tr><th>{esc(lab('risk_score'))}</th><td>{self.risk_score:.0f}</td></tr>")
        if self.band is not None:
            head.append(
                f"<tr><th>{esc(lab('band'))}</th>"
                f'<td><span class="band band-{esc(self.band)}">{esc(self.band)}</span></td></tr>'
            )
        head += [
            f"<tr><th>{esc(lab('model'))}</th><td>{esc(self._model_text())}</td></tr>",
            f"<tr><th>{esc(lab('as_of'))}</th><td>{esc(self.as_of)}</td></tr>",
            f"<tr><th>{esc(lab('generated_at'))}</th><td>{esc(self.generated_at)}</td></tr>",
        ]
        reasons = []
        for r in self.reasons:
            see = ""
            if r.get("evidence"):
                target = esc(r["evidence"])
                see = f' <a href="#{target}">{esc(lab("see"))}: {esc(lab(r["evidence"]))}</a>'
            reasons.append(
                f"<li><code>{esc(r['code'])}</code> {esc(r['text'])} "
                f'<span class="impact">{esc(lab("impact"))} {r["impact"]}/5 '
                f"({r['contribution']:+.3f})</span>{see}</li>"
            )
        body = [
            f"<h1>{esc(lab('title'))} {esc(self.seller_id)}</h1>",
            f'<table class="summary">{"".join(head)}</table>',
            f"<h2>{esc(lab('reasons'))}</h2>",
            f"<ol>{''.join(reasons)}</ol>" if reasons else f"<p>{esc(lab('no_reasons'))}</p>",
        ]
        if self.waterfall_png:
            data = base64.b64encode(self.waterfall_png).decode("ascii")
            body += [
                f"<h2>{esc(lab('waterfall'))}</h2>",
                f'<img class="waterfall" alt="SHAP waterfall" src="data:image/png;base64,{data}">',
            ]
        fam_rows = [[f, f"{v:+.3f}"] for f, v in self.families.items()]
        fam_rows.append([lab("base_value"), f"{self.base_value:+.3f}"])
        body += [
            f"<h2>{esc(lab('families'))}</h2>",
            _html_table([lab("family"), lab("log_odds")], fam_rows),
        ]
        body.append(f"<h2>{esc(lab('evidence'))}</h2>")
        for name, frame in self.sections.items():
            body.append(f'<h3 id="{esc(name)}">{esc(lab(name))}</h3>')
            if self.notes.get(name):
                body.append(f'<p class="note">{esc(self.notes[name])}</p>')
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
            lang="zh-CN" if self.lang == "zh" else "en",
            title=esc(f"{lab('title')} {self.seller_id}"),
            body="\n".join(body),
        )

    def render(self, fmt: Format = "md") -> str:
        """Return the evidence as ``"md"``, ``"html"`` or ``"json"`` text."""
        renderers: dict[str, Callable[[], str]] = {
            "md": self.to_markdown,
            "html": self.to_html,
            "json": self.to_json,
        }
        if fmt not in renderers:
            raise ExplanationError(f"format must be one of md, html, json. Got {fmt!r} instead.")
        return renderers[fmt]()

    def write(self, path: str | os.PathLike[str], fmt: Format | None = None) -> Path:
        """Write the evidence to ``path`` (format from ``fmt`` or the file suffix).

        The file is written to a temporary name first and renamed, so a reader never sees
        half a file.
        """
        out = Path(path)
        if fmt is None:
            suffix = out.suffix.lstrip(".").lower()
            fmt = {"md": "md", "markdown": "md", "html": "html", "htm": "html", "json": "json"}.get(
                suffix, "md"
            )  # type: ignore[assignment]
        text = self.render(fmt)  # type: ignore[arg-type]
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(out)
        return out

    def _label(self, key: str) -> str:
        return _LABELS[self.lang].get(key, _LABELS["en"].get(key, key))

    def _model_text(self) -> str:
        name = self.model_name or "model"
        return f"{name} (version {self.model_version})" if self.model_version else name


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


# -- building ---------------------------------------------------------------------------


def build_evidence(
    tables: Mapping[str, Any],
    seller_id: str,
    model: Any,
    as_of: Any,
    *,
    features: pd.DataFrame | Mapping[str, Any] | None = None,
    catalog: pd.DataFrame | None = None,
    model_name: str | None = None,
    model_version: str | None = None,
    top_k: int = 5,
    lang: Language = "en",
    max_records: int = 10,
    sections: Literal["reasons", "all"] = "reasons",
    plot: bool = False,
) -> Evidence:
    """Score one seller as of a time and gather the evidence behind its reasons.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Marketplace tables (see :data:`riskscore.CONTRACT`), e.g. from
        :func:`riskscore.load_tables`.
    seller_id : str
        The seller; it must be registered before ``as_of``.
    model : RiskModel, Explainer or lightgbm.Booster
        A seller model. A :class:`riskscore.modeling.RiskModel` gives the calibrated
        score, risk score and band; a bare booster gives the sigmoid of the raw score.
    as_of : str or Timestamp
        Scoring time: features and records use rows strictly before it.
    features : pandas.DataFrame or mapping, optional
        The seller's features (a frame holding its row, with ``seller_id`` as the index,
        as :func:`riskscore.build_features` returns it, or as a column; or one record);
        several rows for the seller are an error. Default: computed with
        :func:`riskscore.build_features` for this seller only (``ids=[seller_id]``:
        its own rows against marketplace statistics kept for the tables and ``as_of``,
        so explaining several sellers at one time pays for the marketplace once).
    catalog : pandas.DataFrame, optional
        Feature catalog when the model has none (see :class:`Explainer`).
    model_name, model_version : str, optional
        Shown in the file. Default: what the model records about itself.
    top_k : int, default 5
        Reasons raising the score.
    lang : {"en", "zh"}, default "en"
        Language of the reason sentences and headings.
    max_records : int, default 10
        Rows per evidence table.
    sections : {"reasons", "all"}, default "reasons"
        Gather the records of the reasons' families only, or of every family.
    plot : bool, default False
        Draw the SHAP waterfall plot (``shap`` import; needed for the HTML plot).

    Returns
    -------
    Evidence

    Raises
    ------
    ExplanationError
        Unknown seller, seller registered at or after ``as_of``, a model without a
        catalog, or a feature missing from the features; the message names them.

    Examples
    --------
    >>> from riskscore.explain._evidence import _demo
    >>> tables, model = _demo()
    >>> ev = build_evidence(tables, "S2", model, "2024-03-01", top_k=1)
    >>> ev.seller_id, ev.reasons[0]["evidence"], list(ev.sections)
    ('S2', 'listings_below_market', ['listings_below_market'])
    >>> ev.sections["listings_below_market"][["listing_id", "price_ratio"]]
      listing_id  price_ratio
    0         L2        0.417
    """
    explainer = model if isinstance(model, Explainer) else Explainer(model, catalog)
    owner = explainer.model
    entity = getattr(owner, "entity", "seller")
    if entity not in ("seller", "custom") and isinstance(entity, str):
        raise ExplanationError(
            f"{explainer.describe_model()} scores {entity}s; an evidence file is built for a "
            "seller with a seller model"
        )
    cutoff = _timestamp(as_of)
    seller_id = str(seller_id)
    _check_seller(tables, seller_id, cutoff)
    record = _feature_record(tables, seller_id, cutoff, features)
    try:
        contrib = explainer.contributions(record)
        found = explainer.reason_lists(record, contrib, top_k=top_k, lang=lang)[0]
    except ExplanationError as err:
        raise ExplanationError(f"cannot explain seller '{seller_id}': {err}") from None
    raw = float(contrib.raw_score[0])
    score, risk, band = _scores(owner, raw)
    families = dict(
        zip(contrib.family_names, (float(v) for v in contrib.family_values()[0]), strict=True)
    )
    wanted = list(EVIDENCE_SECTIONS) if sections == "all" else []
    reasons = []
    for r in found:
        section = EVIDENCE_SECTIONS.get(r["family"])
        reasons.append({**r, "evidence": section})
        if section and r["family"] not in wanted:
            wanted.append(r["family"])
    gathered: dict[str, pd.DataFrame] = {}
    notes: dict[str, str] = {}
    view = _AsOf(tables, seller_id, cutoff)
    for family in wanted:
        name = EVIDENCE_SECTIONS[family]
        frame, note = _SECTION_BUILDERS[name](view, max_records)
        gathered[name] = frame
        if note:
            notes[name] = note
    png = None
    if plot:
        from riskscore.explain._plots import png_bytes, waterfall_plot

        png = png_bytes(waterfall_plot(explainer, record))
    return Evidence(
        seller_id=seller_id,
        as_of=cutoff.isoformat(),
        model_name=model_name or explainer.model_name,
        model_version=model_version or explainer.model_version,
        score=score,
        risk_score=risk,
        band=band,
        raw_score=raw,
        base_value=contrib.base_value,
        families=families,
        reasons=reasons,
        sections=gathered,
        notes=notes,
        lang=lang,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        waterfall_png=png,
    )


def _timestamp(value: Any) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ExplanationError(
            f"as_of must be a date or time such as '2024-06-30'; got {value!r}"
        ) from err
    if ts is pd.NaT:
        raise ExplanationError(f"as_of must be a date or time such as '2024-06-30'; got {value!r}")
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def _check_seller(tables: Mapping[str, Any], seller_id: str, cutoff: pd.Timestamp) -> None:
    sellers = tables.get("sellers")
    if sellers is None:
        raise ExplanationError("the marketplace tables have no 'sellers' table")
    rows = sellers[sellers["seller_id"] == seller_id]
    if rows.empty:
        raise ExplanationError(
            f"seller '{seller_id}' is not in the sellers table ({len(sellers):,} sellers); "
            "check the id and the data folder"
        )
    registered = pd.Timestamp(rows["registered_at"].iloc[0])
    if not registered < cutoff:
        raise ExplanationError(
            f"seller '{seller_id}' registered at {registered.isoformat()}, not before as_of "
            f"{cutoff.isoformat()}; explain it as of a later time"
        )


def _feature_record(
    tables: Mapping[str, Any],
    seller_id: str,
    cutoff: pd.Timestamp,
    features: Any,
) -> dict[str, Any]:
    if isinstance(features, Mapping):
        return dict(features)
    if features is None:
        import warnings

        from riskscore.features import build_features

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # optional tables not given
                features = build_features(tables, "seller", as_of=cutoff, ids=[seller_id])
        except FeatureError as err:
            raise ExplanationError(
                f"cannot compute the features of seller '{seller_id}': {err}"
            ) from err
    frame = features if isinstance(features, pd.DataFrame) else features.to_pandas()
    key_is_column = "seller_id" in frame.columns
    if key_is_column:
        frame = frame.set_index("seller_id")
    if seller_id not in frame.index:
        raise ExplanationError(
            f"seller '{seller_id}' has no row in the features as of {cutoff.isoformat()}"
        )
    row = frame.loc[seller_id]
    if isinstance(row, pd.DataFrame):
        raise ExplanationError(
            f"the features hold {len(row)} rows for seller '{seller_id}' (seller_id "
            f"{'column' if key_is_column else 'index'}); pass one row per seller (drop "
            "duplicates first)"
        )
    return {str(k): v for k, v in row.to_dict().items()}


def _scores(model: Any, raw: float) -> tuple[float, float | None, str | None]:
    scorer = getattr(model, "scores_from_raw", None)
    if callable(scorer):
        out = scorer(np.array([raw]))
        return (
            float(np.asarray(out["score"])[0]),
            float(np.asarray(out["risk_score"])[0]),
            str(np.asarray(out["band"])[0]),
        )
    return 1.0 / (1.0 + math.exp(-raw)), None, None


# -- sections ---------------------------------------------------------------------------


class _AsOf:
    """The seller's rows of each table, strictly before the cutoff (computed once)."""

    def __init__(self, tables: Mapping[str, Any], seller_id: str, cutoff: pd.Timestamp) -> None:
        self.tables = tables
        self.seller_id = seller_id
        self.cutoff = cutoff

    def before(self, name: str, time_column: str = "created_at") -> pd.DataFrame | None:
        table = self.tables.get(name)
        if table is None:
            return None
        return table[pd.to_datetime(table[time_column]) < self.cutoff]

    def own(self, name: str, time_column: str = "created_at") -> pd.DataFrame | None:
        table = self.before(name, time_column)
        if table is None:
            return None
        return table[table["seller_id"] == self.seller_id]


def _listings_below_market(view: _AsOf, n: int) -> tuple[pd.DataFrame, str | None]:
    listings = view.own("listings")
    assert listings is not None  # required table
    columns = ["listing_id", "title", "category", "brand", "price", "currency"]
    products = view.tables.get("products")
    if products is None or "reference_price" not in products.columns:
        out = listings.sort_values("price", kind="stable")[[*columns, "created_at"]]
        return out.head(n).reset_index(drop=True), "No products table: no market reference prices."
    ref = products[["product_id", "reference_price"]]
    merged = listings.merge(ref, on="product_id", how="inner")
    merged = merged[merged["reference_price"] > 0]
    merged = merged.assign(price_ratio=(merged["price"] / merged["reference_price"]).round(3))
    out = merged.sort_values(["price_ratio", "listing_id"], kind="stable")
    out = out[[*columns, "reference_price", "price_ratio", "created_at"]]
    note = None
    unmatched = len(listings) - len(merged)
    if unmatched:
        note = (
            f"{unmatched} of {len(listings)} listings have no matched product and reference price."
        )
    return out.head(n).reset_index(drop=True), note


def _complaints_by_month(view: _AsOf, n: int) -> tuple[pd.DataFrame, str | None]:
    from riskscore.schema import COMPLAINT_KINDS

    orders = view.own("orders")
    assert orders is not None
    month = orders["created_at"].dt.to_period("M").astype("str")
    per_month = pd.DataFrame(
        {
            "orders": orders.groupby(month).size(),
            "refunded": orders["status"].eq("refunded").groupby(month).sum(),
            "cancelled": orders["status"].eq("cancelled").groupby(month).sum(),
        }
    )
    complaints = view.own("complaints")
    note = None if complaints is not None else "No complaints table was given."
    if complaints is not None and len(complaints):
        kinds = pd.crosstab(
            complaints["created_at"].dt.to_period("M").astype("str"), complaints["kind"]
        )
        per_month = per_month.join(kinds, how="outer")
    for kind in COMPLAINT_KINDS:
        if kind not in per_month.columns:
            per_month[kind] = 0
    per_month = per_month.fillna(0).astype("int64")
    per_month = per_month[["orders", *COMPLAINT_KINDS, "refunded", "cancelled"]]
    per_month.index.name = "month"
    out = per_month.sort_index().tail(max(n, 12)).reset_index()
    return out, note


def _top_buyers(view: _AsOf, n: int) -> tuple[pd.DataFrame, str | None]:
    orders = view.own("orders")
    assert orders is not None
    addresses = orders.dropna(subset=["ship_address_id"])
    buyers_at = addresses.groupby("ship_address_id")["buyer_id"].nunique()
    shared = set(buyers_at[buyers_at > 1].index)
    per_buyer = orders.groupby("buyer_id").agg(
        orders=("order_id", "size"), gmv=("amount", "sum"), first_order=("created_at", "min")
    )
    used = addresses.groupby("buyer_id")["ship_address_id"].agg(lambda s: sorted(set(s)))
    per_buyer["addresses"] = used.reindex(per_buyer.index).map(
        lambda v: len(v) if isinstance(v, list) else 0
    )
    per_buyer["shared_addresses"] = used.reindex(per_buyer.index).map(
        lambda v: ", ".join(
            f"{a} ({buyers_at[a]} buyers)"
            for a in (v if isinstance(v, list) else [])
            if a in shared
        )
    )
    out = per_buyer.sort_values(["gmv", "orders"], ascending=False, kind="stable")
    out = out.reset_index()[
        ["buyer_id", "orders", "gmv", "addresses", "shared_addresses", "first_order"]
    ]
    out["gmv"] = out["gmv"].round(2)
    note = None
    if len(orders):
        share = addresses["ship_address_id"].isin(shared).sum() / len(orders)
        note = (
            f"{len(per_buyer)} buyers, {len(orders)} orders; {share:.0%} of orders ship to "
            f"{len(shared)} address(es) shared by several of this seller's buyers."
        )
    return out.head(n), note


def _linked_sellers(view: _AsOf, n: int) -> tuple[pd.DataFrame, str | None]:
    from riskscore.features.network import seller_web

    try:
        web = seller_web(view.tables, view.seller_id, view.cutoff)
    except FeatureError as err:
        return pd.DataFrame(columns=["seller_id", "links", "shared", "weight", "label"]), str(err)
    note = f"The seller's web has {web.attrs.get('component_size', 1)} seller(s), itself included."
    own = web.attrs.get("label")
    if own:
        note += f" The seller itself was labelled {own} before the scoring time."
    web = web.assign(weight=web["weight"].round(3))
    return web.head(n).reset_index(drop=True), note


def _replica_titles(view: _AsOf, n: int) -> tuple[pd.DataFrame, str | None]:
    import narwhals as nw

    from riskscore.features.text import REPLICA_TERMS_EN, REPLICA_TERMS_ZH, normalised_title

    listings = view.own("listings")
    assert listings is not None
    norm = nw.from_native(listings[["title"]]).select(normalised_title().alias("norm"))
    terms = (*REPLICA_TERMS_EN, *REPLICA_TERMS_ZH)
    found = [
        ", ".join(term for term in terms if term in str(title)) for title in norm["norm"].to_list()
    ]
    hits = listings.assign(terms=found)[[t != "" for t in found]]
    out = hits[["listing_id", "title", "terms", "price", "created_at"]]
    note = f"{len(hits)} of {len(listings)} listing titles use replica wording."
    return out.head(n).reset_index(drop=True), note


def _account(view: _AsOf, n: int) -> tuple[pd.DataFrame, str | None]:
    sellers = view.tables["sellers"]
    row = sellers[sellers["seller_id"] == view.seller_id].iloc[0]
    listings = view.own("listings")
    orders = view.own("orders")
    assert listings is not None and orders is not None
    registered = pd.Timestamp(row["registered_at"])
    facts: list[tuple[str, Any]] = [
        ("registered_at", registered),
        ("account_age_days", (view.cutoff - registered).days),
        ("region", row.get("region")),
        ("listings", len(listings)),
        ("first_listing_at", listings["created_at"].min() if len(listings) else None),
        ("first_order_at", orders["created_at"].min() if len(orders) else None),
        ("last_order_at", orders["created_at"].max() if len(orders) else None),
        ("orders", len(orders)),
    ]
    frame = pd.DataFrame({"fact": [f for f, _ in facts], "value": [_cell(v) for _, v in facts]})
    return frame, None


def _activity_by_month(view: _AsOf, n: int) -> tuple[pd.DataFrame, str | None]:
    orders = view.own("orders")
    assert orders is not None
    month = orders["created_at"].dt.to_period("M").astype("str").rename("month")
    out = orders.groupby(month).agg(
        orders=("order_id", "size"), gmv=("amount", "sum"), buyers=("buyer_id", "nunique")
    )
    out["gmv"] = out["gmv"].round(2)
    return out.sort_index().tail(max(n, 12)).reset_index(), None


_SECTION_BUILDERS: dict[str, Callable[[_AsOf, int], tuple[pd.DataFrame, str | None]]] = {
    "listings_below_market": _listings_below_market,
    "complaints_by_month": _complaints_by_month,
    "top_buyers": _top_buyers,
    "linked_sellers": _linked_sellers,
    "replica_titles": _replica_titles,
    "account": _account,
    "activity_by_month": _activity_by_month,
}


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


def _demo() -> tuple[dict[str, pd.DataFrame], Explainer]:
    """Return a two-seller marketplace and a one-feature seller model, for the examples."""
    import lightgbm as lgb

    ts = pd.Timestamp
    tables = {
        "sellers": pd.DataFrame(
            {
                "seller_id": ["S1", "S2"],
                "registered_at": [ts("2024-01-01"), ts("2024-02-01")],
                "region": ["Zhejiang", "Guangdong"],
            }
        ),
        "products": pd.DataFrame(
            {
                "product_id": ["P1"],
                "brand": ["Apple"],
                "category": ["phones"],
                "reference_price": [6000.0],
            }
        ),
        "listings": pd.DataFrame(
            {
                "listing_id": ["L1", "L2"],
                "seller_id": ["S1", "S2"],
                "product_id": ["P1", "P1"],
                "category": ["phones", "phones"],
                "brand": ["Apple", "Apple"],
                "title": ["iPhone 15", "iPhone 15 高仿 1:1"],
                "price": [5900.0, 2500.0],
                "currency": ["CNY", "CNY"],
                "created_at": [ts("2024-01-05"), ts("2024-02-03")],
            }
        ),
        "orders": pd.DataFrame(
            {
                "order_id": ["O1", "O2"],
                "listing_id": ["L1", "L2"],
                "seller_id": ["S1", "S2"],
                "buyer_id": ["B1", "B2"],
                "quantity": [1, 1],
                "amount": [5900.0, 2500.0],
                "created_at": [ts("2024-01-10"), ts("2024-02-10")],
                "ship_address_id": ["A1", "A2"],
                "status": ["delivered", "delivered"],
            }
        ),
    }
    name = "pricing__median_price_ratio"
    rng = np.random.default_rng(0)
    X = rng.uniform(0.2, 1.2, size=(400, 1))
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 4, "min_data_in_leaf": 5},
        lgb.Dataset(X, (X[:, 0] < 0.6).astype(int), feature_name=[name]),
        10,
    )
    catalog = pd.DataFrame(
        {
            "name": [name],
            "reason_code": ["PRICE_FAR_BELOW_MARKET"],
            "text_en": ["Median price is {value:.0%} of the market price for the same products"],
            "text_zh": ["同款商品售价中位数为市场价的{value:.0%}"],
        }
    )
    return tables, Explainer(booster, catalog, model_name="demo")
