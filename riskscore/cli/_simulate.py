"""``riskscore simulate``: write a synthetic marketplace to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskscore.cli._args import PlainHelp, cli_output


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def simulate(
        out: Annotated[Path, typer.Option(help="Folder to write the tables into.")],
        sellers: Annotated[int, typer.Option(help="Number of sellers.")] = 2000,
        seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 0,
        days: Annotated[int, typer.Option(help="Length of the simulated period.")] = 365,
        fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    ) -> None:
        """Simulate a marketplace (sellers, listings, orders, complaints, labels)."""
        cli_output()
        from riskscore._progress import step
        from riskscore.datasets import make_marketplace
        from riskscore.io import write_tables

        with step("simulate", f"{sellers:,} sellers over {days} days"):
            tables = make_marketplace(n_sellers=sellers, seed=seed, days=days)
        with step("simulate", f"writing {fmt} tables to {out}"):
            write_tables(tables, out, fmt=fmt)
        counts = ", ".join(f"{name}={len(frame):,}" for name, frame in tables.items())
        typer.echo(f"wrote {out}: {counts}")
