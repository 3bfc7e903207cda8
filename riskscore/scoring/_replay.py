"""Replay logged decisions: re-run a decision-log line on a model folder, compare bytes.

:func:`replay` reads lines of a decision log (:mod:`riskscore.rules._log`), loads the
model folder (its manifest hashes are verified first: a changed file is refused with the
file named), rebuilds the scorer with the logged options (``top_k``, ``language``,
``explain``) and the folder's rule set (or the one given), scores the logged features as
of the logged ``as_of`` and builds the record again. The replay matches when the two
records are the same bytes in canonical JSON, ``logged_at`` aside; otherwise
:attr:`Replayed.diff` names every field that differs (model identity, rule-set hash,
score, reasons, action...).

Examples
--------
>>> import tempfile, pathlib
>>> from riskscore.scoring import load_scorer
>>> from riskscore.scoring._demo import demo_model
>>> from riskscore.scoring._folder import export_model
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> folder = export_model(demo_model(), tmp / "demo", version="1")
>>> scorer = load_scorer(folder, decision_log=tmp / "log.jsonl")
>>> _ = scorer.score_one({"seller_id": "S1", **dict.fromkeys(scorer.feature_names, 1.0)})
>>> [(r.location.line, r.same) for r in replay(tmp / "log.jsonl", folder)]
[(1, True)]
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskscore.exceptions import ScoringError
from riskscore.rules._log import LogLocation, canonical_json, diff_records, read_log, without_time
from riskscore.scoring._folder import load_folder
from riskscore.scoring._scorer import Scorer

__all__ = ["Replayed", "replay", "select_records"]


@dataclass(frozen=True)
class Replayed:
    """One replayed log line.

    Attributes
    ----------
    location : LogLocation
        File and line of the logged record.
    logged, replayed : dict
        The logged record (without ``logged_at``) and the record built again.
    diff : list of str
        One line per differing field; empty when :attr:`same`.
    """

    location: LogLocation
    logged: dict[str, Any]
    replayed: dict[str, Any]
    diff: list[str]

    @property
    def same(self) -> bool:
        """True when both records are the same bytes (canonical JSON)."""
        return canonical_json(self.logged) == canonical_json(self.replayed)


def select_records(
    log: str | os.PathLike[str], *, line: int | None = None, entity: str | None = None
) -> Iterator[tuple[LogLocation, dict[str, Any]]]:
    """Yield the log's records at ``line`` (1-based, across files) or of ``entity``.

    Raises
    ------
    ScoringError
        Nothing in the log matches (the number of lines and a few entity ids named).
    """
    found = 0
    total = 0
    seen: list[str] = []
    for where, record in read_log(log):
        total += 1
        if len(seen) < 5 and record.get("entity_id") not in seen:
            seen.append(str(record.get("entity_id")))
        if line is not None and where.number != line:
            continue
        if entity is not None and record.get("entity_id") != entity:
            continue
        found += 1
        yield where, record
    if not found:
        wanted = f"line {line}" if line is not None else f"entity {entity!r}"
        raise ScoringError(
            f"decision log '{log}' has no record at {wanted}: it has {total} line(s)"
            + (f", e.g. entities {seen}" if seen else "")
            + "; fix: pass --line between 1 and the number of lines, or a logged --entity"
        )


def replay(
    log: str | os.PathLike[str],
    model: str | os.PathLike[str],
    *,
    line: int | None = None,
    entity: str | None = None,
    rules: Any = None,
) -> list[Replayed]:
    """Replay decision-log records on the model folder ``model`` and compare them.

    Parameters
    ----------
    log : path
        The decision log (a ``.jsonl`` file or a folder of them).
    model : path
        The exported model folder (``riskscore export``) the decisions were made with.
    line : int, optional
        Replay only this line (1-based; counted across a folder's files in name order).
    entity : str, optional
        Replay only this entity's records. Default: every record.
    rules : RuleSet or path, optional
        The rule set to replay logged decisions with. Default: the folder's own.

    Returns
    -------
    list of Replayed
        In log order.

    Raises
    ------
    ModelFolderError
        The folder does not match its manifest (a tampered file is named).
    ScoringError
        No matching record, or a record decided by rules while no rule set is at hand.
    """
    loaded = load_folder(Path(model))
    rule_set = loaded.rules if rules is None else rules
    scorers: dict[tuple[Any, ...], Scorer] = {}
    out: list[Replayed] = []
    for where, record in select_records(log, line=line, entity=entity):
        opts = record.get("options") or {}
        decided = record.get("rule_set") is not None
        if decided and rule_set is None:
            raise ScoringError(
                f"decision log {where}: the decision was made by rule set "
                f"{record['rule_set'].get('label')}, but the model folder '{model}' has no "
                "rule set; fix: pass the rule set (--rules PATH)"
            )
        key = (int(opts.get("top_k", 3)), str(opts.get("language", "en")), decided)
        scorer = scorers.get(key)
        if scorer is None:
            scorer = scorers[key] = Scorer(
                loaded.model,
                model_name=loaded.name,
                model_version=loaded.version,
                top_k=key[0],
                language=key[1],  # type: ignore[arg-type]
                rules=rule_set if decided else None,
                folder_sha256=loaded.sha256,
            )
        inputs = dict(record.get("features") or {})
        if record.get("entity_id") is not None:
            inputs[scorer.id_col] = record["entity_id"]
        explain = str(opts.get("explain", "all"))
        result = scorer.score_one(inputs, explain=explain, as_of=record.get("as_of"))  # type: ignore[arg-type]
        again = scorer.log_record(inputs, result, explain, channel=record["channel"])
        logged = without_time(record)
        out.append(Replayed(where, logged, again, diff_records(logged, again)))
    return out
