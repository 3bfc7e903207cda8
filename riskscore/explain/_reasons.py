"""Reason codes: the features that pushed a score up (or down), in plain language.

An :class:`Explainer` pairs a binary LightGBM model with its feature catalog (one row per
feature: ``name, family, reason_code, signal, text_en, text_zh``, as returned by
:func:`riskscore.features.catalog`). For each row it takes the exact TreeSHAP
contributions (:func:`~riskscore.explain.contributions`) and keeps the ``top_k`` features
pushing the score up (``direction="up"``), down (``"down"``) or both, **one per signal**:
features derived from the same signal (say the median and the lowest price-to-market
ratio) share a catalog ``signal``, and only the strongest of them is a reason, so one
signal cannot fill every slot.

Each reason carries:

``rank``
    1 for the strongest reason in its direction.
``direction``
    ``"up"`` (raises the risk) or ``"down"`` (lowers it).
``code``, ``feature``, ``family``, ``signal``
    The catalog's stable reason code and where the reason comes from.
``contribution``
    The feature's exact TreeSHAP contribution, in log-odds.
``impact``
    A 0-5 band of ``abs(contribution)``, cut at the fixed log-odds thresholds
    :data:`IMPACT_THRESHOLDS` so that bands mean the same on every row and every model:

    ====== =============== ===================================
    impact log-odds        effect on the odds of the target
    ====== =============== ===================================
    0      below 0.05      under ×1.05 (negligible)
    1      0.05 – 0.15     ×1.05 – ×1.16
    2      0.15 – 0.30     ×1.16 – ×1.35
    3      0.30 – 0.60     ×1.35 – ×1.82
    4      0.60 – 1.20     ×1.82 – ×3.32
    5      1.20 and above  ×3.32 or more
    ====== =============== ===================================
``value``
    The feature's value for this row (``None`` in JSON, NaN in a frame, when missing).
``text``
    The catalog's sentence template (``text_en`` / ``text_zh``) rendered with the value,
    e.g. "Median price is 48% of the market price for the same products" /
    "同款商品售价中位数为市场价的48%". A missing (or infinite) value is described as
    missing, never as "nan".

The batch form (:meth:`Explainer.explain_many`, a tidy frame with one row per entity and
reason) and the record form (:meth:`Explainer.explain_one`, a JSON-serialisable dict) are
built by one private step, and :func:`frame_to_records` turns the first into a list of the
second, so the two carry the same content.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from riskscore._deprecation import renamed_attribute
from riskscore.exceptions import ExplanationError
from riskscore.explain._contrib import (
    Contributions,
    as_matrix,
    booster_of,
    contributions_of_matrix,
    family_of,
)

__all__ = [
    "CATALOG_COLUMNS",
    "IMPACT_THRESHOLDS",
    "LANGUAGES",
    "NO_SIGNAL_CODE",
    "NO_SIGNAL_TEXT",
    "REASON_COLUMNS",
    "Direction",
    "Explainer",
    "Language",
    "frame_to_records",
    "impact_band",
    "no_signal_fields",
]

Direction = Literal["up", "down", "both"]

#: Reason code of a row with nothing notable: no feature pushes its risk up enough (the
#: scorer's single reason for such a row, and the evidence page's).
NO_SIGNAL_CODE = "NO_STRONG_SIGNAL"

#: The sentence of :data:`NO_SIGNAL_CODE`, per language.
NO_SIGNAL_TEXT: dict[str, str] = {"en": "No strong risk signal", "zh": "无明显风险信号"}


def no_signal_fields(language: str = "en") -> dict[str, Any]:
    """Return the fields of the one reason of a row with nothing notable (no strong signal).

    It names no feature (``feature`` is ``""``, ``value`` is ``None``) and has impact 0
    and contribution 0.0, so it never reads as a risk. The scorer's
    ``scoring._result.no_signal_reason`` and the evidence page both build it from here.

    Examples
    --------
    >>> no_signal_fields("zh")["text"], no_signal_fields()["code"]
    ('无明显风险信号', 'NO_STRONG_SIGNAL')
    """
    return {
        "code": NO_SIGNAL_CODE,
        "feature": "",
        "value": None,
        "impact": 0,
        "contribution": 0.0,
        "text": NO_SIGNAL_TEXT.get(language, NO_SIGNAL_TEXT["en"]),
    }


Language = Literal["en", "zh"]

#: The languages of reason sentences and evidence files; the catalog has a ``text_<lang>``
#: column for each (a test checks every reason code and evidence label in each).
LANGUAGES: tuple[Language, ...] = get_args(Language)

#: Log-odds cut points of the impact bands 1..5 (band 0 is below the first).
IMPACT_THRESHOLDS: tuple[float, ...] = (0.05, 0.15, 0.3, 0.6, 1.2)

#: Catalog columns an explainer needs (``family`` and ``signal`` are optional).
CATALOG_COLUMNS: tuple[str, ...] = ("name", "reason_code", "text_en", "text_zh")

#: Columns of :meth:`Explainer.explain_many`, in order.
REASON_COLUMNS: tuple[str, ...] = (
    "entity_id",
    "raw_score",
    "base_value",
    "rank",
    "direction",
    "code",
    "feature",
    "family",
    "signal",
    "contribution",
    "impact",
    "value",
    "text",
)

_DIRECTIONS = ("up", "down", "both")
#: Contributions smaller than this are floating-point noise, not a push in any direction.
_NOISE = 1e-9
_MISSING_EN = "{subject}: missing (no data before the scoring time)"
_MISSING_ZH = "[缺失]"
_MISSING_ZH_SUFFIX = "（评分时点前无数据）"


def impact_band(contribution: Any) -> Any:
    """Return the 0-5 impact band of contributions (log-odds), by :data:`IMPACT_THRESHOLDS`.

    Parameters
    ----------
    contribution : float or array-like
        Contributions in log-odds; the sign is ignored.

    Returns
    -------
    int or numpy.ndarray of int

    Raises
    ------
    ExplanationError
        When ``contribution`` is not numbers.

    Examples
    --------
    >>> impact_band(0.04), impact_band(-0.2), impact_band(3.0)
    (0, 2, 5)
    >>> impact_band([0.05, 0.6, 1.19]).tolist()
    [1, 4, 4]
    """
    try:
        values = np.abs(np.asarray(contribution, dtype=np.float64))
    except (TypeError, ValueError):
        raise ExplanationError(
            "The 'contribution' parameter of impact_band must be a number or an array of "
            f"numbers (log-odds). Got {str(contribution)[:60]!r} instead."
        ) from None
    bands = np.searchsorted(IMPACT_THRESHOLDS, values, side="right")
    return int(bands) if np.ndim(bands) == 0 else bands.astype(np.int64)


@dataclass(frozen=True)
class _Catalog:
    """The catalog facts of a model's features, in the model's order, ready for the hot path."""

    names: tuple[str, ...]
    codes: tuple[str, ...]
    families: tuple[str, ...]
    signals: tuple[str, ...]
    templates: dict[Language, tuple[str, ...]]
    missing: dict[Language, tuple[str, ...]]
    perm: np.ndarray  # feature positions grouped by signal
    starts: np.ndarray  # where each signal's group starts in ``perm``
    sizes: np.ndarray  # size of each signal's group

    @classmethod
    def build(cls, names: Sequence[str], catalog: pd.DataFrame, owner: str) -> _Catalog:
        absent = [c for c in CATALOG_COLUMNS if c not in catalog.columns]
        if absent:
            raise ExplanationError(
                f"the feature catalog of {owner} lacks column(s) {', '.join(absent)}; "
                f"a catalog needs {', '.join(CATALOG_COLUMNS)} (see riskscore.features.catalog)"
            )
        rows: dict[str, dict[str, Any]] = {
            str(r["name"]): {str(k): v for k, v in r.items()} for r in catalog.to_dict("records")
        }
        unknown = [n for n in names if n not in rows]
        if unknown:
            shown = ", ".join(f"'{n}'" for n in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise ExplanationError(
                f"{len(unknown)} feature(s) of {owner} are not in its feature catalog: "
                f"{shown}{more}; use the catalog the model was trained with"
            )

        def text(row: Mapping[str, Any], key: str, default: str) -> str:
            value = row.get(key)
            return default if _is_missing(value) or str(value) == "" else str(value)

        info = [rows[n] for n in names]
        families = tuple(text(r, "family", family_of(n)) for r, n in zip(info, names, strict=True))
        signals = tuple(text(r, "signal", n) for r, n in zip(info, names, strict=True))
        templates = {lang: tuple(str(r[f"text_{lang}"]) for r in info) for lang in LANGUAGES}
        missing = {
            lang: tuple(
                text(r, f"missing_{lang}", _MISSING_TEXT[lang](r, n))
                for r, n in zip(info, names, strict=True)
            )
            for lang in LANGUAGES
        }
        order = list(dict.fromkeys(signals))
        group = np.array([order.index(s) for s in signals], dtype=np.int64)
        perm = np.argsort(group, kind="stable")
        sizes = np.bincount(group, minlength=len(order))
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        return cls(
            names=tuple(names),
            codes=tuple(str(r["reason_code"]) for r in info),
            families=families,
            signals=signals,
            templates=templates,
            missing=missing,
            perm=perm,
            starts=starts,
            sizes=sizes,
        )


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _subject(row: Mapping[str, Any], name: str) -> str:
    description = row.get("description")
    if _is_missing(description) or not str(description).strip():
        return name
    return str(description).strip().rstrip(".")


def _missing_zh(template: str) -> str:
    """Put "[缺失]" where the value goes in a zh template, e.g. "售价为市场价的[缺失]..."."""
    start = template.find("{value")
    end = template.find("}", start)
    if start < 0 or end < 0:
        return f"{template}{_MISSING_ZH}{_MISSING_ZH_SUFFIX}"
    return f"{template[:start]}{_MISSING_ZH}{template[end + 1 :]}{_MISSING_ZH_SUFFIX}"


#: The sentence for a missing value in each language, from the catalog row and name
#: (a catalog column ``missing_<lang>`` overrides it).
_MISSING_TEXT: dict[str, Callable[[Mapping[str, Any], str], str]] = {
    "en": lambda row, name: _MISSING_EN.format(subject=_subject(row, name)),
    "zh": lambda row, name: _missing_zh(str(row["text_zh"])),
}


@dataclass(frozen=True)
class _Selected:
    """The chosen reasons, one entry per (row, reason), rows ascending then rank."""

    row: np.ndarray
    rank: np.ndarray
    direction: list[str]
    feature: np.ndarray
    contribution: np.ndarray


class Explainer:
    """Reason codes for one binary LightGBM model and its feature catalog.

    Parameters
    ----------
    model : lightgbm.Booster or trained riskscore model
        The model; a :class:`riskscore.modeling.RiskModel` brings its booster, catalog
        snapshot, name, version and entity.
    catalog : pandas.DataFrame, optional
        The feature catalog (``name, reason_code, text_en, text_zh`` and optionally
        ``family, signal, description, missing_en, missing_zh``). Default: the model's
        own ``catalog``.
    model_name, model_version : str, optional
        Used in error messages. Default: what the model records about itself.

    Raises
    ------
    ExplanationError
        The model has no catalog, the catalog lacks a needed column, or a model feature
        is not in the catalog; the message names the model and the features.

    Examples
    --------
    >>> import lightgbm as lgb
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(300, 2)); y = (X[:, 0] < 0.3).astype(int)
    >>> names = ["pricing__median_price_ratio", "buyers__top1_share"]
    >>> booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4},
    ...                     lgb.Dataset(X, y, feature_name=names), 20)
    >>> catalog = pd.DataFrame({
    ...     "name": names,
    ...     "reason_code": ["PRICE_FAR_BELOW_MARKET", "TOP_BUYER_SHARE"],
    ...     "text_en": ["Median price is {value:.0%} of the market price",
    ...                 "The top buyer accounts for {value:.0%} of GMV"],
    ...     "text_zh": ["同款商品售价中位数为市场价的{value:.0%}",
    ...                 "第一大买家贡献了{value:.0%}的成交额"],
    ... })
    >>> explainer = Explainer(booster, catalog)
    >>> out = explainer.explain_one({"pricing__median_price_ratio": 0.1,
    ...                              "buyers__top1_share": 0.5}, entity_id="S1", top_k=1)
    >>> out["reasons"][0]["code"], out["reasons"][0]["text"]
    ('PRICE_FAR_BELOW_MARKET', 'Median price is 10% of the market price')
    >>> frame = pd.DataFrame({"pricing__median_price_ratio": [0.2, None],
    ...                       "buyers__top1_share": [0.5, 0.9]}, index=["S2", "S3"])
    >>> reasons = explainer.explain_many(frame, language="zh")
    >>> reasons[["entity_id", "code", "impact"]]
      entity_id                    code  impact
    0        S2  PRICE_FAR_BELOW_MARKET       5
    1        S3  PRICE_FAR_BELOW_MARKET       5
    >>> reasons["text"].tolist()
    ['同款商品售价中位数为市场价的20%', '同款商品售价中位数为市场价的[缺失]（评分时点前无数据）']
    """

    #: The entity id column (``seller_id`` / ``listing_id``); ``None`` for a bare booster.
    id_col: str | None

    id_column = renamed_attribute("id_col", "id_column", owner="Explainer")

    def __init__(
        self,
        model: Any,
        catalog: pd.DataFrame | None = None,
        *,
        model_name: str | None = None,
        model_version: str | None = None,
    ) -> None:
        self.model = model
        self.booster = booster_of(model)
        self.model_name = model_name or _str_attr(model, "name")
        self.model_version = model_version or _model_version(model)
        entity = _str_attr(model, "entity")
        self.id_col = f"{entity}_id" if entity else None
        if catalog is None:
            catalog = getattr(model, "catalog", None)
        if catalog is None:
            raise ExplanationError(
                f"{self.describe_model()} has no feature catalog, so its scores cannot be "
                "explained; pass catalog=riskscore.features.catalog(entity) (the catalog it "
                "was trained with) or retrain the model so it stores one"
            )
        if not isinstance(catalog, pd.DataFrame):
            raise ExplanationError(
                f"the feature catalog of {self.describe_model()} must be a pandas DataFrame; "
                f"got {type(catalog).__name__}"
            )
        self.catalog = catalog
        self._cat = _Catalog.build(self.booster.feature_name(), catalog, self.describe_model())
        categories = getattr(model, "categories", None) or {}
        to_matrix = getattr(model, "to_matrix", None)
        #: Levels of categorical features by position: values are shown as labels.
        self._levels: dict[int, list[str]] = {
            j: [str(v) for v in categories[n]]
            for j, n in enumerate(self._cat.names)
            if n in categories and callable(to_matrix)
        }

    # -- description ------------------------------------------------------------------

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The model's features, in its order."""
        return self._cat.names

    def describe_model(self) -> str:
        """Return how error messages name the model, e.g. "model 'x' version 3"."""
        if self.model_name and self.model_version:
            return f"model '{self.model_name}' version {self.model_version}"
        if self.model_name:
            return f"model '{self.model_name}'"
        if self.model_version:
            return f"model version {self.model_version}"
        return "the model"

    def __repr__(self) -> str:
        return f"Explainer({self.describe_model()}, n_features={len(self.feature_names)})"

    # -- contributions ----------------------------------------------------------------

    def contributions(self, X: Any, *, num_threads: int | None = None) -> Contributions:
        """Exact TreeSHAP contributions of ``X``, with families from the catalog.

        Parameters
        ----------
        X : numpy.ndarray, pandas.DataFrame or mapping
            See :func:`riskscore.explain.contributions`.
        num_threads : int, optional
            LightGBM threads (default: 1 for one row, else LightGBM's default).

        Returns
        -------
        Contributions
        """
        matrix, index = self._matrix(X)
        return self._contrib(matrix, index, num_threads)

    def _matrix(self, X: Any) -> tuple[np.ndarray, pd.Index | None]:
        try:
            if self._levels and isinstance(X, pd.DataFrame | Mapping):
                return self._encoded(X), X.index if isinstance(X, pd.DataFrame) else None
            return as_matrix(X, self._cat.names)
        except ExplanationError as err:
            raise ExplanationError(f"{self.describe_model()}: {err}") from None

    def _encoded(self, X: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
        """Encode categorical features as the model does (its ``to_matrix``)."""
        from riskscore.exceptions import ScoringError

        try:
            matrix: np.ndarray = self.model.to_matrix(X)
        except ScoringError as err:
            raise ExplanationError(str(err)) from None
        return matrix

    def _contrib(
        self, matrix: np.ndarray, index: pd.Index | None, num_threads: int | None
    ) -> Contributions:
        cat = self._cat
        return contributions_of_matrix(
            self.booster, matrix, cat.names, cat.families, index=index, num_threads=num_threads
        )

    # -- reasons ----------------------------------------------------------------------

    def explain_one(
        self,
        record: Any,
        *,
        entity_id: Any = None,
        top_k: int = 3,
        direction: Direction = "up",
        language: Language = "en",
        min_impact: int = 1,
        lang: Language | None = None,
    ) -> dict[str, Any]:
        """Explain one record; return a JSON-serialisable dict.

        Parameters
        ----------
        record : mapping or 1-D numpy.ndarray
            Feature values by name (extra keys ignored; ``None``/NaN is missing), or one
            row in the model's feature order. No pandas on this path; LightGBM runs on one
            thread.
        entity_id : str, optional
            Written into the result. Default: the record's ``<entity>_id`` when the model
            knows its entity, else None.
        top_k : int, default 3
            Reasons per direction.
        direction : {"up", "down", "both"}, default "up"
            Reasons raising the score, lowering it, or ``top_k`` of each.
        language : {"en", "zh"}, default "en"
            Language of the sentences.
        lang : {"en", "zh"}, optional
            Deprecated name of ``language``.
        min_impact : int, default 1
            Smallest impact band (0-5) that counts as a reason; 0 keeps every feature
            pushing in the direction, however slightly.

        Returns
        -------
        dict
            ``{"entity_id", "raw_score", "base_value", "reasons": [ {rank, direction,
            code, feature, family, signal, contribution, impact, value, text}, ... ]}``.

        Raises
        ------
        ExplanationError
            A feature is missing from the record (named), a value is not a number, or an
            argument is out of range.
        """
        if isinstance(record, pd.DataFrame | pd.Series) or (
            isinstance(record, np.ndarray) and record.ndim != 1
        ):
            raise ExplanationError(
                "explain_one takes one record (a mapping of feature name to value, or a "
                f"1-D array); got {type(record).__name__} — use explain_many for frames"
            )
        if entity_id is None and self.id_col and isinstance(record, Mapping):
            entity_id = record.get(self.id_col)
        matrix, _ = self._matrix(record)
        contrib = self._contrib(matrix, None, 1)
        language = _language(language, lang, "Explainer.explain_one")
        lists = self._reason_lists(matrix, contrib, top_k, direction, language, min_impact)
        return {
            "entity_id": _py(entity_id),
            "raw_score": float(contrib.raw_score[0]),
            "base_value": contrib.base_value,
            "reasons": lists[0],
        }

    def explain_many(
        self,
        X: Any,
        *,
        ids: Any = None,
        top_k: int = 3,
        direction: Direction = "up",
        language: Language = "en",
        min_impact: int = 1,
        lang: Language | None = None,
        rows: Any = None,
        contributions: Contributions | None = None,
        num_threads: int | None = None,
    ) -> pd.DataFrame:
        """Explain many rows; return a tidy frame with one row per entity and reason.

        Parameters
        ----------
        X : pandas.DataFrame or numpy.ndarray
            Rows of features (see :func:`riskscore.explain.contributions`).
        ids : str or sequence, optional
            Entity ids: a column of ``X``, or one id per row. Default: the column
            ``<entity>_id`` when the model knows its entity and ``X`` has it, else the
            frame's index (row positions for an array).
        top_k, direction, language, min_impact, lang
            As in :meth:`explain_one`.
        rows : boolean mask or sequence of int, optional
            Explain only these rows (e.g. those at or above a band, or the top-N by
            score); the others get no reasons and cost nothing. Default: every row.
        contributions : Contributions, optional
            Precomputed contributions of the selected rows, to skip the TreeSHAP pass.
        num_threads : int, optional
            LightGBM threads (default: LightGBM's default; 1 for a single row).

        Returns
        -------
        pandas.DataFrame
            Columns :data:`REASON_COLUMNS`: ``entity_id, raw_score, base_value, rank,
            direction, code, feature, family, signal, contribution, impact, value, text``.
            Rows are ordered by input row, then direction (up first), then rank. A row
            with no reason at or above ``min_impact`` has no line.
        """
        matrix, index = self._matrix(X)
        entity_ids = self._ids(X, ids, index, matrix.shape[0])
        _refuse_duplicates(entity_ids)
        if rows is not None:
            positions = _positions(rows, matrix.shape[0])
            matrix, entity_ids = matrix[positions], entity_ids[positions]
        if contributions is None:
            contributions = self._contrib(matrix, None, num_threads)
        elif contributions.values.shape != matrix.shape:
            raise ExplanationError(
                f"contributions have shape {contributions.values.shape} but the rows to "
                f"explain have shape {matrix.shape}"
            )
        sel = self._select(contributions.values, top_k, direction, min_impact)
        columns = self._columns(sel, matrix, _language(language, lang, "Explainer.explain_many"))
        raw = contributions.raw_score
        frame = pd.DataFrame(
            {
                "entity_id": entity_ids[sel.row],
                "raw_score": raw[sel.row],
                "base_value": np.full(len(sel.row), contributions.base_value),
                **columns,
            },
            columns=list(REASON_COLUMNS),
        )
        return frame

    def reason_lists(
        self,
        X: Any,
        contributions: Contributions | np.ndarray | None = None,
        *,
        top_k: int = 3,
        direction: Direction = "up",
        language: Language = "en",
        min_impact: int = 1,
        lang: Language | None = None,
    ) -> list[list[dict[str, Any]]]:
        """Return the reasons of each row as a list of JSON-serialisable dicts.

        The hook for callers that already hold the matrix and the contributions (a
        scorer): ``contributions`` may be the raw ``pred_contrib`` output
        (``(n, n_features + 1)``, base value last).

        Parameters
        ----------
        X : numpy.ndarray or pandas.DataFrame
            Rows of features.
        contributions : Contributions or numpy.ndarray, optional
            Precomputed contributions of the same rows.
        top_k, direction, language, min_impact, lang
            As in :meth:`explain_one`.

        Returns
        -------
        list of list of dict
            One list per row, each reason a dict as in :meth:`explain_one`.
        """
        matrix, index = self._matrix(X)
        if contributions is None:
            contrib = self._contrib(matrix, index, None)
        elif isinstance(contributions, np.ndarray):
            values = contributions[:, : len(self._cat.names)]
            base = float(contributions[0, -1]) if len(contributions) else math.nan
            contrib = Contributions(values, base, self._cat.names, self._cat.families)
        else:
            contrib = contributions
        if contrib.values.shape != matrix.shape:
            raise ExplanationError(
                f"contributions have shape {contrib.values.shape} but the rows to explain "
                f"have shape {matrix.shape}"
            )
        language = _language(language, lang, "Explainer.reason_lists")
        return self._reason_lists(matrix, contrib, top_k, direction, language, min_impact)

    # -- the shared private steps ------------------------------------------------------

    def _reason_lists(
        self,
        matrix: np.ndarray,
        contrib: Contributions,
        top_k: int,
        direction: Direction,
        lang: Language,
        min_impact: int,
    ) -> list[list[dict[str, Any]]]:
        sel = self._select(contrib.values, top_k, direction, min_impact)
        columns = self._columns(sel, matrix, lang)
        out: list[list[dict[str, Any]]] = [[] for _ in range(matrix.shape[0])]
        keys = list(columns)
        plain = [
            _py_list(v) if k == "value" else v.tolist() if isinstance(v, np.ndarray) else v
            for k, v in columns.items()
        ]
        for row, values in zip(sel.row.tolist(), zip(*plain, strict=True), strict=True):
            out[row].append(dict(zip(keys, values, strict=True)))
        return out

    def _select(
        self, values: np.ndarray, top_k: int, direction: Direction, min_impact: int
    ) -> _Selected:
        _check_args(top_k, direction, min_impact)
        cat = self._cat
        threshold = IMPACT_THRESHOLDS[min_impact - 1] if min_impact > 0 else _NOISE
        p = values.shape[1]
        k = min(top_k, len(cat.sizes))
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]] = []
        signs = {"up": (1.0,), "down": (-1.0,), "both": (1.0, -1.0)}[direction]
        for sign in signs:
            grouped = values[:, cat.perm] * sign if sign < 0 else values[:, cat.perm]
            best = np.maximum.reduceat(grouped, cat.starts, axis=1)  # (n, n_signals)
            at_best = grouped == np.repeat(best, cat.sizes, axis=1)
            position = np.where(at_best, np.arange(p), p)
            first = np.minimum.reduceat(position, cat.starts, axis=1)  # argmax per signal
            order = np.argsort(-best, axis=1, kind="stable")[:, :k]
            top = np.take_along_axis(best, order, axis=1)
            keep = top >= threshold
            row, slot = np.nonzero(keep)
            feature = cat.perm[np.take_along_axis(first, order, axis=1)[row, slot]]
            parts.append(
                (row, slot + 1, feature, values[row, feature], "up" if sign > 0 else "down")
            )
        if len(parts) == 1:
            row, rank, feature, contribution, name = parts[0]
            return _Selected(row, rank, [name] * len(row), feature, contribution)
        row = np.concatenate([p[0] for p in parts])
        rank = np.concatenate([p[1] for p in parts])
        is_down = np.concatenate([np.full(len(p[0]), p[4] == "down") for p in parts])
        order = np.lexsort((rank, is_down, row))
        return _Selected(
            row=row[order],
            rank=rank[order],
            direction=["down" if d else "up" for d in is_down[order]],
            feature=np.concatenate([p[2] for p in parts])[order],
            contribution=np.concatenate([p[3] for p in parts])[order],
        )

    def _columns(self, sel: _Selected, matrix: np.ndarray, lang: Language) -> dict[str, Any]:
        if lang not in LANGUAGES:
            choices = " or ".join(f"'{code}'" for code in LANGUAGES)
            raise ExplanationError(f"language must be {choices}. Got {lang!r} instead.")
        cat = self._cat
        templates = cat.templates[lang]
        missing = cat.missing[lang]
        feats = sel.feature.tolist()
        values: Any = matrix[sel.row, sel.feature]
        if self._levels and any(j in self._levels for j in feats):
            values = np.array(
                [self._label(j, v) for j, v in zip(feats, values.tolist(), strict=True)],
                dtype=object,
            )
        texts = [
            _render(templates[j], missing[j], cat.names[j], v)
            for j, v in zip(feats, values.tolist(), strict=True)
        ]
        return {
            "rank": sel.rank.astype(np.int64),
            "direction": sel.direction,
            "code": [cat.codes[j] for j in feats],
            "feature": [cat.names[j] for j in feats],
            "family": [cat.families[j] for j in feats],
            "signal": [cat.signals[j] for j in feats],
            "contribution": sel.contribution.astype(np.float64),
            "impact": impact_band(sel.contribution).reshape(-1),
            "value": values,
            "text": texts,
        }

    def _label(self, feature: int, code: float) -> Any:
        """Return the category label of a categorical feature's code (NaN stays NaN)."""
        levels = self._levels.get(feature)
        if levels is None or not math.isfinite(code) or not 0 <= int(code) < len(levels):
            return code
        return levels[int(code)]

    def _ids(self, X: Any, ids: Any, index: pd.Index | None, n: int) -> np.ndarray:
        if isinstance(ids, str):
            if not isinstance(X, pd.DataFrame) or ids not in X.columns:
                raise ExplanationError(f"ids names column '{ids}', which the rows do not have")
            return X[ids].to_numpy(dtype=object)
        if ids is not None:
            out = np.asarray(list(ids), dtype=object)
            if len(out) != n:
                raise ExplanationError(f"got {len(out)} ids for {n} rows; pass one id per row")
            return out
        if self.id_col and isinstance(X, pd.DataFrame) and self.id_col in X.columns:
            return X[self.id_col].to_numpy(dtype=object)
        if index is not None:
            return index.to_numpy(dtype=object)
        return np.arange(n, dtype=np.int64).astype(object)


