"""The deployable model folder: :func:`export_model` writes it, :func:`load_folder` reads it.

A model folder is everything a scoring service needs, as plain files, with a manifest::

    models/<name>/
      manifest.json           format version, model name and version, the riskscore and
                              LightGBM versions that wrote it, SHA-256 and size of every
                              other file (the manifest is the one file not hashed)
      model.txt               the LightGBM booster in LightGBM's own text format
      riskmodel.json          feature names and order, categorical levels, the calibrator,
                              the 0-1000 risk scale and the bands (JSON), metadata
      catalog.csv             the feature catalog snapshot (reason codes and texts)
      thresholds.csv          the threshold table measured on the test window (optional)
      model_card.md           the model card
      monitor_reference.json  the monitoring reference (when the source has one)
      rules.yaml / rules.json the rule set the model was tested with (when there is one;
                              from MLflow: the run's ``rules/ruleset.yaml`` logged by
                              :func:`riskscore.registry.log_rules`); the manifest's
                              ``rules`` entry names it with its label and content hash

The first four files are exactly what :meth:`riskscore.modeling.RiskModel.save` writes,
so :meth:`RiskModel.load` reads the folder too. Every file is text: no pickle, no Python
code. :func:`load_folder` checks the manifest's format version, then the hash of every
listed file, then reads the model with ``RiskModel.load`` — it never imports mlflow and
never runs code from the folder, so a service can load a folder it did not build.

:func:`export_model` writes into a temporary folder beside ``out`` and renames it into
place, so a service watching ``out`` never sees half a folder. The same model, version
and extras give byte-identical files (no timestamps anywhere).

:func:`folder_sha256` is the folder's identity (the SHA-256 of its manifest's file list):
the decision log records it, and ``riskscore replay`` refuses a folder whose identity
differs from the logged one.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from riskscore.exceptions import ModelNotFoundError, RiskscoreError

__all__ = [
    "CARD_FILE",
    "FOLDER_FORMAT",
    "MANIFEST_FILE",
    "MONITOR_FILE",
    "RULES_FILES",
    "LoadedFolder",
    "ModelFolderError",
    "export_model",
    "folder_sha256",
    "is_model_folder",
    "load_folder",
    "read_manifest",
    "verify_folder",
]

#: Version of the folder layout and manifest; a loader refuses any other.
FOLDER_FORMAT = 1

#: What the manifest's ``format`` field says.
FORMAT_NAME = "riskscore-model-folder"

MANIFEST_FILE = "manifest.json"
CARD_FILE = "model_card.md"
MONITOR_FILE = "monitor_reference.json"
#: Prefix of the temporary folder the run's extra files are downloaded to.
_DOWNLOAD_PREFIX = "riskscore-export-"

#: What RiskModel.save writes (the model itself).
_MODEL_FILES: tuple[str, ...] = ("riskmodel.json", "model.txt", "thresholds.csv", "catalog.csv")
#: File names a rule set may have (the first found is copied).
RULES_FILES: tuple[str, ...] = ("rules.yaml", "rules.yml", "rules.json")
#: Where :func:`riskscore.registry.log_rules` puts a rule set in a run.
RUN_RULES_FILE = "rules/ruleset.yaml"


class ModelFolderError(RiskscoreError, ValueError):
    """A model folder cannot be trusted or read: bad manifest, format, or a changed file."""


@dataclass(frozen=True)
class LoadedFolder:
    """A model read from a verified folder.

    Attributes
    ----------
    model : RiskModel
    name, version : str
        From the manifest.
    manifest : dict
        The parsed ``manifest.json``.
    folder : pathlib.Path
    rules : RuleSet or None
        The folder's rule set (``rules.yaml`` / ``rules.json``), validated.
    """

    model: Any
    name: str
    version: str
    manifest: dict[str, Any]
    folder: Path
    rules: Any = None

    @property
    def sha256(self) -> str:
        """The folder's identity: :func:`folder_sha256` of its manifest."""
        return folder_sha256(self.manifest)


