"""Rules and rule sets: the file format, loading with validation, and the decide verbs.

A rule set is a YAML or JSON file::

    name: marketplace            # rule-set name
    version: "2026.12"           # rule-set version (a string)
    entity: seller               # whose catalog the conditions are checked against
    band_actions:                # model band -> action (default shown)
      {low: allow, medium: allow, high: review, critical: hold}
    columns:                     # extra input columns the rules may read, with types
      main_category: string      # number, string or boolean
    rules:
      - name: very_high_score    # letters, digits, _ . -
        version: 1
        when: risk_score >= 900  # the condition (see riskscore.rules._expr)
        action: block            # allow, review, hold or block
        priority: 100            # higher first among rules of the same action
        override: false          # only an allow rule may override the model band
        reason: {en: "...", zh: "..."}

Every condition is parsed and type-checked at load time against the entity's feature
catalog, the model outputs (``risk_score``, ``score``: numbers; ``band``: string) and the
declared columns; every problem is reported at once with the rule's name, the position
and a fix.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskscore.rules._decision import ACTIONS, DEFAULT_BAND_ACTIONS, Decision, combine
from riskscore.rules._errors import RuleError, caret
from riskscore.rules._expr import TYPES, ExprError, Fn, Node, columns_of, compile_python, parse

__all__ = ["MODEL_OUTPUTS", "Rule", "RuleSet"]

#: Model outputs a condition may read, with their types.
MODEL_OUTPUTS: dict[str, str] = {"risk_score": "number", "score": "number", "band": "string"}

_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$"
_TEXT = {"type": "string", "minLength": 1}
_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "version", "rules"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": _NAME},
        "version": {"type": ["string", "integer"]},
        "entity": {"enum": ["seller", "listing"]},
        "description": {"type": "string"},
        "band_actions": {
            "type": "object",
            "additionalProperties": {"enum": list(ACTIONS)},
        },
        "columns": {
            "type": "object",
            "additionalProperties": {"enum": list(TYPES)},
        },
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "when", "action", "reason"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "pattern": _NAME},
                    "version": {"type": ["string", "integer"]},
                    "description": {"type": "string"},
                    "when": _TEXT,
                    "action": {"enum": list(ACTIONS)},
                    "priority": {"type": "integer"},
                    "override": {"type": "boolean"},
                    "reason": {
                        "type": "object",
                        "required": ["en", "zh"],
                        "additionalProperties": False,
                        "properties": {"en": _TEXT, "zh": _TEXT},
                    },
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Rule:
    """One rule: a named, versioned condition with an action and reasons in en/zh.

    Build rules through :meth:`RuleSet.from_dict` or :meth:`RuleSet.load`, which parse
    and check the condition.
    """

    name: str
    when: str
    action: str
    reason_en: str
    reason_zh: str
    version: str = "1"
    priority: int = 0
    override: bool = False
    description: str = ""
    node: Node = field(repr=False, compare=False, default=None)  # type: ignore[assignment]
    fn: Fn = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    @property
    def columns(self) -> set[str]:
        """The columns the condition reads."""
        return columns_of(self.node)

    def reason(self, language: str) -> str:
        """Return the reason text in ``language`` (``en`` or ``zh``)."""
        return self.reason_zh if language == "zh" else self.reason_en

    def to_dict(self) -> dict[str, Any]:
        """Return the rule as it appears in a rule-set file."""
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.description:
            out["description"] = self.description
        out.update(
            when=self.when,
            action=self.action,
            priority=self.priority,
            override=self.override,
            reason={"en": self.reason_en, "zh": self.reason_zh},
        )
        return out


def _order(rule: Rule) -> tuple[int, int, str]:
    """Precedence: strictest action, then higher priority, then name."""
    return (-ACTIONS.index(rule.action), -rule.priority, rule.name)


class RuleSet:
    """A validated, ordered set of rules with the band → action map.

    Build one with :meth:`load` (a file or ``file://`` URI), :meth:`from_dict` or
    :meth:`from_text`.

    Examples
    --------
    >>> rules = RuleSet.from_dict({
    ...     "name": "demo", "version": "1",
    ...     "rules": [{"name": "very_high", "when": "risk_score >= 900", "action": "block",
    ...                "reason": {"en": "Risk score 900 or more", "zh": "风险分不低于900"}}]})
    >>> rules.decide_one({}, scored={"risk_score": 950.0, "score": 0.97,
    ...                              "band": "critical"}).action
    'block'
    >>> rules.decide_many(pd.DataFrame({"risk_score": [950.0, 100.0],
    ...     "score": [0.97, 0.01], "band": ["critical", "low"]}))["action"].tolist()
    ['block', 'allow']
    """

    def __init__(
        self,
        name: str,
        version: str,
        rules: Iterable[Rule],
        *,
        entity: str = "seller",
        band_actions: Mapping[str, str] | None = None,
        columns: Mapping[str, str] | None = None,
        description: str = "",
        schema: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.entity = entity
        self.description = description
        self.band_actions = dict(DEFAULT_BAND_ACTIONS if band_actions is None else band_actions)
        self.columns = dict(columns or {})
        self.rules: tuple[Rule, ...] = tuple(sorted(rules, key=_order))
        self.schema = dict(schema or {})

    def __repr__(self) -> str:
        return f"RuleSet({self.name!r}, version={self.version!r}, rules={len(self.rules)})"

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def label(self) -> str:
        """``<name>@<version>``, written beside every decision."""
        return f"{self.name}@{self.version}"

    @property
    def needed_columns(self) -> list[str]:
        """Every column some rule reads, sorted."""
        rules = self.rules
        cached = self.__dict__.get("_needed")
        if cached is None or cached[0] is not rules:
            names = sorted(set().union(*(r.columns for r in rules))) if rules else []
            cached = self.__dict__["_needed"] = (rules, names)
        return list(cached[1])

    # -- loading -------------------------------------------------------------------
    @classmethod
    def load(cls, path_or_uri: str | os.PathLike[str]) -> RuleSet:
        """Load and validate a rule set from a file, a ``file://`` URI or MLflow.

        ``models:/<name>@<alias>`` and ``models:/<name>/<version>`` read the rule set
        logged beside that model version (:func:`riskscore.registry._log.log_rules`: the
        run's ``rules/ruleset.yaml``); ``runs:/<run id>`` the same for a run, and
        ``runs:/<run id>/<path>`` that artifact. ``MLFLOW_TRACKING_URI`` decides the
        tracking server.

        Raises
        ------
        RuleError
            The file is missing or unreadable, or a rule is invalid (every problem at
            once: the rule's name, the position in its condition and the fix).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "rules.yaml"
        >>> _ = path.write_text('''
        ... name: demo
        ... version: "1"
        ... rules:
        ...   - name: banned_links
        ...     when: network__bad_neighbours >= 3
        ...     action: hold
        ...     reason: {en: "3 or more linked shops banned", zh: "关联店铺中至少3家已被处置"}
        ... ''')
        >>> RuleSet.load(path)
        RuleSet('demo', version='1', rules=1)
        """
        text_path = os.fspath(path_or_uri)
        if text_path.startswith(("runs:/", "models:/")):
            return cls._load_logged(text_path)
        if "://" in text_path:
            from urllib.parse import unquote, urlparse

            parsed = urlparse(text_path)
            if parsed.scheme != "file":
                raise RuleError(
                    f"cannot load rule set {text_path!r}: only local paths, file:// URIs, "
                    "models:/ and runs:/ URIs are supported; fix: download the file first "
                    "and pass its path"
                )
            text_path = unquote(parsed.path)
        path = Path(text_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise RuleError(
                f"cannot read rule set '{path}': {err.strerror or err}; fix: pass the path of "
                "an existing .yaml, .yml or .json file"
            ) from None
        return cls.from_text(text, source=str(path), json_format=path.suffix == ".json")

    @classmethod
    def _load_logged(cls, uri: str) -> RuleSet:
        """Download the rule set logged with a model version or run, and load it."""
        import tempfile

        from riskscore.exceptions import ModelNotFoundError
        from riskscore.registry._log import download_rules

        with tempfile.TemporaryDirectory(prefix="riskscore-rules-") as tmp:
            try:
                path = download_rules(uri, tmp)
            except ModelNotFoundError as err:
                raise RuleError(str(err)) from None
            text = path.read_text(encoding="utf-8")
        return cls.from_text(text, source=uri, json_format=path.suffix == ".json")

    @classmethod
    def from_text(cls, text: str, *, source: str = "<text>", json_format: bool = False) -> RuleSet:
        """Parse YAML (or JSON) text and validate it (see :meth:`from_dict`)."""
        try:
            if json_format:
                data = json.loads(text)
            else:
                import yaml

                data = yaml.safe_load(text)
        except Exception as err:  # yaml.YAMLError / json.JSONDecodeError
            kind = "JSON" if json_format else "YAML"
            raise RuleError(
                f"rule set {source}: not valid {kind}: {err}; fix: check the file's syntax"
            ) from None
        return cls.from_dict(data, source=source)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<dict>") -> RuleSet:
        """Validate ``data`` (a rule-set file's content) and build the rule set.

        Raises
        ------
        RuleError
            Listing every problem: structure (jsonschema), duplicated names, unknown
            columns ("did you mean ..."), syntax and type errors with the position.
        """
        import jsonschema

        validator = jsonschema.Draft202012Validator(_SCHEMA)
        problems = []
        for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
            where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
            path = list(err.absolute_path)
            if len(path) >= 2 and path[0] == "rules" and isinstance(data, Mapping):
                spec = data["rules"][path[1]]
                if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
                    where = f"rule {spec['name']!r} ({where})"
            problems.append(f"{where}: {err.message}")
        if problems:
            raise RuleError(_report(source, problems, "fix the rule-set file's structure"))
        entity = str(data.get("entity", "seller"))
        columns = {str(k): str(v) for k, v in (data.get("columns") or {}).items()}
        base = _schema(entity, {})
        schema = {**base, **columns}
        clashes = sorted(set(columns) & set(base))
        problems = [
            f"columns: {c!r} is already a catalog feature or model output; remove it"
            for c in clashes
        ]
        band_actions = dict(DEFAULT_BAND_ACTIONS)
        band_actions.update({str(k): str(v) for k, v in (data.get("band_actions") or {}).items()})
        rules: list[Rule] = []
        seen: set[str] = set()
        for spec in data["rules"]:
            name = spec["name"]
            if name in seen:
                problems.append(f"rule {name!r}: the name is used twice; names must be unique")
                continue
            seen.add(name)
            if spec.get("override") and spec["action"] != "allow":
                problems.append(
                    f"rule {name!r}: override: true needs action 'allow' (got "
                    f"{spec['action']!r}); stricter actions always apply, remove override"
                )
            when = spec["when"]
            try:
                node = parse(when, schema)
            except ExprError as err:
                problems.append(
                    f"rule {name!r}: {err.message} at position {err.pos + 1} of its condition\n"
                    f"{caret(when, err.pos)}\n"
                    f"    expected {err.expected}; fix: {err.fix}"
                )
                continue
            rules.append(
                Rule(
                    name=name,
                    when=when,
                    action=spec["action"],
                    reason_en=spec["reason"]["en"],
                    reason_zh=spec["reason"]["zh"],
                    version=str(spec.get("version", "1")),
                    priority=int(spec.get("priority", 0)),
                    override=bool(spec.get("override", False)),
                    description=str(spec.get("description", "")),
                    node=node,
                    fn=compile_python(node),
                )
            )
        if problems:
            if len(problems) == 1 and problems[0].startswith("rule "):
                raise RuleError(problems[0] + f"\n(in {source})")
            raise RuleError(_report(source, problems, "fix each rule listed"))
        return cls(
            str(data["name"]),
            str(data["version"]),
            rules,
            entity=entity,
            band_actions=band_actions,
            columns=columns,
            description=str(data.get("description", "")),
            schema=schema,
        )

    # -- serialising ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return the rule set as a file's content (round-trips through :meth:`from_dict`).

        Log it beside a model version (e.g. as ``rules.json``) to record which rules
        were tested with it.
        """
        out: dict[str, Any] = {"name": self.name, "version": self.version, "entity": self.entity}
        if self.description:
            out["description"] = self.description
        out["band_actions"] = dict(self.band_actions)
        if self.columns:
            out["columns"] = dict(self.columns)
        out["rules"] = [r.to_dict() for r in self.rules]
        return out

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the rule set to ``path`` (``.json``, or YAML for ``.yaml``/``.yml``)."""
        target = Path(path)
        if target.suffix == ".json":
            text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        else:
            import yaml

            text = yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)
        target.write_text(text, encoding="utf-8")
        return target

    def sha256(self) -> str:
        """Return a hash of the rule set's content (stable across formats and key order)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()

    # -- deciding ------------------------------------------------------------------
    def decide_one(
        self,
        record: Mapping[str, Any],
        scored: Any = None,
        *,
        language: str = "en",
    ) -> Decision:
        """Decide for one entity: its features (``record``) and its model score.

        Parameters
        ----------
        record : mapping
            Feature values (and declared columns) by name; NaN, infinities and ``None``
            are NULL.
        scored : RiskScore or mapping, optional
            The model's output: a :class:`~riskscore.scoring.RiskScore` or a dict with
            ``risk_score``, ``score``, ``band`` (and optionally ``reasons``). Without it
            the model takes no part and rules reading its outputs refuse.
        language : {"en", "zh"}, default "en"
            Language of the rules' reasons.

        Returns
        -------
        Decision

        Examples
        --------
        >>> rules = RuleSet.from_dict({"name": "d", "version": "1", "rules": [
        ...     {"name": "new_shop", "when": "account__age_days < 30", "action": "review",
        ...      "reason": {"en": "New shop", "zh": "新店"}}]})
        >>> d = rules.decide_one({"account__age_days": 3}, language="zh")
        >>> d.action, d.rules_fired, d.reasons
        ('review', ('new_shop',), ('新店',))
        """
        _check_language(language)
        values, band, model_reasons, entity_id = _one_inputs(record, scored)
        row = self._normalise(values)
        fired = [r for r in self.rules if r.fn(row) is True]
        if band is not None and band not in self.band_actions:
            raise RuleError(
                f"band {band!r} has no action in the rule set's band_actions "
                f"{self.band_actions}; fix: add it under 'band_actions:'"
            )
        action, decided_by = combine(
            [(r.name, r.action, r.override) for r in fired], band, self.band_actions
        )
        return Decision(
            action=action,
            decided_by=decided_by,
            rules_fired=tuple(r.name for r in fired),
            reasons=tuple(r.reason(language) for r in fired) + tuple(model_reasons),
            band=band,
            rule_set=self.label,
            entity_id=entity_id,
        )

    def decide(self, result: Any, record: Mapping[str, Any] | None = None, **kw: Any) -> Decision:
        """Decide from a :class:`~riskscore.scoring.RiskScore` (and optional features).

        A shortcut for ``decide_one(record or {}, scored=result)``: the helper a
        ``Scorer`` user calls on ``scorer.score_one(...)``'s result.
        """
        return self.decide_one(record or {}, scored=result, **kw)

    def _normalise(self, values: Mapping[str, Any]) -> dict[str, Any]:
        needed = self.needed_columns
        missing = [c for c in needed if c not in values]
        if missing:
            outputs = [c for c in missing if c in MODEL_OUTPUTS]
            hint = (
                "pass scored= (the model's RiskScore or a dict with risk_score, score, band)"
                if outputs
                else "add them to the record"
            )
            raise RuleError(f"the record lacks column(s) the rules read: {missing}; fix: {hint}")
        schema = self.schema
        return {c: _scalar(values[c], schema[c], c) for c in needed}

    def decide_many(self, frame: pd.DataFrame, *, language: str = "en") -> pd.DataFrame:
        """Decide for every row of ``frame`` (features, declared columns and scores).

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per entity with the columns the rules read; ``band`` (when present)
            and ``reason_<k>_text`` columns feed the model's part, as
            :meth:`Scorer.score_many <riskscore.scoring.Scorer.score_many>` writes them.
        language : {"en", "zh"}, default "en"

        Returns
        -------
        pandas.DataFrame
            Same index as ``frame``; the id column when ``frame`` has one, then
            ``action``, ``decided_by``, ``rules_fired`` (list), ``reasons`` (list) and
            ``rule_set``.
        """
        from riskscore.rules._many import fired_matrix, precedence

        _check_language(language)
        if not isinstance(frame, pd.DataFrame):
            raise RuleError(
                f"decide_many takes a pandas DataFrame; got {type(frame).__name__}; "
                "fix: convert it with .to_pandas()"
            )
        fired = fired_matrix(self.rules, frame, self.schema)
        n = len(frame)
        bands = frame["band"] if "band" in frame.columns else np.full(n, None, dtype=object)
        action, decided = precedence(self.rules, fired, bands, self.band_actions)
        names = [r.name for r in self.rules]
        texts = [r.reason(language) for r in self.rules]
        patterns, inverse = _patterns(fired)
        with _gc_paused():  # millions of small lists: the collector would triple the time
            fired_lists = _lists_of(patterns, inverse, names)
            reason_lists = _lists_of(patterns, inverse, texts)
            _add_model_reasons(frame, reason_lists)
        data: dict[str, Any] = {}
        key = f"{self.entity}_id"
        if key in frame.columns:
            data[key] = frame[key].to_numpy()
        data["action"] = action
        data["decided_by"] = decided
        data["rules_fired"] = fired_lists
        data["reasons"] = reason_lists
        data["rule_set"] = np.full(n, self.label, dtype=object)
        return pd.DataFrame(data, index=frame.index)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector in the block (the lists hold no cycles)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _patterns(fired: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct rows of ``fired`` and each row's index into them."""
    n, width = fired.shape
    if width == 0:
        return np.zeros((1, 0), dtype=bool), np.zeros(n, dtype=np.intp)
    if width <= 63:
        weights = np.left_shift(np.int64(1), np.arange(width, dtype=np.int64))
        codes = fired.astype(np.int64) @ weights
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        return fired[first], np.asarray(inverse).ravel()
    packed = np.packbits(fired, axis=1)
    keys: dict[bytes, int] = {}
    inverse = np.empty(n, dtype=np.intp)
    rows: list[int] = []
    for i, row in enumerate(packed):
        k = row.tobytes()
        j = keys.get(k)
        if j is None:
            j = keys[k] = len(rows)
            rows.append(i)
        inverse[i] = j
    return fired[rows], inverse


def _lists_of(patterns: np.ndarray, inverse: np.ndarray, labels: list[str]) -> list[list[str]]:
    """One new list per row: the labels whose column fired, in column order."""
    per_pattern = [[labels[j] for j in np.flatnonzero(p)] for p in patterns]
    return [per_pattern[i][:] for i in inverse.tolist()]


def _add_model_reasons(frame: pd.DataFrame, lists: list[list[str]]) -> None:
    """Append each row's ``reason_<k>_text`` values (non-empty strings) to its list."""
    cols = []
    k = 1
    while f"reason_{k}_text" in frame.columns:
        cols.append(f"reason_{k}_text")
        k += 1
    if not cols:
        return
    values = frame[cols].to_numpy(dtype=object)
    present = np.zeros(values.shape, dtype=bool)
    for j in range(len(cols)):
        present[:, j] = [isinstance(v, str) and v != "" for v in values[:, j]]
    for row in np.flatnonzero(present.any(axis=1)).tolist():
        lists[row].extend(v for v, ok in zip(values[row], present[row], strict=True) if ok)


def _check_language(language: str) -> None:
    if language not in ("en", "zh"):
        raise RuleError(f"language must be 'en' or 'zh'; got {language!r}")


def _scalar(value: Any, kind: str, name: str) -> Any:
    """One value as the rules see it: None for NULL, float / str / bool by type."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if kind == "number":
        if isinstance(value, str | bytes | bool | np.bool_):
            raise RuleError(
                f"column {name!r} must be a number; got {value!r}; fix: pass a number "
                "(or declare the column's type under 'columns:')"
            )
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise RuleError(f"column {name!r} must be a number; got {value!r}") from None
        return x if np.isfinite(x) else None
    if kind == "boolean":
        if isinstance(value, float) and np.isnan(value):
            return None
        return bool(value)
    if isinstance(value, float) and np.isnan(value):
        return None
    return str(value)


def _one_inputs(
    record: Mapping[str, Any], scored: Any
) -> tuple[dict[str, Any], str | None, list[str], str | None]:
    """Merge ``record`` and the model output; return values, band, reasons, entity id."""
    if not isinstance(record, Mapping):
        raise RuleError(f"record must be a mapping of column -> value; got {type(record).__name__}")
    values = dict(record)
    if scored is None:
        return values, None, [], None
    if hasattr(scored, "to_dict") and hasattr(scored, "band"):
        info = scored.to_dict()
    elif isinstance(scored, Mapping):
        info = dict(scored)
    else:
        raise RuleError(
            f"scored must be a RiskScore or a dict with risk_score, score and band; "
            f"got {type(scored).__name__}"
        )
    for k in MODEL_OUTPUTS:
        if k in info:
            values[k] = info[k]
    band = info.get("band")
    band = None if band is None or (isinstance(band, float) and np.isnan(band)) else str(band)
    reasons: list[str] = []
    for r in info.get("reasons") or ():
        text = r.get("text") if isinstance(r, Mapping) else getattr(r, "text", r)
        if isinstance(text, str) and text:
            reasons.append(text)
    return values, band, reasons, info.get("entity_id")


def _schema(entity: str, columns: Mapping[str, str]) -> dict[str, str]:
    from riskscore.features import catalog

    schema = {str(n): "number" for n in catalog(entity)["name"]}  # type: ignore[arg-type]
    schema.update(MODEL_OUTPUTS)
    schema.update(columns)
    return schema


def _report(source: str, problems: list[str], fix: str) -> str:
    head = f"rule set {source}: {len(problems)} problem(s); {fix}:"
    return "\n".join([head, *(f"  - {p}" for p in problems)])
