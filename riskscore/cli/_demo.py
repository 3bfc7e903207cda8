"""``riskscore demo``: the main job end to end on the embedded synthetic marketplace."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command()
    def demo(
        out: Annotated[Path, typer.Option(help="Working folder for data, models, scores.")] = Path(
            "out/demo"
        ),
        sellers: Annotated[int, typer.Option(help="Number of simulated sellers.")] = 2000,
        seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    ) -> None:
        """Simulate a marketplace, validate it and print a summary (more steps as they land)."""
        from riskscore.datasets import make_marketplace
        from riskscore.io import load_tables, write_tables
        from riskscore.summary import summarize

        data_dir = out / "data"
        typer.echo(f"[1] simulating {sellers:,} sellers (seed {seed}) into {data_dir}")
        write_tables(make_marketplace(n_sellers=sellers, seed=seed), data_dir)
        typer.echo("[2] loading and validating against the data contract")
        tables = load_tables(data_dir)
        typer.echo(summarize(tables))
