"""Loss-free batch scoring: chunks, progress, every id accounted for, atomic, resumable.

:func:`score_batch` scores a list of ids chunk by chunk. Each chunk's scores and rejects
are written to a work folder ``<out>.parts/`` (each part atomically: a temporary file, then
a rename), next to a manifest. When every chunk is done the parts are joined into
``<out>`` and ``<out stem>.rejects<suffix>`` and the work folder is removed.

Safety rules, each held by a test:

- **One run per output.** A run holds an exclusive lock on ``<out>.lock`` (``flock``; the
  file holds the run's pid, host and start time) from its first check to its last rename.
  A second run at the same ``--out`` refuses with :class:`OutputLockedError` naming the
  first run's pid and start time. The kernel drops the lock when its process dies, so a
  killed run never leaves a stale lock; the file left behind is just overwritten.
- **Parts belong to one run configuration.** A run without ``resume`` starts from an
  empty work folder (it removes whatever it finds there). The manifest records the run's
  full configuration and a fingerprint of its inputs (see :func:`run_fingerprint`);
  ``resume=True`` continues only when every item is unchanged, and otherwise refuses
  with :class:`ResumeMismatchError` naming each changed input.
- **The output and its rejects appear together.** Both are joined inside the work folder,
  the manifest then marks the pair complete (``joined``), and only then are they renamed
  into place (rejects first, the old output removed before): a reader never finds a new
  output next to old or missing rejects. A run killed during the renames is finished by
  ``resume``; leftover temporary files ``.<out>.tmp-<pid>`` of older runs are removed by
  the next run at that output.
- **An error leaves no work behind.** A run that fails with an exception removes its work
  folder (resuming it would meet the same error); an interrupted run (Ctrl-C, SIGTERM,
  SIGKILL, power loss) keeps it for ``resume``.

After an interruption, ``resume=True`` skips completed chunks and writes a file
byte-identical to an uninterrupted run. The :class:`BatchSummary` counts add up to the
number of input ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskscore._config import env_str
from riskscore.exceptions import OutputLockedError, ResumeMismatchError, ScoringError
from riskscore.scoring._entities import (
    _TIME,
    REJECT_REASONS,
    check_ids,
    entity_features,
    rejects_frame,
)

if TYPE_CHECKING:
    from riskscore.rules import RuleSet
    from riskscore.rules._columns import ColumnsFn
    from riskscore.scoring._scorer import ExplainMode, Scorer

__all__ = [
    "BatchSummary",
    "OutputLockedError",
    "ResumeMismatchError",
    "check_ids_file",
    "check_out",
    "fingerprint_files",
    "output_lock",
    "read_ids",
    "rejects_path",
    "run_fingerprint",
    "score_batch",
    "write_frame",
]

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


def check_out(out: str | os.PathLike[str]) -> Path:
    """Check ``out`` can take the output before any work starts; return it as a Path.

    Raises
    ------
    ScoringError
        ``out`` (or its rejects file) is a folder, has another suffix than ``.parquet`` /
        ``.csv``, or its folder is missing or not writable.

    Examples
    --------
    >>> check_out("scores.json")
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ScoringError: --out 'scores.json' must end in .parquet or .csv ...
    """
    path = Path(out)
    for target in (path, rejects_path(path)):
        if target.is_dir():
            raise ScoringError(
                f"--out '{path}': '{target}' is a folder, not a file; give a file path "
                f"such as '{target / 'scores.parquet'}' (or remove the folder)"
            )
    if path.suffix not in SUFFIXES:
        raise ScoringError(
            f"--out '{path}' must end in .parquet or .csv (the output format follows the suffix)"
        )
    folder = path.parent
    if not folder.exists():
        raise ScoringError(f"the folder of --out '{path}' does not exist; create it first")
    if not folder.is_dir():
        raise ScoringError(
            f"the folder of --out '{path}' is '{folder}', which is a file; pick a path in a folder"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ScoringError(
            f"cannot write into '{folder}', the folder of --out '{path}' (permission "
            "denied); pick a folder you can write to"
        )
    return path


_check_out = check_out  # the Spark runner's name for it


def check_ids_file(path: str | os.PathLike[str]) -> Path:
    """Check an ids file exists, is a readable, non-empty ``.csv``/``.txt``/``.parquet`` file.

    Cheap (no parsing), so a command can call it before loading a model or tables.

    Raises
    ------
    ScoringError
        The message names the file, what is wrong and how to fix it.
    """
    file = Path(path)
    if not file.exists():
        raise ScoringError(f"ids file '{file}' does not exist; check the --ids path")
    if not file.is_file():
        raise ScoringError(
            f"ids file '{file}' is a folder, not a file; pass a .csv or .parquet file of ids"
        )
    if file.suffix not in (".parquet", ".csv", ".txt"):
        raise ScoringError(f"ids file '{file}' must be .csv or .parquet")
    if file.stat().st_size == 0:
        raise ScoringError(
            f"ids file '{file}' is empty (0 bytes); write a header line naming the id "
            "column (seller_id or listing_id), then one id per line"
        )
    try:
        with open(file, "rb") as handle:
            handle.read(1)
    except OSError as err:
        raise ScoringError(
            f"ids file '{file}' cannot be read ({err.strerror or err}); fix its permissions "
            f"(chmod u+r '{file}') or copy it somewhere readable"
        ) from err
    return file


def read_ids(path: str | os.PathLike[str], id_col: str) -> list[str]:
    """Read the ids to score from a CSV or Parquet file.

    The column is ``id_col`` when present, else the only column of the file.

    Raises
    ------
    ScoringError
        Missing, empty, unreadable or malformed file, unknown format, no usable column,
        missing or duplicated ids.
    """
    file = check_ids_file(path)
    try:
        if file.suffix == ".parquet":
            frame = pd.read_parquet(file)
        else:
            frame = pd.read_csv(file, dtype="str", keep_default_na=False, na_values=[""])
    except UnicodeDecodeError as err:
        raise ScoringError(
            f"ids file '{file}' is not UTF-8 text ({err.reason} at byte {err.start}); "
            "save it as UTF-8"
        ) from err
    except pd.errors.EmptyDataError as err:
        raise ScoringError(
            f"ids file '{file}' holds no header and no ids; write a header line naming the "
            f"id column ('{id_col}'), then one id per line"
        ) from err
    except (ValueError, OSError) as err:  # pyarrow.ArrowInvalid is a ValueError
        kind = "Parquet" if file.suffix == ".parquet" else "CSV"
        raise ScoringError(
            f"ids file '{file}' cannot be read as {kind} ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else ''}); write it as a {kind} file "
            "with an id column, or use the other format's suffix"
        ) from err
    if id_col in frame.columns:
        column = id_col
    elif len(frame.columns) == 1:
        column = str(frame.columns[0])
    else:
        raise ScoringError(
            f"ids file '{file}' has no '{id_col}' column (columns: "
            f"{', '.join(map(str, frame.columns))}); name the id column '{id_col}'"
        )
    return check_ids(frame[column].tolist(), what=f"ids file '{file}'")


# -- the output lock ------------------------------------------------------------------

try:  # POSIX; without it (Windows) runs are not locked
    import fcntl as _fcntl
except ImportError:  # pragma: no cover
    _fcntl = None  # type: ignore[assignment]

#: Locks this process holds: lock path -> (thread id, depth); a command that took the
#: lock may call :func:`score_batch`, which takes it again.
_HELD: dict[str, tuple[int, int]] = {}
_HELD_GUARD = threading.Lock()


def lock_path(out: str | os.PathLike[str]) -> Path:
    """Return the lock file of ``out``: ``<out>.lock``."""
    path = Path(out)
    return path.with_name(f"{path.name}.lock")


@contextmanager
def output_lock(out: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the exclusive lock of output ``out`` while the block runs.

    The lock is an ``flock`` on ``<out>.lock``, whose content names the holder (pid,
    host, start time, command line). The kernel releases it when the holder exits or is
    killed, so there are no stale locks: a lock file whose holder is gone is simply taken
    over. The file is removed when the block ends. Re-entrant within one thread.

    Raises
    ------
    OutputLockedError
        Another run holds the lock; the message names its pid and start time.
    ScoringError
        The lock file cannot be created (the folder is not writable).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "scores.parquet"
    >>> with output_lock(out):
    ...     lock_path(out).exists()
    True
    >>> lock_path(out).exists()
    False
    """
    path = lock_path(out)
    key = os.path.abspath(path)
    me = threading.get_ident()
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is not None and held[0] == me:
            _HELD[key] = (me, held[1] + 1)
            reentered = True
        elif held is not None:
            raise OutputLockedError(
                f"another scoring run in this process (pid {os.getpid()}) is writing "
                f"'{out}'; wait for it to finish or pick another output path"
            )
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _HELD_GUARD:
                _HELD[key] = (me, _HELD[key][1] - 1)
        return
    fd = _acquire(path, Path(out))
    with _HELD_GUARD:
        _HELD[key] = (me, 1)
    try:
        yield
    finally:
        with _HELD_GUARD:
            del _HELD[key]
        try:
            path.unlink(missing_ok=True)  # while still locked: no one holds a newer file
        finally:
            os.close(fd)  # releases the flock


