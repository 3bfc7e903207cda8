"""What scoring returns for one entity: :class:`RiskScore` and its :class:`Reason` items.

The same content comes back as one :class:`RiskScore` per entity from
:meth:`~riskscore.scoring.Scorer.score_one` and as one row per entity from
:meth:`~riskscore.scoring.Scorer.score_many`. :func:`RiskScore.from_row` turns a row of the
latter into the former, so the two can be compared field by field.

The flat row layout (used by frames, CSV/Parquet files, the MLflow server and Spark) is::

    <id column>, model_name, model_version, score, risk_score, band,
    reason_1_code, reason_1_feature, reason_1_value, reason_1_impact,
    reason_1_contribution, reason_1_text, ... up to reason_<k>_*, as_of, scored_at
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from riskscore._deprecation import renamed_argument
from riskscore.explain._reasons import NO_SIGNAL_CODE, NO_SIGNAL_TEXT, no_signal_fields
from riskscore.registry._contract import REASON_FIELDS  # the pyfunc contract: one list
from riskscore.rules._decision import Decision

__all__ = [
    "DECISION_FIELDS",
    "NO_SIGNAL_CODE",
    "NO_SIGNAL_TEXT",
    "REASON_FIELDS",
    "Reason",
    "RiskScore",
    "no_signal_reason",
    "output_columns",
]

#: Keys a decided answer adds to :meth:`RiskScore.to_dict` (and columns to a frame).
DECISION_FIELDS: tuple[str, ...] = (
    "action",
    "decided_by",
    "rules_fired",
    "rule_reasons",
    "rule_set",
)


@dataclass(frozen=True)
class Reason:
    """One reason a score is high (or low).

    Parameters
    ----------
    code : str
        Stable reason code, e.g. ``PRICE_FAR_BELOW_MARKET``.
    feature : str
        The feature the reason comes from.
    value : float or None
        The feature's value for this entity (``None`` when missing).
    impact : int
        Impact band 0-5, comparable across rows.
    contribution : float
        The feature's exact TreeSHAP contribution, in log-odds.
    text : str
        A plain-language sentence, e.g. "Median price is 48% of the market price".
    """

    code: str
    feature: str
    value: float | None
    impact: int
    contribution: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        """Return the reason as a JSON-serialisable dict."""
        return asdict(self)

    @property
    def is_signal(self) -> bool:
        """False for the "no strong risk signal" answer (:data:`NO_SIGNAL_CODE`)."""
        return self.code != NO_SIGNAL_CODE


def no_signal_reason(language: str = "en") -> Reason:
    """Return the one reason of a row with nothing notable: "no strong risk signal".

    It names no feature (``feature`` is ``""``, ``value`` is ``None``) and has impact 0
    and contribution 0.0, so it never reads as a risk.

    Examples
    --------
    >>> no_signal_reason("zh").text, no_signal_reason().code
    ('无明显风险信号', 'NO_STRONG_SIGNAL')
    """
    return Reason(**no_signal_fields(language))


@dataclass(frozen=True)
class RiskScore:
    """The risk score of one seller or listing, JSON-serialisable with :meth:`to_dict`.

    Parameters
    ----------
    entity : {"seller", "listing"}
        What was scored.
    entity_id : str or None
        Its id (``None`` when the record carried none).
    model_name, model_version : str
        The model that scored it.
    score : float
        Calibrated probability of the target (counterfeit or fraud), in [0, 1].
    risk_score : float
        0-1000; the higher, the riskier. Its value maps to the false-positive rate measured
        when the model was trained (see the model's risk-score table).
    band : str
        Review band, e.g. ``low``, ``medium``, ``high``, ``critical``.
    reasons : tuple of Reason
        Top reasons pushing the score up, strongest first; only features whose
        contribution is positive. An explained row in the lowest band, or with no such
        feature, has the single reason :func:`no_signal_reason` ("no strong risk
        signal"). Empty when not explained.
    as_of : str or None
        ISO timestamp the features were computed as of (``None`` when not known).
    scored_at : str
        ISO timestamp of scoring.
    decision : Decision or None
        The rule set's decision (:class:`riskscore.rules.Decision`) when the scorer has
        one (``Scorer(model, rules=...)``); its ``action`` and ``rules_fired`` are also
        properties of the result.

    Examples
    --------
    >>> r = RiskScore("seller", "S1", "riskscore-seller-fraud", "3", 0.91, 950, "critical",
    ...               (Reason("MANY_COMPLAINTS", "complaints_30d", 7.0, 4, 1.2, "7 complaints"),),
    ...               "2024-06-30T00:00:00", "2024-07-01T08:00:00")
    >>> r.to_dict()["reasons"][0]["code"]
    'MANY_COMPLAINTS'
    >>> RiskScore.from_row(r.to_row(), entity="seller") == r
    True
    """

    entity: str
    entity_id: str | None
    model_name: str
    model_version: str
    score: float
    risk_score: float
    band: str
    reasons: tuple[Reason, ...] = field(default_factory=tuple)
    as_of: str | None = None
    scored_at: str = ""
    decision: Decision | None = None

    @property
    def action(self) -> str | None:
        """The decided action (``allow`` ... ``block``), or None without a rule set."""
        return None if self.decision is None else self.decision.action

    @property
    def rules_fired(self) -> tuple[str, ...] | None:
        """The rules that fired, in precedence order, or None without a rule set."""
        return None if self.decision is None else self.decision.rules_fired

    @property
    def rule_reasons(self) -> tuple[str, ...] | None:
        """The fired rules' reason texts, or None without a rule set."""
        d = self.decision
        return None if d is None else d.reasons[: len(d.rules_fired)]

    def decision_fields(self) -> dict[str, Any]:
        """Return the :data:`DECISION_FIELDS` of a decided answer (``{}`` without one)."""
        d = self.decision
        if d is None:
            return {}
        return {
            "action": d.action,
            "decided_by": d.decided_by,
            "rules_fired": list(d.rules_fired),
            "rule_reasons": list(d.reasons[: len(d.rules_fired)]),
            "rule_set": d.rule_set,
        }

    def to_dict(self) -> dict[str, Any]:
        """Return the score as a JSON-serialisable dict (reasons as a list of dicts).

        A decided answer also carries :data:`DECISION_FIELDS`.
        """
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "decision"}
        out["reasons"] = [r.to_dict() for r in self.reasons]
        out.update(self.decision_fields())
        return out

    def to_row(
        self,
        *,
        id_col: str | None = None,
        top_k: int | None = None,
        id_column: str | None = None,
    ) -> dict[str, Any]:
        """Return the flat row ``score_many`` would give for this entity.

        Parameters
        ----------
        id_col : str, optional
            Name of the id column; default ``<entity>_id`` (``seller_id`` or
            ``listing_id``), as in ``score_many``.
        top_k : int, optional
            Number of reason slots (default: as many as there are reasons). Empty slots
            hold ``None``.
        id_column : str, optional
            Deprecated name of ``id_col`` (warns).
        """
        id_col = renamed_argument(
            id_col, id_column, new="id_col", old="id_column", where="RiskScore.to_row", default=None
        )
        key = f"{self.entity}_id" if id_col is None else id_col
        k = len(self.reasons) if top_k is None else top_k
        row: dict[str, Any] = {
            key: self.entity_id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "score": self.score,
            "risk_score": self.risk_score,
            "band": self.band,
        }
        for i in range(k):
            reason = self.reasons[i] if i < len(self.reasons) else None
            for name in REASON_FIELDS:
                row[f"reason_{i + 1}_{name}"] = None if reason is None else getattr(reason, name)
        row["as_of"] = self.as_of
        row["scored_at"] = self.scored_at
        d = self.decision_fields()
        if d:
            d["rules_fired"] = ";".join(d["rules_fired"])
            d["rule_reasons"] = " | ".join(d["rule_reasons"])
            row.update(d)
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, entity: str) -> RiskScore:
        """Build a :class:`RiskScore` from one flat row of ``score_many``.

        Parameters
        ----------
        row : mapping
            One row, e.g. ``frame.iloc[i].to_dict()``.
        entity : {"seller", "listing"}
            Decides the id column (``<entity>_id``).
        """
        reasons = []
        i = 1
        while f"reason_{i}_code" in row:
            code = row[f"reason_{i}_code"]
            if _is_missing(code):
                break
            value = row[f"reason_{i}_value"]
            reasons.append(
                Reason(
                    code=str(code),
                    feature=str(row[f"reason_{i}_feature"]),
                    value=None if _is_missing(value) else float(value),
                    impact=int(row[f"reason_{i}_impact"]),
                    contribution=float(row[f"reason_{i}_contribution"]),
                    text=str(row[f"reason_{i}_text"]),
                )
            )
            i += 1
        entity_id = row.get(f"{entity}_id")
        as_of = row.get("as_of")
        decision = _decision_of(row, reasons, None if _is_missing(entity_id) else str(entity_id))
        return cls(
            entity=entity,
            entity_id=None if _is_missing(entity_id) else str(entity_id),
            model_name=str(row["model_name"]),
            model_version=str(row["model_version"]),
            score=float(row["score"]),
            risk_score=float(row["risk_score"]),
            band=str(row["band"]),
            reasons=tuple(reasons),
            as_of=None if _is_missing(as_of) else str(as_of),
            scored_at=str(row["scored_at"]),
            decision=decision,
        )


