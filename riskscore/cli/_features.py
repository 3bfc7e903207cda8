"""``riskscore features``: build point-in-time features of a folder of tables into a file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from riskscore.cli._args import PlainHelp, cli_output


class Entity(StrEnum):
    """Which entity gets one row each."""

    seller = "seller"
    listing = "listing"


class Backend(StrEnum):
    """Where features are computed."""

    pandas = "pandas"
    polars = "polars"
    duckdb = "duckdb"
    spark = "spark"


def _windows(text: str) -> tuple[int, ...]:
    from riskscore.exceptions import FeatureError

    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise FeatureError(
            f"--windows must be comma-separated whole days, e.g. 7,30,90; got {text!r}"
        ) from None


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def features(
        data: Annotated[Path, typer.Option(help="Folder with one table per file.")],
        as_of: Annotated[
            str, typer.Option("--as-of", help="Cutoff (ISO 8601); only earlier rows are used.")
        ],
        out: Annotated[Path, typer.Option(help="Output file, .parquet or .csv.")],
        entity: Annotated[
            Entity, typer.Option(help="One row per seller or per listing.")
        ] = Entity.seller,
        backend: Annotated[
            Backend, typer.Option(help="Dataframe engine to compute with.")
        ] = Backend.pandas,
        windows: Annotated[
            str, typer.Option(help="Look-back windows in days, comma-separated.")
        ] = "7,30,90",
    ) -> None:
        """Build every feature of an entity as known at --as-of and write them to --out."""
        cli_output()
        from riskscore._progress import step
        from riskscore.cli._args import check_out_file, parse_time
        from riskscore.exceptions import FeatureError
        from riskscore.features import build_features
        from riskscore.features._backend import to_pandas
        from riskscore.io import load_tables

        if out.suffix not in (".parquet", ".csv"):
            raise FeatureError(f"--out must end in .parquet or .csv; got '{out.name}'")
        check_out_file(out, FeatureError)
        parse_time(as_of, FeatureError)
        window_days = _windows(windows)
        tables = load_tables(data)
        key = f"{entity.value}_id"
        result = build_features(
            tables,
            entity.value,  # type: ignore[arg-type]
            as_of=as_of,
            backend=None if backend is Backend.pandas else backend.value,
            windows=window_days,
        )
        with step("features", "collecting the result"):
            frame = to_pandas(result)
        frame = frame.reset_index() if frame.index.name == key else frame
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".parquet":
            frame.to_parquet(out, index=False)
        else:
            frame.to_csv(out, index=False)
        typer.echo(
            f"wrote {len(frame):,} {entity.value}s x {frame.shape[1] - 1} features "
            f"as of {as_of} to {out}"
        )
