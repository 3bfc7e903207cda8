"""``riskscore case SELLER``: write one seller's case file (a folder and a zip).

Scores the seller as of a time with a model (and optionally a rule set), and writes what
an enforcement team takes away: the evidence page (HTML, Markdown, JSON), the records
behind the reasons as CSV (only rows known at ``--as-of``), the linked sellers and the
identifiers they share, the model and rule set used, the decision and a manifest with the
SHA-256 of every file (see :mod:`riskscore.case`). ``--verify CASE`` reads a case back
instead: checks every hash and reproduces the decision. Exit codes: 0 ok, 2 bad arguments
or input (unknown seller, model, a changed case), 1 internal error.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from riskscore.cli._args import PlainHelp, cli_output


class LegalPack(StrEnum):
    """Legal-threshold packs of :mod:`riskscore.rules.packs` a case can assess."""

    cn_article_217_online_works = "cn_article_217_online_works"
    counterfeit_goods = "counterfeit_goods"


class Lang(StrEnum):
    """Languages of a case file."""

    en = "en"
    zh = "zh"


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def case(
        seller_id: Annotated[
            str | None,
            typer.Argument(help="The seller to write the case of (not with --verify)."),
        ] = None,
        as_of: Annotated[
            str | None,
            typer.Option("--as-of", help="Scoring time (ISO 8601); only earlier records."),
        ] = None,
        data: Annotated[
            Path | None, typer.Option(help="Folder with one file per marketplace table.")
        ] = None,
        model: Annotated[
            str | None,
            typer.Option(
                help="Seller model: a model folder or an MLflow URI (models:/NAME@ALIAS)."
            ),
        ] = None,
        rules: Annotated[
            Path | None,
            typer.Option(help="Rule set file (YAML or JSON); copied into the case."),
        ] = None,
        language: Annotated[
            Lang, typer.Option("--language", "--lang", help="Language of every page.")
        ] = Lang.en,
        legal: Annotated[
            LegalPack | None,
            typer.Option(
                metavar="PACK",
                help="Legal-threshold pack to assess up to --as-of: "
                "cn_article_217_online_works or counterfeit_goods.",
            ),
        ] = None,
        legal_from: Annotated[
            str | None,
            typer.Option("--legal-from", help="Start of the legal period; default a year before."),
        ] = None,
        rate: Annotated[
            list[str] | None,
            typer.Option(help="CNY per unit of a currency for --legal, e.g. USD=7.1."),
        ] = None,
        out: Annotated[
            Path, typer.Option(help="Folder to write the case folder and zip into.")
        ] = Path("cases"),
        top_k: Annotated[int, typer.Option("--top-k", min=1, help="Reasons to show.")] = 5,
        max_records: Annotated[
            int, typer.Option("--max-records", min=1, help="Rows per table on the page.")
        ] = 10,
        plot: Annotated[
            bool, typer.Option("--plot", help="Embed the SHAP waterfall plot (slower).")
        ] = False,
        overwrite: Annotated[
            bool, typer.Option("--overwrite", help="Replace an existing case.")
        ] = False,
        verify: Annotated[
            Path | None,
            typer.Option(
                help="Read this case folder or zip back: check the hashes, reproduce the decision."
            ),
        ] = None,
    ) -> None:
        """Write one seller's case file, or check one with --verify."""
        cli_output()
        from riskscore._progress import step
        from riskscore.case import CaseFileError, read_case, write_case

        if verify is not None:
            with step("case", f"verifying {verify}"):
                found = read_case(verify)
            typer.echo(
                f"{verify}: {len(found.files)} files verified; decision reproduced: "
                f"{found.action} ({found.decision['decided_by']}) for seller {found.seller_id}"
                f" as of {found.as_of}"
            )
            return
        missing = [
            flag
            for flag, value in (
                ("SELLER_ID", seller_id),
                ("--as-of", as_of),
                ("--data", data),
                ("--model", model),
            )
            if value is None
        ]
        if missing:
            raise CaseFileError(
                f"riskscore case needs {', '.join(missing)}; e.g. riskscore case S000042 "
                "--as-of 2024-12-31 --data data/demo --model models/seller"
            )
        assert seller_id and as_of and data and model  # for mypy: checked just above
        from riskscore.cli._args import check_out_folder, parse_time
        from riskscore.io import load_tables

        parse_time(as_of, CaseFileError)
        if legal_from is not None:
            parse_time(legal_from, CaseFileError, "--legal-from")
        rates = _rates(rate or [])
        check_out_folder(out, CaseFileError)
        if plot:
            import matplotlib

            matplotlib.use("Agg")
        tables = load_tables(data)
        with step("case", f"the case of {seller_id} as of {as_of}"):
            written = write_case(
                tables,
                seller_id,
                as_of,
                scorer=model,
                language=language.value,
                rules=rules,
                legal=None if legal is None else legal.value,
                legal_from=legal_from,
                rates=rates or None,
                out=out,
                top_k=top_k,
                max_records=max_records,
                plot=plot,
                overwrite=overwrite,
            )
        d = written.decision
        typer.echo(
            f"{seller_id}: {d['action']} ({d['decided_by']}), score {d['score']:.3f}, band "
            f"{d['band']}; wrote {written.folder} and {written.zip_path} "
            f"({len(written.files)} files)"
        )


def _rates(given: list[str]) -> dict[str, float]:
    """Parse ``--rate CUR=RATE`` options (CNY per unit of CUR)."""
    from riskscore.case import CaseFileError

    rates: dict[str, float] = {}
    for text in given:
        currency, _, value = text.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not currency.strip() or not number > 0:
            raise CaseFileError(
                f"--rate {text!r}: expected CURRENCY=CNY_PER_UNIT with a positive number, "
                "e.g. --rate USD=7.1"
            )
        rates[currency.strip().upper()] = number
    return rates