def output_columns(id_col: str, top_k: int) -> list[str]:
    """Return the columns of ``score_many`` output, in order.

    Examples
    --------
    >>> output_columns("seller_id", 1)[:7]
    ['seller_id', 'model_name', 'model_version', 'score', 'risk_score', 'band', 'reason_1_code']
    >>> len(output_columns("seller_id", 3))
    26
    """
    cols = [id_col, "model_name", "model_version", "score", "risk_score", "band"]
    for i in range(1, top_k + 1):
        cols.extend(f"reason_{i}_{name}" for name in REASON_FIELDS)
    return [*cols, "as_of", "scored_at"]


def _decision_of(
    row: Mapping[str, Any], reasons: list[Reason], entity_id: str | None
) -> Decision | None:
    """Rebuild the decision of a decided row (``None`` when the row has no ``action``)."""
    action = row.get("action")
    if _is_missing(action):
        return None
    fired = _split(row.get("rules_fired"), ";")
    texts = _split(row.get("rule_reasons"), " | ")
    band = row.get("band")
    return Decision(
        action=str(action),
        decided_by=str(row.get("decided_by")),
        rules_fired=tuple(fired),
        reasons=tuple(texts) + tuple(r.text for r in reasons if r.text),
        band=None if _is_missing(band) else str(band),
        rule_set=str(row.get("rule_set") or ""),
        entity_id=entity_id,
    )


def _split(value: Any, sep: str) -> list[str]:
    if _is_missing(value) or value == "":
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if hasattr(value, "tolist"):
        return [str(v) for v in value.tolist()]
    return str(value).split(sep)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