def _acquire(path: Path, out: Path) -> int:
    """Open and lock ``path``; write the holder's description into it; return the fd."""
    for _ in range(20):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise ScoringError(
                f"cannot write next to --out '{out}': creating its lock file '{path}' failed "
                f"({err.strerror or err}); pick a folder you can write to"
            ) from err
        if _fcntl is None:  # pragma: no cover
            return fd
        try:
            _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise OutputLockedError(
                f"another riskscore run is writing '{out}': {holder} (lock file '{path}'). "
                "Wait for it to finish, or pick another --out; two runs at one output "
                "would mix their rows"
            ) from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the holder finished and removed the file meanwhile: lock the new one
            os.close(fd)
            continue
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "argv": " ".join(sys.argv),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        return fd
    raise OutputLockedError(  # pragma: no cover - 20 lost races in a row
        f"could not lock '{path}': other runs keep taking it; wait, or pick another --out"
    )


def _read_holder(fd: int) -> str:
    """Describe the lock holder from the lock file (it may still be writing it)."""
    for _ in range(50):
        try:
            info = json.loads(os.pread(fd, 65536, 0).decode() or "null")
        except (ValueError, OSError):
            info = None
        if isinstance(info, dict):
            return (
                f"pid {info.get('pid')} on host {info.get('host')}, started "
                f"{info.get('started')} ({info.get('argv')})"
            )
        time.sleep(0.01)
    return "a run that has not written its pid yet"


