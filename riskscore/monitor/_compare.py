"""Compare a scoring run with its reference: shifts, findings, a status.

:func:`compare` measures, for each feature of the reference, the population stability
index (PSI, :mod:`riskscore.monitor._psi`) on the reference bins, the jump in the missing
share, the share of rows outside the training range (numeric features) and the share of
rows with a level never seen at training (categorical features); for the model's output,
the PSI of the calibrated probability and the shift in band volumes and in the share of
rows flagged for review. Each measure is checked against :class:`Thresholds`; what crosses
a threshold becomes a :class:`Finding` — a plain sentence naming the feature and the size of
the shift — at level ``watch`` or ``act``, and the report's status is the worst level
found (``ok`` when nothing crossed). With slice columns (``segment__*``) in the run and
slice counts in the reference, the flag rate of each slice is compared with training
(:mod:`riskscore.monitor._slices`), and a protected slice (new and small sellers by
default) flagged far more often than at training is a finding.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskscore._validation import check_option, check_real, fail
from riskscore.monitor._errors import MonitorError
from riskscore.monitor._psi import EPSILON, bin_counts, psi_from_counts
from riskscore.monitor._reference import (
    BAND_NAMES,
    Reference,
    _bands_of,
    _finite,
    level_counts,
    numeric_values,
)

__all__ = ["EXIT_ACT", "LEVELS", "Finding", "MonitorReport", "Thresholds", "compare"]

#: Finding levels, mildest first; a report's status is the worst level found.
LEVELS: tuple[str, ...] = ("ok", "watch", "act")
#: Exit code of ``riskscore monitor`` when an "act" threshold is crossed.
EXIT_ACT = 3


@dataclass(frozen=True)
class Thresholds:
    """When a shift is worth watching and when it calls for action.

    Each pair is (watch, act): a measure at or above ``watch_*`` gives a ``watch`` finding,
    at or above ``act_*`` an ``act`` finding.

    Parameters
    ----------
    watch_psi, act_psi : float, default 0.1, 0.25
        Population stability index of a feature, of the score and of the band volumes.
    watch_missing, act_missing : float, default 0.05, 0.20
        Rise of a feature's missing share, in absolute terms (0.05 = 5 points).
    watch_range, act_range : float, default 0.05, 0.20
        Share of rows outside the training range (below its min or above its max).
    watch_new_level, act_new_level : float, default 0.01, 0.05
        Share of rows whose categorical level was never seen at training.
    watch_flagged, act_flagged : float, default 1.5, 2.0
        Ratio of the flagged share to the reference's (or its inverse, when it fell);
        counted only when the change is also beyond 3 standard errors of the difference of
        two binomial shares (reference window and run).
    watch_market, act_market : float, default 1.5, 2.0
        How far a marketplace statistic (:func:`riskscore.monitor.market_summary`) lies
        outside its range at the reference cutoffs, as a ratio (1.0: inside): the run's
        value over the reference's highest, or the lowest over the run's.
    min_rows : int, default 200
        A run with fewer rows gets a ``watch`` finding saying its shifts are noisy.

    Examples
    --------
    >>> Thresholds(act_psi=0.3).level("psi", 0.27)
    'watch'
    >>> Thresholds(watch_psi=0.3, act_psi=0.2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.monitor._errors.MonitorError: The 'watch_psi' parameter of Thresholds must be ...
    """

    watch_psi: float = 0.1
    act_psi: float = 0.25
    watch_missing: float = 0.05
    act_missing: float = 0.20
    watch_range: float = 0.05
    act_range: float = 0.20
    watch_new_level: float = 0.01
    act_new_level: float = 0.05
    watch_flagged: float = 1.5
    act_flagged: float = 2.0
    watch_market: float = 1.5
    act_market: float = 2.0
    min_rows: int = 200

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            check_real(value, f.name, "Thresholds", low=0, low_open=True, error=MonitorError)
        for kind in ("psi", "missing", "range", "new_level", "flagged", "market"):
            watch, act = getattr(self, f"watch_{kind}"), getattr(self, f"act_{kind}")
            if watch > act:
                raise fail(
                    f"watch_{kind}",
                    "Thresholds",
                    f"a number <= act_{kind} ({act:g})",
                    watch,
                    error=MonitorError,
                )
        for name in ("watch_flagged", "watch_market"):
            if getattr(self, name) < 1:
                raise fail(
                    name, "Thresholds", "a ratio >= 1", getattr(self, name), error=MonitorError
                )

    def level(self, kind: str, value: float) -> str:
        """``ok`` / ``watch`` / ``act`` for a measure of ``kind`` (psi, missing, ...)."""
        if value is None or not math.isfinite(value):
            return "ok"
        if value >= getattr(self, f"act_{kind}"):
            return "act"
        if value >= getattr(self, f"watch_{kind}"):
            return "watch"
        return "ok"

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class Finding:
    """One shift that crossed a threshold.

    Attributes
    ----------
    level : str
        ``watch`` or ``act``.
    kind : str
        ``psi``, ``missing``, ``range``, ``new_level``, ``score_psi``, ``band_psi``,
        ``flagged``, ``slice_flagged``, ``absent`` or ``rows``.
    subject : str
        The feature, or ``score`` / ``bands`` / ``run``, or a slice ``segment=level``.
    value : float
        The measure that crossed the threshold.
    message : str
        A plain sentence naming the subject and the size of the shift.
    """

    level: str
    kind: str
    subject: str
    value: float
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return _finite(asdict(self))


@dataclass
class MonitorReport:
    """What :func:`compare` found.

    Attributes
    ----------
    status : str
        ``ok``, ``watch`` or ``act``: the worst level among the findings.
    findings : list of Finding
        Worst first, then by size.
    features : pandas.DataFrame
        One row per feature: ``feature``, ``kind``, ``psi``, ``missing_ref``,
        ``missing_now``, ``out_of_range``, ``new_levels``, ``level``.
    outputs : dict
        ``score`` / ``risk_score``: PSI, mean now and at reference, and the bin shares.
    bands : dict
        Band shares at reference and now, band-volume PSI, flagged shares.
    rows : int
        Rows in the compared run.
    model : dict
        The reference's model entry (name, version, ...).
    window : str
        The reference window compared with.
    thresholds : Thresholds
    slices : pandas.DataFrame
        One row per slice (``segment``, ``level``, ``protected``, rows and flag rate with
        its Wilson interval at reference and now, ``ratio``); empty without slices.
    slices_note : str
        How the slices were compared, or why not ("no slice reference", ...).
    market : list of dict
        One row per marketplace statistic: ``stat``, ``now``, the reference's ``ref_min``
        and ``ref_max``, ``ratio`` (1.0: inside the range) and ``level``; empty unless
        both the reference and the run carry market statistics.
    market_note : str
        How the market was compared, or why not.
    """

    status: str
    findings: list[Finding]
    features: pd.DataFrame
    outputs: dict[str, Any] = field(default_factory=dict)
    bands: dict[str, Any] = field(default_factory=dict)
    rows: int = 0
    model: dict[str, Any] = field(default_factory=dict)
    window: str = "test"
    thresholds: Thresholds = field(default_factory=Thresholds)
    slices: pd.DataFrame = field(default_factory=pd.DataFrame)
    slices_note: str = ""
    market: list[dict[str, Any]] = field(default_factory=list)
    market_note: str = ""

    @property
    def exit_code(self) -> int:
        """:data:`EXIT_ACT` (3) when an "act" threshold was crossed, else 0."""
        return EXIT_ACT if self.status == "act" else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of the whole report."""
        return _finite(
            {
                "status": self.status,
                "rows": self.rows,
                "window": self.window,
                "model": self.model,
                "thresholds": self.thresholds.to_dict(),
                "findings": [f.to_dict() for f in self.findings],
                "features": self.features.to_dict("records"),
                "outputs": self.outputs,
                "bands": self.bands,
                "slices": self.slices.to_dict("records"),
                "slices_note": self.slices_note,
                "market": self.market,
                "market_note": self.market_note,
            }
        )

    def metrics(self) -> dict[str, float]:
        """Return the report's headline numbers, as logged to MLflow (finite values only).

        ``level`` (0 ok, 1 watch, 2 act), ``rows``, ``act_findings``, ``watch_findings``,
        ``score_psi``, ``band_psi``, ``flagged_share``, ``flagged_share_ref`` and
        ``max_feature_psi``; a number the report does not have (no scores, no features) is
        left out.

        Examples
        --------
        >>> from riskscore.monitor import build_reference
        >>> frame = pd.DataFrame({"x": [float(i) for i in range(1000)]})
        >>> numbers = compare(build_reference(test_frame=frame), frame).metrics()
        >>> numbers["level"], numbers["rows"], numbers["max_feature_psi"]
        (0.0, 1000.0, 0.0)
        >>> "score_psi" in numbers  # no scores compared
        False
        """
        levels = [f.level for f in self.findings]
        has_psi = len(self.features) > 0 and "psi" in self.features
        values: dict[str, Any] = {
            "level": float(LEVELS.index(self.status)),
            "rows": float(self.rows),
            "act_findings": float(levels.count("act")),
            "watch_findings": float(levels.count("watch")),
            "score_psi": (self.outputs.get("score") or {}).get("psi"),
            "band_psi": self.bands.get("psi"),
            "flagged_share": self.bands.get("flagged_now"),
            "flagged_share_ref": self.bands.get("flagged_ref"),
            "max_feature_psi": self.features["psi"].max() if has_psi else None,
        }
        out = {}
        for key, value in values.items():
            number = float(value) if isinstance(value, (int, float, np.number)) else np.nan
            if np.isfinite(number):
                out[key] = number
        return out

    def to_json(self, indent: int | None = 1) -> str:
        """Return the report as strict JSON."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    def text(self) -> str:
        """Return the findings as plain lines under the status (what the CLI prints)."""
        head = f"status: {self.status} ({self.rows} rows, {len(self.findings)} finding(s))"
        lines = [head, *(f"[{f.level}] {f.message}" for f in self.findings)]
        if self.slices_note:
            lines.append(f"slices: {self.slices_note}")
        if self.market_note:
            lines.append(f"market: {self.market_note}")
        return "\n".join(lines)

    def to_html(self) -> str:
        """One self-contained HTML page with the findings, tables and plots."""
        from riskscore.monitor._render import report_html

        return report_html(self)

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write ``report.json`` and ``report.html`` into ``folder``; return name → path."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "report.json", "html": out / "report.html"}
        paths["json"].write_text(self.to_json(), encoding="utf-8")
        paths["html"].write_text(self.to_html(), encoding="utf-8")
        return paths


# -- comparing ---------------------------------------------------------------------------


def _window(profile: Mapping[str, Any], window: str) -> dict[str, Any]:
    wins = profile["windows"]
    return wins[window] if window in wins else next(iter(wins.values()))


def _fmt(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    a = abs(value)
    if a != 0 and (a >= 1e5 or a < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.3f}".rstrip("0").rstrip(".") if a < 100 else f"{value:,.0f}"


def _compare_numeric(
    name: str, prof: Mapping[str, Any], values: np.ndarray, window: str, epsilon: float
) -> dict[str, Any]:
    ref = _window(prof, window)
    counts = bin_counts(values, prof["edges"])
    n = values.size
    finite = values[np.isfinite(values)]
    lo, hi = prof.get("min"), prof.get("max")
    below = float(np.sum(finite < lo)) / n if n and lo is not None else 0.0
    above = float(np.sum(finite > hi)) / n if n and hi is not None else 0.0
    return {
        "feature": name,
        "kind": "numeric",
        "psi": psi_from_counts(ref["counts"], counts, epsilon=epsilon),
        "missing_ref": ref.get("missing_share"),
        "missing_now": float(np.isnan(values).mean()) if n else float("nan"),
        "out_of_range": below + above,
        "below_min": below,
        "above_max": above,
        "new_levels": float("nan"),
        "median_ref": (prof.get("quantiles") or {}).get("p50"),
        "median_now": float(np.median(finite)) if finite.size else float("nan"),
        "_counts": counts.tolist(),
    }


def _compare_categorical(
    name: str, prof: Mapping[str, Any], series: pd.Series, window: str, epsilon: float
) -> dict[str, Any]:
    ref = _window(prof, window)
    counts = level_counts(series, prof["levels"])
    n = len(series)
    text = series.dropna().astype(str)
    known = set(prof.get("known_levels") or []) | set(prof["levels"])
    new = text[~text.isin(list(known))]
    return {
        "feature": name,
        "kind": "categorical",
        "psi": psi_from_counts(ref["counts"], counts, epsilon=epsilon),
        "missing_ref": ref.get("missing_share"),
        "missing_now": float(series.isna().mean()) if n else float("nan"),
        "out_of_range": float("nan"),
        "below_min": float("nan"),
        "above_max": float("nan"),
        "new_levels": len(new) / n if n else 0.0,
        "new_examples": new.value_counts().index[:3].tolist(),
        "median_ref": float("nan"),
        "median_now": float("nan"),
        "_counts": counts.tolist(),
    }


def _feature_findings(row: Mapping[str, Any], th: Thresholds, window: str) -> list[Finding]:
    name = row["feature"]
    out = []
    level = th.level("psi", row["psi"])
    if level != "ok":
        extra = ""
        if row["kind"] == "numeric" and row["median_ref"] is not None:
            extra = f"; median {_fmt(row['median_ref'])} → {_fmt(row['median_now'])}"
        out.append(
            Finding(
                level,
                "psi",
                name,
                row["psi"],
                f"Feature '{name}' shifted: PSI {row['psi']:.2f} against the {window} window "
                f"({level} at ≥ {getattr(th, level + '_psi'):g}){extra}.",
            )
        )
    ref_m, now_m = row["missing_ref"], row["missing_now"]
    if ref_m is not None and math.isfinite(now_m):
        jump = now_m - ref_m
        level = th.level("missing", jump)
        if level != "ok":
            out.append(
                Finding(
                    level,
                    "missing",
                    name,
                    jump,
                    f"Feature '{name}' is missing more often: {now_m:.1%} of rows now vs "
                    f"{ref_m:.1%} at reference (+{jump * 100:.1f} points).",
                )
            )
    oor = row["out_of_range"]
    if row["kind"] == "numeric" and math.isfinite(oor):
        level = th.level("range", oor)
        if level != "ok":
            out.append(
                Finding(
                    level,
                    "range",
                    name,
                    oor,
                    f"Feature '{name}': {oor:.1%} of rows lie outside the training range "
                    f"({row['above_max']:.1%} above the maximum, {row['below_min']:.1%} "
                    "below the minimum); the model treats them as the edge values.",
                )
            )
    new = row["new_levels"]
    if row["kind"] == "categorical" and math.isfinite(new):
        level = th.level("new_level", new)
        if level != "ok":
            examples = ", ".join(repr(e) for e in row.get("new_examples", []))
            out.append(
                Finding(
                    level,
                    "new_level",
                    name,
                    new,
                    f"Feature '{name}': {new:.1%} of rows carry levels never seen at "
                    f"training (e.g. {examples}).",
                )
            )
    return out


def _check_input(frame: Any, name: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    if not isinstance(frame, pd.DataFrame):
        raise fail(name, "compare", "a pandas DataFrame or None", frame, error=MonitorError)
    return frame


def compare(
    reference: Reference,
    features: pd.DataFrame | None = None,
    scores: pd.DataFrame | None = None,
    *,
    thresholds: Thresholds | None = None,
    window: str = "test",
    epsilon: float = EPSILON,
    segments: pd.DataFrame | None = None,
    protected: Sequence[str] | None = None,
    market: Mapping[str, float] | None = None,
) -> MonitorReport:
    """Compare a scoring run (features and/or scores) with the reference.

    Parameters
    ----------
    reference : Reference
        From :func:`riskscore.monitor.build_reference` or :meth:`Reference.load`.
    features : pandas.DataFrame, optional
        The run's feature rows (extra columns are ignored; features absent from the frame
        are reported).
    scores : pandas.DataFrame, optional
        The run's scores: ``score`` (calibrated probability), ``risk_score`` and ``band``
        (as written by ``riskscore score``); any of them may be absent.
    thresholds : Thresholds, optional
        Default ``Thresholds()`` (PSI 0.1 watch, 0.25 act).
    window : {"test", "train"}, default "test"
        Reference window to compare the features with (falls back to the one stored).
    epsilon : float, default 1e-4
        Floor of a bin share in the PSI (see :mod:`riskscore.monitor._psi`).
    segments : pandas.DataFrame, optional
        Slice columns aligned with ``scores`` (default: the ``segment__*`` columns of
        ``scores``, else of ``features``); their flag rates are compared with the
        reference's (``report.slices``).
    protected : sequence of str, optional
        Slices (``segment=level``) whose rise in flag rate is a finding; default new and
        small sellers (:data:`riskscore.modeling._slices.PROTECTED_SLICES`).
    market : mapping of str to float, optional
        The marketplace statistics at the run's moment
        (:func:`riskscore.monitor.market_summary`), compared with the reference's range
        at its cutoffs (stored with ``build_reference(market=...)``).

    Returns
    -------
    MonitorReport

    Raises
    ------
    MonitorError
        Neither frame given, no reference feature in ``features``, or a bad argument.

    Examples
    --------
    >>> import numpy as np
    >>> from riskscore.monitor import build_reference
    >>> rng = np.random.default_rng(0)
    >>> old = pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000)})
    >>> ref = build_reference(test_frame=old)
    >>> compare(ref, old.sample(frac=1.0, random_state=1)).status
    'ok'
    >>> new = old.assign(x=old["x"] + 1.0)
    >>> report = compare(ref, new)
    >>> report.status, report.findings[0].subject, report.exit_code
    ('act', 'x', 3)
    """
    if not isinstance(reference, Reference):
        raise fail(
            "reference", "compare", "a riskscore.monitor.Reference", reference, error=MonitorError
        )
    features = _check_input(features, "features")
    scores = _check_input(scores, "scores")
    if features is None and scores is None:
        raise MonitorError(
            "compare needs the run's features, its scores, or both. Got neither. Pass "
            "features=<frame of feature columns> and/or scores=<frame with score, "
            "risk_score, band>."
        )
    th = thresholds if thresholds is not None else Thresholds()
    if not isinstance(th, Thresholds):
        raise fail("thresholds", "compare", "a Thresholds", th, error=MonitorError)
    check_option(window, "window", "compare", ("test", "train"), error=MonitorError)
    epsilon = check_real(
        epsilon, "epsilon", "compare", low=0, high=1, low_open=True, error=MonitorError
    )

    findings: list[Finding] = []
    rows_table: list[dict[str, Any]] = []
    n_rows = 0
    if features is not None:
        n_rows = len(features)
        present = [f for f in reference.features if f in features.columns]
        absent = [f for f in reference.features if f not in features.columns]
        if reference.features and not present:
            raise MonitorError(
                f"compare: the features frame has none of the reference's "
                f"{len(reference.features)} features (e.g. {reference.feature_names[:3]}); "
                f"got columns {list(features.columns)[:5]}. Pass the feature frame the "
                "model scored."
            )
        if absent:
            findings.append(
                Finding(
                    "watch",
                    "absent",
                    ", ".join(absent[:5]),
                    float(len(absent)),
                    f"{len(absent)} reference feature(s) are not in the features frame and "
                    f"were not checked: {', '.join(absent[:5])}"
                    + (" ..." if len(absent) > 5 else "."),
                )
            )
        for name in present:
            prof = reference.features[name]
            if prof["kind"] == "categorical":
                row = _compare_categorical(name, prof, features[name], window, epsilon)
            else:
                row = _compare_numeric(name, prof, numeric_values(features[name]), window, epsilon)
            mine = _feature_findings(row, th, window)
            row["level"] = _worst([f.level for f in mine])
            findings.extend(mine)
            rows_table.append(row)

    outputs: dict[str, Any] = {}
    bands: dict[str, Any] = {}
    if scores is not None:
        n_rows = max(n_rows, len(scores))
        outputs, out_findings = _compare_outputs(reference, scores, th, epsilon)
        findings.extend(out_findings)
        bands, band_findings = _compare_bands(reference, scores, th, epsilon)
        findings.extend(band_findings)
    slices, slices_note, slice_findings = _compare_slices(
        reference, features, scores, segments, protected, th
    )
    findings.extend(slice_findings)
    market_rows, market_note, market_findings = _compare_market(reference, market, th)
    findings.extend(market_findings)
    if n_rows < th.min_rows:
        findings.append(
            Finding(
                "watch",
                "rows",
                "run",
                float(n_rows),
                f"The run has only {n_rows} rows (fewer than {th.min_rows:g}): its shifts "
                "are noisy; read them with care.",
            )
        )
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    findings.sort(key=lambda f: (-order[f.level], -abs(f.value) if math.isfinite(f.value) else 0))
    columns = [
        "feature",
        "kind",
        "psi",
        "missing_ref",
        "missing_now",
        "out_of_range",
        "new_levels",
        "median_ref",
        "median_now",
        "level",
        "_counts",
    ]
    table = pd.DataFrame(rows_table, columns=columns)
    table = table.sort_values("psi", ascending=False, kind="stable", na_position="last")
    return MonitorReport(
        status=_worst([f.level for f in findings]),
        findings=findings,
        features=table.drop(columns="_counts").reset_index(drop=True),
        outputs=outputs,
        bands=bands,
        rows=n_rows,
        model=dict(reference.model),
        window=window,
        thresholds=th,
        slices=slices,
        slices_note=slices_note,
        market=market_rows,
        market_note=market_note,
    )


def _compare_market(
    reference: Reference, market: Mapping[str, float] | None, th: Thresholds
) -> tuple[list[dict[str, Any]], str, list[Finding]]:
    """Marketplace statistics of the run against their range at the reference cutoffs."""
    from riskscore.modeling._market import market_shift, stat_label

    stored = (reference.market or {}).get("stats") or {}
    if market is None:
        return [], ("no market statistics for the run" if stored else ""), []
    if not isinstance(market, Mapping):
        raise fail("market", "compare", "a mapping from market_summary", market, error=MonitorError)
    if not stored:
        return [], "no market reference (the reference stores no market statistics)", []
    days = reference.market.get("window_days")
    rows, findings = [], []
    for name, values in stored.items():
        if name not in market:
            continue
        now = float(market[name])
        ratio, direction, lo, hi = market_shift(values, now)
        # a rate that vanished or appeared (infinite ratio) is beyond any threshold
        level = th.level("market", ratio if math.isfinite(ratio) else sys.float_info.max)
        rows.append(
            {"stat": name, "now": now, "ref_min": lo, "ref_max": hi, "ratio": ratio, "level": level}
        )
        if level != "ok":
            if math.isinf(ratio):
                size = "none at all now" if direction == "fell" else "none at the reference"
            else:
                edge = "below the lowest" if direction == "fell" else "above the highest"
                size = f"{ratio:.1f}x {edge}"
            findings.append(
                Finding(
                    level,
                    "market",
                    name,
                    ratio if math.isfinite(ratio) else 1e9,
                    f"Marketplace {stat_label(name)} (last {days} days) {direction} to "
                    f"{_fmt(now)}, from {_fmt(lo)}–{_fmt(hi)} at the reference cutoffs "
                    f"({size}; {level} at ≥ {getattr(th, f'{level}_market'):g}x).",
                )
            )
    note = f"{len(rows)} marketplace statistic(s) against their range at the reference cutoffs"
    return rows, note, findings


def _compare_slices(
    reference: Reference,
    features: pd.DataFrame | None,
    scores: pd.DataFrame | None,
    segments: pd.DataFrame | None,
    protected: Sequence[str] | None,
    th: Thresholds,
) -> tuple[pd.DataFrame, str, list[Finding]]:
    """Slice flag rates now vs the reference; a note when they cannot be compared."""
    from riskscore.modeling._slices import PROTECTED_SLICES
    from riskscore.monitor._slices import compare_slices, find_segments

    if protected is None:
        protected = PROTECTED_SLICES
    if isinstance(protected, str) or not all(isinstance(p, str) for p in protected):
        raise fail(
            "protected",
            "compare",
            "a sequence of 'segment=level' strings",
            protected,
            error=MonitorError,
        )
    empty = pd.DataFrame()
    band = None
    if scores is not None and reference.bands:
        band = _bands_of(scores, reference.bands.get("thresholds"))
    if band is None or scores is None:
        return empty, "not compared: the run has no scores with bands", []
    if segments is not None:
        segments = _check_input(segments, "segments")
        if segments is not None and len(segments) != len(scores):
            raise MonitorError(
                f"compare: segments has {len(segments)} rows but scores has {len(scores)}; "
                "pass slice columns aligned row for row with the scores"
            )
    else:
        segments = find_segments([scores, features], len(scores))
    if not reference.slices:
        return empty, "no slice reference (the reference stores no per-slice flag rates)", []
    if segments is None or not len(segments.columns):
        return empty, "not compared: the run carries no segment__* columns", []
    flag = list(reference.bands.get("flag_bands") or []) if reference.bands else []
    table, found = compare_slices(
        reference.slices,
        segments,
        np.isin(band, flag),
        watch=th.watch_flagged,
        act=th.act_flagged,
        protected=protected,
    )
    if not len(table):
        return table, "not compared: the run's segment columns are not in the reference", []
    findings = [
        Finding(f["level"], "slice_flagged", f["subject"], f["value"], f["message"]) for f in found
    ]
    note = (
        f"flag rate per slice compared with the reference ({len(table)} slices; "
        f"protected: {', '.join(protected) or 'none'})"
    )
    return table, note, findings


def _worst(levels: Sequence[str]) -> str:
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    return max(levels, key=order.__getitem__, default="ok")


def _compare_outputs(
    reference: Reference, scores: pd.DataFrame, th: Thresholds, epsilon: float
) -> tuple[dict[str, Any], list[Finding]]:
    outputs: dict[str, Any] = {}
    for col, prof in reference.outputs.items():
        if col not in scores.columns:
            continue
        values = numeric_values(scores[col])
        ref = _window(prof, "test")
        counts = bin_counts(values, prof["edges"])
        finite = values[np.isfinite(values)]
        outputs[col] = {
            "psi": psi_from_counts(ref["counts"], counts, epsilon=epsilon),
            "median_ref": (prof.get("quantiles") or {}).get("p50"),
            "median_now": float(np.median(finite)) if finite.size else None,
            "mean_now": float(finite.mean()) if finite.size else None,
            "edges": prof["edges"],
            "shares_ref": _shares(ref["counts"]),
            "shares_now": _shares(counts),
        }
    findings = []
    # one finding for the model output: the calibrated score, else the risk score (the two
    # are monotone in the raw score, so their PSIs on their own bins agree)
    for col in ("score", "risk_score"):
        if col in outputs:
            o = outputs[col]
            level = th.level("psi", o["psi"])
            if level != "ok":
                findings.append(
                    Finding(
                        level,
                        "score_psi",
                        col,
                        o["psi"],
                        f"The model's {col} distribution shifted: PSI {o['psi']:.2f} against "
                        f"the test window ({level} at ≥ {getattr(th, level + '_psi'):g}); "
                        f"median {_fmt(o['median_ref'])} → {_fmt(o['median_now'])}.",
                    )
                )
            break
    return outputs, findings


def _shares(counts: Any) -> list[float]:
    c = np.asarray(counts, dtype=np.float64)
    return (c / c.sum()).tolist() if c.sum() > 0 else [0.0] * c.size


def _compare_bands(
    reference: Reference, scores: pd.DataFrame, th: Thresholds, epsilon: float
) -> tuple[dict[str, Any], list[Finding]]:
    info = reference.bands
    if not info:
        return {}, []
    band = _bands_of(scores, info.get("thresholds"))
    if band is None or not len(band):
        return {}, []
    ref = info["windows"]["test"]
    flag = list(info.get("flag_bands") or [])
    now = {b: float(np.mean(band == b)) for b in BAND_NAMES}
    ref_shares = [ref["shares"].get(b, 0.0) for b in BAND_NAMES]
    band_psi = psi_from_counts(ref_shares, [now[b] for b in BAND_NAMES], epsilon=epsilon)
    f_ref, f_now = float(ref["flagged_share"]), float(np.isin(band, flag).mean())
    out = {
        "shares_ref": dict(zip(BAND_NAMES, ref_shares, strict=True)),
        "shares_now": now,
        "psi": band_psi,
        "flag_bands": flag,
        "flagged_ref": f_ref,
        "flagged_now": f_now,
    }
    findings = []
    level = th.level("psi", band_psi)
    if level != "ok":
        moves = ", ".join(f"{b} {ref['shares'].get(b, 0.0):.1%} → {now[b]:.1%}" for b in BAND_NAMES)
        findings.append(
            Finding(
                level,
                "band_psi",
                "bands",
                band_psi,
                f"Band volumes shifted: PSI {band_psi:.2f} ({moves}).",
            )
        )
    # the flagged share: a ratio beyond the threshold that is also beyond the noise of both
    # samples (two-sample binomial standard error around the pooled share)
    n, n_ref = len(band), int(ref.get("n") or len(band))
    pooled = (f_ref * n_ref + f_now * n) / (n_ref + n)
    se = math.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n_ref + 1 / n))
    ratio = (f_now / f_ref) if f_ref > 0 else (math.inf if f_now > 0 else 1.0)
    size = max(ratio, 1 / ratio) if ratio > 0 else math.inf
    if abs(f_now - f_ref) > 3 * se:
        # none flagged on one side is the largest change of all, not an undefined one
        level = th.level("flagged", size if math.isfinite(size) else sys.float_info.max)
        if level != "ok":
            word = "more" if f_now > f_ref else "fewer"
            how = (
                f"{size:.1f}x {word}"
                if math.isfinite(size)
                else ("none at reference" if f_ref == 0 else "none now")
            )
            findings.append(
                Finding(
                    level,
                    "flagged",
                    "bands",
                    size,
                    f"{word.capitalize()} sellers flagged ({'+'.join(flag)}): "
                    f"{f_now:.1%} of rows now vs {f_ref:.1%} at reference ({how}).",
                )
            )
    out["flagged_ratio"] = ratio
    return out, findings
