"""``riskscore score``: score a list of sellers (or listings) into a file, loss-free.

Every input id ends up either in ``--out`` (one row with score, risk score, band, reasons,
model version and as_of) or in ``<out stem>.rejects<suffix>`` with the reason. The summary
line's counts add up to the number of input ids.

Paths are checked before any work starts (``--out`` a folder or in an unwritable place,
an ``--ids`` file missing, empty or unreadable). The run holds ``<out>.lock`` from then
on, so a second run at the same ``--out`` refuses (naming the first one's pid and start
time) instead of mixing rows. Ctrl-C and SIGTERM print ``interrupted; run again with
--resume`` and exit 130 and 143; the work folder is kept for ``--resume``, which refuses
when the data, model or arguments changed (see :mod:`riskscore.scoring._batch`).

Exit codes: 0 ok, 2 bad arguments or input (another run at ``--out``, resume refused),
130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 1 internal error.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from riskscore.rules import RuleSet

#: Exit codes of an interrupted run: 128 + the signal number, as shells report them.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process gets SIGTERM (unwinds like Ctrl-C)."""


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Explain(StrEnum):
    """Which rows get reasons."""

    flagged = "flagged"
    all = "all"
    none = "none"


class Engine(StrEnum):
    """Where features and scores are computed."""

    pandas = "pandas"
    spark = "spark"


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command()
    def score(
        model: Annotated[
            str,
            typer.Option(
                help="Model: an MLflow URI (models:/riskscore-seller-fraud@champion) or a "
                "local model folder."
            ),
        ],
        data: Annotated[Path, typer.Option(help="Folder with one table per file.")],
        as_of: Annotated[str, typer.Option("--as-of", help="Score as of this time (ISO 8601).")],
        out: Annotated[Path, typer.Option(help="Output file, .parquet or .csv.")],
        ids: Annotated[
            Path | None,
            typer.Option(help="CSV/Parquet of ids to score (default: every entity)."),
        ] = None,
        explain: Annotated[
            Explain, typer.Option(help="Rows that get reasons: flagged, all or none.")
        ] = Explain.flagged,
        chunk_size: Annotated[
            int, typer.Option("--chunk-size", min=1, help="Ids per chunk (bounds memory).")
        ] = 50_000,
        resume: Annotated[
            bool, typer.Option(help="Continue an interrupted run from its last chunk.")
        ] = False,
        engine: Annotated[
            Engine, typer.Option(help="pandas (chunked, resumable) or spark.")
        ] = Engine.pandas,
        scored_at: Annotated[
            str | None,
            typer.Option(
                "--scored-at", help="Timestamp written as scored_at (default: run start)."
            ),
        ] = None,
        top_k: Annotated[int, typer.Option("--top-k", min=1, help="Reasons per row.")] = 3,
        language: Annotated[str, typer.Option(help="Reason language: en or zh.")] = "en",
        show: Annotated[
            int, typer.Option(min=0, help="Print the N riskiest entities with reasons.")
        ] = 5,
        progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
        rules: Annotated[
            Path | None,
            typer.Option(help="Rule set (YAML/JSON): add action, decided_by, rules_fired."),
        ] = None,
        decision_log: Annotated[
            Path | None,
            typer.Option(
                "--decision-log",
                help="Append every decision to this log (.jsonl file or folder); "
                "riskscore replay re-runs it.",
            ),
        ] = None,
    ) -> None:
        """Score sellers or listings as of a time; write scores and rejects."""
        from riskscore.cli._args import parse_time
        from riskscore.exceptions import ScoringError
        from riskscore.scoring._batch import check_ids_file, check_out, output_lock

        if language not in ("en", "zh"):
            raise ScoringError(f"--language must be en or zh; got {language!r}")
        if engine is Engine.spark and (resume or rules is not None or decision_log is not None):
            raise ScoringError(
                "--resume, --decision-log and --rules work with --engine pandas only"
            )
        check_out(out)  # path problems first, before any work
        if ids is not None:
            check_ids_file(ids)
        parse_time(as_of, ScoringError)  # a clear message before any data is read
        rule_set = None if rules is None else _load_rules(rules)
        try:
            with _sigterm_raises(), output_lock(out):
                _run(
                    model=model,
                    data=data,
                    as_of=as_of,
                    out=out,
                    ids=ids,
                    explain=explain,
                    chunk_size=chunk_size,
                    resume=resume,
                    engine=engine,
                    scored_at=scored_at,
                    top_k=top_k,
                    language=language,
                    show=show,
                    progress=progress,
                    rules=rule_set,
                    decision_log=decision_log,
                )
        except KeyboardInterrupt as err:
            then = "; run again with --resume" if engine is Engine.pandas else ""
            typer.echo(f"interrupted{then}", err=True)
            code = EXIT_TERMINATED if isinstance(err, Terminated) else EXIT_INTERRUPTED
            raise typer.Exit(code) from None