# -- the inputs' fingerprint ----------------------------------------------------------


def fingerprint_files(folder: str | os.PathLike[str]) -> dict[str, str]:
    """Fingerprint the table files of a data folder: ``{table: "file, size, sha256"}``.

    The files :func:`riskscore.io.load_tables` reads (``*.parquet`` / ``*.csv``, not
    hidden). The hash is SHA-256 of each file's bytes, truncated to 128 bits.

    Why the bytes and not sizes + mtimes or the Parquet footer: sizes and mtimes miss a
    rewrite that keeps both (``cp -p``, ``rsync -t``, a clock step), and the footer's
    row counts and min/max statistics miss an edited value in the middle of a column;
    only the content is sound. Hashing is cheap next to the run: SHA-256 runs at about
    0.9 GB/s on our 2-core machines (a 10M-order marketplace hashes in well under a
    second), while the same run reads and validates every table anyway.

    Examples
    --------
    >>> fp = fingerprint_files("data/sample")
    >>> fp["orders"].startswith("orders.parquet, ")
    True
    """
    out: dict[str, str] = {}
    root = Path(folder)
    if not root.is_dir():
        return out
    for file in sorted(root.iterdir()):
        if file.suffix not in SUFFIXES or file.name.startswith(".") or not file.is_file():
            continue
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            while block := handle.read(1 << 22):
                digest.update(block)
        size = file.stat().st_size
        out.setdefault(file.stem, f"{file.name}, {size} bytes, sha256 {digest.hexdigest()[:32]}")
    return out


def _fingerprint_frame(frame: Any) -> str:
    """Fingerprint a table given as a frame: its shape, dtypes and Arrow buffers.

    SHA-256 over the column names and types and every Arrow buffer of every column
    (validity, offsets, values) with its offset and length: equal content laid out
    differently may hash differently (a resume refused needlessly), different content
    never hashes the same. About 0.3 s per million rows of the orders table.
    """
    import pyarrow as pa

    if not isinstance(frame, pd.DataFrame):
        import narwhals as nw

        try:
            table = nw.from_native(frame, eager_only=True).to_arrow()
        except TypeError:  # lazy or remote frames (Spark): counting would cost a job
            return f"a {type(frame).__name__} (not fingerprinted; resume cannot check it)"
        columns = [(name, table.column(name)) for name in table.column_names]
        n = table.num_rows
    else:
        columns = []
        for name in frame.columns:
            array = pa.array(frame[name], from_pandas=True)
            chunked = array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])
            columns.append((str(name), chunked))
        n = len(frame)
    digest = hashlib.sha256()
    for name, chunked in columns:
        digest.update(f"{name}\0{chunked.type}\0".encode())
        for chunk in chunked.chunks:
            digest.update(f"{chunk.offset},{len(chunk)}\0".encode())
            for buffer in chunk.buffers():
                digest.update(b"-" if buffer is None else memoryview(buffer))
    return f"{n} rows x {len(columns)} columns, sha256 {digest.hexdigest()[:32]}"


