"""Loss-free batch scoring: chunks, progress, every id accounted for, atomic, resumable.

:func:`score_batch` scores a list of ids chunk by chunk. Each chunk's scores and rejects
are written to a work folder ``<out>.parts/`` (each part atomically: a temporary file, then
a rename), next to a manifest that fixes everything the output depends on (model name and
version, as_of, ``scored_at``, chunk size, explain mode, a hash of the ids). When every
chunk is done the parts are joined into ``<out>`` and ``<out stem>.rejects<suffix>``
(again temporary file then rename) and the work folder is removed.

After a crash, ``resume=True`` checks the manifest matches, skips completed chunks and
writes a file byte-identical to an uninterrupted run. The :class:`BatchSummary` counts add
up to the number of input ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from riskscore.exceptions import ScoringError
from riskscore.scoring._entities import REJECT_REASONS, check_ids, entity_features

if TYPE_CHECKING:
    from riskscore.scoring._scorer import ExplainMode, Scorer

__all__ = ["BatchSummary", "read_ids", "rejects_path", "score_batch", "write_frame"]

#: Formats the batch runner reads and writes, by file suffix.
SUFFIXES = (".parquet", ".csv")

FeatureFn = Callable[[list[str]], tuple[pd.DataFrame, pd.DataFrame]]


@dataclass(frozen=True)
class BatchSummary:
    """What a batch run did; ``n_scored + n_rejected == n_input``.

    Examples
    --------
    >>> s = BatchSummary(10, 8, {"unknown id": 1, "no activity before as_of": 1,
    ...                          "invalid value": 0}, "scores.parquet", "scores.rejects.parquet")
    >>> s.n_rejected, s.line()
    (2, 'scored 8 + rejected 2 (unknown id 1, no activity before as_of 1, invalid value 0) = 10 input ids')
    """

    n_input: int
    n_scored: int
    rejected: dict[str, int]
    out: str
    rejects_out: str
    n_chunks: int = 0
    n_resumed: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rejected(self) -> int:
        """Ids not scored, over all reasons."""
        return sum(self.rejected.values())

    def line(self) -> str:
        """One line whose counts add up to the input count."""
        parts = ", ".join(f"{k} {self.rejected.get(k, 0)}" for k in REJECT_REASONS)
        return (
            f"scored {self.n_scored} + rejected {self.n_rejected} ({parts}) = "
            f"{self.n_input} input ids"
        )


def rejects_path(out: str | os.PathLike[str]) -> Path:
    """Return where the rejects of ``out`` go: ``<stem>.rejects<suffix>``.

    Examples
    --------
    >>> rejects_path("run/scores.parquet").as_posix()
    'run/scores.rejects.parquet'
    """
    path = Path(out)
    return path.with_name(f"{path.stem}.rejects{path.suffix}")


def _check_out(out: Path) -> None:
    if out.suffix not in SUFFIXES:
        raise ScoringError(
            f"--out '{out}' must end in .parquet or .csv (the output format follows the suffix)"
        )
    if not out.parent.exists():
        raise ScoringError(f"the folder of --out '{out}' does not exist; create it first")


def read_ids(path: str | os.PathLike[str], id_column: str) -> list[str]:
    """Read the ids to score from a CSV or Parquet file.

    The column is ``id_column`` when present, else the only column of the file.

    Raises
    ------
    ScoringError
        Missing file, unknown format, no usable column, empty, missing or duplicated ids.
    """
    file = Path(path)
    if not file.is_file():
        raise ScoringError(f"ids file '{file}' does not exist")
    if file.suffix == ".parquet":
        frame = pd.read_parquet(file)
    elif file.suffix in (".csv", ".txt"):
        frame = pd.read_csv(file, dtype="str", keep_default_na=False, na_values=[""])
    else:
        raise ScoringError(f"ids file '{file}' must be .csv or .parquet")
    if id_column in frame.columns:
        column = id_column
    elif len(frame.columns) == 1:
        column = str(frame.columns[0])
    else:
        raise ScoringError(
            f"ids file '{file}' has no '{id_column}' column (columns: "
            f"{', '.join(map(str, frame.columns))}); name the id column '{id_column}'"
        )
    return check_ids(frame[column].tolist(), what=f"ids file '{file}'")


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` (CSV or Parquet by suffix) atomically."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if path.suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def score_batch(
    scorer: Scorer,
    tables: Mapping[str, Any],
    out: str | os.PathLike[str],
    *,
    as_of: Any,
    ids: Sequence[str] | None = None,
    explain: ExplainMode = "flagged",
    chunk_size: int = 50_000,
    resume: bool = False,
    scored_at: Any = None,
    progress: bool = True,
    backend: str = "pandas",
) -> BatchSummary:
    """Score ``ids`` (default: every entity in the tables) into ``out``, chunk by chunk.

    Parameters
    ----------
    scorer : Scorer
    tables : mapping of str to pandas.DataFrame
        Validated marketplace tables.
    out : path
        ``.parquet`` or ``.csv``; rejects go to ``<stem>.rejects<suffix>``.
    as_of : timestamp-like
        Features use rows strictly before it.
    ids : sequence of str, optional
        Ids to score, unique. Default: every id of the sellers (listings) table.
    explain : {"flagged", "all", "none"}, default "flagged"
    chunk_size : int, default 50000
        Ids per chunk; memory grows with it, not with the number of ids.
    resume : bool, default False
        Continue an interrupted run with the same arguments from its last completed chunk.
    scored_at : timestamp-like, optional
        Written on every row; default: the start of the run (kept when resuming).
    progress : bool, default True
        Show a progress bar (rows/s, ETA) on stderr.
    backend : str, default "pandas"
        Dataframe backend for the feature builders.

    Returns
    -------
    BatchSummary

    Raises
    ------
    ScoringError
        Bad arguments (output suffix, chunk size, duplicated ids, resume mismatch).
    """
    from riskscore.scoring._scorer import _iso, _now

    key = scorer.id_column
    if ids is None:
        table = "sellers" if scorer.entity == "seller" else "listings"
        ids = tables[table][key].astype("str").tolist()
    id_list = check_ids(ids)
    stamp = _iso(scored_at) or _now()

    def features(chunk: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        return entity_features(
            tables, chunk, as_of, entity=scorer.entity, layout=scorer.layout, backend=backend
        )

    return run_batch(
        scorer,
        id_list,
        features,
        Path(out),
        as_of=_iso(as_of),
        explain=explain,
        chunk_size=chunk_size,
        resume=resume,
        scored_at=stamp,
        progress=progress,
    )


def run_batch(
    scorer: Scorer,
    ids: list[str],
    features: FeatureFn,
    out: Path,
    *,
    as_of: str | None,
    explain: ExplainMode,
    chunk_size: int,
    resume: bool,
    scored_at: str,
    progress: bool,
) -> BatchSummary:
    """Run the chunks of a batch with a given feature function (see :func:`score_batch`)."""
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ScoringError(f"chunk size must be a positive whole number; got {chunk_size!r}")
    _check_out(out)
    started = time.perf_counter()
    work = out.with_name(f"{out.name}.parts")
    manifest = {
        "format": 1,
        "model_name": scorer.model_name,
        "model_version": scorer.model_version,
        "as_of": as_of,
        "scored_at": scored_at,
        "explain": explain,
        "chunk_size": chunk_size,
        "top_k": scorer.top_k,
        "language": scorer.language,
        "n_ids": len(ids),
        "ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
    }
    manifest = _prepare_work(work, manifest, resume)
    chunks = [ids[i : i + chunk_size] for i in range(0, len(ids), chunk_size)]
    n_resumed = 0
    with _progress(progress, len(ids)) as advance:
        for index, chunk in enumerate(chunks):
            scores_part = work / f"scores-{index:06d}.parquet"
            rejects_part = work / f"rejects-{index:06d}.parquet"
            if scores_part.exists() and rejects_part.exists():
                n_resumed += 1
                advance(len(chunk))
                continue
            scored, rejects = _score_chunk(
                scorer, chunk, features, explain, as_of=as_of, scored_at=str(manifest["scored_at"])
            )
            write_frame(rejects, rejects_part)
            write_frame(scored, scores_part)  # written last: marks the chunk complete
            advance(len(chunk))
    n_scored, rejected = _join_parts(work, len(chunks), out, rejects_path(out))
    shutil.rmtree(work, ignore_errors=True)
    summary = BatchSummary(
        n_input=len(ids),
        n_scored=n_scored,
        rejected=rejected,
        out=str(out),
        rejects_out=str(rejects_path(out)),
        n_chunks=len(chunks),
        n_resumed=n_resumed,
        seconds=time.perf_counter() - started,
    )
    if summary.n_scored + summary.n_rejected != summary.n_input:  # pragma: no cover
        raise RuntimeError(f"row accounting does not add up: {summary.line()}")
    return summary


def _prepare_work(work: Path, manifest: dict[str, Any], resume: bool) -> dict[str, Any]:
    path = work / "manifest.json"
    if resume and path.exists():
        stored = json.loads(path.read_text())
        fixed = {k: v for k, v in stored.items() if k != "scored_at"}
        wanted = {k: v for k, v in manifest.items() if k != "scored_at"}
        if fixed != wanted:
            diff = [
                f"{k}: was {fixed.get(k)!r}, now {wanted.get(k)!r}"
                for k in sorted(set(fixed) | set(wanted))
                if fixed.get(k) != wanted.get(k)
            ]
            raise ScoringError(
                f"cannot resume into '{work}': the run's arguments changed ({'; '.join(diff)}); "
                "rerun without --resume to start over"
            )
        return dict(stored)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    tmp = work / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, path)
    return manifest


def _score_chunk(
    scorer: Scorer,
    chunk: list[str],
    features: FeatureFn,
    explain: ExplainMode,
    *,
    as_of: str | None,
    scored_at: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame, rejects = features(chunk)
    key = scorer.id_column
    if len(frame):
        matrix = scorer.layout.matrix_from_frame(frame)
        ids = frame[key].astype("object").to_numpy()
        scored = scorer._frame_from_matrix(matrix, ids, explain, as_of=as_of, scored_at=scored_at)
    else:
        scored = _empty_scores(scorer)
    if len(scored) + len(rejects) != len(chunk):
        raise RuntimeError(
            f"chunk of {len(chunk)} ids gave {len(scored)} scores and {len(rejects)} rejects"
        )
    rejects = rejects.assign(
        model_name=pd.array([scorer.model_name] * len(rejects), dtype="str"),
        model_version=pd.array([scorer.model_version] * len(rejects), dtype="str"),
        as_of=pd.array([as_of] * len(rejects), dtype="str"),
    )
    return scored, rejects


def _empty_scores(scorer: Scorer) -> pd.DataFrame:
    """A zero-row output frame with the same dtypes as a scored chunk."""
    columns = scorer.columns
    data: dict[str, Any] = {}
    for c in columns:
        if c in ("score",) or c.endswith(("_value", "_contribution")):
            data[c] = pd.array([], dtype="float64")
        elif c == "risk_score":
            data[c] = pd.array([], dtype="int64")
        elif c.endswith("_impact"):
            data[c] = pd.array([], dtype="Int64")
        else:
            data[c] = pd.array([], dtype="str")
    return pd.DataFrame(data, columns=columns)


def _join_parts(
    work: Path, n_chunks: int, out: Path, rejects_out: Path
) -> tuple[int, dict[str, int]]:
    n_scored = 0
    counts = dict.fromkeys(REJECT_REASONS, 0)
    for kind, target in (("scores", out), ("rejects", rejects_out)):
        parts = [work / f"{kind}-{i:06d}.parquet" for i in range(n_chunks)]
        if target.suffix == ".csv":
            _join_csv(parts, target)
        else:
            _join_parquet(parts, target)
    for i in range(n_chunks):
        n_scored += _n_rows(work / f"scores-{i:06d}.parquet")
        reasons = pd.read_parquet(work / f"rejects-{i:06d}.parquet", columns=["reason"])
        for reason, n in reasons["reason"].value_counts().items():
            counts[str(reason)] = counts.get(str(reason), 0) + int(n)
    return n_scored, counts


def _n_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)


def _join_parquet(parts: list[Path], target: Path) -> None:
    import pyarrow.parquet as pq

    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        writer = None
        for part in parts:
            table = pq.read_table(part)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            elif table.schema != writer.schema:
                table = table.cast(writer.schema)
            if table.num_rows:
                writer.write_table(table)
        if writer is not None:
            writer.close()
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _join_csv(parts: list[Path], target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            for i, part in enumerate(parts):
                pd.read_parquet(part).to_csv(handle, index=False, header=i == 0)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class _Noop:
    def __call__(self, n: int) -> None:
        return None


def _progress(enabled: bool, total: int) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def bar() -> Iterator[Callable[[int], None]]:
        if not enabled:
            yield _Noop()
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        columns = (
            TextColumn("scoring"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]} rows/s"),
            TextColumn("ETA"),
            TimeRemainingColumn(),
        )
        started = time.perf_counter()
        with Progress(*columns, console=Console(stderr=True)) as prog:
            task = prog.add_task("score", total=total, rate="-")

            def advance(n: int) -> None:
                prog.advance(task, n)
                done = prog.tasks[0].completed
                rate = done / max(time.perf_counter() - started, 1e-9)
                prog.update(task, rate=f"{rate:,.0f}")

            yield advance

    return bar()