def _run(
    *,
    model: str,
    data: Path,
    as_of: str,
    out: Path,
    ids: Path | None,
    explain: Explain,
    chunk_size: int,
    resume: bool,
    engine: Engine,
    scored_at: str | None,
    top_k: int,
    language: str,
    show: int,
    progress: bool,
    rules: RuleSet | None = None,
    decision_log: Path | None = None,
) -> None:
    """Load, score and report; the caller holds the output lock."""
    from riskscore.io import load_tables
    from riskscore.scoring import load_scorer, score_batch
    from riskscore.scoring._batch import fingerprint_files, read_ids

    log = None
    if decision_log is not None:
        from riskscore.rules._log import DecisionLog

        log = DecisionLog(decision_log, channel="batch")
    scorer = load_scorer(
        model,
        top_k=top_k,
        language=language,  # type: ignore[arg-type]
        decision_log=log,
    )
    if rules is None:
        rules = scorer.rules  # the model folder's own rule set, when it has one
    id_list = None if ids is None else read_ids(ids, scorer.id_col)
    columns = None
    if rules is not None:
        from riskscore.exceptions import ScoringError
        from riskscore.rules._columns import computed_columns

        if rules.entity != scorer.entity:
            raise ScoringError(
                f"--rules {rules.label} is for {rules.entity}s; the model scores "
                f"{scorer.entity}s; fix: pass a rule set with entity: {scorer.entity}"
            )
        # declared columns riskscore computes (main_category), as backtest does; any
        # other is refused here, before any work
        columns = computed_columns(
            [rules],
            ScoringError,
            "fix: use a rule set without them for `riskscore score --rules`, or build the "
            "frame yourself and call RuleSet.decide_many",
        )
    if engine is Engine.spark:
        from riskscore.scoring._spark import score_batch_spark

        summary = score_batch_spark(
            model,
            data,
            out,
            as_of=as_of,
            ids=id_list,
            explain=explain.value,
            scored_at=scored_at,
        )
    else:
        inputs = fingerprint_files(data)  # the files' bytes, before they are read
        tables = load_tables(data)
        summary = score_batch(
            scorer,
            tables,
            out,
            as_of=as_of,
            ids=id_list,
            explain=explain.value,  # type: ignore[arg-type]
            chunk_size=chunk_size,
            resume=resume,
            scored_at=scored_at,
            progress=progress,
            inputs=inputs,
            rules=rules,
            columns=columns,
        )
    typer.echo(f"{scorer.model_name} v{scorer.model_version} as of {as_of}: {summary.line()}")
    typer.echo(f"wrote {summary.out} and {summary.rejects_out}")
    if rules is not None:
        typer.echo(f"decisions by rule set {rules.label} ({len(rules)} rules)")
    if log is not None:
        typer.echo(f"decisions logged to {log.path}")
    if show:
        _show_top(Path(summary.out), scorer.id_col, show)


def _load_rules(path: Path) -> RuleSet:
    """Load the rule set before any work (its errors name the rule and the fix)."""
    from riskscore.rules import RuleSet

    return RuleSet.load(path)


def _show_top(out: Path, id_col: str, n: int) -> None:
    """Print the ``n`` riskiest rows of ``out`` with their first reasons."""
    import pandas as pd

    columns = [id_col, "risk_score", "band", "score", "reason_1_text", "reason_2_text"]
    columns += ["action", "rules_fired"]
    if out.suffix == ".csv":
        frame = pd.read_csv(out, usecols=lambda c: c in columns)
    else:
        import pyarrow.parquet as pq

        names = set(pq.read_schema(out).names)
        frame = pd.read_parquet(out, columns=[c for c in columns if c in names])
    if frame.empty:
        return
    top = frame.sort_values(["risk_score", id_col], ascending=[False, True]).head(n)
    typer.echo(f"top {len(top)} by risk score:")
    for values in top.to_dict("records"):
        reasons = [
            str(values[c])
            for c in ("reason_1_text", "reason_2_text")
            if isinstance(values.get(c), str) and values[c]
        ]
        why = "; ".join(reasons) or "(not explained: below the flag band)"
        decision = ""
        if isinstance(values.get("action"), str):
            fired = values.get("rules_fired")
            decision = f"{values['action']:<6} " + (
                f"[{fired}] " if isinstance(fired, str) and fired else ""
            )
        typer.echo(
            f"  {values[id_col]}  risk {values['risk_score']:>4.0f}  {values['band']:<8} "
            f"p={values['score']:.3f}  {decision}{why}"
        )
