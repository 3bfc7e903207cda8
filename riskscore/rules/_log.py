"""The decision log: an append-only JSON Lines record of every decision, for replay.

Appeals and regulators ask why a seller was held on a given day. With a log switched on
(``Scorer(..., decision_log=PATH)``, ``riskscore score --decision-log PATH``,
``riskscore serve --decision-log PATH``, or ``RISKSCORE_DECISION_LOG`` for the MLflow
pyfunc) every answer — in process, batch, pyfunc or HTTP — appends one line.

Where
    ``PATH`` ending in ``.jsonl``: one file. Any other ``PATH``: a folder with one file
    per UTC day, ``decisions-YYYY-MM-DD.jsonl``. Lines are only ever appended (``O_APPEND``,
    one ``write`` per call under a lock, then ``fsync``), never rewritten.

One line (canonical JSON: keys sorted, no spaces, UTF-8, floats in their shortest exact
form, so the same record is always the same bytes)::

    format          1 (this layout)
    channel         in_process | batch | pyfunc | http
    entity          seller | listing
    entity_id       the id, or null
    as_of           the time the features were computed as of, or null
    features        {feature: value} exactly as scored (numbers, null, category text)
    features_sha256 SHA-256 of the canonical JSON of ``features``
    model           {name, version, folder_sha256}: folder_sha256 identifies the exported
                    model folder (hash of its manifest's file list), null when the
                    scorer was not loaded from a folder
    rule_set        {label: name@version, sha256} or null
    options         {explain, language, top_k}
    score, risk_score, band, reasons   the model's answer (reasons as objects)
    action, decided_by, rules_fired, rule_reasons   the decision (null without rules)
    logged_at       UTC time of the append (the one field replay ignores)

:func:`read_log` reads it back; ``riskscore replay`` (see
:mod:`riskscore.scoring._replay`) re-runs a line and compares the bytes.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "decisions.jsonl"
>>> log = DecisionLog(path)
>>> rec = decision_record(channel="in_process", entity="seller", entity_id="S1",
...     as_of=None, features={"x": 1.0}, model={"name": "m", "version": "1",
...     "folder_sha256": None}, rule_set=None, options={"explain": "all"},
...     result={"score": 0.5, "risk_score": 500.0, "band": "medium", "reasons": []})
>>> log.write([rec])
1
>>> [(where.line, r["entity_id"]) for where, r in read_log(path)]
[(1, 'S1')]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskscore.rules._errors import RuleError

__all__ = [
    "CHANNELS",
    "LOG_FORMAT",
    "DecisionLog",
    "LogLocation",
    "canonical_json",
    "decision_record",
    "diff_records",
    "features_sha256",
    "plain_value",
    "read_log",
    "without_time",
]

#: Version of the line layout.
LOG_FORMAT = 1

#: Where a decision was made.
CHANNELS: tuple[str, ...] = ("in_process", "batch", "pyfunc", "http")

#: The field replay ignores (when the line was written).
TIME_FIELD = "logged_at"


def plain_value(value: Any) -> Any:
    """Return ``value`` as the log holds it: ``None``, ``bool``, ``float`` or ``str``.

    Missing values (None, NaN, pandas NA) become ``None``; numbers become ``float``
    (float64 exactly; JSON keeps them bit for bit); text stays text.

    Examples
    --------
    >>> import numpy as np
    >>> plain_value(np.int64(3)), plain_value(float("nan")), plain_value("phones")
    (3.0, None, 'phones')
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        text = str(value)
        return None if text in ("<NA>", "NaT", "nan") else text
    return None if math.isnan(x) else x


def canonical_json(obj: Any) -> str:
    """Return the one JSON text of ``obj``: keys sorted, no spaces, UTF-8, no NaN.

    Examples
    --------
    >>> canonical_json({"b": 1.0, "a": [None, "中"]})
    '{"a":[null,"中"],"b":1.0}'
    """
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def features_sha256(features: Mapping[str, Any]) -> str:
    """Return the SHA-256 of the canonical JSON of ``features``.

    Examples
    --------
    >>> features_sha256({"x": 1.0}) == features_sha256({"x": 1})
    False
    """
    return hashlib.sha256(canonical_json(dict(features)).encode()).hexdigest()


