"""Read a case file back: verify every file's hash, then reproduce the decision.

:func:`read_case` takes the case folder or its zip. It checks ``manifest.json`` (format
and version), that every listed file is there with the listed SHA-256 and that no file
was added, reporting every problem at once with the file's name; then it loads the
stored model (``model/``), the stored rule set (``rules/``) and the stored model inputs
(``features.json``), scores and decides again, and compares the answer with
``decision.json``. Nothing in the case is executed: the model is LightGBM's text format
and JSON, the rule set is parsed by :class:`riskscore.rules.RuleSet`.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from riskscore.case._errors import CaseFileError
from riskscore.case._write import (
    CASE_FORMAT,
    FORMAT_NAME,
    MANIFEST_FILE,
    CaseFile,
    decide,
    manifest_files,
)

__all__ = ["read_case", "verify_case"]

#: Fields of ``decision.json`` a re-run must give again, exactly.
COMPARED: tuple[str, ...] = (
    "score",
    "risk_score",
    "band",
    "action",
    "decided_by",
    "rules_fired",
    "rule_reasons",
    "reasons",
    "rule_set",
)


def _path(value: Any, where: str) -> Path:
    if not isinstance(value, str | os.PathLike):
        raise CaseFileError(
            f"{where} takes the path of a case folder or zip; got {type(value).__name__}"
        )
    return Path(value)


def _read_manifest(folder: Path, shown: str) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise CaseFileError(
            f"no {MANIFEST_FILE} in case '{shown}': expected a folder or zip written by "
            "riskscore case (write_case)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CaseFileError(f"{shown}: {MANIFEST_FILE} is not valid JSON ({err})") from None
    if not isinstance(manifest, Mapping) or manifest.get("format") != FORMAT_NAME:
        raise CaseFileError(f"{shown}: {MANIFEST_FILE} is not a riskscore case manifest")
    if manifest.get("format_version") != CASE_FORMAT:
        raise CaseFileError(
            f"{shown}: case format version {manifest.get('format_version')!r} is not "
            f"supported; this riskscore reads version {CASE_FORMAT}"
        )
    if not isinstance(manifest.get("files"), Mapping) or not manifest["files"]:
        raise CaseFileError(f"{shown}: {MANIFEST_FILE} lists no files")
    return dict(manifest)


def verify_case(folder: str | os.PathLike[str], *, shown: str | None = None) -> dict[str, Any]:
    """Check a case folder against its manifest; return the manifest.

    Raises
    ------
    CaseFileError
        A listed file is missing or changed, or a file is not listed; every problem at
        once, each naming the file.
    """
    root = _path(folder, "verify_case")
    shown = shown or str(root)
    manifest = _read_manifest(root, shown)
    listed: Mapping[str, Any] = manifest["files"]
    found = manifest_files(root)
    problems = []
    for name in sorted(listed):
        expected = listed[name].get("sha256") if isinstance(listed[name], Mapping) else None
        if name not in found:
            problems.append(f"{name} is missing")
        elif found[name]["sha256"] != expected:
            problems.append(
                f"{name} was changed (SHA-256 {found[name]['sha256'][:16]}..., the manifest "
                f"says {str(expected)[:16]}...)"
            )
    problems += [
        f"{name} is not in the manifest (added)" for name in sorted(set(found) - set(listed))
    ]
    if problems:
        raise CaseFileError(
            f"case '{shown}' does not match its {MANIFEST_FILE}: "
            + "; ".join(problems)
            + ". The case was changed after it was written; ask its sender for the original"
        )
    return manifest


def _extract(archive: Path, into: Path) -> Path:
    """Extract a case zip safely (no absolute or parent paths); return the case folder."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
            bad = [n for n in names if n.startswith("/") or ".." in PurePosixPath(n).parts]
            if bad:
                raise CaseFileError(
                    f"case zip '{archive}' has entries outside its folder: {bad[:3]}; refusing "
                    "to extract it"
                )
            zf.extractall(into)
    except zipfile.BadZipFile as err:
        raise CaseFileError(f"'{archive}' is not a zip file ({err})") from None
    tops = {PurePosixPath(n).parts[0] for n in names if n}
    if len(tops) != 1:
        raise CaseFileError(
            f"case zip '{archive}' should hold one case folder; found {sorted(tops)[:5]}"
        )
    return into / tops.pop()


def _reproduce(folder: Path, decision: Mapping[str, Any], shown: str) -> None:
    from riskscore.modeling import RiskModel
    from riskscore.rules import RuleSet
    from riskscore.scoring import Scorer

    model_info = decision.get("model") or {}
    scorer = Scorer(
        RiskModel.load(folder / "model"),
        model_name=model_info.get("name"),
        model_version=model_info.get("version"),
        top_k=int(decision.get("top_k", 5)),
        language=decision.get("language", "en"),
    )
    rules_file = decision.get("rules_file")
    rules = RuleSet.load(folder / rules_file) if rules_file else None
    record = json.loads((folder / "features.json").read_text(encoding="utf-8"))
    again = decide(
        scorer, record, rules, as_of=str(decision["as_of"]), language=decision["language"]
    )
    again = json.loads(json.dumps(again))  # the stored form (lists, JSON floats)
    differ = [
        f"{key}: stored {decision.get(key)!r}, re-scored {again.get(key)!r}"
        for key in COMPARED
        if decision.get(key) != again.get(key)
    ]
    if differ:
        raise CaseFileError(
            f"case '{shown}': the decision does not reproduce from the stored model, rule set "
            "and inputs: " + "; ".join(d[:300] for d in differ)
        )


def read_case(path: str | os.PathLike[str], *, reproduce: bool = True) -> CaseFile:
    """Read a case folder or zip: verify every hash, then reproduce the decision.

    Parameters
    ----------
    path : path
        The case folder or its ``.zip``.
    reproduce : bool, default True
        Re-score the stored inputs with the stored model and rule set and compare with
        ``decision.json``.

    Returns
    -------
    CaseFile

    Raises
    ------
    CaseFileError
        A file is missing, changed or added (each named), the manifest is not a case
        manifest, or the decision does not reproduce (the differing fields named).

    Examples
    --------
    >>> import tempfile
    >>> from riskscore.case import write_case
    >>> from riskscore.case._demo import demo_case_inputs
    >>> tables, scorer, seller = demo_case_inputs()
    >>> case = write_case(tables, seller, "2024-10-01", scorer=scorer, out=tempfile.mkdtemp())
    >>> read_case(case.zip_path).decision == case.decision
    True
    """
    source = _path(path, "read_case")
    if not source.exists():
        raise CaseFileError(f"no case at '{source}': pass a case folder or its .zip")
    if source.is_file():
        with tempfile.TemporaryDirectory(prefix="riskscore-case-") as tmp:
            folder = _extract(source, Path(tmp))
            return _read(folder, source, zip_path=source, reproduce=reproduce)
    zip_path = source.with_name(f"{source.name}.zip")
    return _read(source, source, zip_path if zip_path.is_file() else None, reproduce=reproduce)


def _read(folder: Path, shown: Path, zip_path: Path | None, *, reproduce: bool) -> CaseFile:
    manifest = verify_case(folder, shown=str(shown))
    decision = json.loads((folder / "decision.json").read_text(encoding="utf-8"))
    if reproduce:
        _reproduce(folder, decision, str(shown))
    return CaseFile(
        folder=shown,
        zip_path=zip_path,
        seller_id=str(manifest["seller_id"]),
        as_of=str(manifest["as_of"]),
        language=str(manifest["language"]),
        decision=decision,
        manifest=manifest,
        files=(*manifest["files"], MANIFEST_FILE),
    )