def _model_fingerprint(scorer: Scorer) -> str:
    """SHA-256 (128 bits) of the booster's text and the model's description."""
    digest = hashlib.sha256()
    booster = scorer._parts.booster
    digest.update(booster.model_to_string().encode())
    describe = getattr(scorer.model, "to_dict", None)
    if callable(describe):
        digest.update(json.dumps(describe(), sort_keys=True, default=str).encode())
    digest.update(repr((scorer._parts.band_names, scorer.flag_band)).encode())
    return digest.hexdigest()[:32]


def run_fingerprint(
    scorer: Scorer,
    ids: Sequence[str],
    *,
    as_of: str | None,
    explain: str,
    chunk_size: int,
    backend: str = "pandas",
    inputs: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return everything a batch's output depends on, as the manifest stores it.

    ``config`` holds the model (name, version, a hash of its content), as_of, the ids
    (count and hash), chunk size, explain mode, reasons per row, their language, the
    flag band, the feature backend and the riskscore version; ``inputs`` the fingerprint
    of each input table (see :func:`fingerprint_files`). ``resume`` continues a run only
    when both are equal to the interrupted run's.
    """
    from riskscore import __version__

    config = {
        "model_name": scorer.model_name,
        "model_version": scorer.model_version,
        "model_sha256": _model_fingerprint(scorer),
        "entity": scorer.entity,
        "as_of": as_of,
        "explain": explain,
        "chunk_size": chunk_size,
        "top_k": scorer.top_k,
        "language": scorer.language,
        "flag_band": scorer.flag_band,
        "backend": backend,
        "riskscore_version": __version__,
        "n_ids": len(ids),
        "ids_sha256": hashlib.sha256("\n".join(ids).encode()).hexdigest(),
    }
    return {"config": config, "inputs": dict(inputs or {})}


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
    inputs: Mapping[str, str] | None = None,
    rules: RuleSet | None = None,
    columns: ColumnsFn | None = None,
) -> BatchSummary:
    """Score ``ids`` (default: every entity in the tables) into ``out``, chunk by chunk.

    Parameters
    ----------
    scorer : Scorer
    tables : mapping of str to pandas.DataFrame
        Validated marketplace tables.
    out : path
        ``.parquet`` or ``.csv``; rejects go to ``<stem>.rejects<suffix>``. Locked
        (``<out>.lock``) for the whole run.
    as_of : timestamp-like
        Features use rows strictly before it.
    ids : sequence of str, optional
        Ids to score, unique. Default: every id of the sellers (listings) table.
    explain : {"flagged", "all", "none"}, default "flagged"
    chunk_size : int, default 50000
        Ids per chunk; memory grows with it, not with the number of ids.
    resume : bool, default False
        Continue an interrupted run with the same arguments and inputs from its last
        completed chunk.
    scored_at : timestamp-like, optional
        Written on every row; default: the start of the run (kept when resuming).
    progress : bool, default True
        Report progress on stderr: a bar on a terminal, plain lines (rows, rows/s)
        otherwise; see :mod:`riskscore._progress`.
    backend : str, default "pandas"
        Dataframe backend for the feature builders.
    inputs : mapping of str to str, optional
        Fingerprint of each input table, as :func:`fingerprint_files` returns for the
        folder the tables came from (cheap: file bytes). Default: a hash of each frame's
        content (about 0.3 s per million rows).
    rules : RuleSet, optional
        Add the decision columns (``action``, ``decided_by``, ``rules_fired``,
        ``rule_reasons``, ``rule_set``; see :mod:`riskscore.rules._batch`) to each row.
    columns : callable, optional
        ``columns(tables, as_of) -> DataFrame`` with the id and the columns ``rules``
        declares (as for :func:`riskscore.backtest.backtest`). Default: riskscore
        computes them (:data:`riskscore.rules._columns.COMPUTED_COLUMNS`, e.g.
        ``main_category``), and a rule set declaring any other column is refused before
        any work.

    Returns
    -------
    BatchSummary

    Raises
    ------
    OutputLockedError
        Another run is writing ``out``.
    ResumeMismatchError
        ``resume`` with inputs or arguments that differ from the interrupted run's.
    ScoringError
        Bad arguments (output path, chunk size, duplicated ids), or no data before
        ``as_of``.
    """
    from riskscore.scoring._scorer import _iso, _now

    if not all(hasattr(scorer, a) for a in ("entity", "layout", "score_many")):
        raise ScoringError(
            "The 'scorer' parameter of score_batch must be a Scorer. Got "
            f"{type(scorer).__name__} instead. Load one with "
            "riskscore.scoring.load_scorer(model_uri)."
        )
    if not isinstance(tables, Mapping):
        raise ScoringError(
            "The 'tables' parameter of score_batch must be a mapping of table name to "
            f"DataFrame. Got {type(tables).__name__} instead. Load them with "
            "riskscore.io.load_tables(folder)."
        )
    key = scorer.id_col
    out_path = check_out(out)
    cutoff = _iso(as_of)
    if rules is None:  # the scorer's own rule set (e.g. the model folder's rules.yaml)
        rules = scorer.rules
    _check_data_before(tables, scorer.entity, cutoff)
    if ids is None:
        table = "sellers" if scorer.entity == "seller" else "listings"
        ids = tables[table][key].astype("str").tolist()
    id_list = check_ids(ids)
    stamp = _iso(scored_at) or _now()
    from riskscore.rules._columns import computed_columns, extra_columns

    if rules is not None and columns is None:
        columns = computed_columns(
            [rules],
            ScoringError,
            "fix: pass columns= (a function (tables, as_of) -> DataFrame with the id and "
            "those columns), or use a rule set without them",
        )

    def features(chunk: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame, rejects = entity_features(
            tables, chunk, as_of, entity=scorer.entity, layout=scorer.layout, backend=backend
        )
        if columns is not None:  # the rule set's declared columns, as of the same cutoff
            extra = extra_columns(
                columns, tables, pd.Timestamp(as_of), key, frame[key], ScoringError
            )
            new = [c for c in extra.columns if c not in frame.columns]
            frame = frame.assign(**{c: extra[c].to_numpy() for c in new})
        return frame, rejects

    if inputs is None:
        inputs = {name: _fingerprint_frame(frame) for name, frame in sorted(tables.items())}
    return run_batch(
        scorer,
        id_list,
        features,
        out_path,
        as_of=cutoff,
        explain=explain,
        chunk_size=chunk_size,
        resume=resume,
        scored_at=stamp,
        progress=progress,
        backend=backend,
        inputs=inputs,
        rules=rules,
    )


def _check_data_before(tables: Mapping[str, Any], entity: str, as_of: str | None) -> None:
    """Raise when no entity existed before ``as_of``, naming the data's time range.

    Scoring then has nothing to build features from; say so instead of rejecting every
    id. Checked on pandas tables only (elsewhere the minimum may cost a job).
    """
    if as_of is None:
        return
    table_name, time_col = _TIME[entity]
    frame = tables.get(table_name)
    if not isinstance(frame, pd.DataFrame) or time_col not in frame.columns:
        return
    cutoff = pd.Timestamp(as_of)
    times = pd.to_datetime(frame[time_col], errors="coerce")
    earliest = times.min()
    try:
        if pd.notna(earliest) and earliest < cutoff:
            return
    except TypeError:  # time-zone aware against naive: leave it to the feature builders
        return
    spans: list[tuple[pd.Timestamp, pd.Timestamp, str]] = []
    for name, table in sorted(tables.items()):
        if not isinstance(table, pd.DataFrame):
            continue
        stamps = [
            table[c]
            for c in table.columns
            if pd.api.types.is_datetime64_any_dtype(table[c]) and table[c].notna().any()
        ]
        if stamps:
            lo, hi = min(t.min() for t in stamps), max(t.max() for t in stamps)
            spans.append((lo, hi, f"{name} {lo.date()} to {hi.date()}"))
    if spans:
        lo = min(s[0] for s in spans)
        hi = max(s[1] for s in spans)
        span = f"the data runs from {lo} to {hi} ({', '.join(s[2] for s in spans)})"
    else:
        span = f"the {table_name} table has no {time_col} values"
    first = f"the first {table_name}.{time_col} is {earliest}" if pd.notna(earliest) else span
    raise ScoringError(
        f"no data before as_of {as_of}: no {entity} existed yet ({first}); {span}. Pass an "
        f"--as-of after {earliest if pd.notna(earliest) else 'the first record'}"
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
    backend: str = "pandas",
    inputs: Mapping[str, str] | None = None,
    rules: RuleSet | None = None,
) -> BatchSummary:
    """Run a batch with a given feature function (see :func:`score_batch`).

    ``features(ids)`` returns the feature rows of the scorable ids and the rejects of
    the others. Its result is stored in the work folder (one Parquet row group per
    chunk), so a resumed run reads it instead of building the features again.
    ``inputs`` fingerprints what ``features`` reads (see :func:`run_fingerprint`).
    """
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise ScoringError(f"chunk size must be a positive whole number; got {chunk_size!r}")
    out = check_out(out)
    started = time.perf_counter()
    work = out.with_name(f"{out.name}.parts")
    manifest: dict[str, Any] = {
        "format": 2,
        **run_fingerprint(
            scorer,
            ids,
            as_of=as_of,
            explain=explain,
            chunk_size=chunk_size,
            backend=backend,
            inputs=inputs,
        ),
        "scored_at": scored_at,
        "run": {"pid": os.getpid(), "host": socket.gethostname(), "started": _stamp()},
        "joined": None,
    }
    if rules is not None:  # resume refuses when the rule set changed
        manifest["config"]["rule_set"] = f"{rules.label} sha256:{rules.sha256()[:16]}"
    with output_lock(out):
        _remove_orphans(out)
        manifest = _prepare_work(work, manifest, resume)
        was_joined = bool(manifest.get("joined"))  # a run killed while renaming the pair
        try:
            if not was_joined:
                manifest["joined"] = _score_and_join(
                    scorer,
                    ids,
                    features,
                    work,
                    out,
                    manifest,
                    resume=resume,
                    progress=progress,
                    rules=rules,
                )
                _write_manifest(work, manifest)  # the pair in the work folder is complete
            _publish(work, out)
            shutil.rmtree(work)
        except Exception:
            shutil.rmtree(work, ignore_errors=True)  # resuming would meet the same error
            raise
    joined = manifest["joined"]
    summary = BatchSummary(
        n_input=len(ids),
        n_scored=int(joined["n_scored"]),
        rejected={str(k): int(v) for k, v in joined["rejected"].items()},
        out=str(out),
        rejects_out=str(rejects_path(out)),
        n_chunks=int(joined["n_chunks"]),
        n_resumed=int(joined["n_chunks"] if was_joined else joined["n_resumed"]),
        seconds=time.perf_counter() - started,
    )
    if summary.n_scored + summary.n_rejected != summary.n_input:  # pragma: no cover
        raise RuntimeError(f"row accounting does not add up: {summary.line()}")
    return summary


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _score_and_join(
    scorer: Scorer,
    ids: list[str],
    features: FeatureFn,
    work: Path,
    out: Path,
    manifest: dict[str, Any],
    *,
    resume: bool,
    progress: bool,
    rules: RuleSet | None = None,
) -> dict[str, Any]:
    """Score every chunk into ``work``, join the parts there; return the counts."""
    import pyarrow.parquet as pq

    config = manifest["config"]
    as_of, explain, chunk_size = config["as_of"], config["explain"], config["chunk_size"]
    stamp = str(manifest["scored_at"])
    feature_file = work / "features.parquet"
    if not feature_file.exists():
        with _status(progress, f"building features of {len(ids):,} ids as of {as_of}"):
            frame, rejects = features(ids)
        write_frame(_add_run_columns(rejects, scorer, as_of), work / "rejects-pre.parquet")
        extra = [] if rules is None else rules.needed_columns
        types = {} if rules is None else rules.columns
        _write_features(frame, scorer, feature_file, chunk_size, extra, types)
        del frame
    source = pq.ParquetFile(feature_file)
    pause = float(env_str("BATCH_CHUNK_PAUSE", "0"))  # seconds; lets tests crash a run mid-way
    n_chunks = source.num_row_groups
    done = {  # only a resumed run reuses parts, and only those present when it started
        i
        for i in range(n_chunks)
        if resume
        and (work / f"scores-{i:06d}.parquet").exists()
        and (work / f"rejects-{i:06d}.parquet").exists()
    }
    with _progress(progress, source.metadata.num_rows) as advance:
        for index in range(n_chunks):
            scores_part = work / f"scores-{index:06d}.parquet"
            rejects_part = work / f"rejects-{index:06d}.parquet"
            n_rows = source.metadata.row_group(index).num_rows
            if index in done:
                advance(n_rows, resumed=True)
                continue
            chunk = source.read_row_group(index).to_pandas()
            scored, bad = _score_chunk(
                scorer, chunk, explain, as_of=as_of, scored_at=stamp, rules=rules
            )
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
        write_frame(_empty_scores(scorer, rules), parts_scores[0])
    scores_tmp, rejects_tmp = _joined_paths(work, out)
    n_scored, rejected = _join_parts(parts_scores, parts_rejects, scores_tmp, rejects_tmp)
    return {
        "n_scored": n_scored,
        "rejected": rejected,
        "n_chunks": n_chunks,
        "n_resumed": len(done),
    }


def _joined_paths(work: Path, out: Path) -> tuple[Path, Path]:
    """Where the joined output and rejects wait in the work folder before the renames."""
    return work / f"joined-scores{out.suffix}", work / f"joined-rejects{out.suffix}"


def _publish(work: Path, out: Path) -> None:
    """Move the joined pair into place: old output out, new rejects in, new output in.

    At every moment a reader finds either no ``out`` or an ``out`` next to its own
    rejects. Idempotent: a resumed run moves what a killed one had not moved yet.
    """
    scores_tmp, rejects_tmp = _joined_paths(work, out)
    if not scores_tmp.exists():  # both already moved
        return
    out.unlink(missing_ok=True)
    if rejects_tmp.exists():
        os.replace(rejects_tmp, rejects_path(out))
    os.replace(scores_tmp, out)


def _remove_orphans(out: Path) -> None:
    """Remove temporary files an interrupted run left next to ``out`` and its rejects.

    Runs under the output lock, so no live run is writing them.
    """
    for target in (out, rejects_path(out)):
        for orphan in target.parent.glob(f".{target.name}.tmp-*"):
            orphan.unlink(missing_ok=True)


def _write_features(
    frame: pd.DataFrame,
    scorer: Scorer,
    path: Path,
    chunk_size: int,
    extra: Sequence[str] = (),
    types: Mapping[str, str] | None = None,
) -> None:
    """Store the id, model feature (and ``extra``) columns, one row group per chunk, atomically.

    A frame without rows may lack the feature columns (every id was rejected): they are
    added, so the (empty) chunk still has the model's columns. Columns are float64, but
    those ``types`` names (a rule set's declared columns) as ``string`` or ``boolean``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    key = scorer.id_col
    if frame.empty:
        frame = frame.reindex(columns=[key, *scorer.feature_names])
    wanted = [*scorer.feature_names, *(c for c in extra if c not in scorer.feature_names)]
    columns = [key, *(n for n in wanted if n in frame.columns)]
    arrow = {"string": pa.string(), "boolean": pa.bool_()}
    declared = types or {}
    table = pa.Table.from_pandas(frame[columns], preserve_index=False)
    table = table.cast(
        pa.schema(
            [pa.field(key, pa.string())]
            + [pa.field(n, arrow.get(declared.get(n, ""), pa.float64())) for n in columns[1:]]
        )
    )
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, row_group_size=chunk_size)
    os.replace(tmp, path)


def _write_manifest(work: Path, manifest: Mapping[str, Any]) -> None:
    tmp = work / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, work / "manifest.json")


