"""``riskscore validate``: check a folder of tables against the data contract."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskscore.cli._args import PlainHelp, cli_output


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def validate(
        data: Annotated[Path, typer.Option(help="Folder with one file per table.")],
    ) -> None:
        """Validate marketplace tables; print a summary or every problem found."""
        cli_output()
        from riskscore._progress import step
        from riskscore.io import load_tables
        from riskscore.summary import summarize

        with step("validate", f"reading and checking the tables in {data}"):
            tables = load_tables(data)
        typer.echo(summarize(tables))
