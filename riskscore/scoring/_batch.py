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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskscore._config import env_str
from riskscore.exceptions import ScoringError
from riskscore.scoring._entities import REJECT_REASONS, check_ids, entity_features, rejects_frame

if TYPE_CHECKING:
    from riskscore.scoring._scorer import ExplainMode, Scorer

__all__ = ["BatchSummary", "read_ids", "rejects_path", "score_batch", "write_frame"]

#: Formats the batch runner reads and writes, by file suffix.
SUFFIXES = (".parquet", ".csv")

FeatureFn = Callable[[list[str]], tuple[pd.DataFrame, pd.DataFrame]]


@dataclass(frozen=True)
class BatchSummary:
    r"""What a batch run did; ``n_scored + n_rejected == n_input``.

    Examples
    --------
    >>> s = BatchSummary(10, 8, {"unknown id": 1, "no activity before as_of": 1,
    ...                          "invalid value": 0}, "scores.parquet", "scores.rejects.parquet")
    >>> s.n_rejected
    2
    >>> print(s.line().replace(", ", ",\n"))
    scored 8 + rejected 2 (unknown id 1,
    no activity before as_of 1,
    invalid value 0) = 10 input ids
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
    """Run a batch with a given feature function (see :func:`score_batch`).

    ``features(ids)`` returns the feature rows of the scorable ids and the rejects of
    the others. Its result is stored in the work folder (one Parquet row group per
    chunk), so a resumed run reads it instead of building the features again.
    """
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
    stamp = str(manifest["scored_at"])
    feature_file = work / "features.parquet"
    if not feature_file.exists():
        with _status(progress, f"building features of {len(ids):,} ids as of {as_of}"):
            frame, rejects = features(ids)
        write_frame(_add_run_columns(rejects, scorer, as_of), work / "rejects-pre.parquet")
        _write_features(frame, scorer, feature_file, chunk_size)
        del frame
    import pyarrow.parquet as pq

    source = pq.ParquetFile(feature_file)
    pause = float(env_str("BATCH_CHUNK_PAUSE", "0"))  # seconds; lets tests crash a run mid-way
    n_chunks = source.num_row_groups
    n_resumed = 0
    with _progress(progress, source.metadata.num_rows) as advance:
        for index in range(n_chunks):
            scores_part = work / f"scores-{index:06d}.parquet"
            rejects_part = work / f"rejects-{index:06d}.parquet"
            n_rows = source.metadata.row_group(index).num_rows
            if scores_part.exists() and rejects_part.exists():
                n_resumed += 1
                advance(n_rows, resumed=True)
                continue
            chunk = source.read_row_group(index).to_pandas()
            scored, bad = _score_chunk(scorer, chunk, explain, as_of=as_of, scored_at=stamp)
            write_frame(bad, rejects_part)
            write_frame(scored, scores_part)  # written last: marks the chunk complete
            advance(n_rows)
            if pause:
                time.sleep(pause)
    parts_rejects = [work / "rejects-pre.parquet"] + [
        work / f"rejects-{i:06d}.parquet" for i in range(n_chunks)
    ]
    parts_scores = [work / f"scores-{i:06d}.parquet" for i in range(n_chunks)]
    if not parts_scores:  # nothing to score: an empty file with the output columns
        parts_scores = [work / "scores-empty.parquet"]
        write_frame(_empty_scores(scorer), parts_scores[0])
    n_scored, rejected = _join_parts(parts_scores, parts_rejects, out, rejects_path(out))
    shutil.rmtree(work, ignore_errors=True)
    summary = BatchSummary(
        n_input=len(ids),
        n_scored=n_scored,
        rejected=rejected,
        out=str(out),
        rejects_out=str(rejects_path(out)),
        n_chunks=n_chunks,
        n_resumed=n_resumed,
        seconds=time.perf_counter() - started,
    )
    if summary.n_scored + summary.n_rejected != summary.n_input:  # pragma: no cover
        raise RuntimeError(f"row accounting does not add up: {summary.line()}")
    return summary


def _write_features(frame: pd.DataFrame, scorer: Scorer, path: Path, chunk_size: int) -> None:
    """Store the id and model feature columns, one row group per chunk, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    key = scorer.id_column
    columns = [key, *(n for n in scorer.feature_names if n in frame.columns)]
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    table = table.cast(
        pa.schema([pa.field(key, pa.string())] + [pa.field(n, pa.float64()) for n in columns[1:]])
    )
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, row_group_size=chunk_size)
    os.replace(tmp, path)


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
    chunk: pd.DataFrame,
    explain: ExplainMode,
    *,
    as_of: str | None,
    scored_at: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score one chunk of feature rows; rows with invalid values become rejects."""
    key = scorer.id_column
    layout = scorer.layout
    matrix = layout.matrix_from_frame(chunk)
    bad = layout.invalid_rows(matrix)
    ids = chunk[key].astype("object").to_numpy()
    rejects = rejects_frame(
        key,
        [str(i) for i in ids[bad]],
        ["invalid value"] * int(bad.sum()),
        [layout.describe_invalid(row) for row in matrix[bad]],
    )
    if bad.all():
        scored = _empty_scores(scorer)
    else:
        keep = ~bad
        scored = scorer._frame_from_matrix(
            np.ascontiguousarray(matrix[keep]),
            ids[keep],
            explain,
            as_of=as_of,
            scored_at=scored_at,
        )
    return scored, _add_run_columns(rejects, scorer, as_of)


def _add_run_columns(rejects: pd.DataFrame, scorer: Scorer, as_of: str | None) -> pd.DataFrame:
    n = len(rejects)
    return rejects.assign(
        model_name=pd.array([scorer.model_name] * n, dtype="str"),
        model_version=pd.array([scorer.model_version] * n, dtype="str"),
        as_of=pd.array([as_of] * n, dtype="str"),
    )


def _empty_scores(scorer: Scorer) -> pd.DataFrame:
    """Return a zero-row output frame with the dtypes of a scored chunk."""
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
    parts_scores: list[Path], parts_rejects: list[Path], out: Path, rejects_out: Path
) -> tuple[int, dict[str, int]]:
    for parts, target in ((parts_scores, out), (parts_rejects, rejects_out)):
        if target.suffix == ".csv":
            _join_csv(parts, target)
        else:
            _join_parquet(parts, target)
    n_scored = sum(_n_rows(p) for p in parts_scores)
    counts = dict.fromkeys(REJECT_REASONS, 0)
    for part in parts_rejects:
        reasons = pd.read_parquet(part, columns=["reason"])
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


@contextmanager
def _status(enabled: bool, message: str) -> Iterator[None]:
    """Show a spinner with ``message`` on stderr while the block runs."""
    if not enabled:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n, resumed=False)`` driving a bar with rows/s and ETA on stderr."""
    if not enabled:
        yield lambda n, resumed=False: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows  {task.fields[rate]} rows/s  ETA"),
        TimeRemainingColumn(),
    )
    started = time.perf_counter()
    fresh = 0
    with Progress(*columns, console=Console(stderr=True)) as prog:
        task = prog.add_task("score", total=total, rate="-")

        def advance(n: int, resumed: bool = False) -> None:
            nonlocal fresh
            if not resumed:
                fresh += n
            rate = fresh / max(time.perf_counter() - started, 1e-9)
            prog.update(task, advance=n, rate=f"{rate:,.0f}")

        yield advance
