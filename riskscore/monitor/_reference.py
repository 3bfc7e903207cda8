"""The monitoring reference: what the model's inputs and scores looked like at training.

A :class:`Reference` is small (kilobytes of JSON, no raw rows) and is stored with the model
version. Per feature it holds the bins cut at the reference window's quantiles, the counts
per bin on each window it was built from (``train``, ``test``), the missing share, the
training range (min/max) and, for categorical features, the frequency of each level. For
the model's output it holds the bins and counts of the calibrated probability (``score``)
and of the 0-1000 ``risk_score`` on the test window, the share of rows per band, the share
flagged (bands ``high`` and ``critical`` by default) and the calibration curve.

Which window is the reference. Feature bins are cut at the training window's quantiles
when a training frame is given, else at the test window's. Scores are those of the
*evaluated* model on the test window (out of sample): a model's scores on its own training
rows are over-confident and would make every later run look shifted. :func:`compare`
uses the test window by default for both (the latest window the model was checked on);
``window="train"`` compares the features with the training window instead.

File format: :meth:`Reference.save` writes :data:`REFERENCE_FILE` into a folder, the name
the registry uses when it logs the reference next to the model version.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskscore._validation import check_int, fail
from riskscore.monitor._errors import MonitorError
from riskscore.monitor._psi import bin_counts, quantile_edges

__all__ = [
    "FLAG_BANDS",
    "FORMAT_VERSION",
    "REFERENCE_FILE",
    "Reference",
    "build_reference",
    "reference_from_result",
]

#: Version of the JSON layout written by :meth:`Reference.to_json`.
FORMAT_VERSION = 1
#: File name of a reference inside a model folder or an MLflow artifact directory.
REFERENCE_FILE = "monitor_reference.json"
#: Bands whose rows are "flagged" (sent to review).
FLAG_BANDS: tuple[str, ...] = ("high", "critical")
#: Band names in order (as :data:`riskscore.modeling.BANDS`).
BAND_NAMES: tuple[str, ...] = ("low", "medium", "high", "critical")
#: Label of the bucket holding categorical levels beyond ``max_levels``.
OTHER = "__other__"

_KIND = "riskscore-monitor-reference"
_SKIP = {"entity_id", "seller_id", "listing_id", "cutoff", "as_of", "label", "time", "id"}


def _finite(value: Any) -> Any:
    """Plain JSON value: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_finite(v) for v in value]
    return value


def is_categorical(series: pd.Series) -> bool:
    """Whether a column is profiled by level (strings, category, bool) rather than by bins."""
    return not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(
        series.dtype
    )


def numeric_values(series: pd.Series) -> np.ndarray:
    """Return the column as float64 (NaN for missing), never read-only."""
    return np.array(pd.to_numeric(series, errors="coerce"), dtype=np.float64, copy=True)


def level_counts(series: pd.Series, levels: Sequence[str]) -> np.ndarray:
    """Return the counts per level, then the other levels together, then missing."""
    missing = series.isna().to_numpy()
    text = series[~missing].astype(str)
    freq = text.value_counts()
    known = [int(freq.get(level, 0)) for level in levels]
    other = int(len(text) - sum(known))
    return np.asarray([*known, other, int(missing.sum())], dtype=np.int64)


