"""``riskscore explain SELLER_ID``: the evidence file of one seller, as of a time.

Prints (or writes with ``--out``) the seller's score, band, model version, top reasons and,
for each reason, the supporting records as of the scoring time, as Markdown, HTML (with the
SHAP waterfall plot embedded) or JSON. Exit codes: 0 ok, 2 bad arguments or input (unknown
seller, model or feature), 1 internal error.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from riskscore.cli._args import PlainHelp, cli_output


class Format(StrEnum):
    """Evidence file formats."""

    md = "md"
    html = "html"
    json = "json"


class Lang(StrEnum):
    """Languages of the reasons and headings."""

    en = "en"
    zh = "zh"


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def explain(
        seller_id: Annotated[str, typer.Argument(help="The seller to explain.")],
        data: Annotated[Path, typer.Option(help="Folder with one table per file.")],
        model: Annotated[
            str,
            typer.Option(
                help="Seller model: an MLflow URI (models:/riskscore-seller-fraud@champion) "
                "or a local model folder."
            ),
        ],
        as_of: Annotated[
            str, typer.Option("--as-of", help="Scoring time (ISO 8601); records before it.")
        ],
        format: Annotated[
            Format, typer.Option("--format", help="md, html (with the waterfall plot) or json.")
        ] = Format.md,
        out: Annotated[
            Path | None, typer.Option(help="Write the file here instead of printing it.")
        ] = None,
        language: Annotated[
            Lang,
            typer.Option("--language", "--lang", help="Language of reasons and headings."),
        ] = Lang.en,
        top_k: Annotated[int, typer.Option("--top-k", min=1, help="Reasons to show.")] = 5,
        max_records: Annotated[
            int, typer.Option("--max-records", min=1, help="Rows per evidence table.")
        ] = 10,
        all_sections: Annotated[
            bool,
            typer.Option(
                "--all-sections", help="Records of every feature family, not only the reasons'."
            ),
        ] = False,
    ) -> None:
        """Explain one seller's score with the records behind each reason."""
        cli_output()
        from riskscore._progress import step
        from riskscore.cli._args import check_out_file, parse_time
        from riskscore.exceptions import ExplanationError
        from riskscore.explain import build_evidence
        from riskscore.io import load_tables
        from riskscore.scoring import load_scorer

        parse_time(as_of, ExplanationError)
        if out is not None:
            check_out_file(out, ExplanationError)

        if format is Format.html:
            import matplotlib

            matplotlib.use("Agg")
        with step("explain", f"loading the model {model}"):
            scorer = load_scorer(model)
        with step("explain", f"reading the tables in {data}"):
            tables = load_tables(data)
        with step("explain", f"score, reasons and records of {seller_id} as of {as_of}"):
            evidence = build_evidence(
                tables,
                seller_id,
                scorer.model,
                as_of,
                model_name=scorer.model_name,
                model_version=scorer.model_version,
                top_k=top_k,
                language=language.value,  # type: ignore[arg-type]
                max_records=max_records,
                sections="all" if all_sections else "reasons",
                plot=format is Format.html,
            )
        if out is None:
            typer.echo(evidence.render(format.value))  # type: ignore[arg-type]
            return
        evidence.write(out, format.value)  # type: ignore[arg-type]
        band = f", band {evidence.band}" if evidence.band else ""
        codes = ", ".join(r["code"] for r in evidence.reasons) or "none"
        typer.echo(
            f"{seller_id}: score {evidence.score:.3f}{band}, model "
            f"{evidence.model_name} {evidence.model_version or ''}".rstrip()
            + f"; reasons: {codes}; wrote {out}"
        )
