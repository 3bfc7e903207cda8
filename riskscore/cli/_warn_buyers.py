"""``riskscore warn-buyers``: the buyers still exposed to flagged shops, for sign-off.

Reads the marketplace folder and either a scores file (``riskscore score`` output, with
``band`` and, with ``--rules``, ``action``) or a seller model that scores every seller as
of ``--as-of``; writes :func:`riskscore.warn.warn_buyers` rows (one per buyer and open
order) to ``--out`` (.csv, UTF-8, or .parquet). Nothing is sent to anyone: the file is
for a person who checks it and signs off.

Exit codes: 0 ok, 2 bad arguments or input, 1 internal error.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["register"]


class Band(StrEnum):
    """Model bands, mildest first."""

    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Lang(StrEnum):
    """Languages of reasons and messages."""

    en = "en"
    zh = "zh"


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    from riskscore.cli._args import PlainHelp

    @app.command("warn-buyers", cls=PlainHelp)
    def warn_buyers(
        data: Annotated[Path, typer.Option(help="Folder with one table per file.")],
        as_of: Annotated[
            str,
            typer.Option("--as-of", help="List buyers exposed at this time (ISO 8601)."),
        ],
        out: Annotated[Path, typer.Option(help="Warning list to write: .csv or .parquet.")],
        scores: Annotated[
            Path | None,
            typer.Option(help="Seller scores (riskscore score output), .parquet or .csv."),
        ] = None,
        model: Annotated[
            str | None,
            typer.Option(help="Or a seller model (MLflow URI or folder) scored at --as-of."),
        ] = None,
        min_band: Annotated[
            Band, typer.Option("--min-band", help="Flag sellers in this band or above.")
        ] = Band.high,
        actions: Annotated[
            str | None,
            typer.Option(help="Also flag these decisions, comma-separated: hold,block."),
        ] = None,
        undelivered_days: Annotated[
            int,
            typer.Option(
                "--undelivered-days",
                min=0,
                help="Warn when paid this many days ago, not delivered.",
            ),
        ] = 7,
        price_ratio: Annotated[
            float,
            typer.Option(
                "--price-ratio", min=0.0, help="Warn when listing price / market price < this."
            ),
        ] = 0.6,
        min_flagged_shops: Annotated[
            int,
            typer.Option(
                "--min-flagged-shops",
                min=2,
                help="Warn buyers who ordered from this many flagged shops.",
            ),
        ] = 2,
        language: Annotated[
            Lang, typer.Option("--language", help="Language of reasons and messages.")
        ] = Lang.en,
        show: Annotated[int, typer.Option(min=0, help="Print the N largest orders listed.")] = 5,
    ) -> None:
        """List buyers still exposed to flagged shops; nothing is sent (a person signs off)."""
        from riskscore.cli._args import check_out_file, parse_time
        from riskscore.exceptions import ParameterError
        from riskscore.io import load_tables
        from riskscore.warn import summarize_warnings
        from riskscore.warn import warn_buyers as warn

        if (scores is None) == (model is None):
            raise ParameterError(
                "warn-buyers needs exactly one of --scores (a scores file) or --model (a "
                "seller model scored at --as-of)"
            )
        if out.suffix not in (".csv", ".parquet"):
            raise ParameterError(f"--out '{out}' must end in .csv or .parquet")
        check_out_file(out, ParameterError)
        parse_time(as_of, ParameterError)
        wanted = None if actions is None else [a.strip() for a in actions.split(",") if a]
        tables = load_tables(data)
        flagged = _read_scores(scores) if scores is not None else _score(model, tables, as_of)
        rows = warn(
            tables,
            flagged,
            as_of=as_of,
            min_band=min_band.value,
            actions=wanted,
            undelivered_days=undelivered_days,
            price_ratio=price_ratio,
            min_flagged_shops=min_flagged_shops,
            language=language.value,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix == ".csv":
            rows.to_csv(out, index=False, encoding="utf-8")
        else:
            rows.to_parquet(out, index=False)
        typer.echo(f"wrote {out}")
        typer.echo(summarize_warnings(rows, n=show))


def _read_scores(path: Path) -> pd.DataFrame:
    """Read a scores or decisions file (ids as strings)."""
    import pandas as pd

    from riskscore.exceptions import ParameterError

    if not path.is_file():
        raise ParameterError(f"--scores '{path}' is not a file; pass riskscore score output")
    if path.suffix == ".csv":
        ids = {"seller_id": "str", "entity_id": "str"}
        return pd.read_csv(path, dtype=ids)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    raise ParameterError(f"--scores '{path}' must be a .parquet or .csv file")


def _score(model: str | None, tables: dict[str, pd.DataFrame], as_of: str) -> pd.DataFrame:
    """Score every seller registered before ``as_of`` with ``model`` (no reasons)."""
    from riskscore.exceptions import ParameterError
    from riskscore.features import build_features
    from riskscore.scoring import load_scorer

    assert model is not None
    scorer = load_scorer(model)
    if scorer.entity != "seller":
        raise ParameterError(f"--model scores {scorer.entity}s; warn-buyers needs a seller model")
    features = build_features(tables, "seller", as_of=as_of)
    return scorer.score_many(features, explain="none", as_of=as_of)
