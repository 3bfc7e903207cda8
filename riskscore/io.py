"""Read and write a marketplace as a folder with one Parquet or CSV file per table.

Reader errors of pandas and pyarrow (an empty file, a text file named ``.parquet``, a CSV
that is not UTF-8, ragged rows) are translated here, where files enter riskscore, into an
error naming the file, what is wrong with it and how to fix it.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from riskscore._validation import check_option, fail
from riskscore.exceptions import ParameterError, RiskscoreError, SchemaError
from riskscore.schema import CONTRACT, validate

__all__ = ["load_tables", "read_table", "write_tables"]

_SUFFIXES = (".parquet", ".csv")
#: What :func:`read_table` reads as Parquet and as CSV.
_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".txt")


def _as_path(path: object, where: str) -> Path:
    """``path`` as a :class:`~pathlib.Path`; a :class:`ParameterError` when it is no path."""
    if isinstance(path, str | os.PathLike) and str(os.fspath(path)):
        return Path(path)
    raise fail("path", where, "a path to a folder or file (str or pathlib.Path)", path)


def load_tables(path: str | os.PathLike[str], *, check: bool = True) -> dict[str, pd.DataFrame]:
    """Load every ``<table>.parquet`` / ``<table>.csv`` file in a folder.

    Parameters
    ----------
    path : path-like
        Folder holding one file per table (``sellers.parquet``, ``orders.csv``, ...).
    check : bool, default True
        Validate against the contract (:func:`riskscore.validate`) and return typed tables.

    Returns
    -------
    dict of str to pandas.DataFrame

    Raises
    ------
    SchemaError
        When the folder does not exist, a table is stored twice, or validation fails.
    ParameterError
        When ``path`` is not a path.

    Examples
    --------
    >>> tables = load_tables("data/sample")
    >>> len(tables["sellers"])
    300
    """
    folder = _as_path(path, "load_tables")
    if folder.is_file():
        raise SchemaError(
            [
                f"data folder '{folder}' is a file; pass the folder that holds it, with one "
                "file per table (sellers.parquet, listings.parquet, orders.parquet, ...)"
            ]
        )
    if not folder.is_dir():
        raise SchemaError(
            [
                f"data folder '{folder}' does not exist; pass a folder with one file per table "
                "(sellers.parquet, listings.parquet, orders.parquet, ...)"
            ]
        )
    tables: dict[str, pd.DataFrame] = {}
    for file in sorted(folder.iterdir()):
        if file.suffix not in _SUFFIXES or file.name.startswith("."):
            continue
        if file.stem in tables:
            raise SchemaError(
                [f"table '{file.stem}' is stored twice in '{folder}' (parquet and csv); keep one"]
            )
        tables[file.stem] = read_table(file, dtype=_csv_dtypes(file.stem))
    if not tables:
        raise SchemaError(
            [
                f"no .parquet or .csv tables found in '{folder}'; expected sellers, listings, "
                "orders (and optionally products, complaints, labels)"
            ]
        )
    return validate(tables) if check else tables


def _csv_dtypes(name: str) -> dict[str, str]:
    spec = CONTRACT.get(name)
    if spec is None:
        return {}
    # Ids stay text ("007" must not become 7); numbers and times are coerced by validate.
    return {c.name: "str" for c in spec.columns if c.kind == "str"}


def read_table(
    path: str | os.PathLike[str],
    *,
    dtype: Mapping[str, str] | None = None,
    error: type[RiskscoreError] = SchemaError,
) -> pd.DataFrame:
    """Read one ``.parquet`` or ``.csv`` file; a file that cannot be read is a clear error.

    Parameters
    ----------
    path : path-like
        A Parquet file (or a folder of Parquet parts) or a UTF-8 CSV file with a header row.
    dtype : mapping of str to str, optional
        CSV column dtypes (e.g. ``{"seller_id": "str"}``); ignored for Parquet.
    error : type of RiskscoreError, default SchemaError
        The error raised, so each caller keeps its own layer's error type.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    RiskscoreError
        ``error``, naming the file, what is wrong with it (missing, 0 bytes, not Parquet,
        not UTF-8, ragged rows, ...) and how to fix it.

    Examples
    --------
    >>> len(read_table("data/sample/sellers.parquet"))
    300
    >>> import tempfile, pathlib
    >>> empty = pathlib.Path(tempfile.mkdtemp()) / "orders.csv"
    >>> _ = empty.write_bytes(b"")
    >>> read_table(empty)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.SchemaError: 1 problem(s) found ...
      - file '.../orders.csv' is empty (0 bytes); write the table with its header row and rows...
    """
    file = _as_path(path, "read_table")

    def bad_file(what: str) -> RiskscoreError:
        message = f"file '{file}' {what}"
        return SchemaError([message]) if issubclass(error, SchemaError) else error(message)

    if file.suffix not in _PARQUET + _CSV:
        raise bad_file("is neither .parquet nor .csv; save the table in one of those formats")
    if not file.exists():
        raise bad_file("does not exist; check the path")
    if file.is_file() and file.stat().st_size == 0:
        raise bad_file(
            "is empty (0 bytes); write the table with its header row and rows (an optional "
            "marketplace table may instead be left out)"
        )
    try:
        if file.suffix in _PARQUET:
            return _read_parquet(file, bad_file)
        if file.is_dir():
            raise bad_file("is a folder; a CSV table is one file")
        return _read_csv(file, dtype or {}, bad_file)
    except PermissionError as err:
        raise bad_file(f"cannot be read ({err.strerror}); check its permissions") from None
    except IsADirectoryError:
        raise bad_file("is a folder; pass the file itself") from None


def _read_parquet(file: Path, fail: Callable[[str], RiskscoreError]) -> pd.DataFrame:
    import pyarrow as pa

    try:
        return pd.read_parquet(file)
    except (pa.ArrowException, OSError, ValueError, TypeError) as err:
        if isinstance(err, PermissionError):
            raise
        reason = str(err).splitlines()[0].rstrip(".") if str(err) else type(err).__name__
        what = f"is not a readable Parquet file ({reason})"
        if file.is_file():
            with file.open("rb") as handle:
                head = handle.read(64)
            if not head.startswith(b"PAR1"):
                kind = "text" if _looks_like_text(head) else "binary data"
                what = (
                    f"is not a Parquet file (it holds {kind} starting {head[:20]!r}, "
                    "not the Parquet magic bytes PAR1)"
                )
        raise fail(
            f"{what}; write it with pandas.DataFrame.to_parquet (or pyarrow), or "
            "save the table as .csv instead"
        ) from None


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_csv(
    file: Path, dtype: Mapping[str, str], fail: Callable[[str], RiskscoreError]
) -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # index_col=False: a row with one field too many must not silently turn the
            # first column into the index; pandas warns about it instead, made an error here
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                file,
                dtype=dict(dtype),  # type: ignore[arg-type]
                encoding="utf-8",
                index_col=False,
            )
    except UnicodeDecodeError:
        raw = file.read_bytes()
        try:
            raw.decode("utf-8")
            where = ""
        except UnicodeDecodeError as err:
            line = raw.count(b"\n", 0, err.start) + 1
            where = f" (byte {raw[err.start : err.start + 1]!r} on line {line})"
        raise fail(
            f"is not UTF-8 text{where}; re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8 "
            f"{file.name} > fixed.csv` or pandas to_csv(..., encoding='utf-8')"
        ) from None
    except pd.errors.EmptyDataError:
        raise fail(
            "has no header row (it is blank); write the table with its header row and rows "
            "(an optional marketplace table may instead be left out)"
        ) from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
        reason = str(err).strip().removeprefix("Error tokenizing data. C error: ")
        if isinstance(err, pd.errors.ParserWarning):
            reason = "rows have more fields than the header"
        raise fail(
            f"is not a well-formed CSV ({reason}); every row needs as many fields as the "
            "header: quote values that contain commas"
        ) from None


def write_tables(
    tables: Mapping[str, pd.DataFrame], path: str | os.PathLike[str], *, fmt: str = "parquet"
) -> Path:
    """Write tables as ``<path>/<table>.<fmt>``, each atomically (temp file, then rename).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
    path : path-like
        Folder to write into; created when missing.
    fmt : {"parquet", "csv"}

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    ParameterError
        When ``fmt`` is unknown, ``tables`` is not a mapping of DataFrames, or ``path`` is
        not a writable folder.
    SchemaError
        When a table cannot be stored in ``fmt`` (a column mixing types, for Parquet).

    Examples
    --------
    >>> import tempfile
    >>> from riskscore.datasets import make_marketplace
    >>> out = write_tables(make_marketplace(n_sellers=20, seed=0), tempfile.mkdtemp())
    >>> (out / "orders.parquet").exists()
    True
    """
    where = "write_tables"
    check_option(fmt, "fmt", where, ("parquet", "csv"))
    if not isinstance(tables, Mapping):
        raise fail("tables", where, "a mapping of table name to pandas DataFrame", tables)
    for name, frame in tables.items():
        if not isinstance(name, str) or not name or not isinstance(frame, pd.DataFrame):
            raise fail(
                f"tables[{name!r}]", where, "a pandas DataFrame under a non-empty str name", frame
            )
    import pyarrow as pa

    folder = _as_path(path, where)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in tables.items():
            final = folder / f"{name}.{fmt}"
            tmp = folder / f".{name}.{fmt}.tmp"
            try:
                if fmt == "parquet":
                    frame.to_parquet(tmp, index=False)
                else:
                    frame.to_csv(tmp, index=False, date_format="%Y-%m-%dT%H:%M:%S.%f")
            except (pa.ArrowException, ValueError, TypeError) as err:
                tmp.unlink(missing_ok=True)
                raise SchemaError(
                    [
                        f"table '{name}' cannot be written as {fmt} ({err}); give each column "
                        "one type (validate() does it for contract tables) or use fmt='csv'"
                    ]
                ) from None
            os.replace(tmp, final)
    except OSError as err:
        raise ParameterError(
            f"The 'path' parameter of write_tables must be a folder that can be written. "
            f"Got '{folder}' ({err.strerror or err}); pass a writable folder"
        ) from None
    return folder
