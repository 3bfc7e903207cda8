"""``riskscore replay LOG --model models/<name>``: re-run logged decisions, compare bytes.

LOG is a decision log written with ``--decision-log`` (``riskscore score`` /
``riskscore serve``) or ``Scorer(..., decision_log=...)``. Each selected line (all, one
``--line N``, or every line of ``--entity ID``) is scored again from its logged features
with the model folder (hashes verified first) and its rule set, and the record is
rebuilt. A replay matches when the record is byte-identical (canonical JSON) to the
logged one, ``logged_at`` aside; otherwise every differing field is printed.

Exit codes: 0 every replay matches, 5 some replay differs, 2 bad input (no such log or
line, a model folder that does not match its manifest), 1 internal error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["EXIT_MISMATCH", "register"]

#: Exit code when a replayed decision differs from the logged one.
EXIT_MISMATCH = 5


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command()
    def replay(
        log: Annotated[Path, typer.Argument(help="Decision log: a .jsonl file or a folder.")],
        model: Annotated[
            Path, typer.Option(help="The exported model folder the decisions were made with.")
        ],
        line: Annotated[
            int | None, typer.Option(min=1, help="Replay only this line (1-based).")
        ] = None,
        entity: Annotated[
            str | None, typer.Option(help="Replay only this entity's records.")
        ] = None,
        rules: Annotated[
            Path | None,
            typer.Option(help="Rule set to replay with (default: the model folder's)."),
        ] = None,
    ) -> None:
        """Re-run logged decisions on MODEL and check they give the same bytes."""
        from riskscore.exceptions import ScoringError
        from riskscore.scoring._replay import replay as run

        if line is not None and entity is not None:
            raise ScoringError("pass --line or --entity, not both")
        results = run(log, model, line=line, entity=entity, rules=rules)
        bad = 0
        for r in results:
            who = r.logged.get("entity_id")
            if r.same:
                typer.echo(f"{r.location} ({who}): same bytes")
                continue
            bad += 1
            typer.echo(f"{r.location} ({who}): MISMATCH, {len(r.diff)} field(s) differ:")
            for d in r.diff:
                typer.echo(f"  - {d}")
        typer.echo(f"replayed {len(results)} decision(s): {len(results) - bad} same, {bad} differ")
        if bad:
            raise typer.Exit(EXIT_MISMATCH)