def decision_record(
    *,
    channel: str,
    entity: str,
    entity_id: str | None,
    as_of: str | None,
    features: Mapping[str, Any],
    model: Mapping[str, Any],
    rule_set: Mapping[str, Any] | None,
    options: Mapping[str, Any],
    result: Mapping[str, Any],
    decision: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return one log record (without ``logged_at``), every value JSON-ready.

    Parameters
    ----------
    channel : {"in_process", "batch", "pyfunc", "http"}
    entity, entity_id, as_of
    features : mapping
        Feature values as scored (passed through :func:`plain_value`).
    model : mapping
        ``name``, ``version``, ``folder_sha256``.
    rule_set : mapping or None
        ``label`` and ``sha256`` of the rule set.
    options : mapping
        ``explain``, ``language``, ``top_k`` of the call.
    result : mapping
        ``score``, ``risk_score``, ``band``, ``reasons`` (list of reason dicts).
    decision : mapping, optional
        ``action``, ``decided_by``, ``rules_fired``, ``rule_reasons``.
    """
    if channel not in CHANNELS:
        raise RuleError(f"channel must be one of {CHANNELS}; got {channel!r}")
    feats = {str(k): plain_value(v) for k, v in features.items()}
    reasons = [{str(k): plain_value(v) for k, v in dict(r).items()} for r in result["reasons"]]
    for r in reasons:  # impact is an integer band
        if isinstance(r.get("impact"), float):
            r["impact"] = int(r["impact"])
    d = decision or {}
    return {
        "format": LOG_FORMAT,
        "channel": channel,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "as_of": as_of,
        "features": feats,
        "features_sha256": features_sha256(feats),
        "model": {
            "name": str(model["name"]),
            "version": str(model["version"]),
            "folder_sha256": model.get("folder_sha256"),
        },
        "rule_set": None if rule_set is None else dict(rule_set),
        "options": {str(k): options[k] for k in sorted(options)},
        "score": plain_value(result["score"]),
        "risk_score": plain_value(result["risk_score"]),
        "band": None if result["band"] is None else str(result["band"]),
        "reasons": reasons,
        "action": d.get("action"),
        "decided_by": d.get("decided_by"),
        "rules_fired": None if decision is None else list(d.get("rules_fired") or []),
        "rule_reasons": None if decision is None else list(d.get("rule_reasons") or []),
    }


def without_time(record: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``record`` without ``logged_at`` (what replay compares)."""
    return {k: v for k, v in record.items() if k != TIME_FIELD}


class DecisionLog:
    """Append decision records to a JSON Lines file (or one file per UTC day).

    Parameters
    ----------
    path : path
        A ``.jsonl`` file, or a folder for ``decisions-YYYY-MM-DD.jsonl`` files.
    channel : {"in_process", "batch", "pyfunc", "http"}, default "in_process"
        Written on every record this log appends (callers build records with it).
    fsync : bool, default True
        ``fsync`` after every append (a decision is on disk before the answer leaves).

    Thread-safe: one lock per log; each :meth:`write` is a single ``write`` call in
    append mode, so concurrent processes never interleave within a line either.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, channel: str = "in_process", fsync: bool = True
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise RuleError(
                "The 'decision_log' parameter must be a path (a .jsonl file or a folder). "
                f"Got {type(path).__name__} instead."
            )
        if channel not in CHANNELS:
            raise RuleError(f"channel must be one of {CHANNELS}; got {channel!r}")
        self.path = Path(path)
        self.channel = channel
        self.fsync = fsync
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DecisionLog({str(self.path)!r}, channel={self.channel!r})"

    def with_channel(self, channel: str) -> DecisionLog:
        """Return a log on the same path for another channel."""
        return DecisionLog(self.path, channel=channel, fsync=self.fsync)

    def file_for(self, when: dt.datetime) -> Path:
        """Return the file a record logged at ``when`` goes to."""
        if self.path.suffix == ".jsonl":
            return self.path
        return self.path / f"decisions-{when:%Y-%m-%d}.jsonl"

    def write(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Append ``records`` (stamped with ``logged_at``); return how many were written.

        Raises
        ------
        RuleError
            The log cannot be written (the path and the OS error are named).
        """
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        stamp = now.isoformat(timespec="microseconds")
        lines = [canonical_json({**r, TIME_FIELD: stamp}) + "\n" for r in records]
        if not lines:
            return 0
        data = "".join(lines).encode("utf-8")
        target = self.file_for(now)
        with self._lock:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    if self.fsync:
                        os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as err:
                raise RuleError(
                    f"cannot append to the decision log '{target}': {err.strerror or err}; "
                    "fix: point the decision log at a writable .jsonl file or folder"
                ) from None
        return len(lines)


@dataclass(frozen=True)
class LogLocation:
    """Where a record is in the log: its file and 1-based line.

    ``number`` counts lines across the files of a folder, in name order.
    """

    file: Path
    line: int
    number: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def log_files(path: str | os.PathLike[str]) -> list[Path]:
    """Return the log's files: ``path`` itself, or a folder's ``*.jsonl`` in name order."""
    root = Path(path)
    if root.is_dir():
        return sorted(root.glob("*.jsonl"))
    if root.is_file():
        return [root]
    raise RuleError(
        f"no decision log at '{root}': expected a .jsonl file or a folder of them (written "
        "with --decision-log)"
    )


def read_log(path: str | os.PathLike[str]) -> Iterator[tuple[LogLocation, dict[str, Any]]]:
    """Yield ``(location, record)`` for every line of the log, in order.

    Raises
    ------
    RuleError
        A line is not a JSON object of this log format (file and line named).
    """
    number = 0
    for file in log_files(path):
        with open(file, encoding="utf-8") as fh:
            for i, line in enumerate(fh, start=1):
                number += 1
                where = LogLocation(file, i, number)
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise RuleError(
                        f"decision log {where}: not a JSON line ({err.msg}); the log was "
                        "changed by hand or cut short"
                    ) from None
                if not isinstance(record, dict) or record.get("format") != LOG_FORMAT:
                    raise RuleError(
                        f"decision log {where}: not a decision record of format {LOG_FORMAT}"
                    )
                yield where, record


def diff_records(logged: Mapping[str, Any], replayed: Mapping[str, Any]) -> list[str]:
    """Return one line per field that differs (``logged_at`` ignored); empty when equal.

    Examples
    --------
    >>> diff_records({"score": 0.5, "band": "low"}, {"score": 0.6, "band": "low"})
    ['score: logged 0.5, replayed 0.6']
    """
    a, b = without_time(logged), without_time(replayed)
    out: list[str] = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key, "<absent>"), b.get(key, "<absent>")
        if canonical_json(x) == canonical_json(y):
            continue
        if isinstance(x, dict) and isinstance(y, dict):
            for sub in sorted(set(x) | set(y)):
                u, v = x.get(sub, "<absent>"), y.get(sub, "<absent>")
                if canonical_json(u) != canonical_json(v):
                    out.append(f"{key}.{sub}: logged {_short(u)}, replayed {_short(v)}")
            continue
        out.append(f"{key}: logged {_short(x)}, replayed {_short(y)}")
    return out


def _short(value: Any, limit: int = 160) -> str:
    text = canonical_json(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
