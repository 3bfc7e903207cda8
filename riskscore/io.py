"""Read and write a marketplace as a folder with one Parquet or CSV file per table."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from riskscore.exceptions import SchemaError
from riskscore.schema import CONTRACT, validate

__all__ = ["load_tables", "write_tables"]

_SUFFIXES = (".parquet", ".csv")


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

    Examples
    --------
    >>> tables = load_tables("data/sample")
    >>> len(tables["sellers"])
    300
    """
    folder = Path(path)
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
        if file.suffix == ".parquet":
            tables[file.stem] = pd.read_parquet(file)
        else:
            tables[file.stem] = _read_csv(file)
    if not tables:
        raise SchemaError(
            [
                f"no .parquet or .csv tables found in '{folder}'; expected sellers, listings, "
                "orders (and optionally products, complaints, labels)"
            ]
        )
    return validate(tables) if check else tables


def _read_csv(file: Path) -> pd.DataFrame:
    spec = CONTRACT.get(file.stem)
    dtypes: dict[str, str] = {}
    if spec is not None:
        # Ids stay text ("007" must not become 7); numbers and times are coerced by validate.
        dtypes = {c.name: "str" for c in spec.columns if c.kind == "str"}
    return pd.read_csv(file, dtype=dtypes)  # type: ignore[arg-type]


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

    Examples
    --------
    >>> import tempfile
    >>> from riskscore.datasets import make_marketplace
    >>> out = write_tables(make_marketplace(n_sellers=20, seed=0), tempfile.mkdtemp())
    >>> (out / "orders.parquet").exists()
    True
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv'. Got {fmt!r} instead.")
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        final = folder / f"{name}.{fmt}"
        tmp = folder / f".{name}.{fmt}.tmp"
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False, date_format="%Y-%m-%dT%H:%M:%S.%f")
        os.replace(tmp, final)
    return folder
