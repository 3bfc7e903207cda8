"""``riskscore links``: print one seller's web of linked sellers as of a cutoff.

What an investigator asks first about a suspicious shop: which other shops share its
payment account, device, phone, return address, delivery addresses or buyers, which of
them were already labelled before the cutoff, and (with ``--model``) how risky each one
scores. The web is built exactly as the ``network__`` features build it
(:func:`riskscore.features.network.seller_web`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from riskscore.cli._args import PlainHelp, cli_output

if TYPE_CHECKING:
    import pandas as pd


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command(cls=PlainHelp)
    def links(
        seller_id: Annotated[str, typer.Argument(help="The seller to look at.")],
        data: Annotated[Path, typer.Option(help="Folder with one file per table.")],
        as_of: Annotated[
            str, typer.Option("--as-of", help="Cutoff (ISO 8601); only earlier data is used.")
        ],
        model: Annotated[
            str | None,
            typer.Option(
                help="Also score the sellers with this model (an MLflow URI such as "
                "models:/riskscore-seller-counterfeit@champion, or a model folder)."
            ),
        ] = None,
        limit: Annotated[
            int, typer.Option(min=1, help="Show at most this many linked sellers.")
        ] = 50,
    ) -> None:
        """Show a seller's linked sellers: by which identifiers, their labels and scores."""
        cli_output()
        from riskscore._progress import step
        from riskscore.cli._args import parse_time
        from riskscore.exceptions import FeatureError
        from riskscore.features.network import seller_web
        from riskscore.io import load_tables

        parse_time(as_of, FeatureError)
        tables = load_tables(data)
        with step("links", f"the web of {seller_id} as of {as_of}"):
            web = seller_web(tables, seller_id, as_of)
        scores = _scores(model, tables, [seller_id, *web["seller_id"]], as_of) if model else {}
        typer.echo(_render(seller_id, as_of, web, scores, limit))


def _scores(model: str, tables: Any, ids: list[str], as_of: str) -> dict[str, str]:
    """Score ``ids`` with ``model``; a seller that cannot be scored shows why, briefly."""
    from riskscore.exceptions import ScoringError
    from riskscore.scoring import load_scorer

    scorer = load_scorer(model)
    out: dict[str, str] = {}
    try:
        scored = scorer.score_entities(tables, ids, as_of, explain="none")
        for sid, score, band in zip(
            scored["seller_id"], scored["score"], scored["band"], strict=True
        ):
            out[str(sid)] = f"{score:.3f} ({band})"
    except ScoringError:
        # One unscorable seller (e.g. no activity yet) must not hide the others' scores.
        for sid in ids:
            try:
                one = scorer.score_entities(tables, [sid], as_of, explain="none")
                out[sid] = f"{one['score'].iloc[0]:.3f} ({one['band'].iloc[0]})"
            except ScoringError:
                out[sid] = "n/a"
    return out


def _render(
    seller_id: str, as_of: str, web: pd.DataFrame, scores: dict[str, str], limit: int
) -> str:
    labelled = int((web["label"] != "").sum())
    own = web.attrs.get("label", "")
    head = (
        f"Seller {seller_id} as of {as_of}: linked to {len(web)} seller(s), "
        f"{labelled} of them labelled before as_of; its web reaches "
        f"{web.attrs.get('component_size', 0)} other seller(s)"
    )
    lines = [head]
    if own:
        lines.append(f"  {seller_id} itself is labelled: {own}")
    if seller_id in scores:
        lines.append(f"  {seller_id} scores {scores[seller_id]}")
    if web.empty:
        lines.append("  no links: no shared identifiers, addresses or buyers")
        return "\n".join(lines)
    shown = web.head(limit).assign(
        weight=web["weight"].head(limit).map(lambda w: f"{w:.2f}"),
        label=web["label"].head(limit).replace("", "-"),
    )
    columns = ["seller_id", "links", "weight", "label", "shared"]
    if scores:
        shown = shown.assign(score=shown["seller_id"].map(scores).fillna("n/a"))
        columns.insert(4, "score")
    lines.append(shown[columns].to_string(index=False))
    if len(web) > limit:
        lines.append(f"  ... {len(web) - limit} more (raise --limit to see them)")
    return "\n".join(lines)