@dataclass
class Reference:
    """A compact description of a model's inputs and outputs at training, for monitoring.

    Build one with :func:`build_reference` (from frames) or :func:`reference_from_result`
    (from a :class:`~riskscore.modeling.TrainResult`); compare a scoring run with it with
    :func:`riskscore.monitor.compare`.

    Attributes
    ----------
    features : dict
        Per feature: ``kind`` (``numeric`` / ``categorical``); for numeric features the
        interior bin ``edges`` and the training ``min`` / ``max``; for categorical ones the
        ``levels``; and per window (``train``, ``test``) the row count ``n``, the
        ``counts`` per bin (the last bin is missing values; categorical: levels, then
        other levels, then missing) and the ``missing_share``.
    outputs : dict
        ``score`` and ``risk_score`` profiles (as numeric features, test window).
    bands : dict or None
        ``thresholds`` (risk score at which each band starts), ``flag_bands``, and per
        window the ``shares`` of each band and the ``flagged_share``.
    calibration : list of dict
        The test window's calibration curve (:func:`riskscore.metrics.calibration_curve`).
    performance : dict
        Test-window rows, positives, label rate, and precision among flagged rows.
    slices : dict
        Per slice (``segment__*`` column, then level) on the test window: ``n``,
        ``flagged`` and, with labels, ``negatives`` and ``false_positives``
        (:func:`riskscore.monitor._slices.slice_profile`). Empty for references built
        without segment columns, or before slices were stored ("no slice reference").
    model : dict
        Name, version, entity, target of the model the reference belongs to.
    windows : dict
        Per window: rows and the time range.
    n_bins : int
        Bins asked for per numeric feature.
    market : dict
        Marketplace statistics at the reference cutoffs
        (:func:`riskscore.monitor.market_profile`): ``window_days``, ``as_of`` and
        ``stats``. Empty when built without ``market=`` ("no market reference").
    """

    features: dict[str, dict[str, Any]]
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    bands: dict[str, Any] | None = None
    calibration: list[dict[str, Any]] = field(default_factory=list)
    performance: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    windows: dict[str, dict[str, Any]] = field(default_factory=dict)
    n_bins: int = 10
    slices: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    market: dict[str, Any] = field(default_factory=dict)

    # -- serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN stored as ``null``)."""
        return _finite(
            {
                "kind": _KIND,
                "format_version": FORMAT_VERSION,
                "model": self.model,
                "windows": self.windows,
                "n_bins": self.n_bins,
                "features": self.features,
                "outputs": self.outputs,
                "bands": self.bands,
                "calibration": self.calibration,
                "performance": self.performance,
                "slices": self.slices,
                "market": self.market,
            }
        )

    def to_json(self, indent: int | None = None) -> str:
        """Return the reference as a JSON string (strict JSON: no NaN).

        Examples
        --------
        >>> ref = build_reference(test_frame=pd.DataFrame({"x": [1.0, 2.0, 3.0, None]}))
        >>> Reference.from_json(ref.to_json()).features["x"]["windows"]["test"]["missing_share"]
        0.25
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        """Inverse of :meth:`to_dict`; raises :class:`MonitorError` on another layout."""
        if not isinstance(data, Mapping) or data.get("kind") != _KIND:
            got = data.get("kind") if isinstance(data, Mapping) else type(data).__name__
            raise MonitorError(
                f"This is not a riskscore monitoring reference: expected a JSON object with "
                f"kind={_KIND!r}, got kind={got!r}. Build one with "
                "riskscore.monitor.build_reference(...) and save it with Reference.save."
            )
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise MonitorError(
                f"Monitoring reference format {version!r} is not supported: this riskscore "
                f"reads format {FORMAT_VERSION}. Rebuild the reference with this version."
            )
        return cls(
            features=dict(data.get("features") or {}),
            outputs=dict(data.get("outputs") or {}),
            bands=data.get("bands"),
            calibration=list(data.get("calibration") or []),
            performance=dict(data.get("performance") or {}),
            model=dict(data.get("model") or {}),
            windows=dict(data.get("windows") or {}),
            n_bins=int(data.get("n_bins") or 10),
            slices=dict(data.get("slices") or {}),
            market=dict(data.get("market") or {}),
        )

    @classmethod
    def from_json(cls, text: str) -> Reference:
        """Read a reference from :meth:`to_json` output."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError) as err:
            raise MonitorError(
                f"The monitoring reference is not valid JSON ({err}). Expected the text "
                "written by Reference.to_json / Reference.save."
            ) from None
        return cls.from_dict(data)

    def save(self, folder: str | Path) -> Path:
        """Write :data:`REFERENCE_FILE` into ``folder`` (created if needed); return its path.

        Examples
        --------
        >>> import tempfile
        >>> ref = build_reference(test_frame=pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
        >>> with tempfile.TemporaryDirectory() as d:
        ...     path = ref.save(d)
        ...     print(path.name, Reference.load(d).features["x"]["max"])
        monitor_reference.json 3.0
        """
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        out = path / REFERENCE_FILE
        out.write_text(self.to_json(indent=1), encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | Path) -> Reference:
        """Read a reference from a folder holding :data:`REFERENCE_FILE`, or from a file."""
        p = Path(path)
        if p.is_dir():
            p = p / REFERENCE_FILE
        if not p.is_file():
            raise MonitorError(
                f"No monitoring reference at {p}: expected a JSON file written by "
                f"Reference.save (file name {REFERENCE_FILE}). Build it at training with "
                "riskscore.monitor.reference_from_result(result) and save it."
            )
        return cls.from_json(p.read_text(encoding="utf-8"))

    # -- derived -----------------------------------------------------------------------

    @property
    def feature_names(self) -> list[str]:
        """Profiled features, in the order they were given."""
        return list(self.features)


