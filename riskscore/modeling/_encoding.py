"""The one feature encoder: from a frame or a record to the float64 matrix a model reads.

Training (:meth:`RiskModel.to_matrix <riskscore.modeling.RiskModel.to_matrix>`, the
training set handed to LightGBM) and scoring (:class:`riskscore.scoring.Scorer`, the batch
runner) encode inputs here, so a row means the same thing on both sides.

:class:`FeatureLayout` holds what a model expects (feature names in order, which may be
missing, what to fill, the levels of categorical features) and turns inputs into a float64
matrix in that order, or raises one :class:`~riskscore.exceptions.ScoringError` that names
the problem:

- a missing feature column names it, and shows a :mod:`difflib` diff of the expected
  against the received columns (:func:`column_diff`), so a model trained on another
  feature catalog shows exactly which columns differ;
- text, infinite values, and missing values (``None``/NaN) in a feature the catalog
  declares never missing name the feature, a few row ids and the count;
- duplicate ids and duplicated column names are refused;
- numbers beyond the float64 range (e.g. ``10**400``) and complex numbers are refused,
  naming the feature.

Categorical features become the position of their value in the model's levels (unknown
levels and missing values become NaN), as the model was trained.

The entity id is read from the ``<entity>_id`` column or, when the frame has no such
column, from an index of that name (what :func:`riskscore.build_features` returns), so
both layouts keep their ids and the duplicate-id check.

Unknown extra columns are ignored, column order has no effect, and inputs are never
modified. A feature column may be absent only where the catalog says so (the feature
``needs`` an optional table): it is then filled with the catalog's ``fill`` value.

Speed: a record becomes a numpy row without pandas (a few microseconds); a frame whose
features are all numeric is read as one block, column-major, without a transposing copy
(LightGBM reads either memory order and predicts the same).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskscore._deprecation import renamed_attribute
from riskscore.exceptions import ScoringError

__all__ = ["FeatureLayout", "column_diff", "encode_frame", "encode_record"]

#: How many offending ids an error message shows.
N_EXAMPLES = 5

#: How many diff lines an error message shows at most.
MAX_DIFF_LINES = 40

FloatMatrix = np.ndarray[Any, np.dtype[np.float64]]

_NUMBER_TYPES = (int, float, np.integer, np.floating, np.bool_)

#: How many characters of an offending value an error message shows.
_MAX_REPR = 40


def _short(value: Any) -> str:
    """``repr(value)``, cut to a readable length (a 400-digit int stays one line)."""
    text = repr(value)
    if len(text) > _MAX_REPR:
        text = f"{text[: _MAX_REPR - 12]}...({len(text)} chars)"
    return text


def _too_large(value: Any) -> bool:
    """Whether ``value`` is an integer beyond the float64 range (float() overflows)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        return False
    try:
        float(value)
    except OverflowError:
        return True
    return False


def _real_dtype(dtype: Any) -> bool:
    """Whether a column of ``dtype`` holds real numbers or booleans (not complex, not text)."""
    if pd.api.types.is_bool_dtype(dtype):
        return True
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype))


def column_diff(
    expected: Sequence[str],
    received: Sequence[str],
    *,
    labels: tuple[str, str] = ("expected (model)", "received (input)"),
    max_lines: int = MAX_DIFF_LINES,
) -> str:
    """Return a unified diff of two column lists (each sorted), for error messages.

    Only the names that differ are shown (``-`` expected but not received, ``+`` received
    but not expected), under two header lines; a long diff is cut after ``max_lines``
    lines with a count of the rest.

    Parameters
    ----------
    expected, received : sequence of str
        Column names; order and duplicates do not matter.
    labels : tuple of str, default ("expected (model)", "received (input)")
        Names of the two sides in the header lines.
    max_lines : int, default 40
        Diff lines shown at most (headers included).

    Returns
    -------
    str
        The diff; only the two header lines when the sets are equal.

    Raises
    ------
    ParameterError
        When ``expected`` or ``received`` is not a sequence of names.

    Examples
    --------
    >>> print(column_diff(["a", "b", "c"], ["a", "c", "d"]))
    --- expected (model)
    +++ received (input)
    -b
    +d
    >>> print(column_diff(list("abcdef"), [], labels=("champion", "candidate"), max_lines=4))
    --- champion
    +++ candidate
    -a
    -b
    ... (4 more diff lines)
    """
    from riskscore._validation import check_int, fail

    for name, names in (("expected", expected), ("received", received)):
        if isinstance(names, str | bytes) or not hasattr(names, "__iter__"):
            raise fail(
                name, "column_diff", "a sequence of column names", names, fix="Pass list(frame)."
            )
    if not (isinstance(labels, tuple) and len(labels) == 2):
        raise fail("labels", "column_diff", "a tuple of two str", labels)
    max_lines = check_int(max_lines, "max_lines", "column_diff", minimum=1)
    lines = [
        line
        for line in difflib.unified_diff(
            sorted(map(str, expected)),
            sorted(map(str, received)),
            fromfile=labels[0],
            tofile=labels[1],
            lineterm="",
            n=0,
        )
        if not line.startswith("@@")
    ]
    if not lines:
        lines = [f"--- {labels[0]}", f"+++ {labels[1]}"]
    if len(lines) > max_lines:
        more = len(lines) - max_lines
        lines = [*lines[:max_lines], f"... ({more} more diff lines)"]
    return "\n".join(lines)


