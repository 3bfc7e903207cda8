"""Load a model once and hand out a :class:`Scorer`: :func:`load_scorer`.

A URI is either a local model folder — an exported one (``riskscore export``, with a
``manifest.json``: its hashes are verified and mlflow is never imported, see
:mod:`riskscore.scoring._folder`), or a saved :class:`riskscore.modeling.RiskModel` — or
any MLflow model URI (``models:/name@alias``, ``models:/name/3``, ``runs:/<id>/model``,
a path to a logged model), loaded through :func:`riskscore.registry.load_risk_model`, the
registry being the only package that imports MLflow (and the layer below this one).
Scorers are cached per (URI, options): each model is loaded once per process, under a
lock, and the returned scorer is immutable and safe to share between threads.

Which loader when (one path per need)
-------------------------------------
* to score: ``load_scorer(uri)`` — a folder or any MLflow URI, cached;
* to deploy: ``riskscore export MODEL_URI --out models/<name>``, then
  ``load_scorer("models/<name>")`` (no tracking server, no mlflow import);
* a RiskModel with its name, version and run from any MLflow URI:
  ``riskscore.registry.load_risk_model(uri)``;
* a RiskModel from a folder written by ``RiskModel.save``: ``RiskModel.load(folder)``;
* Spark: ``riskscore.scoring.score_spark(frame, uri)`` (built on
  ``riskscore.registry.spark_udf``).

``riskscore.registry.load(uri)`` is deprecated (it was ``load_risk_model(uri).model``).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Literal

from riskscore.exceptions import ModelNotFoundError, RiskscoreError
from riskscore.scoring._folder import MANIFEST_FILE, LoadedFolder, load_folder
from riskscore.scoring._scorer import Scorer

__all__ = ["clear_cache", "load_scorer"]

_LOCK = threading.Lock()
_CACHE: dict[tuple[Any, ...], Scorer] = {}


def load_scorer(
    uri: str | os.PathLike[str],
    *,
    top_k: int = 3,
    language: Literal["en", "zh"] = "en",
    flag_band: str | None = None,
    num_threads: int = 0,
    reload: bool = False,
    rules: Any = None,
    decision_log: Any = None,
) -> Scorer:
    """Return a :class:`Scorer` for the model at ``uri``, loading it once per process.

    Parameters
    ----------
    uri : str or path
        A model folder (``models/<name>`` written by ``riskscore export``: its manifest's
        format version and file hashes are checked first; or a ``RiskModel.save``
        folder), or an MLflow model URI such as
        ``models:/riskscore-seller-fraud@champion``. ``MLFLOW_TRACKING_URI`` (default
        ``sqlite:///mlflow.db``) decides which registry ``models:/`` URIs resolve in.
    top_k, language, flag_band, num_threads
        Passed to :class:`Scorer`.
    reload : bool, default False
        Load again even when cached (e.g. after an alias moved).
    rules : RuleSet, path or False, optional
        The rule set that decides on every answer. Default: the model folder's own
        (``rules.yaml`` written by ``riskscore export``), if any; ``False``: none.
    decision_log : path or DecisionLog, optional
        Append every answer to this decision log (see :mod:`riskscore.rules._log`).

    Returns
    -------
    Scorer

    Raises
    ------
    ModelNotFoundError
        No model at ``uri`` (or ``uri`` is not a str or path); the message names the URI
        and what to check.
    ModelFolderError
        An exported folder whose format version this riskscore does not read, or whose
        files do not match the manifest's hashes (the message names the files).

    Examples
    --------
    >>> load_scorer("no/such/folder")
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ModelNotFoundError: no model at 'no/such/folder': ...
    """
    if not isinstance(uri, str | os.PathLike):
        raise ModelNotFoundError(
            "The 'uri' parameter of load_scorer must be a model folder or an MLflow model URI "
            f"(a str or a path, e.g. 'models:/riskscore-seller-fraud@champion'). "
            f"Got {type(uri).__name__} instead."
        )
    text = os.fspath(uri)
    key = (text, top_k, language, flag_band, num_threads, _key(rules), _key(decision_log))
    with _LOCK:
        if not reload and key in _CACHE:
            return _CACHE[key]
        model, name, version, loaded = _load_model(text)
        if rules is None and loaded is not None:
            rules = loaded.rules
        scorer = Scorer(
            model,
            model_name=name,
            model_version=version,
            top_k=top_k,
            language=language,
            flag_band=flag_band,
            num_threads=num_threads,
            rules=rules or None,
            decision_log=decision_log,
            folder_sha256=None if loaded is None else loaded.sha256,
        )
        _CACHE[key] = scorer
        return scorer


def clear_cache() -> None:
    """Forget every loaded scorer."""
    with _LOCK:
        _CACHE.clear()


def _key(value: Any) -> Any:
    """Return a cache key part for an option: a path as text, an object by identity."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return id(value)


def _is_mlflow_uri(text: str) -> bool:
    return "://" in text or text.startswith(("models:", "runs:"))


def _load_model(text: str) -> tuple[Any, str | None, str | None, LoadedFolder | None]:
    """Return ``(model, name, version, loaded folder)`` for a folder or an MLflow URI."""
    if not _is_mlflow_uri(text):
        folder = Path(text)
        if not folder.exists():
            raise ModelNotFoundError(
                f"no model at '{text}': neither an existing model folder nor an MLflow URI "
                "(models:/<name>@<alias>, models:/<name>/<version>, runs:/<run id>/<path>)"
            )
        if (folder / MANIFEST_FILE).is_file():
            loaded = load_folder(folder)
            return loaded.model, loaded.name, loaded.version, loaded
        if (folder / "MLmodel").exists():
            return (*_load_mlflow(text), None)
        from riskscore.modeling import RiskModel

        try:
            model = RiskModel.load(folder)
        except RiskscoreError:
            raise
        except Exception as err:
            raise ModelNotFoundError(
                f"no riskscore model in folder '{text}' ({type(err).__name__}: {err}); pass a "
                "folder written by RiskModel.save or an MLflow model URI"
            ) from err
        return model, None, None, None
    return (*_load_mlflow(text), None)


def _load_mlflow(uri: str) -> tuple[Any, str | None, str | None]:
    from riskscore.registry import load_risk_model

    loaded = load_risk_model(uri)
    return loaded.model, loaded.name, loaded.version
