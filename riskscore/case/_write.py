"""Write a case file: one folder and a zip an enforcement team can take away.

:func:`write_case` scores one seller as of a time and writes, in the chosen language::

    case-<seller>-<as_of>/
      case.md                  summary: decision, model, rule set, what each file holds
      decision.json            score, risk score, band, action, rules fired, reasons
      evidence.html / .md / .json   the evidence page (riskscore.explain.build_evidence)
      legal.json / legal.md    the legal-threshold result (when one is given)
      features.json            the seller's model inputs as of the scoring time
      reasons.csv              the reasons, each with the record files behind it
      records/seller.csv       the seller's account row
      records/orders.csv       orders placed before as_of, status as known then
      records/complaints.csv   complaints filed before as_of
      records/listings.csv     listings created before as_of
      records/linked_sellers.csv   linked sellers and each identifier they share
      model/                   the model that scored (RiskModel.save: text files)
      rules/<file>             the rule set file, copied byte for byte (when one is used)
      manifest.json            SHA-256 and size of every other file
    case-<seller>-<as_of>.zip  the same folder, zipped (fixed times, sorted names)

The folder is written under a temporary name and renamed into place, so a reader never
sees half a case. :func:`riskscore.case.read_case` verifies the manifest and re-scores the
stored inputs with the stored model and rule set.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
import math
import os
import re
import shutil
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskscore.case._errors import CaseFileError
from riskscore.case._records import known_orders, known_rows, linked_sellers, seller_row
from riskscore.case._summary import summary_markdown

__all__ = [
    "CASE_FORMAT",
    "FAMILY_FILES",
    "LEGAL_PACKS",
    "MANIFEST_FILE",
    "CaseFile",
    "decide",
    "write_case",
]

#: Version of the case layout and manifest; :func:`read_case` refuses any other.
CASE_FORMAT = 1
#: What the manifest's ``format`` field says.
FORMAT_NAME = "riskscore-case-file"
MANIFEST_FILE = "manifest.json"

#: The record files behind a reason of each feature family.
FAMILY_FILES: dict[str, tuple[str, ...]] = {
    "pricing": ("records/listings.csv",),
    "complaints": ("records/complaints.csv", "records/orders.csv"),
    "buyers": ("records/orders.csv",),
    "network": ("records/linked_sellers.csv",),
    "text": ("records/listings.csv",),
    "account": ("records/seller.csv",),
    "activity": ("records/orders.csv",),
}

#: A rule set standing in when none is given: the model band decides alone.
_BANDS_ONLY = ("model-bands", "1")


@dataclass(frozen=True)
class CaseFile:
    """A case file on disk (written by :func:`write_case` or read by :func:`read_case`).

    Attributes
    ----------
    folder : pathlib.Path
        The case folder (for a case read from a zip: the zip).
    zip_path : pathlib.Path or None
        The zip beside the folder, or the zip read.
    seller_id, as_of, language : str
    decision : dict
        What ``decision.json`` holds: ``action``, ``decided_by``, ``rules_fired``,
        ``score``, ``risk_score``, ``band``, ``reasons``, ``model``, ``rule_set``.
    manifest : dict
        The parsed ``manifest.json``.
    files : tuple of str
        Every file of the case (paths inside the folder, ``/``-separated), manifest last.
    evidence : Evidence or None
        The evidence object the pages were rendered from (set by :func:`write_case`).
    """

    folder: Path
    zip_path: Path | None
    seller_id: str
    as_of: str
    language: str
    decision: dict[str, Any]
    manifest: dict[str, Any]
    files: tuple[str, ...]
    evidence: Any = None

    @property
    def action(self) -> str:
        """The decided action (``allow``, ``review``, ``hold`` or ``block``)."""
        return str(self.decision["action"])


def _scorer_of(scorer: Any, language: str, top_k: int) -> Any:
    from riskscore.scoring import Scorer, load_scorer

    if isinstance(scorer, str | os.PathLike):
        scorer = load_scorer(str(scorer))
    if isinstance(scorer, Scorer):
        if scorer.language == language and scorer.top_k == top_k:
            return scorer
        return Scorer(
            scorer.model,
            model_name=scorer.model_name,
            model_version=scorer.model_version,
            top_k=top_k,
            language=language,  # type: ignore[arg-type]
        )
    return Scorer(scorer, top_k=top_k, language=language)  # type: ignore[arg-type]


def _rules_of(rules: Any) -> tuple[Any, Path | None]:
    """Return ``(RuleSet or None, the local file to copy or None)``.

    A local file is copied byte for byte; a rule set given as an object or loaded from a
    URI (``models:/``, ``runs:/``, ``file://``) is written with :meth:`RuleSet.save`.
    """
    from riskscore.rules import RuleSet

    if rules is None or isinstance(rules, RuleSet):
        return rules, None
    path = Path(rules)
    if path.is_file():
        return RuleSet.load(path), path
    return RuleSet.load(str(rules)), None


def _with_declared_columns(
    tables: Mapping[str, Any],
    seller_id: str,
    cutoff: pd.Timestamp,
    ruleset: Any,
    record: dict[str, Any],
) -> dict[str, Any]:
    """``record`` with the rule set's declared columns riskscore computes, as of ``cutoff``.

    The same definition as ``riskscore score --rules`` and ``backtest``
    (:mod:`riskscore.rules._columns`); any other declared column is refused. They are
    stored in ``features.json`` with the features, so reading the case back decides on
    the same inputs.
    """
    from riskscore.rules._columns import computed_columns, extra_columns

    fn = computed_columns(
        [ruleset],
        CaseFileError,
        "fix: use a rule set without them, or decide yourself with RuleSet.decide_one",
    )
    if fn is None:
        return record
    extra = extra_columns(fn, tables, cutoff, "seller_id", [seller_id], CaseFileError)
    values = {c: extra[c].iloc[0] for c in extra.columns}
    return {**record, **{c: None if pd.isna(v) else v for c, v in values.items()}}


def decide(
    scorer: Any, record: Mapping[str, Any], rules: Any, *, as_of: str, language: str
) -> dict[str, Any]:
    """Score one record and decide; return the fields a case compares when read back.

    Without a rule set the model band decides alone (the default band actions of
    :data:`riskscore.rules.DEFAULT_BAND_ACTIONS`).

    Examples
    --------
    >>> from riskscore.scoring import Scorer
    >>> from riskscore.scoring._demo import demo_model
    >>> scorer = Scorer(demo_model())
    >>> record = dict.fromkeys(scorer.feature_names, 1.0)
    >>> out = decide(scorer, record, None, as_of="2024-07-01T00:00:00", language="en")
    >>> out["action"], out["decided_by"].startswith("band:"), out["rule_set"]
    ('allow', True, None)
    """
    from riskscore.rules import RuleSet

    result = scorer.score_one(record, explain=True, as_of=as_of)
    ruleset = rules if rules is not None else RuleSet(*_BANDS_ONLY, [])
    decision = ruleset.decide_one(record, scored=result, language=language)
    return {
        "score": result.score,
        "risk_score": result.risk_score,
        "band": result.band,
        "action": decision.action,
        "decided_by": decision.decided_by,
        "rules_fired": list(decision.rules_fired),
        "rule_reasons": list(decision.reasons[: len(decision.rules_fired)]),
        "reasons": [r.to_dict() for r in result.reasons],
        "rule_set": None if rules is None else ruleset.label,
    }


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _case_name(seller_id: str, cutoff: pd.Timestamp) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", seller_id)
    stamp = (
        cutoff.strftime("%Y%m%d")
        if cutoff == cutoff.normalize()
        else (cutoff.strftime("%Y%m%dT%H%M%S"))
    )
    return f"case-{safe}-{stamp}"


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def _write_csv(path: Path, frame: pd.DataFrame | None, columns: list[str] | None = None) -> None:
    if frame is None:
        frame = pd.DataFrame(columns=columns or [])
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%dT%H:%M:%S")


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _legal_files(legal: Any, language: str) -> dict[str, str]:
    """``legal.json`` and ``legal.md`` from a result with ``to_dict()`` / ``to_markdown()``."""
    for verb in ("to_dict", "to_markdown"):
        if not callable(getattr(legal, verb, None)):
            raise CaseFileError(
                f"the legal-threshold result ({type(legal).__name__}) has no {verb}(); pass "
                "the result of a riskscore.rules.packs pack (or any object with to_dict() "
                "and to_markdown()), or legal=None"
            )
    markdown = legal.to_markdown
    takes_language = "language" in inspect.signature(markdown).parameters
    text = markdown(language=language) if takes_language else markdown()
    return {
        "legal.json": json.dumps(
            legal.to_dict(), ensure_ascii=False, indent=2, default=str, allow_nan=False
        )
        + "\n",
        "legal.md": str(text).rstrip("\n") + "\n",
    }


def _reasons_frame(reasons: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "rank": r["rank"],
            "code": r["code"],
            "family": r["family"],
            "feature": r["feature"],
            "value": _json_value(r.get("value")),
            "contribution": r["contribution"],
            "impact": r["impact"],
            "text": r["text"],
            "section": r.get("evidence") or "",
            "files": " ".join(FAMILY_FILES.get(r["family"], ())),
        }
        for r in reasons
    ]
    columns = [
        "rank",
        "code",
        "family",
        "feature",
        "value",
        "contribution",
        "impact",
        "text",
        "section",
        "files",
    ]
    return pd.DataFrame(rows, columns=columns)


def _zip(folder: Path, target: Path) -> None:
    """Zip ``folder`` under its own name: sorted entries, fixed times (same bytes each run)."""
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(
                f"{folder.name}/{path.relative_to(folder).as_posix()}", (1980, 1, 1, 0, 0, 0)
            )
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    tmp.replace(target)


def manifest_files(folder: Path) -> dict[str, dict[str, Any]]:
    """Return ``{path: {"sha256", "bytes"}}`` of every file under ``folder`` but the manifest."""
    from riskscore.scoring._folder import _sha256

    return {
        p.relative_to(folder).as_posix(): {"sha256": _sha256(p), "bytes": p.stat().st_size}
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST_FILE
    }


def write_case(
    tables: Mapping[str, Any],
    seller_id: str,
    as_of: Any,
    *,
    scorer: Any,
    language: str = "en",
    rules: Any = None,
    legal: Any = None,
    legal_from: Any = None,
    rates: Mapping[str, float] | None = None,
    out: str | os.PathLike[str] = "cases",
    top_k: int = 5,
    max_records: int = 10,
    plot: bool = False,
    overwrite: bool = False,
) -> CaseFile:
    """Write the case file of one seller as of a time: a folder and a zip under ``out``.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Marketplace tables (see :data:`riskscore.CONTRACT`).
    seller_id : str
        The seller; registered before ``as_of``.
    as_of : str or Timestamp
        Scoring time: features, records and labels strictly before it.
    scorer : Scorer, RiskModel, or str
        The model: a :class:`riskscore.scoring.Scorer`, a seller
        :class:`riskscore.modeling.RiskModel`, or a model URI or folder for
        :func:`riskscore.scoring.load_scorer`.
    language : {"en", "zh"}, default "en"
        Language of every page of the case (evidence, summary, reasons).
    rules : RuleSet, path or URI, optional
        The rule set that decides beside the model band: a local file (copied into the
        case byte for byte), a URI :meth:`riskscore.rules.RuleSet.load` reads
        (``models:/``, ``runs:/``, ``file://``) or a RuleSet (both saved as
        ``rules/rules.yaml``). Default: the model band decides alone.
    legal : str or object, optional
        The legal-threshold assessment, written as ``legal.json`` and ``legal.md``: the
        name of a pack of :mod:`riskscore.rules.packs` (e.g.
        ``"cn_article_217_online_works"``), assessed over ``[legal_from, as_of)`` with
        labels decided before ``as_of``; or a result you computed, any object with
        ``to_dict()`` and ``to_markdown()`` (e.g. a
        :class:`~riskscore.rules.packs.ThresholdResult`).
    legal_from : str or Timestamp, optional
        Start of the legal period when ``legal`` names a pack; default 365 days before
        ``as_of``.
    rates : mapping of str to float, optional
        CNY per unit of each other listing currency, for a pack (e.g. ``{"USD": 7.1}``).
    out : path, default "cases"
        Parent folder of the case folder and zip.
    top_k : int, default 5
        Reasons shown and stored.
    max_records : int, default 10
        Rows per table on the evidence page (the CSV files hold every row).
    plot : bool, default False
        Embed the SHAP waterfall plot in the HTML page (imports ``shap``).
    overwrite : bool, default False
        Replace an existing case of the same seller and time.

    Returns
    -------
    CaseFile

    Raises
    ------
    CaseFileError
        The case exists (and ``overwrite`` is False), or ``legal`` lacks ``to_dict`` or
        ``to_markdown``.
    ExplanationError
        Unknown seller, or registered at or after ``as_of``.
    ParameterError
        ``language`` is not ``"en"`` or ``"zh"``.

    Examples
    --------
    >>> import tempfile
    >>> from riskscore.case._demo import demo_case_inputs
    >>> tables, scorer, seller = demo_case_inputs()
    >>> case = write_case(tables, seller, "2024-10-01", scorer=scorer, language="zh",
    ...                   out=tempfile.mkdtemp())
    >>> case.action in ("allow", "review", "hold", "block"), case.zip_path.suffix
    (True, '.zip')
    >>> "records/orders.csv" in case.files and case.files[-1] == "manifest.json"
    True
    """
    from riskscore.explain import build_evidence
    from riskscore.explain._evidence import _check_seller, _feature_record, _timestamp

    _check_arguments(tables, language, top_k, max_records, rules, out)
    cutoff = _timestamp(as_of)
    seller_id = str(seller_id)
    _check_seller(tables, seller_id, cutoff)
    legal = _legal_result(legal, tables, seller_id, cutoff, legal_from, rates)
    legal_texts = _legal_files(legal, language) if legal is not None else {}
    name = _case_name(seller_id, cutoff)
    parent = Path(out)
    target, target_zip = parent / name, parent / f"{name}.zip"
    if not overwrite and (target.exists() or target_zip.exists()):
        raise CaseFileError(
            f"the case '{target}' already exists; pass overwrite=True (--overwrite) to "
            "replace it, or choose another output folder"
        )
    scorer = _scorer_of(scorer, language, top_k)
    ruleset, rules_path = _rules_of(rules)
    record = _feature_record(tables, seller_id, cutoff, None)
    if ruleset is not None:
        record = _with_declared_columns(tables, seller_id, cutoff, ruleset, record)
    as_of_text = cutoff.isoformat()
    decided = decide(scorer, record, ruleset, as_of=as_of_text, language=language)
    evidence = build_evidence(
        tables,
        seller_id,
        scorer.model,
        cutoff,
        features=record,
        model_name=scorer.model_name,
        model_version=scorer.model_version,
        top_k=top_k,
        language=language,  # type: ignore[arg-type]
        max_records=max_records,
        sections="all",
        plot=plot,
    )

    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        evidence.write(tmp / "evidence.html", "html")
        evidence.write(tmp / "evidence.md", "md")
        evidence.write(tmp / "evidence.json", "json")
        for file_name, text in legal_texts.items():
            _write_text(tmp / file_name, text)
        features = {str(k): _json_value(v) for k, v in record.items()}
        _write_text(tmp / "features.json", _json(features))
        _write_csv(tmp / "reasons.csv", _reasons_frame(evidence.reasons))
        _write_csv(tmp / "records/seller.csv", seller_row(tables, seller_id))
        _write_csv(tmp / "records/orders.csv", known_orders(tables, seller_id, cutoff))
        complaints = known_rows(tables, "complaints", seller_id, cutoff)
        _write_csv(tmp / "records/complaints.csv", complaints, ["complaint_id", "created_at"])
        _write_csv(tmp / "records/listings.csv", known_rows(tables, "listings", seller_id, cutoff))
        _write_csv(tmp / "records/linked_sellers.csv", linked_sellers(tables, seller_id, cutoff))
        scorer.model.save(tmp / "model")
        rules_file = None
        if rules_path is not None:
            rules_file = f"rules/{rules_path.name}"
            (tmp / "rules").mkdir()
            shutil.copyfile(rules_path, tmp / rules_file)
        elif ruleset is not None:
            rules_file = "rules/rules.yaml"
            (tmp / "rules").mkdir()
            ruleset.save(tmp / rules_file)
        decision = {
            "kind": "riskscore-case-decision",
            "seller_id": seller_id,
            "as_of": as_of_text,
            "language": language,
            "model": {"name": scorer.model_name, "version": scorer.model_version},
            "top_k": top_k,
            "rules_file": rules_file,
            "legal": _legal_summary(legal, language),
            **decided,
        }
        _write_text(tmp / "decision.json", _json(decision))
        listed = sorted(
            [*(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file()), "case.md"]
        )
        _write_text(tmp / "case.md", summary_markdown(decision, [*listed, MANIFEST_FILE], language))
        manifest = {
            "format": FORMAT_NAME,
            "format_version": CASE_FORMAT,
            "seller_id": seller_id,
            "as_of": as_of_text,
            "language": language,
            "model": decision["model"],
            "rule_set": decided["rule_set"],
            "action": decided["action"],
            "files": manifest_files(tmp),
        }
        _write_text(tmp / MANIFEST_FILE, _json(manifest))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _zip(target, target_zip)
    return CaseFile(
        folder=target,
        zip_path=target_zip,
        seller_id=seller_id,
        as_of=as_of_text,
        language=language,
        decision=decision,
        manifest=manifest,
        files=(*manifest["files"], MANIFEST_FILE),
        evidence=evidence,
    )


def _check_arguments(
    tables: Any, language: Any, top_k: Any, max_records: Any, rules: Any, out: Any
) -> None:
    """Refuse bad arguments of :func:`write_case` before any work (all problems at once)."""
    from riskscore.exceptions import ParameterError
    from riskscore.rules import RuleSet

    problems = []
    if not isinstance(tables, Mapping):
        problems.append(
            f"'tables' must be a mapping of table name to DataFrame (e.g. from "
            f"riskscore.load_tables); got {type(tables).__name__}"
        )
    if language not in ("en", "zh"):
        problems.append(f"'language' must be 'en' or 'zh'; got {language!r}")
    for name, value in (("top_k", top_k), ("max_records", max_records)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            problems.append(f"'{name}' must be a positive int; got {value!r}")
    if rules is not None and not isinstance(rules, str | os.PathLike | RuleSet):
        problems.append(
            f"'rules' must be a rule set file, a rule-set URI or a RuleSet; got "
            f"{type(rules).__name__}"
        )
    if not isinstance(out, str | os.PathLike):
        problems.append(f"'out' must be a folder path; got {type(out).__name__}")
    elif Path(out).exists() and not Path(out).is_dir():
        problems.append(f"'out' {str(out)!r} is a file; name a folder (created when missing)")
    if problems:
        raise ParameterError("write_case: " + "; ".join(problems) + ".")


def _legal_summary(legal: Any, language: str) -> str | None:
    """One line about the legal result for the summary, in ``language``.

    A :class:`~riskscore.rules.packs.ThresholdResult` gives its title and basis; any other
    result points to ``legal.md``.
    """
    if legal is None:
        return None
    title = getattr(legal, f"title_{language}", None)
    basis = getattr(legal, "basis_text", None)
    if isinstance(title, str) and callable(basis):
        sep = "：" if language == "zh" else ": "
        return f"{title}{sep}{basis(language)} (legal.md)"
    return "legal.md"


#: Legal-threshold packs ``legal=`` can name.
LEGAL_PACKS: tuple[str, ...] = ("cn_article_217_online_works", "counterfeit_goods")


def _legal_result(
    legal: Any,
    tables: Mapping[str, Any],
    seller_id: str,
    cutoff: pd.Timestamp,
    legal_from: Any,
    rates: Mapping[str, float] | None,
) -> Any:
    """Assess the pack ``legal`` names over ``[legal_from, cutoff)``; a result passes."""
    if not isinstance(legal, str):
        return legal
    if legal not in LEGAL_PACKS:
        raise CaseFileError(
            f"unknown legal-threshold pack {legal!r}; choose one of {', '.join(LEGAL_PACKS)} "
            "or pass a result you computed with riskscore.rules.packs"
        )
    import importlib

    from riskscore.exceptions import RiskscoreError
    from riskscore.explain._evidence import _timestamp

    module = importlib.import_module(f"riskscore.rules.packs.{legal}")
    if legal_from is None:
        start = cutoff - pd.Timedelta(days=365)
    else:
        try:
            start = _timestamp(legal_from)
        except RiskscoreError:
            raise CaseFileError(
                f"legal_from must be a date or time such as '2024-01-01'; got {legal_from!r}"
            ) from None
    if not start < cutoff:
        raise CaseFileError(
            f"the legal period starts at {start.isoformat()}, not before as_of "
            f"{cutoff.isoformat()}; pass an earlier legal_from (--legal-from)"
        )
    return module.evaluate(tables, seller_id, start, cutoff, rates=rates, as_of=cutoff)