@dataclass(frozen=True)
class FeatureLayout:
    """The features a model reads, in order, and how missing inputs are handled.

    Parameters
    ----------
    names : tuple of str
        Feature names in the model's column order.
    nan_ok : tuple of bool
        Per feature: whether a missing value (NaN) is valid (the catalog ``fill`` is NaN,
        so the model was trained with missing values there).
    optional_fill : mapping of str to float
        Features that may be absent from the input altogether (they need an optional
        table), with the value to fill.
    id_col : str, optional
        The entity id column (``seller_id`` / ``listing_id``), used for error messages
        and duplicate checks; never a feature.
    categories : mapping of str to tuple of str
        Levels of categorical features: a value becomes its position (unknown levels and
        missing values become NaN), as the model was trained.

    Examples
    --------
    >>> layout = FeatureLayout(("a", "b"), (False, True), {}, "seller_id")
    >>> layout.row_from_record({"b": 2.0, "a": 1, "other": "x"})
    array([[1., 2.]])
    >>> layout.row_from_record({"a": 1.0})
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ScoringError: record is missing 1 feature(s) the model needs: b...
    """

    names: tuple[str, ...]
    nan_ok: tuple[bool, ...]
    optional_fill: Mapping[str, float]
    id_col: str | None = None
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    id_column = renamed_attribute("id_col", "id_column", owner="FeatureLayout")

    @classmethod
    def from_catalog(
        cls,
        names: Sequence[str],
        catalog: pd.DataFrame | None,
        id_col: str | None,
        categories: Mapping[str, Sequence[str]] | None = None,
    ) -> FeatureLayout:
        """Build the layout of ``names`` from a feature catalog (``name, fill, needs``).

        Features not in the catalog (e.g. from a user's own table) may be NaN and must be
        present; a catalog without a ``fill`` column lets every feature be NaN.
        """
        fills: dict[str, float] = {}
        needs: dict[str, str] = {}
        if catalog is not None and len(catalog) and "name" in catalog.columns:
            if "fill" in catalog.columns:
                fills = dict(zip(catalog["name"], catalog["fill"].astype("float64"), strict=True))
            if "needs" in catalog.columns:
                needs = {
                    str(n): "" if v is None or v != v else str(v)
                    for n, v in zip(catalog["name"], catalog["needs"], strict=True)
                }
        cats = {str(k): tuple(map(str, v)) for k, v in (categories or {}).items()}
        nan_ok = tuple(n in cats or math.isnan(fills.get(n, math.nan)) for n in names)
        optional = {n: float(fills.get(n, math.nan)) for n in names if needs.get(n)}
        return cls(tuple(names), nan_ok, optional, id_col, cats)

    # -- one record ------------------------------------------------------------------

    @classmethod
    def plain(
        cls, names: Sequence[str], categories: Mapping[str, Sequence[str]] | None = None
    ) -> FeatureLayout:
        """Return a layout without a catalog: every feature required, NaN allowed anywhere.

        What training uses (its NaN are LightGBM's missing values) and what a model without
        a feature catalog scores with.

        Examples
        --------
        >>> layout = FeatureLayout.plain(["a", "b"], {"b": ["x", "y"]})
        >>> layout.row_from_record({"a": None, "b": "y"})
        array([[nan,  1.]])
        """
        cats = {str(k): tuple(map(str, v)) for k, v in (categories or {}).items()}
        names = tuple(map(str, names))
        return cls(names, (True,) * len(names), {}, None, cats)

    def row_from_record(self, record: Mapping[str, Any]) -> FloatMatrix:
        """Return the ``(1, n_features)`` float64 row of ``record``; raise if invalid.

        :meth:`encode_record`, then the value check of :meth:`invalid_rows` (infinite, or
        NaN where the catalog forbids it), naming the record's id and the features.
        """
        row = self.encode_record(record)
        if not np.isfinite(row).all() and self.invalid_rows(row)[0]:
            raise ScoringError(
                f"{_record_where(record, self.id_col)}invalid value: "
                + self.describe_invalid(row[0])
            )
        return row

    def encode_record(self, record: Mapping[str, Any]) -> FloatMatrix:
        """Return the ``(1, n_features)`` float64 row of ``record``, values unchecked.

        No pandas: missing features raise (or take the catalog fill where the feature is
        optional), ``None`` is NaN, categorical values become their level's position, and
        anything that is not a real number raises :class:`ScoringError`. Infinite values
        and forbidden NaN pass through; :meth:`row_from_record` refuses them.
        """
        try:
            values = [record[n] for n in self.names]
        except KeyError:
            values = self._values_with_fill(record)
        if self.categories:
            values = self._encode_record(values)
        try:
            row = np.array(values)
        except ValueError:  # a list or an array among the values
            row = np.array(values, dtype=object)
        if row.dtype.kind not in "fiub" or row.ndim != 1:
            row = self._coerce_record(values, record)
        return np.ascontiguousarray(row, dtype=np.float64).reshape(1, -1)

    def _encode_record(self, values: list[Any]) -> list[Any]:
        out = list(values)
        for j, name in enumerate(self.names):
            levels = self.categories.get(name)
            if levels is not None:
                v = out[j]
                key = None if v is None or v != v else str(v)
                out[j] = levels.index(key) if key in levels else math.nan
        return out

    def _values_with_fill(self, record: Mapping[str, Any]) -> list[Any]:
        missing = [n for n in self.names if n not in record and n not in self.optional_fill]
        if missing:
            raise ScoringError(
                f"record is missing {len(missing)} feature(s) the model needs: "
                f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}; "
                "add them (build them with riskscore.build_features). Expected vs "
                f"received keys:\n{column_diff(self.names, [str(k) for k in record])}"
            )
        return [record.get(n, self.optional_fill.get(n)) for n in self.names]

    def _coerce_record(self, values: list[Any], record: Mapping[str, Any]) -> FloatMatrix:
        out = np.empty(len(values), dtype=np.float64)
        for j, v in enumerate(values):
            if v is None:
                out[j] = np.nan
            elif _too_large(v):
                raise ScoringError(
                    f"{_record_where(record, self.id_col)}feature '{self.names[j]}' is "
                    f"{_short(v)}, beyond the float64 range (about ±1.8e308); features must "
                    "be finite numbers"
                )
            elif isinstance(v, _NUMBER_TYPES):
                out[j] = float(v)
            else:
                raise ScoringError(
                    f"{_record_where(record, self.id_col)}feature '{self.names[j]}' is "
                    f"{type(v).__name__} {_short(v)}; it must be a number (None for missing)"
                )
        return out

    # -- frames ----------------------------------------------------------------------

    def matrix_from_frame(self, frame: pd.DataFrame) -> FloatMatrix:
        """Return the ``(n_rows, n_features)`` float64 matrix of ``frame`` (any memory order).

        Checks columns and dtypes; values (NaN, inf) are checked by :meth:`problems`.
        """
        columns = [str(c) for c in frame.columns]
        if len(set(columns)) != len(columns):
            dup = sorted({c for c in columns if columns.count(c) > 1})
            raise ScoringError(f"frame has duplicated column names: {', '.join(dup)}")
        present = set(columns)
        missing = [n for n in self.names if n not in present and n not in self.optional_fill]
        if missing:
            raise ScoringError(
                f"frame is missing {len(missing)} feature column(s) the model needs: "
                f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}; "
                "build them with riskscore.build_features for the model's entity, or score "
                "with the model trained on these columns. Expected vs received columns:\n"
                + column_diff(self.names, [c for c in columns if c != self.id_col])
            )
        plain = [n for n in self.names if n in present and n not in self.categories]
        dtypes = dict(zip(columns, frame.dtypes, strict=True))
        for name in plain:
            dtype = dtypes[name]
            if not _real_dtype(dtype):
                self._numeric_column(frame, name)  # converts object numbers, or raises
        if len(plain) == len(self.names):
            # The common case: the frame's float block in model order, column-major. LightGBM
            # reads column-major matrices directly (same predictions, same speed), so no
            # transposing copy is made.
            return frame[list(self.names)].to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.empty((len(frame), len(self.names)), dtype=np.float64)
        for j, name in enumerate(self.names):
            if name not in present:
                out[:, j] = self.optional_fill[name]
            elif name in self.categories:
                values = frame[name].astype("str").to_numpy(dtype=object, na_value=np.nan)
                codes = pd.Index(list(self.categories[name])).get_indexer(pd.Index(values))
                out[:, j] = np.where(codes < 0, np.nan, codes)
            else:
                out[:, j] = self._numeric_column(frame, name)
        return out

    def _numeric_column(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        s = frame[name]
        dtype = s.dtype
        if _real_dtype(dtype):
            return s.to_numpy(dtype=np.float64, na_value=np.nan)
        if pd.api.types.is_object_dtype(dtype):
            ok = s.map(lambda v: v is None or isinstance(v, _NUMBER_TYPES)).to_numpy(dtype=bool)
            if ok.all():
                huge = s.map(_too_large).to_numpy(dtype=bool)
                if not huge.any():
                    return s.astype("float64").to_numpy()
                raise ScoringError(
                    f"feature column '{name}' holds numbers beyond the float64 range (about "
                    f"±1.8e308), e.g. {_short(s[huge].iloc[0])} in {self._where(frame, huge)}; "
                    "features must be finite numbers"
                )
            bad = ~ok
        else:
            bad = s.notna().to_numpy(dtype=bool)
        example = s[bad].iloc[0] if bad.any() else None
        raise ScoringError(
            f"feature column '{name}' holds {dtype} values, e.g. {_short(example)} in "
            f"{self._where(frame, bad)}; features must be real numbers (NaN for missing)"
        )

    def id_values(self, frame: pd.DataFrame) -> tuple[pd.Series | None, str]:
        """Return the frame's entity ids and where they were found.

        The ids come from the ``<entity>_id`` column, or, when there is none, from an
        index (or index level) of that name, as :func:`riskscore.build_features` returns
        them. ``(None, "")`` when the frame has neither.
        """
        key = self.id_col
        if key is None:
            return None, ""
        if key in frame.columns:
            return frame[key], f"column '{key}'"
        if key in frame.index.names:
            values = frame.index.get_level_values(key)
            return pd.Series(values, index=frame.index, name=key), f"index '{key}'"
        return None, ""

    def ids_of(self, frame: pd.DataFrame) -> Any:
        """Return the ids (column or index) as a ``str`` array, ``None`` when absent.

        Raises :class:`ScoringError` for duplicated ids or ids that are not scalars
        (lists, dicts).
        """
        ids, where = self.id_values(frame)
        if ids is None:
            return None
        try:
            unique = ids.is_unique
        except TypeError:  # unhashable values such as lists
            bad = ids.map(lambda v: not _hashable(v)).to_numpy(dtype=bool)
            raise ScoringError(
                f"{where} holds values that are not ids, e.g. {_short(ids[bad].iloc[0])} in "
                f"{int(bad.sum())} row(s); ids must be text or numbers, one per row"
            ) from None
        if not unique:
            dup = ids.duplicated(keep=False).to_numpy(dtype=bool)
            examples = list(dict.fromkeys(map(str, ids[dup])))[:N_EXAMPLES]
            raise ScoringError(
                f"{where} has {int(dup.sum())} rows with duplicated ids, "
                f"e.g. {', '.join(examples)}; score each entity once (drop duplicates first)"
            )
        return ids.astype("str").array

    def invalid_rows(self, matrix: FloatMatrix) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Return a boolean mask of the rows holding an invalid value.

        Invalid: infinite anywhere; NaN where the catalog declares the feature never
        missing (its ``fill`` is a number).
        """
        nan_ok = np.asarray(self.nan_ok, dtype=bool)
        bad_cols = np.isinf(matrix).any(axis=0) | (np.isnan(matrix).any(axis=0) & ~nan_ok)
        if not bad_cols.any():  # one pass per check, column-wise: no per-row work
            return np.zeros(len(matrix), dtype=bool)
        sub = matrix[:, bad_cols]
        return np.asarray(
            np.isinf(sub).any(axis=1) | (np.isnan(sub) & ~nan_ok[bad_cols]).any(axis=1),
            dtype=bool,
        )

    def describe_invalid(self, row: np.ndarray) -> str:
        """Return what is invalid in one row, e.g. "'x' is inf, 'y' is missing (NaN)"."""
        nan_ok = np.asarray(self.nan_ok, dtype=bool)
        cols = np.flatnonzero(np.isinf(row) | (np.isnan(row) & ~nan_ok))
        parts = []
        for j in cols[:3]:
            v = row[j]
            parts.append(f"'{self.names[j]}' is {'missing (NaN)' if math.isnan(v) else v}")
        more = f" and {len(cols) - 3} more" if len(cols) > 3 else ""
        return (
            ", ".join(parts) + more + " (features must be finite; NaN only where the feature "
            "catalog's fill is NaN)"
        )

    def problems(self, matrix: FloatMatrix) -> list[str]:
        """Return one message per row with an invalid value ('' for valid rows)."""
        out = [""] * len(matrix)
        for i in np.flatnonzero(self.invalid_rows(matrix)):
            out[i] = "invalid value: " + self.describe_invalid(matrix[i])
        return out

    def raise_for_values(self, matrix: FloatMatrix, frame: pd.DataFrame) -> None:
        """Raise one :class:`ScoringError` listing the rows with invalid values."""
        bad = self.invalid_rows(matrix)
        if not bad.any():
            return
        first = self.describe_invalid(matrix[int(np.flatnonzero(bad)[0])])
        raise ScoringError(
            f"{int(bad.sum())} row(s) have invalid feature values, {self._where(frame, bad)}; "
            f"first: invalid value: {first}"
        )

    def _where(self, frame: pd.DataFrame, bad: np.ndarray) -> str:
        rows = np.flatnonzero(bad)
        ids, _ = self.id_values(frame)
        if ids is not None and self.id_col is not None:
            keys = [str(k) for k in ids.to_numpy()[rows[:N_EXAMPLES]]]
            label = self.id_col
        else:
            keys = [str(k) for k in frame.index[rows[:N_EXAMPLES]]]
            label = "row"
        return f"{len(rows)} row(s), e.g. {label} {', '.join(keys)}"


def _record_where(record: Mapping[str, Any], id_col: str | None) -> str:
    if id_col is not None and id_col in record:
        return f"record {id_col}={_short(record[id_col])}: "
    return "record: "


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def encode_frame(
    frame: pd.DataFrame,
    feature_names: Sequence[str],
    categories: Mapping[str, Sequence[str]] | None = None,
) -> FloatMatrix:
    """Return the float64 matrix of ``feature_names`` (in that order) from a DataFrame.

    :meth:`FeatureLayout.matrix_from_frame` of :meth:`FeatureLayout.plain`: every feature
    is required, categorical features become their position in ``categories[name]`` (NaN
    when missing or unknown), other features are cast to float64 (booleans to 0/1); text
    raises :class:`~riskscore.exceptions.ScoringError`.

    Examples
    --------
    >>> df = pd.DataFrame({"b": ["x", "z", None], "a": [1, 2, 3]})
    >>> encode_frame(df, ["a", "b"], {"b": ["x", "y", "z"]}).tolist()
    [[1.0, 0.0], [2.0, 2.0], [3.0, nan]]
    """
    return FeatureLayout.plain(feature_names, categories).matrix_from_frame(frame)


def encode_record(
    record: Mapping[str, Any],
    feature_names: Sequence[str],
    categories: Mapping[str, Sequence[str]] | None = None,
) -> FloatMatrix:
    """Return a ``(1, n_features)`` float64 row from a mapping of column to value, no pandas.

    :meth:`FeatureLayout.encode_record` of :meth:`FeatureLayout.plain`: ``None`` and NaN
    are missing values; unknown categories are missing too.

    Examples
    --------
    >>> encode_record({"a": 2, "b": "z", "extra": 1}, ["a", "b"], {"b": ["x", "y", "z"]}).tolist()
    [[2.0, 2.0]]
    """
    return FeatureLayout.plain(feature_names, categories).encode_record(record)
