"""The served model and its reload: :class:`ModelSource` hands out :class:`Generation` s.

A *generation* is one loaded model (a :class:`~riskscore.scoring.Scorer` per
``(top_k, language)`` asked for). A request reads :attr:`ModelSource.current` once and
scores everything on that generation, so a reload is a single reference swap: requests
in flight finish on the old model, the next ones get the new one, none is dropped.

What "the source changed" means:

- a local model folder: its resolved path (a symlink ``current -> v7`` swapped with
  ``ln -sfn``/``os.replace`` is the atomic way to deploy) and the name, size and mtime
  of every file in it. A change is loaded once it has been the same for two polls in a
  row (so a folder being written is not read half-way), and only swapped in when the
  fingerprint did not move while loading. A load that fails keeps the old model serving
  and is retried at the next change.
- a registry alias (``models:/name@champion``) when MLflow is importable: the version the
  alias points at, read through :mod:`riskscore.registry`.
- anything else (``models:/name/3``, ``runs:/...``): immutable, never polled.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from riskscore.scoring import Scorer, load_scorer

__all__ = ["Generation", "ModelSource"]

log = logging.getLogger("riskscore.serve")

#: Files deeper than this in a model folder are not part of the fingerprint.
_MAX_FILES = 1000


@dataclass
class Generation:
    """One loaded model and the scorers built from it.

    Parameters
    ----------
    scorer : Scorer
        The scorer with the service's default ``top_k`` and ``language``.
    fingerprint : object
        What the source looked like when it was loaded.
    """

    scorer: Scorer
    fingerprint: Any = None
    _variants: dict[tuple[int, str], Scorer] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def scorer_for(self, top_k: int | None, language: str | None) -> Scorer:
        """Return the scorer for ``top_k`` and ``language`` (built once per generation)."""
        base = self.scorer
        key = (top_k or base.top_k, language or base.language)
        if key == (base.top_k, base.language):
            return base
        found = self._variants.get(key)
        if found is None:
            with self._lock:
                found = self._variants.get(key)
                if found is None:  # same model, rule set and decision log
                    found = base.with_options(top_k=key[0], language=key[1])
                    self._variants[key] = found
        return found


class ModelSource:
    """Where the served model comes from, the loaded :class:`Generation`, and its reload.

    Parameters
    ----------
    uri : str
        Anything :func:`riskscore.load_scorer` accepts.
    top_k : int, default 3
    language : {"en", "zh"}, default "en"
        Defaults of every answer (a request may ask for others).
    num_threads : int, default 1
        LightGBM threads for batches (one row always uses 1).
    rules : RuleSet or path, optional
        The rule set deciding every answer (default: the model folder's own, if any).
    decision_log : path or DecisionLog, optional
        Append every answer to this decision log (channel ``http``).

    Examples
    --------
    >>> source = ModelSource("models:/riskscore-seller-fraud@champion")
    >>> source.kind, source.current is None
    ('alias', True)
    """

    def __init__(
        self,
        uri: str | os.PathLike[str],
        *,
        top_k: int = 3,
        language: Literal["en", "zh"] = "en",
        num_threads: int = 1,
        rules: Any = None,
        decision_log: Any = None,
    ) -> None:
        self.uri = os.fspath(uri)
        self.rules = rules
        if isinstance(decision_log, str | os.PathLike):
            from riskscore.rules._log import DecisionLog

            decision_log = DecisionLog(decision_log, channel="http")
        self.decision_log = decision_log
        self.top_k = top_k
        self.language = language
        self.num_threads = num_threads
        self.current: Generation | None = None
        self.last_error: str | None = None
        self._pending: Any = None
        self._failed: Any = None

    @property
    def kind(self) -> Literal["folder", "alias", "fixed"]:
        """``folder`` (watched files), ``alias`` (watched registry alias) or ``fixed``."""
        if "://" not in self.uri and not self.uri.startswith(("models:", "runs:")):
            return "folder"
        if self.uri.startswith("models:/") and "@" in self.uri:
            return "alias"
        return "fixed"

    @property
    def watchable(self) -> bool:
        """Whether :meth:`poll` can see a change (an alias needs MLflow importable)."""
        if self.kind == "alias":
            return importlib.util.find_spec("mlflow") is not None
        return self.kind == "folder"

    def fingerprint(self) -> Any:
        """Return what identifies the source's current content (``None``: unknown)."""
        if self.kind == "folder":
            return _folder_fingerprint(Path(self.uri))
        if self.kind == "alias" and self.watchable:
            # the registry is the one place that talks to MLflow (no public verb yet)
            from riskscore.registry._load import _version_of
            from riskscore.registry._tracking import _tracking

            with _tracking(None) as client:
                name, version = _version_of(client, self.uri)
            return (name, str(version.version))
        return None

    def load(self) -> Generation:
        """Load the model now (blocking), make it current and return it.

        Raises
        ------
        RiskscoreError
            The model cannot be loaded (the current generation, if any, stays).
        """
        before = self.fingerprint() if self.watchable else None
        first = self.current is None
        scorer = load_scorer(
            self.uri,
            top_k=self.top_k,
            language=self.language,
            num_threads=self.num_threads,
            rules=self.rules,
            decision_log=self.decision_log,
            reload=not first,
        )
        generation = Generation(scorer, before)
        self.current = generation  # the swap: one reference assignment
        self.last_error = None
        self._pending = None
        return generation

    def poll(self) -> bool:
        """Check the source once; reload when it changed and has settled.

        Returns
        -------
        bool
            True when a new generation was swapped in.

        Raises
        ------
        RiskscoreError
            The changed source cannot be loaded (the old model keeps serving).
        """
        if not self.watchable:
            return False
        now = self.fingerprint()
        if now is None:  # a folder not there (yet, or during a non-atomic swap)
            return False
        current = self.current
        if current is not None and now == current.fingerprint:
            self._pending = None
            return False
        if now == self._failed:  # this content failed to load already: wait for a change
            return False
        if self.kind == "folder" and now != self._pending:
            self._pending = now  # changed: wait one more poll for it to settle
            return False
        try:
            generation = self._load_checked(now)
        except Exception:
            self._failed = now
            raise
        return generation is not None

    def _load_checked(self, expected: Any) -> Generation | None:
        scorer = load_scorer(
            self.uri,
            top_k=self.top_k,
            language=self.language,
            num_threads=self.num_threads,
            rules=self.rules,
            decision_log=self.decision_log,
            reload=True,
        )
        after = self.fingerprint()
        if after != expected:  # written to while loading: try again at the next poll
            self._pending = after
            return None
        generation = Generation(scorer, after)
        old = self.current
        self.current = generation
        self._pending = None
        log.warning(
            "riskscore serve: model reloaded from %s: version %s -> %s",
            self.uri,
            None if old is None else old.scorer.model_version,
            scorer.model_version,
        )
        return generation


def _folder_fingerprint(folder: Path) -> Any:
    """Return the resolved path and (name, size, mtime) of each file; None if missing."""
    try:
        real = folder.resolve(strict=True)
    except OSError:
        return None
    entries: list[tuple[str, int, int]] = []
    for root, _dirs, files in os.walk(real):
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            entries.append((os.path.relpath(path, real), st.st_size, st.st_mtime_ns))
            if len(entries) >= _MAX_FILES:
                break
    return (str(real), tuple(sorted(entries)))
