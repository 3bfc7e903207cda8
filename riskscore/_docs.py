"""Generate the reference pages in ``docs/`` from their single sources of truth.

``python -m riskscore._docs`` rewrites the pages; a test fails when a committed page is
stale, so the docs never drift from the code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

__all__ = ["PAGES", "catalog_markdown", "contract_markdown", "write_pages"]


def contract_markdown() -> str:
    """Render the data contract (:data:`riskscore.schema.CONTRACT`) as Markdown.

    Examples
    --------
    >>> contract_markdown().splitlines()[0]
    '# Data contract'
    """
    from riskscore.schema import CONTRACT

    lines = [
        "# Data contract",
        "",
        "Generated from `riskscore.schema.CONTRACT` by `python -m riskscore._docs`; do not edit.",
        "",
        "A marketplace is a mapping of table name to DataFrame, or a folder with one",
        "`<table>.parquet` / `<table>.csv` file per table. `riskscore.validate(tables)` checks",
        "it and raises one `SchemaError` listing every problem (table, column, example keys,",
        "count, fix). Extra columns and tables pass through; nothing is dropped or altered;",
        "dtypes are coerced only where lossless (ISO strings to timestamps, ints to floats).",
        "Timestamps are stored timezone-naive in UTC (`datetime64[us]`); timezone-aware input",
        "is converted to UTC.",
        "",
        "- **Finite numbers.** `inf` and `-inf` are errors in every numeric column with a",
        "  range rule (`>= 0`) and in every whole-number column; `NaN` is a missing value,",
        "  allowed only where the column allows nulls. One `inf` order amount moves the",
        "  category averages that every seller's price and activity features compare to.",
        "- **One kind of time per column.** A time column may hold naive values (read as UTC)",
        "  or values with an offset (`Z`, `+08:00`), not a mix: mixed columns are refused,",
        "  naming the table, column, the count of naive values and a few keys. We refuse",
        "  rather than warn because a naive value next to zoned ones is most often local time",
        "  written without its offset; reading it as UTC shifts it by hours, which moves",
        "  rows across an `as_of` cutoff (scores change, and a leak is possible), and a",
        "  warning in a batch log goes unread. The fix is one line: add the offset.",
        "- **Readable files.** A 0-byte file, a text or truncated file named `.parquet`, a CSV",
        "  that is not UTF-8, or a CSV with ragged rows is an error naming the file, what is",
        "  wrong and how to fix it.",
        "",
    ]
    for spec in CONTRACT.values():
        need = "required" if spec.required else "optional"
        lines += [f"## `{spec.name}` ({need})", "", spec.description, ""]
        facts = []
        if spec.key:
            facts.append(f"key `{spec.key}` (unique)")
        if spec.time_column:
            facts.append(f"known from `{spec.time_column}`")
        for col, ref_table, ref_col in spec.foreign_keys:
            facts.append(f"`{col}` → `{ref_table}.{ref_col}`")
        if facts:
            lines += ["; ".join(facts) + ".", ""]
        lines += [
            "| column | type | required | nulls | rule | meaning |",
            "|---|---|---|---|---|---|",
        ]
        for c in spec.columns:
            rule = []
            if c.allowed:
                rule.append("one of " + ", ".join(f"`{v}`" for v in c.allowed))
            if c.non_negative:
                rule.append("finite, >= 0" if c.kind in ("float", "int") else ">= 0")
            if c.not_before:
                rule.append(f">= `{c.not_before}`")
            if c.status_time_of:
                rule.append(
                    f"set when `status` is `{c.status_time_of}`"
                    + (", and only then" if c.final else "")
                )
            lines.append(
                f"| `{c.name}` | {c.kind} | {'yes' if c.required else 'no'} | "
                f"{'allowed' if c.nullable else 'no'} | {'; '.join(rule)} | {c.description} |"
            )
        lines.append("")
    return "\n".join(lines)


def _cell(value: object) -> str:
    """Return a Markdown table cell: empty for missing values, pipes escaped."""
    if value is None or value != value:  # NaN
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")


def catalog_markdown() -> str:
    """Render the feature catalog (:func:`riskscore.features.catalog`) as Markdown.

    Examples
    --------
    >>> page = catalog_markdown()
    >>> page.splitlines()[0], "`pricing__median_price_ratio`" in page
    ('# Feature catalog', True)
    """
    from riskscore.features import catalog

    cat = catalog()
    lines = [
        "# Feature catalog",
        "",
        "Generated from `riskscore.features.catalog()` by `python -m riskscore._docs`; do not",
        "edit. Every feature is declared once, in its family's module; this page, the reason",
        "codes and the sentences of explanations are read from that declaration.",
        "",
        "Features are computed as of a cutoff from rows strictly before it (orders, complaints,",
        "listings, labels by `decided_at`). Column names are `<family>__<feature>`. *Fill* is",
        "the value used when a feature cannot be computed (no orders, no listings, ...); an",
        "empty fill means the value stays missing and LightGBM learns where missing rows go.",
        "*Signal* groups features that tell the same story, so a reason list names each story",
        "once. Texts take the feature's value as `{value}`.",
        "",
        "A few features read a state that changes after the order (refunds, cancellations).",
        "They are point-in-time only when the table says when the change happened (e.g.",
        "`orders.refunded_at`); without it they read the latest status, which looks ahead at a",
        "past cutoff, so `build_training_set` leaves them out unless",
        "`allow_not_point_in_time=True`. Their meaning below names the column they need.",
        "",
        f"{len(cat)} features: "
        + ", ".join(f"{n} {e}" for e, n in cat["entity"].value_counts(sort=False).items())
        + ".",
        "",
    ]
    for entity in cat["entity"].unique():
        lines += [f"## {entity.capitalize()} features", ""]
        rows = cat.loc[cat["entity"] == entity]
        for family in rows["family"].unique():
            fam = rows.loc[rows["family"] == family]
            lines += [
                f"### `{family}`",
                "",
                "| feature | unit | fill | meaning | reason code | reason (en) | reason (zh) |",
                "|---|---|---|---|---|---|---|",
            ]
            for r in fam.to_dict("records"):
                meaning = _cell(r["description"])
                if r["point_in_time_needs"]:
                    needs = ", ".join(f"`{n}`" for n in r["point_in_time_needs"].split(","))
                    meaning += f" Point-in-time only with {needs}."
                lines.append(
                    f"| `{r['name']}` | {_cell(r['unit'])} | {_cell(r['fill'])} | "
                    f"{meaning} | `{_cell(r['reason_code'])}` | "
                    f"{_cell(r['text_en'])} | {_cell(r['text_zh'])} |"
                )
            lines.append("")
    return "\n".join(lines)


#: Page path (relative to the repository root) -> function producing its text.
PAGES: dict[str, Callable[[], str]] = {
    "docs/data-contract.md": contract_markdown,
    "docs/feature-catalog.md": catalog_markdown,
}


def write_pages(root: Path) -> list[Path]:
    """Write every generated page under ``root`` and return their paths."""
    written = []
    for rel, render in PAGES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for page in write_pages(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(f"wrote {page}")