def _render(template: str, missing: str, name: str, value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return missing
    try:
        return template.format(value=value)
    except (ValueError, TypeError, KeyError, IndexError):
        return f"{name} = {value}"


def _check_args(top_k: int, direction: str, min_impact: int) -> None:
    if not isinstance(top_k, int | np.integer) or isinstance(top_k, bool) or top_k < 1:
        raise ExplanationError(f"top_k must be a positive int. Got {top_k!r} instead.")
    if direction not in _DIRECTIONS:
        raise ExplanationError(
            f"direction must be one of {', '.join(_DIRECTIONS)}. Got {direction!r} instead."
        )
    top = len(IMPACT_THRESHOLDS)
    if not isinstance(min_impact, int | np.integer) or not 0 <= min_impact <= top:
        raise ExplanationError(
            f"min_impact must be an int in the range [0, {top}]. Got {min_impact!r} instead."
        )


def _positions(rows: Any, n: int) -> np.ndarray:
    arr = np.asarray(rows)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ExplanationError(f"rows mask has shape {arr.shape}; expected ({n},)")
        return np.flatnonzero(arr)
    if arr.size and (not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= n):
        raise ExplanationError(
            f"rows must be a boolean mask or row positions in [0, {n}); got {rows!r}"
        )
    return arr.astype(np.int64).reshape(-1)


def _str_attr(model: Any, name: str) -> str | None:
    value = getattr(model, name, None)
    if value is None or callable(value):
        return None
    return str(value)


def _model_version(model: Any) -> str | None:
    """Return the version a model records about itself (attribute or metadata), if any."""
    version = _str_attr(model, "version")
    metadata = getattr(model, "metadata", None)
    if version is None and isinstance(metadata, Mapping):
        found = metadata.get("version") or metadata.get("model_version")
        version = None if found is None else str(found)
    return version


def _py_list(values: Any) -> list[Any]:
    """Return a column as plain Python values (NaN and inf become None), in one pass."""
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    return [
        None
        if isinstance(v, float) and not math.isfinite(v)
        else _py(v)
        if isinstance(v, np.generic)
        else v
        for v in items
    ]


def _py(value: Any) -> Any:
    """Return ``value`` as a plain JSON-friendly Python value (NaN and inf become None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Turn :meth:`Explainer.explain_many` output into one dict per entity, as ``explain_one``.

    Entities come in the order of the frame; an entity without reasons is not in the
    frame and so not in the result.

    Parameters
    ----------
    frame : pandas.DataFrame
        With columns :data:`REASON_COLUMNS`.

    Returns
    -------
    list of dict
        ``{"entity_id", "raw_score", "base_value", "reasons": [...]}`` per entity.

    Raises
    ------
    ExplanationError
        When ``frame`` is not a DataFrame holding :data:`REASON_COLUMNS`.

    Examples
    --------
    >>> frame = pd.DataFrame([{
    ...     "entity_id": "S1", "raw_score": 0.5, "base_value": -1.0, "rank": 1,
    ...     "direction": "up", "code": "X", "feature": "a__x", "family": "a",
    ...     "signal": "x", "contribution": 1.5, "impact": 5, "value": float("nan"),
    ...     "text": "x: missing"}])
    >>> frame_to_records(frame)[0]["reasons"][0]["value"] is None
    True
    """
    if not isinstance(frame, pd.DataFrame):
        raise ExplanationError(
            "The 'frame' parameter of frame_to_records must be a pandas DataFrame with the "
            f"REASON_COLUMNS. Got {type(frame).__name__} instead. Pass the output of "
            "Explainer.explain_many."
        )
    absent = [c for c in REASON_COLUMNS if c not in frame.columns]
    if absent:
        raise ExplanationError(
            f"frame_to_records: the frame lacks column(s) {absent} of REASON_COLUMNS; its "
            f"columns are {list(frame.columns)[:20]}. Pass the output of Explainer.explain_many."
        )
    out: list[dict[str, Any]] = []
    reason_keys = REASON_COLUMNS[3:]
    current: dict[str, Any] | None = None
    for rec in frame[list(REASON_COLUMNS)].to_dict("records"):
        entity = _py(rec["entity_id"])
        if current is None or current["entity_id"] != entity:
            current = {
                "entity_id": entity,
                "raw_score": _py(rec["raw_score"]),
                "base_value": _py(rec["base_value"]),
                "reasons": [],
            }
            out.append(current)
        current["reasons"].append({k: _py(rec[k]) for k in reason_keys})
    return out


def _refuse_duplicates(entity_ids: np.ndarray) -> None:
    """Refuse repeated entity ids: the reasons table is keyed by ``entity_id``."""
    ids = pd.Series(entity_ids)
    dup = ids.duplicated(keep=False)
    if dup.any():
        shown = ", ".join(map(str, pd.unique(ids[dup])[:5]))
        raise ExplanationError(
            f"{int(dup.sum())} rows share their entity id with another row (e.g. {shown}); "
            "the reasons table is keyed by entity_id. Pass ids= a unique key per row (e.g. "
            "the id and the cutoff joined), or explain one cutoff at a time"
        )


def _language(language: Language, lang: Language | None, where: str) -> Language:
    """Return ``language``, or the deprecated ``lang`` when given (with a warning)."""
    from riskscore._deprecation import renamed_argument

    out: Language = renamed_argument(
        language, lang, new="language", old="lang", where=where, default="en"
    )
    return out