# -- building --------------------------------------------------------------------------


def _window_info(frame: pd.DataFrame, time_col: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {"rows": len(frame)}
    if time_col and time_col in frame.columns and len(frame):
        t = pd.to_datetime(frame[time_col], errors="coerce")
        info["time_min"] = None if pd.isna(t.min()) else str(t.min())
        info["time_max"] = None if pd.isna(t.max()) else str(t.max())
    return info


def _numeric_profile(windows: Mapping[str, pd.Series], base: str, n_bins: int) -> dict[str, Any]:
    values = {w: numeric_values(s) for w, s in windows.items()}
    ref = values[base]
    edges = quantile_edges(ref, n_bins)
    finite = ref[np.isfinite(ref)]
    quantiles = (
        dict(
            zip(("p01", "p50", "p99"), np.quantile(finite, [0.01, 0.5, 0.99]).tolist(), strict=True)
        )
        if finite.size
        else {}
    )
    return {
        "kind": "numeric",
        "edges": edges.tolist(),
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
        "quantiles": quantiles,
        "windows": {
            w: {
                "n": int(v.size),
                "counts": bin_counts(v, edges).tolist(),
                "missing_share": float(np.isnan(v).mean()) if v.size else None,
            }
            for w, v in values.items()
        },
    }


def _categorical_profile(
    windows: Mapping[str, pd.Series], base: str, max_levels: int, known: Sequence[str] | None
) -> dict[str, Any]:
    ref = windows[base]
    freq = ref.dropna().astype(str).value_counts()
    levels = [str(v) for v in freq.index[:max_levels]]
    known_levels = sorted({*(str(k) for k in known or []), *freq.index.astype(str)})
    return {
        "kind": "categorical",
        "levels": levels,
        "known_levels": known_levels[: max(max_levels * 4, 200)],
        "windows": {
            w: {
                "n": len(s),
                "counts": level_counts(s, levels).tolist(),
                "missing_share": float(s.isna().mean()) if len(s) else None,
            }
            for w, s in windows.items()
        },
    }


def _check_frame(frame: Any, name: str) -> pd.DataFrame | None:
    if frame is None:
        return None
    if not isinstance(frame, pd.DataFrame):
        raise fail(name, "build_reference", "a pandas DataFrame or None", frame, error=MonitorError)
    return frame


def build_reference(
    model: Any = None,
    train_frame: pd.DataFrame | None = None,
    test_frame: pd.DataFrame | None = None,
    predictions: pd.DataFrame | None = None,
    *,
    features: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    bands: Mapping[str, float] | None = None,
    flag_bands: Sequence[str] = FLAG_BANDS,
    label_col: str = "label",
    time_col: str | None = None,
    n_bins: int = 10,
    max_levels: int = 50,
    model_info: Mapping[str, Any] | None = None,
    segments: pd.DataFrame | None = None,
    market: Mapping[str, Any] | None = None,
    deployed: pd.DataFrame | None = None,
    volumes: pd.DataFrame | None = None,
) -> Reference:
    """Build a monitoring reference from the frames a model was trained and tested on.

    Parameters
    ----------
    model : RiskModel, optional
        Supplies the feature names and order (``feature_names``), the levels of categorical
        features (``categories``), the band thresholds (``bands``) and name/version/entity/
        target (``metadata``). Any object with those attributes works; without a model,
        pass ``features`` and ``bands`` yourself (or let the frames' columns decide).
    train_frame : pandas.DataFrame, optional
        Feature rows of the training window. When given, numeric bins are cut at its
        quantiles and the training range (min/max) comes from it.
    test_frame : pandas.DataFrame, optional
        Feature rows of the test window (``TrainResult.test_frame``).
    predictions : pandas.DataFrame, optional
        Scores on the test window: ``score`` (calibrated probability), ``risk_score``,
        ``band`` and, for the calibration curve, ``label_col``
        (``TrainResult.predictions``).
    features : sequence of str, optional
        Features to profile (default: the model's, else every column of the frames but
        ids, times and the label).
    categorical : sequence of str, optional
        Features profiled by level (default: the model's categorical features and every
        non-numeric column).
    bands : mapping of str to float, optional
        Risk score at which ``medium``, ``high`` and ``critical`` start (default: the
        model's).
    flag_bands : sequence of str, default ("high", "critical")
        Bands whose rows are flagged for review.
    label_col : str, default "label"
    time_col : str, optional
        Time column for the windows' time range (default: the model's ``time_col``).
    n_bins : int, default 10
        Quantile bins per numeric feature (fewer when quantiles tie).
    max_levels : int, default 50
        Most frequent levels kept per categorical feature; the rest are pooled.
    model_info : mapping, optional
        Overrides of the stored ``model`` entry (e.g. ``{"version": "7"}``).
    segments : pandas.DataFrame, optional
        Slice columns aligned with ``predictions`` for the per-slice flag rates (and,
        with labels, false-positive rates); default the ``segment__*`` columns of
        ``predictions``, else of ``test_frame`` when it has as many rows
        (``TrainResult.test_frame`` carries them when trained with ``segment_cols``).
    market : mapping, optional
        Marketplace statistics at the training and test cutoffs,
        :func:`riskscore.monitor.market_profile` ``(tables, cutoffs)``: ``compare`` then
        checks a run's :func:`~riskscore.monitor.market_summary` against their range.
    deployed : pandas.DataFrame, optional
        The deployed model's ``score`` and ``risk_score`` on the rows of ``test_frame``,
        when the deployed model is not the one that scored ``predictions`` (a refit:
        ``TrainResult.deployed_predictions``): the score distribution then describes
        it. The calibration curve stays with ``predictions``.
    volumes : pandas.DataFrame, optional
        ``band`` (or ``risk_score``) and, for precision and recall, ``score`` and
        ``label_col`` of the rows whose volumes the deployed model's bands were set for
        (a refit: its out-of-fold scores on the test window, aligned with
        ``test_frame``): the band shares, the flagged share, the performance at the
        flag band and the per-slice counts (its ``segment__*`` columns, else
        ``test_frame``'s). Default: ``deployed``, else ``predictions``; the performance
        comes from ``predictions`` when these rows have no labels.

    Returns
    -------
    Reference

    Raises
    ------
    MonitorError
        No frame given, a listed feature missing from a frame, or a frame of another type.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train = pd.DataFrame({"x": rng.normal(size=1000), "c": rng.choice(["a", "b"], 1000)})
    >>> ref = build_reference(train_frame=train, test_frame=train.iloc[:300])
    >>> ref.features["x"]["kind"], len(ref.features["x"]["edges"]), ref.features["c"]["levels"]
    ('numeric', 9, ['b', 'a'])
    >>> len(ref.to_json()) < 10_000
    True
    """
    where = "build_reference"
    n_bins = check_int(n_bins, "n_bins", where, minimum=2, error=MonitorError)
    max_levels = check_int(max_levels, "max_levels", where, minimum=1, error=MonitorError)
    frames = {
        name: f
        for name, f in (
            ("train", _check_frame(train_frame, "train_frame")),
            ("test", _check_frame(test_frame, "test_frame")),
        )
        if f is not None
    }
    predictions = _check_frame(predictions, "predictions")
    deployed = _check_frame(deployed, "deployed")
    volumes = _check_frame(volumes, "volumes")
    if volumes is None:
        volumes = deployed
    if not frames and predictions is None and deployed is None and volumes is None:
        raise MonitorError(
            "build_reference needs at least one of train_frame, test_frame or predictions. "
            "Got none. Pass the frames the model was trained and tested on "
            "(TrainResult.test_frame and TrainResult.predictions)."
        )
    meta = dict(getattr(model, "metadata", None) or {})
    time_col = time_col or meta.get("time_col")
    if features is None:
        names = getattr(model, "feature_names", None)
        if names is None:
            skip = _SKIP | {label_col, time_col, meta.get("id_col")}
            first = next(iter(frames.values()), pd.DataFrame())
            names = [c for c in first.columns if c not in skip]
        features = list(names)
    features = [str(f) for f in features]
    for wname, frame in frames.items():
        absent = [f for f in features if f not in frame.columns]
        if absent:
            raise MonitorError(
                f"build_reference: the {wname} frame lacks {len(absent)} feature column(s), "
                f"e.g. {absent[:5]}. Expected every feature of the model. Pass the frame "
                "the model was trained/tested on, or name the features with features=[...]."
            )
    model_cats: dict[str, list[str]] = dict(getattr(model, "categories", None) or {})
    cat_set = set(categorical) if categorical is not None else set(model_cats)
    base = "train" if "train" in frames else "test"
    profiles: dict[str, dict[str, Any]] = {}
    for f in features:
        windows = {w: frame[f] for w, frame in frames.items()}
        if f in cat_set or (categorical is None and is_categorical(frames[base][f])):
            profiles[f] = _categorical_profile(windows, base, max_levels, model_cats.get(f))
        else:
            profiles[f] = _numeric_profile(windows, base, n_bins)

    outputs: dict[str, dict[str, Any]] = {}
    band_info: dict[str, Any] | None = None
    calibration: list[dict[str, Any]] = []
    performance: dict[str, Any] = {}
    thresholds = dict(bands) if bands is not None else None
    if thresholds is None and getattr(model, "bands", None) is not None:
        thresholds = dict(model.bands.thresholds)
    flag = [str(b) for b in flag_bands]
    handed_out = deployed if deployed is not None else predictions
    if handed_out is not None:
        for col in ("score", "risk_score"):
            if col in handed_out.columns:
                outputs[col] = _numeric_profile({"test": handed_out[col]}, "test", n_bins)
    flagging = volumes if volumes is not None else predictions
    if flagging is not None:
        band = _bands_of(flagging, thresholds)
        if band is not None:
            shares = {b: float(np.mean(band == b)) if len(band) else 0.0 for b in BAND_NAMES}
            band_info = {
                "thresholds": thresholds,
                "flag_bands": flag,
                "windows": {
                    "test": {
                        "n": len(band),
                        "shares": shares,
                        "flagged_share": float(np.isin(band, flag).mean()) if len(band) else 0.0,
                    }
                },
            }
    if _labelled(predictions, label_col):
        assert predictions is not None
        calibration = _calibration_of(predictions, label_col)
    # precision and recall at the flag band: on the rows whose volumes the bands describe
    counted = volumes if _labelled(volumes, label_col) else predictions
    if _labelled(counted, label_col):
        assert counted is not None
        performance = _performance_of(counted, label_col, _bands_of(counted, thresholds), flag)

    slices: dict[str, Any] = {}
    if volumes is not None:
        slices = _slices_of(volumes, frames.get("test"), None, thresholds, flag, label_col)
    elif predictions is not None:
        slices = _slices_of(predictions, frames.get("test"), segments, thresholds, flag, label_col)
    info = {
        k: meta.get(k) for k in ("name", "version", "entity", "target", "trained_at") if k in meta
    }
    name = getattr(model, "name", None)
    if "name" not in info and isinstance(name, str):
        info["name"] = name
    info.update(dict(model_info or {}))
    windows_info = {w: _window_info(f, time_col) for w, f in frames.items()}
    if predictions is not None and "test" not in windows_info:
        windows_info["test"] = _window_info(predictions, time_col)
    return Reference(
        features=profiles,
        outputs=outputs,
        bands=band_info,
        calibration=calibration,
        performance=performance,
        model=info,
        windows=windows_info,
        n_bins=n_bins,
        slices=slices,
        market=_market_of(market),
    )


def _market_of(market: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check and copy a :func:`~riskscore.monitor.market_profile` for the reference."""
    if market is None:
        return {}
    stats = market.get("stats") if isinstance(market, Mapping) else None
    if not isinstance(stats, Mapping) or "window_days" not in market:
        raise MonitorError(
            "build_reference: market must be the output of riskscore.monitor.market_profile"
            "(tables, cutoffs): a mapping with window_days, as_of and stats"
        )
    return {
        "window_days": int(market["window_days"]),
        "as_of": [str(t) for t in market.get("as_of", [])],
        "stats": {str(k): [float(v) for v in vals] for k, vals in stats.items()},
    }


def _labelled(frame: pd.DataFrame | None, label_col: str) -> bool:
    """Whether ``frame`` holds labels and calibrated scores."""
    return frame is not None and label_col in frame.columns and "score" in frame.columns


def _labels_and_scores(
    frame: pd.DataFrame, label_col: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``frame``'s labels, calibrated scores and where both are numbers."""
    y = pd.to_numeric(frame[label_col], errors="coerce").to_numpy(np.float64)
    p = pd.to_numeric(frame["score"], errors="coerce").to_numpy(np.float64)
    return y, p, np.isfinite(y) & np.isfinite(p)


def _calibration_of(frame: pd.DataFrame, label_col: str) -> list[dict[str, Any]]:
    """Return the calibration curve of ``frame``'s scores against its labels."""
    from riskscore.metrics import calibration_curve

    y, p, ok = _labels_and_scores(frame, label_col)
    if not ok.any():
        return []
    return [
        {str(k): v for k, v in rec.items()}
        for rec in calibration_curve(y[ok], p[ok]).to_dict("records")
    ]


def _performance_of(
    frame: pd.DataFrame, label_col: str, band: np.ndarray | None, flag: Sequence[str]
) -> dict[str, Any]:
    """Return rows, positives, label rate, mean score and the flagged rows' hits."""
    y, p, ok = _labels_and_scores(frame, label_col)
    if not ok.any():
        return {}
    out: dict[str, Any] = {"rows": int(ok.sum()), "positives": int(y[ok].sum())}
    out["label_rate"] = float(y[ok].mean())
    out["mean_score"] = float(p[ok].mean())
    if band is not None:
        flagged = np.isin(band, list(flag)) & ok
        out["flagged"] = int(flagged.sum())
        out["flagged_positives"] = int(y[flagged].sum())
        out["flag_precision"] = float(y[flagged].mean()) if flagged.any() else None
    return out


def _slices_of(
    predictions: pd.DataFrame,
    test_frame: pd.DataFrame | None,
    segments: pd.DataFrame | None,
    thresholds: Mapping[str, float] | None,
    flag: Sequence[str],
    label_col: str,
) -> dict[str, Any]:
    """Per-slice counts on the test window (empty without segments or bands)."""
    from riskscore.monitor._slices import find_segments, slice_profile

    if segments is not None:
        segments = _check_frame(segments, "segments")
        if segments is not None and len(segments) != len(predictions):
            raise MonitorError(
                f"build_reference: segments has {len(segments)} rows but predictions has "
                f"{len(predictions)}; pass slice columns aligned row for row with predictions"
            )
    else:
        segments = find_segments([predictions, test_frame], len(predictions))
    band = _bands_of(predictions, thresholds)
    if segments is None or not len(segments.columns) or band is None:
        return {}
    y = None
    if label_col in predictions.columns:
        values = pd.to_numeric(predictions[label_col], errors="coerce").to_numpy(np.float64)
        y = values if np.isfinite(values).all() else None
    return slice_profile(segments.reset_index(drop=True), np.isin(band, list(flag)), y)


def _bands_of(frame: pd.DataFrame, thresholds: Mapping[str, float] | None) -> np.ndarray | None:
    """Band of each row: the ``band`` column, else ``risk_score`` cut at ``thresholds``."""
    if "band" in frame.columns:
        return frame["band"].astype(str).to_numpy(dtype=object)
    if thresholds and "risk_score" in frame.columns:
        cuts = np.asarray([thresholds[b] for b in BAND_NAMES[1:]], dtype=np.float64)
        risk = numeric_values(frame["risk_score"])
        return np.asarray(BAND_NAMES, dtype=object)[np.searchsorted(cuts, risk, side="right")]
    return None


def reference_from_result(
    result: Any, train_frame: pd.DataFrame | None = None, **options: Any
) -> Reference:
    """Build the reference of a training run (:class:`~riskscore.modeling.TrainResult`).

    The test window's feature bins come from every row of the test windows
    (``result.window_frame``; ``result.test_frame`` for results without it). Its score
    distribution, band shares and per-slice flag rates describe what the deployed model
    hands out; ``model["scores_from"]`` says where they come from. For a refit
    (``result.deployed_predictions``): the score distribution from its scores on those
    rows; the band shares, flag rates and performance at the flag band (precision and
    recall, which ``matured_check`` compares with) from its out-of-fold scores there,
    where its capacity bands were cut (in-sample it flags about the window's positives
    instead, precision near 1). Otherwise all from ``result.predictions``. The
    calibration curve always comes from ``result.predictions``, the evaluated fit's
    out-of-sample scores on the test side. Why: the refit scores the sellers it learnt
    far lower than the evaluated fit does, and against the evaluated fit's scores an
    unchanged marketplace read as score PSI 0.27-6.7 (``act``) at the next cutoff;
    against its own, 0.004-0.022 (12 runs, ``bench/results/monitor_refit.json``); and
    its out-of-fold recall at the flag band (0.32-0.64) is near what it reaches on the
    next cutoff (0.50-0.65), where the evaluated fit's test side, flagging a fifth as
    many, said 0.12-0.50. The band thresholds, categories and metadata come from
    ``result.model`` (the deployed model). Why every row: an entity-disjoint test
    side holds a share of the sellers seen before plus every seller first seen in the
    test window, so it is younger than the marketplace, and a later run of the whole
    marketplace read as "older" (account ages at PSI 0.18 on the unchanged simulator and
    0.47 on the drift scenario five months on; 0.09 and 0.15 against the whole window).
    Pass ``train_frame`` (the training-window rows of the table given to ``train``) for
    training-window bins and range; without it bins and range come from the test window.

    Parameters
    ----------
    result : TrainResult
    train_frame : pandas.DataFrame, optional
    **options
        Passed to :func:`build_reference`.

    Returns
    -------
    Reference

    Examples
    --------
    >>> from riskscore.modeling import make_training_table, train
    >>> t = make_training_table(600, 6, positive_rate=0.08, seed=0)
    >>> r = train(t, entity="seller", target="fraud", capacity=20, n_bootstrap=0,
    ...           refit=False, family_report=False)
    >>> ref = reference_from_result(r, train_frame=t[t["cutoff"] < t["cutoff"].max()])
    >>> sorted(ref.windows), "score" in ref.outputs, ref.bands["flag_bands"]
    (['test', 'train'], True, ['high', 'critical'])
    """
    for attr in ("model", "test_frame", "predictions"):
        if not hasattr(result, attr):
            raise fail(
                "result",
                "reference_from_result",
                "a riskscore.modeling.TrainResult",
                result,
                error=MonitorError,
            )
    window = getattr(result, "window_frame", None)
    test_frame = result.test_frame if window is None else window
    if window is not None and "segments" not in options:
        # the slices are counted on the scored rows, which the test side's frame matches
        segment_cols = [c for c in result.test_frame.columns if c.startswith("segment__")]
        if segment_cols and len(result.test_frame) == len(result.predictions):
            options["segments"] = result.test_frame[segment_cols].reset_index(drop=True)
    label_col = options.setdefault("label_col", result.model.metadata.get("label_col", "label"))
    deployed = getattr(result, "deployed_predictions", None)
    if window is not None and deployed is not None:  # its rows are the window's
        options.setdefault("deployed", deployed[["score", "risk_score"]])
        oof = [c for c in ("oof_score", "oof_risk_score", "oof_band") if c in deployed.columns]
        if "oof_band" in oof:
            volumes = deployed[[*oof, label_col]].rename(columns=lambda c: c.removeprefix("oof_"))
            options.setdefault("volumes", volumes)
    refit = options.get("deployed") is not None
    options["model_info"] = {
        "scores_from": (
            "the deployed refit on every row of the test windows (in-sample); band "
            "shares and performance from its out-of-fold scores there, on which its bands "
            "were set"
            if refit
            else "the evaluated fit on the test side (out of sample)"
        ),
        **dict(options.get("model_info") or {}),
    }
    return build_reference(result.model, train_frame, test_frame, result.predictions, **options)
