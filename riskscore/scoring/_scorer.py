"""The :class:`Scorer`: one code path from features to scores, bands and reasons.

``score_one`` (a dict), ``score_many`` (a frame), ``score_entities`` (raw tables), the
MLflow pyfunc and Spark all end in the same private step, :meth:`Scorer._score_matrix`,
which takes a float64 matrix in the model's feature order:

1. raw log-odds from the LightGBM booster (``num_threads=1`` for one row),
2. the model's calibration to a probability, its 0-1000 risk score and band,
3. exact TreeSHAP contributions (``pred_contrib=True``) for the rows to explain, turned
   into reason codes by :mod:`riskscore.explain`.

Reasons only name features that push the risk up (a positive contribution of at least
impact 1, 0.05 log-odds). A row with nothing notable — in the model's lowest band, where
any push up still leaves the seller low risk, or with no such feature — gets the single
reason "no strong risk signal" (:func:`~riskscore.scoring._result.no_signal_reason`,
code ``NO_STRONG_SIGNAL``) instead of its least-bad features under risky-sounding codes.

The single-record path builds a numpy row straight from the dict: no pandas on it.

Decisions and the decision log: ``Scorer(model, rules=ruleset)`` adds the rule set's
decision to every answer (``RiskScore.decision`` / ``action`` / ``rules_fired``, and the
decision columns of :mod:`riskscore.rules._batch` in frames), and
``Scorer(model, decision_log=path)`` appends one record per answer to the decision log
(:mod:`riskscore.rules._log`). Both are off by default.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from riskscore._deprecation import renamed_attribute
from riskscore.exceptions import ExplanationError, ScoringError
from riskscore.modeling._encoding import FeatureLayout, FloatMatrix
from riskscore.scoring._model import ModelParts, model_parts
from riskscore.scoring._result import (
    DECISION_FIELDS,
    REASON_FIELDS,
    Reason,
    RiskScore,
    no_signal_reason,
    output_columns,
)

if TYPE_CHECKING:
    from riskscore.rules import RuleSet
    from riskscore.rules._log import DecisionLog

__all__ = ["ExplainMode", "Scorer"]

ExplainMode = Literal["flagged", "all", "none"]

_EXPLAIN_MODES = ("flagged", "all", "none")


def _explain_mode(explain: Any, *, allow_bool: bool) -> ExplainMode:
    """Check an ``explain`` argument; ``True``/``False`` mean ``"all"``/``"none"``."""
    if allow_bool and isinstance(explain, bool | np.bool_):
        return "all" if explain else "none"
    if isinstance(explain, str) and explain in _EXPLAIN_MODES:
        return explain  # type: ignore[return-value]
    allowed = "True, False, " if allow_bool else ""
    raise ScoringError(
        f"The 'explain' parameter must be one of {allowed}'flagged', 'all', 'none'. "
        f"Got {explain!r} instead."
    )


@dataclass(frozen=True)
class _Scored:
    """Columnar output of :meth:`Scorer._score_matrix`.

    ``score``, ``risk_score`` and ``band`` have one entry per row; ``reasons`` has one
    entry per explained row, at the row positions ``explained``.
    """

    score: np.ndarray
    risk_score: np.ndarray
    band: np.ndarray
    explained: np.ndarray
    reasons: list[tuple[Reason, ...]]


class Scorer:
    """Score sellers or listings with one model, from dicts, frames or raw tables.

    Parameters
    ----------
    model : RiskModel
        A trained :class:`riskscore.modeling.RiskModel` (or a folder loaded with
        :func:`riskscore.scoring.load_scorer`).
    model_name, model_version : str, optional
        Written on every output row; default: what the model records about itself.
    top_k : int, default 3
        Reasons per explained row.
    language : {"en", "zh"}, default "en"
        Language of the reason sentences.
    flag_band : str, optional
        ``explain="flagged"`` explains rows in this band or above; default: the model's
        second-highest band.
    num_threads : int, default 0
        LightGBM threads for frames (0: LightGBM's default). One row always uses 1.
    rules : RuleSet or path, optional
        A rule set (or its file): every answer then carries the decision (``action``,
        ``decided_by``, ``rules_fired``, ``rule_reasons``, ``rule_set``).
    decision_log : path or DecisionLog, optional
        Append one record per answer to this decision log (a ``.jsonl`` file or a folder
        of daily files; see :mod:`riskscore.rules._log`). Off by default.
    folder_sha256 : str, optional
        Identity of the model folder the model came from (set by
        :func:`~riskscore.scoring.load_scorer`), written into the decision log.

    Examples
    --------
    >>> from riskscore.scoring._demo import demo_model
    >>> scorer = Scorer(demo_model())
    >>> record = dict.fromkeys(scorer.feature_names, 0.0)
    >>> result = scorer.score_one(record, explain=False)
    >>> 0.0 <= result.score <= 1.0, 0 <= result.risk_score <= 1000
    (True, True)
    """

    def __init__(
        self,
        model: Any,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
        top_k: int = 3,
        language: Literal["en", "zh"] = "en",
        flag_band: str | None = None,
        num_threads: int = 0,
        rules: RuleSet | str | os.PathLike[str] | None = None,
        decision_log: DecisionLog | str | os.PathLike[str] | None = None,
        folder_sha256: str | None = None,
    ) -> None:
        if isinstance(top_k, bool) or not isinstance(top_k, int | np.integer) or top_k < 1:
            raise ScoringError(f"top_k must be a positive int; got {top_k!r}")
        if not isinstance(language, str) or language not in ("en", "zh"):
            raise ScoringError(f"language must be 'en' or 'zh'; got {language!r}")
        self.model = model
        self._parts: ModelParts = model_parts(model)
        self.model_name = model_name or self._parts.name
        self.model_version = str(model_version or self._parts.version)
        self.top_k = top_k
        self.language = language
        self.num_threads = num_threads
        bands = list(self._parts.band_names)
        if flag_band is None:
            flag_band = bands[-2] if len(bands) >= 2 else bands[-1]
        if not isinstance(flag_band, str) or flag_band not in bands:
            raise ScoringError(
                f"flag_band must be one of the model's bands {bands}; got {flag_band!r}"
            )
        self.flag_band = flag_band
        self._flagged_names = np.array(bands[bands.index(flag_band) :], dtype=object)
        # rows in the lowest band have nothing notable to report
        self._quiet_band = bands[0] if len(bands) >= 2 else None
        self.layout = FeatureLayout.from_catalog(
            self._parts.feature_names,
            self._parts.catalog,
            self.id_col,
            self._parts.categories,
        )
        self.rules = _rule_set(rules, self._parts.entity)
        self.decision_log = _decision_log(decision_log)
        self.folder_sha256 = folder_sha256

    def with_options(self, *, top_k: int | None = None, language: str | None = None) -> Scorer:
        """Return a scorer of the same model, rules and log with other reason options."""
        return Scorer(
            self.model,
            model_name=self.model_name,
            model_version=self.model_version,
            top_k=top_k or self.top_k,
            language=language or self.language,  # type: ignore[arg-type]
            flag_band=self.flag_band,
            num_threads=self.num_threads,
            rules=self.rules,
            decision_log=self.decision_log,
            folder_sha256=self.folder_sha256,
        )

    # -- description ------------------------------------------------------------------

    @property
    def entity(self) -> str:
        """The entity the model scores (``seller`` or ``listing``)."""
        return self._parts.entity

    @property
    def id_col(self) -> str:
        """The id column of the entity, e.g. ``seller_id``."""
        return f"{self._parts.entity}_id"

    id_column = renamed_attribute("id_col", "id_column", owner="Scorer")

    @property
    def feature_names(self) -> list[str]:
        """Feature names in the model's column order."""
        return list(self._parts.feature_names)

    @property
    def columns(self) -> list[str]:
        """Columns of :meth:`score_many` output, in order.

        With a rule set, the decision columns come last.
        """
        cols = output_columns(self.id_col, self.top_k)
        return cols if self.rules is None else [*cols, *DECISION_FIELDS]

    def __repr__(self) -> str:
        return (
            f"Scorer(model={self.model_name!r}, version={self.model_version!r}, "
            f"entity={self.entity!r}, n_features={len(self._parts.feature_names)})"
        )

    # -- public verbs -----------------------------------------------------------------

    def score_one(
        self,
        record: Mapping[str, Any],
        explain: bool | ExplainMode = True,
        *,
        as_of: Any = None,
        scored_at: Any = None,
    ) -> RiskScore:
        """Score one entity from a mapping of feature name to value.

        Parameters
        ----------
        record : mapping
            Feature values by name (numbers; ``None`` or NaN where the catalog allows a
            missing value). Extra keys are ignored; the entity id is read from
            ``<entity>_id`` when present.
        explain : bool or {"flagged", "all", "none"}, default True
            Add the top reasons: ``True`` or ``"all"`` always, ``"flagged"`` when the
            band is :attr:`flag_band` or above (as in :meth:`score_many`), ``False`` or
            ``"none"`` never.
        as_of, scored_at : timestamp-like, optional
            Written into the result (``scored_at`` defaults to now, UTC).

        Returns
        -------
        RiskScore

        Raises
        ------
        ScoringError
            A feature is missing, text, infinite, beyond the float64 range, or NaN where
            the catalog forbids it; ``explain``, ``as_of`` or ``scored_at`` is not one
            of the accepted values.

        Examples
        --------
        >>> from riskscore.scoring._demo import demo_model
        >>> scorer = Scorer(demo_model())
        >>> record = {"seller_id": "S1", **dict.fromkeys(scorer.feature_names, 1.0)}
        >>> scorer.score_one(record).entity_id
        'S1'
        """
        if not isinstance(record, Mapping):
            raise ScoringError(
                f"score_one takes a mapping of feature name to value; got "
                f"{type(record).__name__} (use score_many for frames)"
            )
        mode = _explain_mode(explain, allow_bool=True)
        as_of_text = _iso(as_of, "as_of")
        scored_at_text = _iso(scored_at, "scored_at") or _now()
        row = self.layout.row_from_record(record)
        mask = None if mode == "flagged" else np.array([mode == "all"])
        scored = self._score_matrix(row, mask)
        entity_id = record.get(self.id_col)
        result = RiskScore(
            entity=self.entity,
            entity_id=None if entity_id is None else str(entity_id),
            model_name=self.model_name,
            model_version=self.model_version,
            score=float(scored.score[0]),
            risk_score=float(scored.risk_score[0]),
            band=str(scored.band[0]),
            reasons=scored.reasons[0] if len(scored.explained) else (),
            as_of=as_of_text,
            scored_at=scored_at_text,
        )
        if self.rules is not None:
            result = replace(
                result,
                decision=self.rules.decide_one(record, scored=result, language=self.language),
            )
        if self.decision_log is not None:
            self.decision_log.write([self.log_record(record, result, mode)])
        return result

    # -- decision log -----------------------------------------------------------------

    @property
    def logged_columns(self) -> list[str]:
        """The inputs a decision-log record keeps.

        The features in the model's order, then the declared columns the rules read.
        """
        names = list(self._parts.feature_names)
        if self.rules is not None:
            from riskscore.rules import MODEL_OUTPUTS

            seen = set(names)
            names += [
                c for c in self.rules.needed_columns if c not in MODEL_OUTPUTS and c not in seen
            ]
        return names

    def log_record(
        self,
        record: Mapping[str, Any],
        result: RiskScore,
        explain: str,
        channel: str | None = None,
    ) -> dict[str, Any]:
        """Return the decision-log record of one answer (see :mod:`riskscore.rules._log`).

        ``record`` holds the inputs as scored, ``explain`` the mode the answer was
        explained with; ``channel`` defaults to the log's (``in_process``).
        """
        from riskscore.rules._log import decision_record

        rules = self.rules
        log = self.decision_log
        return decision_record(
            channel=channel or (log.channel if log is not None else "in_process"),
            entity=self.entity,
            entity_id=result.entity_id,
            as_of=result.as_of,
            features={name: record.get(name) for name in self.logged_columns},
            model={
                "name": self.model_name,
                "version": self.model_version,
                "folder_sha256": self.folder_sha256,
            },
            rule_set=None if rules is None else {"label": rules.label, "sha256": rules.sha256()},
            options={"explain": explain, "language": self.language, "top_k": self.top_k},
            result=result.to_dict(),
            decision=result.decision_fields() or None,
        )

    def _log_frame(
        self, pdf: pd.DataFrame, out: pd.DataFrame, explain: str, channel: str | None = None
    ) -> None:
        """Append one decision-log record per row of ``out`` (inputs from ``pdf``)."""
        log = self.decision_log
        if log is None:
            return
        names = [c for c in self.logged_columns if c in pdf.columns]
        inputs: list[dict[str, Any]] = pdf[names].to_dict("records")  # type: ignore[assignment]
        rows: list[dict[str, Any]] = out.to_dict("records")  # type: ignore[assignment]
        entity = self.entity
        records = [
            self.log_record(inp, RiskScore.from_row(row, entity=entity), explain, channel)
            for inp, row in zip(inputs, rows, strict=True)
        ]
        log.write(records)

    def score_many(
        self,
        frame: Any,
        explain: ExplainMode = "flagged",
        *,
        as_of: Any = None,
        scored_at: Any = None,
    ) -> pd.DataFrame:
        """Score every row of a feature frame.

        Parameters
        ----------
        frame : DataFrame
            One row per entity with the model's feature columns (pandas, or anything
            with ``to_pandas()``, e.g. Polars). Extra columns are ignored; column order
            does not matter; the id ``<entity>_id`` is carried to the output, from its
            column or, failing that, from an index of that name (the layout
            :func:`riskscore.build_features` returns).
        explain : {"flagged", "all", "none"}, default "flagged"
            Which rows get reasons: rows in :attr:`flag_band` or above, all, or none.
        as_of, scored_at : timestamp-like, optional
            Written on every row (``scored_at`` defaults to now, UTC).

        Returns
        -------
        pandas.DataFrame
            One row per input row, in input order, with :attr:`columns`.

        Raises
        ------
        ScoringError
            Empty frame, duplicated ids, missing feature columns (with a diff of
            expected vs received columns), text, infinite or forbidden NaN values.

        Examples
        --------
        >>> import pandas as pd
        >>> from riskscore.scoring._demo import demo_model
        >>> scorer = Scorer(demo_model())
        >>> frame = pd.DataFrame([dict.fromkeys(scorer.feature_names, 0.5)] * 2)
        >>> scorer.score_many(frame, explain="none")[["score", "band"]].shape
        (2, 2)
        """
        pdf = _to_pandas(frame)
        explain = _explain_mode(explain, allow_bool=False)
        as_of = _iso(as_of, "as_of")
        scored_at = _iso(scored_at, "scored_at")
        if len(pdf) == 0:
            raise ScoringError(
                "the frame to score is empty (0 rows); pass at least one row of features"
            )
        ids = self.layout.ids_of(pdf)
        matrix = self.layout.matrix_from_frame(pdf)
        self.layout.raise_for_values(matrix, pdf)
        out = self._frame_from_matrix(matrix, ids, explain, as_of=as_of, scored_at=scored_at)
        if self.rules is not None:
            out = self._decide_frame(pdf, out)
        if self.decision_log is not None:
            self._log_frame(pdf, out, explain)
        return out

    def _decide_frame(self, pdf: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
        """Add the decision columns of :mod:`riskscore.rules._batch` to scored rows."""
        from riskscore.rules import MODEL_OUTPUTS
        from riskscore.rules._batch import add_decisions

        assert self.rules is not None
        needed = [c for c in self.rules.needed_columns if c not in MODEL_OUTPUTS]
        missing = [c for c in needed if c not in pdf.columns]
        if missing:
            raise ScoringError(
                f"rule set {self.rules.label} reads column(s) the frame lacks: {missing}; "
                "fix: add them to the frame (declared columns are not model features)"
            )
        return add_decisions(out, pdf[needed], self.rules, self.language)

    def score_entities(
        self,
        tables: Mapping[str, Any],
        ids: Sequence[str],
        as_of: Any,
        *,
        explain: ExplainMode = "flagged",
        backend: str = "pandas",
        scored_at: Any = None,
        market: Any = None,
    ) -> pd.DataFrame:
        """Compute the features of just ``ids`` from raw tables and score them.

        Every id is checked first (unknown, or no activity before ``as_of``); then only
        the ids' own rows are aggregated, against marketplace statistics (market prices,
        marketplace rates, the seller network, ...) computed once per tables and
        ``as_of`` and reused by later calls. The features equal the ids' rows of a
        whole-marketplace build, so the answer is identical to the batch (see
        :mod:`riskscore.scoring._entities`).

        Parameters
        ----------
        tables : mapping of str to DataFrame
            Marketplace tables (see :data:`riskscore.CONTRACT`).
        ids : sequence of str
            Seller or listing ids (the model's entity), unique.
        as_of : timestamp-like
            Features use rows strictly before it.
        explain : {"flagged", "all", "none"}, default "flagged"
        backend : str, default "pandas"
            Dataframe backend for the feature builders.
        scored_at : timestamp-like, optional
        market : MarketStats, optional
            Marketplace statistics at ``as_of`` from
            :func:`riskscore.features.market_stats` (same tables, ``as_of`` and
            backend). Default: kept by the feature builders for the two most recent
            tables and ``as_of`` (the first call at a new ``as_of`` pays for them).

        Returns
        -------
        pandas.DataFrame
            One row per id, in the order given.

        Raises
        ------
        ScoringError
            Unknown ids, ids with no activity before ``as_of``, duplicates or invalid
            feature values; the message names them.
        """
        from riskscore.scoring._entities import entity_features

        explain = _explain_mode(explain, allow_bool=False)
        _iso(scored_at, "scored_at")
        as_of = _as_of_time(as_of)
        features, rejects = entity_features(
            tables,
            list(ids),
            as_of,
            entity=self.entity,
            layout=self.layout,
            backend=backend,
            market=market,
        )
        if len(rejects):
            head = rejects.head(5)
            shown = "; ".join(
                f"{i}: {r} ({d})"
                for i, r, d in zip(head[self.id_col], head["reason"], head["detail"], strict=True)
            )
            raise ScoringError(
                f"{len(rejects)} of {len(ids)} {self.entity}(s) cannot be scored as of "
                f"{_iso(as_of)}: {shown}"
            )
        return self.score_many(features, explain, as_of=as_of, scored_at=scored_at)

    # -- shared path ------------------------------------------------------------------

    def _frame_from_matrix(
        self,
        matrix: FloatMatrix,
        ids: Any,
        explain: ExplainMode,
        *,
        as_of: Any = None,
        scored_at: Any = None,
    ) -> pd.DataFrame:
        """Score a checked matrix and lay the result out as :attr:`columns`."""
        n = len(matrix)
        if explain == "all":
            mask = np.ones(n, dtype=bool)
        elif explain == "none":
            mask = np.zeros(n, dtype=bool)
        else:
            mask = None  # decided from the bands inside _score_matrix
        scored = self._score_matrix(matrix, mask)
        data: dict[str, Any] = {
            self.id_col: _str_column(n, ids),
            "model_name": _str_column(n, fill=self.model_name),
            "model_version": _str_column(n, fill=self.model_version),
            "score": scored.score,
            "risk_score": scored.risk_score.astype(np.float64),
            "band": _band_column(scored.band, self._parts.band_names),
        }
        rows = scored.explained
        for k in range(self.top_k):
            slots = [r[k] if k < len(r) else None for r in scored.reasons]
            for name in REASON_FIELDS:
                values = [None if slot is None else getattr(slot, name) for slot in slots]
                data[f"reason_{k + 1}_{name}"] = _reason_column(name, n, rows, values)
        data["as_of"] = _str_column(n, fill=_iso(as_of))
        data["scored_at"] = _str_column(n, fill=_iso(scored_at) or _now())
        return pd.DataFrame(data, columns=output_columns(self.id_col, self.top_k))

    def _score_matrix(self, matrix: FloatMatrix, explain: np.ndarray | None) -> _Scored:
        """Score a checked float64 matrix; ``explain`` masks rows to explain (None: flagged)."""
        parts = self._parts
        threads = 1 if len(matrix) == 1 else self.num_threads
        raw = parts.booster.predict(matrix, raw_score=True, num_threads=threads)
        proba = parts.calibrate(raw)
        risk = parts.risk_score(raw)
        band = parts.band(risk)
        if explain is None:
            explain = np.isin(band, self._flagged_names)
        reasons: list[tuple[Reason, ...]] = []
        rows = np.flatnonzero(explain)
        if len(rows):
            if parts.reasons is None:
                raise ExplanationError(
                    f"model '{self.model_name}' version {self.model_version} has no feature "
                    "catalog, so its scores cannot be explained; score with explain=False "
                    "(score_one) or explain='none' (score_many)"
                )
            sub = matrix if len(rows) == len(matrix) else matrix[rows]
            contrib = parts.booster.predict(sub, pred_contrib=True, num_threads=threads)
            reasons = self._screen(
                parts.reasons(contrib, sub, self.top_k, self.language), band[rows]
            )
        return _Scored(score=proba, risk_score=risk, band=band, explained=rows, reasons=reasons)

    def _screen(
        self, reasons: list[tuple[Reason, ...]], bands: np.ndarray
    ) -> list[tuple[Reason, ...]]:
        """Keep reasons that push the risk up; "no strong risk signal" for quiet rows."""
        quiet = self._quiet_band
        nothing = (no_signal_reason(self.language),)
        out: list[tuple[Reason, ...]] = []
        for row, band in zip(reasons, bands, strict=True):
            kept = tuple(r for r in row if r.contribution > 0)
            out.append(nothing if not kept or band == quiet else kept)
        return out


def _reason_column(name: str, n: int, rows: np.ndarray, values: list[Any]) -> Any:
    """One reason column: ``values`` at positions ``rows``, missing elsewhere."""
    if name in ("code", "feature", "text"):
        return _scatter_str(n, rows, values)
    if name == "impact":
        ints = np.zeros(n, dtype=np.int64)
        mask = np.ones(n, dtype=bool)
        present = np.array([v is not None for v in values], dtype=bool)
        ints[rows[present]] = [v for v in values if v is not None]
        mask[rows[present]] = False
        return pd.arrays.IntegerArray(ints, mask)
    floats = np.full(n, np.nan)
    floats[rows] = [np.nan if v is None else v for v in values]
    return floats


def _scatter_str(n: int, rows: np.ndarray, values: Sequence[Any]) -> Any:
    """Return a ``str`` column of length ``n``: ``values`` at ``rows``, missing elsewhere.

    Built with one vectorised ``take`` so that mostly-empty columns of millions of rows
    cost no Python loop over the rows.
    """
    index = np.zeros(n, dtype=np.int64)
    index[rows] = np.arange(1, len(rows) + 1)
    return pd.array([None, *values], dtype="str").take(index)


def _str_column(n: int, values: Any = None, *, fill: str | None = None) -> Any:
    """Return a ``str`` column of ``values`` (None for missing), or ``n`` times ``fill``."""
    if values is None:
        return pd.array([fill], dtype="str").take(np.zeros(n, dtype=np.int64))
    if isinstance(values, pd.api.extensions.ExtensionArray) and values.dtype == "str":
        return values
    return pd.array(values, dtype="str")


def _band_column(band: np.ndarray, names: Sequence[str]) -> Any:
    """Return the band column as ``str``, built from the few band names with a ``take``."""
    index = np.full(len(band), -1, dtype=np.int64)
    for i, name in enumerate(names):
        index[band == name] = i
    if (index < 0).any():  # a band the model did not declare: convert row by row
        return pd.array(band, dtype="str")
    return pd.array(list(names), dtype="str").take(index)


def _to_pandas(frame: Any) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    if hasattr(frame, "toPandas") and hasattr(frame, "rdd"):
        raise ScoringError(
            "score_many takes an in-memory frame; score a Spark DataFrame with "
            "riskscore.scoring.score_spark"
        )
    if hasattr(frame, "to_pandas"):
        return frame.to_pandas()
    if isinstance(frame, Mapping):
        raise ScoringError("score_many takes a frame; score one mapping with score_one")
    raise ScoringError(f"score_many takes a pandas or Polars DataFrame; got {type(frame).__name__}")


def _iso(value: Any, what: str = "timestamp") -> str | None:
    """Return ``value`` as an ISO 8601 string (``None`` stays ``None``).

    Raises :class:`ScoringError` for text that is not a time, for values that are not
    times, for NaT, and for times pandas cannot hold (before 1677 or after 2262 at
    nanosecond precision); ``what`` names the argument in the message.
    """
    if value is None:
        return None
    if not isinstance(value, str | dt.datetime | dt.date | np.datetime64 | pd.Timestamp):
        raise ScoringError(
            f"{what} must be a timestamp (ISO 8601 text such as '2024-06-30', or a datetime); "
            f"got {type(value).__name__} {str(value)[:40]!r}"
        )
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, OverflowError) as err:  # OutOfBoundsDatetime is a ValueError
        raise ScoringError(
            f"{what}={str(value)[:40]!r} cannot be read as a timestamp ({err}); use ISO "
            "8601 such as '2024-06-30'"
        ) from None
    if stamp is pd.NaT:
        raise ScoringError(f"{what} is missing (NaT); pass a timestamp such as '2024-06-30'")
    return stamp.isoformat()


def _as_of_time(value: Any) -> Any:
    """Check ``as_of`` for feature building (as :func:`riskscore.features.parse_time`)."""
    from riskscore.exceptions import FeatureError
    from riskscore.features._build import parse_time

    try:
        return parse_time(value)
    except FeatureError as err:
        raise ScoringError(str(err)) from None


def _rule_set(rules: Any, entity: str) -> RuleSet | None:
    """Check the ``rules`` argument: a RuleSet, a rule-set file / URI, or None."""
    if rules is None:
        return None
    from riskscore.rules import RuleSet

    if isinstance(rules, str | os.PathLike):
        rules = RuleSet.load(rules)
    if not isinstance(rules, RuleSet):
        raise ScoringError(
            "The 'rules' parameter of Scorer must be a RuleSet or the path of a rule-set "
            f"file. Got {type(rules).__name__} instead."
        )
    if rules.entity != entity:
        raise ScoringError(
            f"rule set {rules.label} is for {rules.entity}s; the model scores {entity}s. "
            "Fix: use a rule set with entity: " + entity
        )
    return rules


def _decision_log(log: Any) -> DecisionLog | None:
    """Check the ``decision_log`` argument: a DecisionLog, a path, or None."""
    if log is None:
        return None
    from riskscore.rules._log import DecisionLog

    if isinstance(log, DecisionLog):
        return log
    if isinstance(log, str | os.PathLike):
        return DecisionLog(log)
    raise ScoringError(
        "The 'decision_log' parameter of Scorer must be a path (a .jsonl file or a folder) "
        f"or a DecisionLog. Got {type(log).__name__} instead."
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