def _changes(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """Describe each difference of the run's fingerprint, inputs first."""
    lines = []
    was_inputs, now_inputs = stored.get("inputs") or {}, wanted.get("inputs") or {}
    for name in sorted(set(was_inputs) | set(now_inputs)):
        was, now = was_inputs.get(name), now_inputs.get(name)
        if was != now:
            what = "was absent" if was is None else f"was {was}"
            lines.append(
                f"input table '{name}' changed ({what}, now {'absent' if now is None else now})"
            )
    was_config, now_config = stored.get("config") or {}, wanted.get("config") or {}
    for k in sorted(set(was_config) | set(now_config)):
        if was_config.get(k) != now_config.get(k):
            lines.append(f"{k}: was {was_config.get(k)!r}, now {now_config.get(k)!r}")
    if stored.get("format") != wanted.get("format"):
        lines.append(f"manifest format: was {stored.get('format')!r}, now {wanted.get('format')!r}")
    return lines


def _prepare_work(work: Path, manifest: dict[str, Any], resume: bool) -> dict[str, Any]:
    """Return the run's manifest: the stored one when resuming, else a fresh work folder's."""
    path = work / "manifest.json"
    if resume and path.exists():
        try:
            stored = json.loads(path.read_text())
        except ValueError:
            stored = {}
        changes = _changes(stored, manifest)
        if changes:
            raise ResumeMismatchError(
                f"cannot resume into '{work}': {len(changes)} input(s) or argument(s) differ "
                f"from the interrupted run's ({'; '.join(changes)}); resume with the same "
                "inputs and arguments, or rerun without --resume to start over"
            )
        return dict(stored)
    if work.exists():  # another configuration's parts, or --resume was not given
        shutil.rmtree(work)
    work.mkdir(parents=True)
    _write_manifest(work, manifest)
    return manifest


def _score_chunk(
    scorer: Scorer,
    chunk: pd.DataFrame,
    explain: ExplainMode,
    *,
    as_of: str | None,
    scored_at: str,
    rules: RuleSet | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score one chunk of feature rows; rows with invalid values become rejects."""
    key = scorer.id_col
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
        scored = _empty_scores(scorer, rules)
    else:
        keep = ~bad
        scored = scorer._frame_from_matrix(
            np.ascontiguousarray(matrix[keep]),
            ids[keep],
            explain,
            as_of=as_of,
            scored_at=scored_at,
        )
        if rules is not None:
            from riskscore.rules._batch import add_decisions

            scored = add_decisions(scored, chunk.loc[keep], rules, scorer.language)
        if scorer.decision_log is not None:
            logger = scorer if rules is scorer.rules else scorer_with_rules(scorer, rules)
            logger._log_frame(chunk.loc[keep], scored, explain, channel="batch")
    return scored, _add_run_columns(rejects, scorer, as_of)


def scorer_with_rules(scorer: Scorer, rules: RuleSet | None) -> Scorer:
    """Return ``scorer`` with ``rules`` as its rule set (same model, options and log)."""
    from riskscore.scoring._scorer import Scorer

    return Scorer(
        scorer.model,
        model_name=scorer.model_name,
        model_version=scorer.model_version,
        top_k=scorer.top_k,
        language=scorer.language,  # type: ignore[arg-type]
        flag_band=scorer.flag_band,
        num_threads=scorer.num_threads,
        rules=rules,
        decision_log=scorer.decision_log,
        folder_sha256=scorer.folder_sha256,
    )


def _add_run_columns(rejects: pd.DataFrame, scorer: Scorer, as_of: str | None) -> pd.DataFrame:
    n = len(rejects)
    return rejects.assign(
        model_name=pd.array([scorer.model_name] * n, dtype="str"),
        model_version=pd.array([scorer.model_version] * n, dtype="str"),
        as_of=pd.array([as_of] * n, dtype="str"),
    )


def _empty_scores(scorer: Scorer, rules: RuleSet | None = None) -> pd.DataFrame:
    """Return a zero-row output frame with the dtypes of a scored chunk."""
    from riskscore.scoring._result import output_columns

    columns = output_columns(scorer.id_col, scorer.top_k)
    data: dict[str, Any] = {}
    for c in columns:
        if c in ("score", "risk_score") or c.endswith(("_value", "_contribution")):
            data[c] = pd.array([], dtype="float64")
        elif c.endswith("_impact"):
            data[c] = pd.array([], dtype="Int64")
        else:
            data[c] = pd.array([], dtype="str")
    empty = pd.DataFrame(data, columns=columns)
    if rules is not None:
        from riskscore.rules._batch import empty_decisions

        empty = empty_decisions(empty)
    return empty


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
    """Report ``message`` while the block runs (:mod:`riskscore._progress`), if ``enabled``."""
    from riskscore._progress import requested, step

    with requested(enabled), step("scoring", message):
        yield


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n, resumed=False)`` reporting scored rows (bar or plain lines)."""
    from riskscore._progress import requested, task

    with requested(enabled), task("scoring", total) as tick:
        yield lambda n, resumed=False: tick(n)
