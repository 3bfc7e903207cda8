"""The monitoring report as one self-contained HTML page (plots embedded as base64 PNG).

Every string that comes from the data or the user (feature names, levels, model name and
version, finding sentences) goes through :func:`html.escape` (quotes included), as on the
evidence page (:mod:`riskscore.explain._evidence_render`); numbers are formatted here.
matplotlib is imported only when a page is rendered.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from riskscore.monitor._compare import MonitorReport

__all__ = ["report_html"]

#: Features shown in the PSI plot (the largest PSIs).
TOP_FEATURES = 25

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.status { font-weight: bold; padding: 0.2em 0.6em; border-radius: 0.3em; color: #fff; }
.ok { background: #2e7d32; } .watch { background: #ef6c00; } .act { background: #c62828; }
li { margin: 0.3em 0; } img { max-width: 100%; border: 1px solid #eee; }
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _num(value: Any, pattern: str = "{:.3f}") -> str:
    if value is None:
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return _esc(value)
    return "" if not math.isfinite(v) else pattern.format(v)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)  # no bbox "tight": it draws the figure twice
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(report: MonitorReport) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    th = report.thresholds
    out = []
    table = report.features.dropna(subset=["psi"]).head(TOP_FEATURES)
    if len(table):
        fig, ax = plt.subplots(figsize=(9, 0.28 * len(table) + 1.2))
        fig.subplots_adjust(
            left=0.38,
            right=0.97,
            top=1 - 0.5 / fig.get_figheight(),
            bottom=0.55 / fig.get_figheight(),
        )
        colors = [
            "#c62828" if p >= th.act_psi else "#ef6c00" if p >= th.watch_psi else "#607d8b"
            for p in table["psi"]
        ]
        ax.barh(table["feature"].astype(str)[::-1], table["psi"][::-1], color=colors[::-1])
        ax.axvline(th.watch_psi, color="#ef6c00", linestyle="--", linewidth=1, label="watch")
        ax.axvline(th.act_psi, color="#c62828", linestyle="--", linewidth=1, label="act")
        ax.set_xlabel("population stability index")
        ax.legend(loc="lower right")
        ax.set_title(f"PSI per feature (largest {len(table)})")
        out.append(("PSI per feature", _png(fig)))
    score = report.outputs.get("score") or report.outputs.get("risk_score")
    if score:
        fig, ax = plt.subplots(figsize=(8, 3.2))
        fig.subplots_adjust(left=0.1, right=0.97, top=0.88, bottom=0.17)
        n = len(score["shares_ref"]) - 1  # the last bin is missing values
        x = list(range(n))
        ax.bar([i - 0.2 for i in x], score["shares_ref"][:n], width=0.4, label="reference")
        ax.bar([i + 0.2 for i in x], score["shares_now"][:n], width=0.4, label="now")
        ax.set_xlabel("score bin (reference deciles, low to high)")
        ax.set_ylabel("share of rows")
        ax.set_title(f"Score distribution (PSI {score['psi']:.2f})")
        ax.legend()
        out.append(("Score distribution", _png(fig)))
    if report.bands:
        fig, ax = plt.subplots(figsize=(6, 3))
        fig.subplots_adjust(left=0.13, right=0.97, top=0.88, bottom=0.12)
        names = list(report.bands["shares_ref"])
        x = list(range(len(names)))
        ax.bar(
            [i - 0.2 for i in x],
            list(report.bands["shares_ref"].values()),
            width=0.4,
            label="reference",
        )
        ax.bar(
            [i + 0.2 for i in x],
            [report.bands["shares_now"][b] for b in names],
            width=0.4,
            label="now",
        )
        ax.set_xticks(x, names)
        ax.set_ylabel("share of rows")
        ax.set_title("Band volumes")
        ax.legend()
        out.append(("Band volumes", _png(fig)))
    return out


def _slices_html(report: MonitorReport) -> list[str]:
    """Return the slices section: flag rate per slice at reference and now, with intervals."""
    out = ["<h2>Slices: flag rate at reference and now</h2>"]
    if report.slices_note:
        out.append(f"<p>{_esc(report.slices_note)}.</p>")
    if not len(report.slices):
        return out

    def rate(r: Mapping[Any, Any], when: str) -> str:
        p = r[f"flag_rate_{when}"]
        lo, hi = r[f"flag_rate_{when}_lo"], r[f"flag_rate_{when}_hi"]
        return f"{_num(p, '{:.1%}')} [{_num(lo, '{:.1%}')}, {_num(hi, '{:.1%}')}]"

    rows = "".join(
        f"<tr><td>{_esc(r['segment'])}</td><td>{_esc(r['level'])}</td>"
        f"<td>{'yes' if r['protected'] else ''}</td>"
        f"<td>{int(r['n_ref'])}</td><td>{rate(r, 'ref')}</td>"
        f"<td>{int(r['n_now'])}</td><td>{rate(r, 'now')}</td>"
        f"<td>{_num(r['ratio'], '{:.2f}x')}</td></tr>"
        for r in report.slices.to_dict("records")
    )
    head = "".join(
        f"<th>{c}</th>"
        for c in (
            "segment",
            "level",
            "protected",
            "rows (ref)",
            "flag rate (ref, 95% interval)",
            "rows (now)",
            "flag rate (now, 95% interval)",
            "ratio",
        )
    )
    out.append(f"<table><tr>{head}</tr>{rows}</table>")
    return out


def _market_html(report: MonitorReport) -> list[str]:
    """Return the marketplace section: each statistic now against its reference range."""
    if not report.market and not report.market_note:
        return []
    from riskscore.modeling._market import stat_label

    out = ["<h2>Marketplace: its own rates now and at the reference cutoffs</h2>"]
    if report.market_note:
        out.append(f"<p>{_esc(report.market_note)}.</p>")
    if not report.market:
        return out
    rows = "".join(
        f"<tr><td>{_esc(stat_label(r['stat']))}</td><td>{_num(r['now'], '{:.4g}')}</td>"
        f"<td>{_num(r['ref_min'], '{:.4g}')} – {_num(r['ref_max'], '{:.4g}')}</td>"
        f"<td>{_num(r['ratio'], '{:.2f}x')}</td>"
        f'<td><span class="status {_esc(r["level"])}">{_esc(r["level"])}</span></td></tr>'
        for r in report.market
    )
    head = "".join(
        f"<th>{c}</th>" for c in ("statistic", "now", "reference range", "outside by", "level")
    )
    out.append(f"<table><tr>{head}</tr>{rows}</table>")
    return out


def report_html(report: MonitorReport, *, plots: bool = True) -> str:
    """Return the report as one HTML page (see the module docstring for escaping).

    Examples
    --------
    >>> import pandas as pd
    >>> from riskscore.monitor import build_reference, compare
    >>> frame = pd.DataFrame({"<b>x</b>": [1.0, 2.0, 3.0] * 100})
    >>> page = report_html(compare(build_reference(test_frame=frame), frame), plots=False)
    >>> "<b>x</b>" in page, "&lt;b&gt;x&lt;/b&gt;" in page
    (False, True)
    """
    model = report.model
    title = " ".join(
        str(model.get(k)) for k in ("name", "entity", "target", "version") if model.get(k)
    )
    findings = "".join(
        f'<li><span class="status {_esc(f.level)}">{_esc(f.level)}</span> {_esc(f.message)}</li>'
        for f in report.findings
    )
    body = [
        f"<h1>Monitoring report {_esc(title)}</h1>",
        f'<p>Status: <span class="status {_esc(report.status)}">{_esc(report.status)}</span> '
        f"— {report.rows} rows compared with the {_esc(report.window)} window of the "
        f"reference; thresholds PSI {report.thresholds.watch_psi:g} watch / "
        f"{report.thresholds.act_psi:g} act.</p>",
        "<h2>Findings</h2>",
        f"<ul>{findings}</ul>" if findings else "<p>No threshold crossed.</p>",
    ]
    if plots:
        for name, data in _plots(report):
            body += [
                f"<h2>{_esc(name)}</h2>",
                f'<img alt="{_esc(name)}" src="data:image/png;base64,{data}">',
            ]
    if report.bands:
        b = report.bands
        rows = "".join(
            f"<tr><td>{_esc(name)}</td><td>{_num(b['shares_ref'][name], '{:.1%}')}</td>"
            f"<td>{_num(b['shares_now'][name], '{:.1%}')}</td></tr>"
            for name in b["shares_ref"]
        )
        rows += (
            f"<tr><td>flagged ({_esc('+'.join(b['flag_bands']))})</td>"
            f"<td>{_num(b['flagged_ref'], '{:.1%}')}</td>"
            f"<td>{_num(b['flagged_now'], '{:.1%}')}</td></tr>"
        )
        body += [
            "<h2>Bands</h2>",
            f"<table><tr><th>band</th><th>reference</th><th>now</th></tr>{rows}</table>",
        ]
    body += _slices_html(report)
    body += _market_html(report)
    if len(report.features):
        head = "".join(
            f"<th>{_esc(c)}</th>"
            for c in (
                "feature",
                "kind",
                "PSI",
                "missing (ref)",
                "missing (now)",
                "outside range",
                "new levels",
                "median (ref)",
                "median (now)",
                "level",
            )
        )
        rows = "".join(
            "<tr>"
            f"<td>{_esc(r['feature'])}</td><td>{_esc(r['kind'])}</td>"
            f"<td>{_num(r['psi'])}</td>"
            f"<td>{_num(r['missing_ref'], '{:.1%}')}</td>"
            f"<td>{_num(r['missing_now'], '{:.1%}')}</td>"
            f"<td>{_num(r['out_of_range'], '{:.1%}')}</td>"
            f"<td>{_num(r['new_levels'], '{:.1%}')}</td>"
            f"<td>{_num(r['median_ref'], '{:.4g}')}</td>"
            f"<td>{_num(r['median_now'], '{:.4g}')}</td>"
            f'<td><span class="status {_esc(r["level"])}">{_esc(r["level"])}</span></td>'
            "</tr>"
            for r in report.features.to_dict("records")
        )
        body += ["<h2>Features</h2>", f"<table><tr>{head}</tr>{rows}</table>"]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc('Monitoring report ' + title)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