def folder_sha256(manifest: Mapping[str, Any]) -> str:
    """Return a model folder's identity: the SHA-256 of its manifest's file list.

    Every file's hash is in that list, so any changed, added or removed file changes it.

    Examples
    --------
    >>> folder_sha256({"files": {"model.txt": {"sha256": "ab", "bytes": 2}}})[:12]
    'edfcb8c2d329'
    """
    files = manifest.get("files") or {}
    blob = json.dumps(files, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def is_model_folder(path: str | os.PathLike[str]) -> bool:
    """Return True when ``path`` is a folder holding a ``manifest.json``."""
    return (Path(path) / MANIFEST_FILE).is_file()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import riskscore

    try:
        lgb = version("lightgbm")
    except PackageNotFoundError:  # pragma: no cover - lightgbm is a dependency
        lgb = "unknown"
    return {"riskscore": riskscore.__version__, "lightgbm": lgb}


def _default_card(model: Any, name: str, version: str) -> str:
    """Return a short model card made from the model's metadata (the source had none)."""
    meta = model.metadata or {}
    lines = [
        f"# {name} version {version}",
        "",
        f"Scores {model.entity}s for {model.target} risk: a LightGBM model of "
        f"{model.n_features} features, calibrated ({model.calibrator.method}), with a 0-1000 "
        f"risk score and the bands {', '.join(map(str, model.bands.thresholds))}.",
        "",
        "The source of this export had no model card; the training run's card (MLflow "
        "artifact `model_card.md`) has the data, metrics and limitations.",
    ]
    window = {k: v for k, v in meta.items() if "window" in str(k) or "time" in str(k)}
    if window:
        lines += ["", "## Training", ""]
        lines += [f"- {k}: {v}" for k, v in sorted(window.items())]
    return "\n".join(lines) + "\n"


_Source = tuple[Any, str | None, str | None, str | None, dict[str, Path], Path | None]


def _model_of(source: Any) -> _Source:
    """Return ``(model, name, version, source text, extra files, download folder)``."""
    if hasattr(source, "booster") and hasattr(source, "save"):
        return source, None, None, None, {}, None
    if not isinstance(source, str | os.PathLike):
        raise ModelFolderError(
            "The 'source' parameter of export_model must be a RiskModel, a model folder or an "
            f"MLflow model URI (e.g. 'models:/riskscore-seller-fraud@champion'). Got "
            f"{type(source).__name__} instead."
        )
    text = os.fspath(source)
    local = Path(text)
    if "://" not in text and not text.startswith(("models:", "runs:")):
        if is_model_folder(local):
            loaded = load_folder(local)
            # an exported folder is copied file by file (verified above), so a re-export of
            # the same version gives the same bytes
            copied = {n: local / n for n in loaded.manifest["files"] if n != MANIFEST_FILE}
            return loaded.model, loaded.name, loaded.version, text, copied, None
        from riskscore.registry import load_risk_model

        got = load_risk_model(text)
        return got.model, got.name, got.version, text, _local_extras(local), None
    from riskscore.registry import load_risk_model
    from riskscore.registry._artifacts import download_run_files

    got = load_risk_model(text)
    extras: dict[str, Path] = {}
    tmp: Path | None = None
    if got.run_id is not None:
        tmp = Path(tempfile.mkdtemp(prefix=_DOWNLOAD_PREFIX))
        wanted = [CARD_FILE, MONITOR_FILE, RUN_RULES_FILE, *RULES_FILES]
        wanted += [f"riskmodel/{n}" for n in (MONITOR_FILE, *RULES_FILES)]
        for path, local_path in download_run_files(got.run_id, wanted, tmp).items():
            name = "rules.yaml" if path == RUN_RULES_FILE else Path(path).name
            if name in RULES_FILES and any(k in RULES_FILES for k in extras):
                continue  # one rule set: log_rules' first, then older layouts
            extras.setdefault(name, local_path)
    return got.model, got.name, got.version, text, extras, tmp


def _local_extras(folder: Path) -> dict[str, Path]:
    """Card, monitoring reference and rules found in ``folder``, its ``riskmodel`` or parent."""
    places = [folder, folder / "riskmodel", folder / "artifacts" / "riskmodel", folder.parent]
    found: dict[str, Path] = {}
    for name in (CARD_FILE, MONITOR_FILE, *RULES_FILES):
        for place in places:
            if (place / name).is_file():
                found[name] = place / name
                break
    return found


def export_model(
    source: Any,
    out: str | os.PathLike[str],
    *,
    name: str | None = None,
    version: str | None = None,
    card: str | None = None,
    monitor_reference: str | os.PathLike[str] | None = None,
    rules: str | os.PathLike[str] | None = None,
    source_text: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the deployable model folder of ``source`` to ``out``.

    Parameters
    ----------
    source : RiskModel, path or str
        A trained :class:`~riskscore.modeling.RiskModel`, a model folder (exported, or
        written by ``RiskModel.save`` / ``riskscore train --out``), or an MLflow model URI
        (``models:/name@alias``, ``models:/name/3``, ``runs:/<id>/model``). From MLflow,
        the run's ``model_card.md``, ``monitor_reference.json`` and rule set come along.
    out : path
        The folder to write (``models/<name>``).
    name : str, optional
        Model name in the manifest (default: the registered name, else the model's own).
    version : str, optional
        Model version (default: the registry version, else the model's metadata, else
        ``"local"``).
    card : str, optional
        Model card text (default: the source's ``model_card.md``, else a short card made
        from the model's metadata).
    monitor_reference, rules : path, optional
        A ``monitor_reference.json`` / rule set file to include (default: the source's).
    source_text : str, optional
        What the manifest records as the source (default: the URI or folder given).
    overwrite : bool, default False
        Replace an existing ``out`` (swapped in with a rename, never half written).

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    ModelFolderError
        ``out`` exists and ``overwrite`` is False, an argument is of the wrong kind, or a
        ``monitor_reference`` / ``rules`` file is missing or of an unknown kind.
    ModelNotFoundError
        Nothing to export at ``source``.

    Examples
    --------
    >>> import os, tempfile
    >>> from riskscore.scoring._demo import demo_model
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = export_model(demo_model(), os.path.join(tmp, "demo"), version="7")
    ...     manifest = read_manifest(folder)
    ...     loaded = load_folder(folder)
    >>> manifest["format_version"], manifest["model"]["version"], loaded.version
    (1, '7', '7')
    >>> sorted(manifest["files"])
    ['catalog.csv', 'model.txt', 'model_card.md', 'riskmodel.json']
    """
    if not isinstance(out, str | os.PathLike):
        raise ModelFolderError(
            "The 'out' parameter of export_model must be a folder path such as "
            f"'models/seller-fraud'. Got {type(out).__name__} instead."
        )
    target = Path(out)
    if target.exists() and not overwrite:
        raise ModelFolderError(
            f"export: '{target}' already exists; expected a new folder. Choose another --out, "
            "or pass overwrite=True (--force) to replace it"
        )
    given: dict[str, Path] = {}
    for label, named in (("monitor_reference", monitor_reference), ("rules", rules)):
        if named is None:
            continue
        path = Path(named)
        if not path.is_file():
            raise ModelFolderError(
                f"export: the {label} file '{path}' does not exist; pass an existing file"
            )
        given[MONITOR_FILE if label == "monitor_reference" else _rules_name(path)] = path
    model, found_name, found_version, text, extras, download = _model_of(source)
    meta = dict(model.metadata or {})
    version = str(version or found_version or meta.get("version") or "local")
    name = str(name or found_name or model.name)
    files: dict[str, Path] = dict(extras)
    if any(k in RULES_FILES for k in given):  # a rule set given replaces the source's
        files = {k: v for k, v in files.items() if k not in RULES_FILES}
    files.update(given)
    stamped = copy.copy(model)
    stamped.metadata = {**meta, "version": version}
    if not (version == found_version and _MODEL_FILES[0] in files):
        # write the model (stamped with its version) rather than copy the source's files
        files = {k: v for k, v in files.items() if k not in _MODEL_FILES}
    tmp: Path | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        if _MODEL_FILES[0] not in files:
            stamped.save(tmp)
        card_text = card
        if card_text is None and CARD_FILE in files:
            card_text = files[CARD_FILE].read_text(encoding="utf-8")
        if card_text is None:
            card_text = _default_card(model, name, version)
        (tmp / CARD_FILE).write_text(card_text, encoding="utf-8")
        for key, path in files.items():
            if key != CARD_FILE:
                shutil.copyfile(path, tmp / key)
        manifest = _manifest(tmp, stamped, name, version, source_text or text)
        body = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False)
        (tmp / MANIFEST_FILE).write_text(body + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)
        _swap_in(tmp, target)
    except BaseException:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if download is not None:  # the run's files, downloaded for this export
            shutil.rmtree(download, ignore_errors=True)
    return target


def _rules_name(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "rules.yaml"
    if suffix == ".json":
        return "rules.json"
    raise ModelFolderError(
        f"export: the rules file '{path}' has the extension {suffix or '(none)'}; expected "
        ".yaml, .yml or .json"
    )


def _rules_entry(folder: Path, model: Any) -> dict[str, Any] | None:
    """Return the manifest's ``rules`` entry: file, label and content hash (validated)."""
    found = [n for n in RULES_FILES if (folder / n).is_file()]
    if not found:
        return None
    from riskscore.rules import RuleError, RuleSet

    try:
        rules = RuleSet.load(folder / found[0])
    except RuleError as err:
        raise ModelFolderError(f"export: the rule set does not load: {err}") from None
    if rules.entity != model.entity:
        raise ModelFolderError(
            f"export: rule set {rules.label} is for {rules.entity}s; the model scores "
            f"{model.entity}s. Pass a rule set with entity: {model.entity}"
        )
    return {"file": found[0], "label": rules.label, "sha256": rules.sha256()}


def _manifest(folder: Path, model: Any, name: str, version: str, source: str | None) -> dict:
    files = {
        p.name: {"sha256": _sha256(p), "bytes": p.stat().st_size}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != MANIFEST_FILE
    }
    rules = _rules_entry(folder, model)
    extra = {} if rules is None else {"rules": rules}
    return {
        **extra,
        "format": FORMAT_NAME,
        "format_version": FOLDER_FORMAT,
        "model": {
            "name": name,
            "version": version,
            "entity": model.entity,
            "target": model.target,
            "n_features": model.n_features,
        },
        "source": source,
        "written_by": _versions(),
        "files": files,
    }


def _swap_in(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target``; an existing ``target`` is replaced by renames only."""
    if not target.exists():
        os.replace(tmp, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check ``manifest.json`` of a model folder (format and version only).

    Raises
    ------
    ModelNotFoundError
        No manifest in ``folder``.
    ModelFolderError
        The manifest is not JSON, not a riskscore manifest, or of another format version.
    """
    path = Path(folder) / MANIFEST_FILE
    if not path.is_file():
        raise ModelNotFoundError(
            f"no {MANIFEST_FILE} in '{folder}': expected a folder written by "
            "`riskscore export MODEL_URI --out models/<name>`"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFolderError(
            f"{path}: not a valid manifest ({err}); expected the JSON written by riskscore "
            "export. Export the model again"
        ) from None
    if not isinstance(manifest, Mapping) or manifest.get("format") != FORMAT_NAME:
        raise ModelFolderError(
            f"{path}: expected a manifest with format '{FORMAT_NAME}'; got "
            f"{str(manifest.get('format') if isinstance(manifest, Mapping) else manifest)[:60]!r}"
            ". Export the model again with riskscore export"
        )
    got = manifest.get("format_version")
    if got != FOLDER_FORMAT:
        if isinstance(got, int) and not isinstance(got, bool) and got > FOLDER_FORMAT:
            fix = "upgrade riskscore to load it, or export the model with this riskscore"
        else:
            fix = "export the model again with this riskscore (riskscore export)"
        raise ModelFolderError(
            f"{path}: model folder format version {got!r} is not supported; this riskscore "
            f"({_versions()['riskscore']}) reads format version {FOLDER_FORMAT}. Fix: {fix}"
        )
    files = manifest.get("files")
    if not isinstance(files, Mapping) or not files:
        raise ModelFolderError(
            f"{path}: the manifest lists no files; expected 'files' with the SHA-256 of "
            "each file. Export the model again"
        )
    return dict(manifest)


def verify_folder(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """Check a model folder against its manifest; return the manifest.

    Every listed file must be a plain name inside the folder, exist, and have the listed
    SHA-256. All problems are reported at once.

    Raises
    ------
    ModelFolderError
        A file is missing, changed, or named outside the folder; the message names each
        file with the expected and the found hash.
    """
    root = Path(folder)
    manifest = read_manifest(root)
    problems: list[str] = []
    for name, entry in sorted(manifest["files"].items()):
        expected = entry.get("sha256") if isinstance(entry, Mapping) else None
        if Path(name).name != name or name in ("", ".", ".."):
            problems.append(f"{name!r} is not a file name inside the folder")
            continue
        path = root / name
        if not path.is_file():
            problems.append(f"{name} is missing")
            continue
        got = _sha256(path)
        if got != expected:
            problems.append(
                f"{name} has SHA-256 {got[:16]}..., the manifest says {expected!s:.16}..."
            )
    for required in ("riskmodel.json", "model.txt"):
        if required not in manifest["files"]:
            problems.append(f"the manifest does not list {required}")
    if problems:
        raise ModelFolderError(
            f"model folder '{root}' does not match its {MANIFEST_FILE}: "
            + "; ".join(problems)
            + ". The folder was changed after export (or copied incompletely); export it again "
            "or restore the original files"
        )
    return manifest


def load_folder(folder: str | os.PathLike[str]) -> LoadedFolder:
    """Verify a model folder and read its model (no mlflow, no code from the folder).

    Raises
    ------
    ModelNotFoundError
        No manifest in ``folder``.
    ModelFolderError
        Incompatible format version, or a file changed since export (see
        :func:`verify_folder`).
    """
    from riskscore.modeling import RiskModel

    root = Path(folder)
    manifest = verify_folder(root)
    model = RiskModel.load(root)
    info = manifest.get("model") or {}
    version = str(info.get("version") or model.metadata.get("version") or "local")
    name = str(info.get("name") or model.name)
    rules = None
    found = [n for n in RULES_FILES if n in manifest["files"]]
    if found:
        from riskscore.rules import RuleSet

        rules = RuleSet.load(root / found[0])
    return LoadedFolder(
        model=model, name=name, version=version, manifest=manifest, folder=root, rules=rules
    )
