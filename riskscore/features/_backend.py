"""The one place where dataframe libraries differ.

Feature families are written once against narwhals LazyFrames. This module turns the
caller's tables (pandas, Polars, DuckDB relations, PySpark DataFrames) into narwhals
LazyFrames on one backend, converting when asked (``backend=``), checks that the
contract columns features read are there with usable types, and turns the result back
into the caller's library. Optional libraries are imported here, and only when used.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import narwhals as nw
import narwhals.dependencies as nwd
import pandas as pd

from riskscore.exceptions import BackendNotAvailable, FeatureError
from riskscore.schema import CONTRACT

__all__ = [
    "BACKENDS",
    "Backend",
    "Output",
    "checkpoint",
    "lazy_like",
    "library_of",
    "prepare",
    "python_name_is_free",
    "require",
    "to_native",
    "to_pandas",
]

Backend = Literal["pandas", "polars", "duckdb", "spark"]

#: Backends features run on.
BACKENDS: tuple[Backend, ...] = ("pandas", "polars", "duckdb", "spark")

_PACKAGES: dict[str, tuple[str, str]] = {
    "pandas": ("pandas", "pandas"),
    "polars": ("polars", "riskscore[polars]"),
    "duckdb": ("duckdb", "riskscore[duckdb]"),
    "spark": ("pyspark", "riskscore[spark]"),
}


@dataclass(frozen=True)
class Output:
    """How to hand a result back: the library, and for Polars whether lazily."""

    backend: Backend
    lazy: bool = False

    @property
    def aware_time_literals(self) -> bool:
        """Whether time literals must carry UTC (Spark reads naive ones as local time)."""
        return self.backend == "spark"


def require(backend: str) -> Backend:
    """Check that ``backend`` is known and installed; return it.

    Raises
    ------
    FeatureError
        For an unknown backend name.
    BackendNotAvailable
        When its library is not installed.

    Examples
    --------
    >>> require("pandas")
    'pandas'
    >>> require("koalas")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.FeatureError: unknown backend 'koalas'; use one of pandas, ...
    """
    if backend not in _PACKAGES:
        raise FeatureError(
            f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)} "
            "(or None to keep the tables' own library)"
        )
    module, extra = _PACKAGES[backend]
    if importlib.util.find_spec(module) is None:
        raise BackendNotAvailable(
            f"backend={backend!r} needs the {module} package, which is not installed; "
            f"install it with: pip install '{extra}' (or pick another backend)"
        )
    return backend  # type: ignore[return-value]


def library_of(native: Any) -> tuple[Backend, bool]:
    """Return the library of a native table and whether it is lazy (Polars LazyFrame).

    Examples
    --------
    >>> import pandas as pd
    >>> library_of(pd.DataFrame({"a": [1]}))
    ('pandas', False)
    """
    if isinstance(native, pd.DataFrame):
        return "pandas", False
    if nwd.is_polars_dataframe(native):
        return "polars", False
    if nwd.is_polars_lazyframe(native):
        return "polars", True
    if nwd.is_duckdb_relation(native):
        return "duckdb", False
    if nwd.is_pyspark_dataframe(native) or nwd.is_pyspark_connect_dataframe(native):
        return "spark", False
    raise FeatureError(
        f"tables must be pandas, Polars, DuckDB or PySpark DataFrames; got a "
        f"{type(native).__module__}.{type(native).__name__}; convert it (e.g. to pandas) first"
    )


def _to_arrow(native: Any) -> Any:
    frame = nw.from_native(native)
    if isinstance(frame, nw.DataFrame):
        return frame.to_arrow()
    return frame.collect("pyarrow").to_native()


def _convert(native: Any, source: Backend, target: Backend) -> Any:
    """Return ``native`` (of library ``source``) as a ``target`` table."""
    if source == target:
        return native
    if target == "pandas":
        return to_pandas(native)
    if target == "polars":
        import polars as pl

        if source == "pandas":
            return pl.from_pandas(native)
        return pl.from_arrow(_to_arrow(native))
    if target == "duckdb":
        import duckdb
        import pyarrow as pa

        table = (
            pa.Table.from_pandas(native, preserve_index=False)
            if source == "pandas"
            else _to_arrow(native)
        )
        return duckdb.from_arrow(table)
    import pyarrow as pa

    # Through Arrow: keeps the schema of empty tables and the string/timestamp types.
    table = (
        pa.Table.from_pandas(native, preserve_index=False)
        if source == "pandas"
        else _to_arrow(native)
    )
    return _spark_session().createDataFrame(table)


def _spark_session() -> Any:
    """Return the active Spark session, else a new local one (riskscore._spark)."""
    from riskscore._spark import local_spark_session

    return local_spark_session("riskscore-features", log_level="ERROR")


def to_pandas(native: Any) -> pd.DataFrame:
    """Return any supported table as a pandas DataFrame (pandas itself unchanged).

    Examples
    --------
    >>> import pandas as pd
    >>> to_pandas(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    """
    if isinstance(native, pd.DataFrame):
        return native
    library, _ = library_of(native)
    if library == "spark":
        return native.toArrow().to_pandas()
    return _to_arrow(native).to_pandas()


def prepare(
    tables: Mapping[str, Any], backend: str | None
) -> tuple[dict[str, nw.LazyFrame], Output]:
    """Return the contract tables as narwhals LazyFrames on one backend, and the output.

    Tables outside the contract (e.g. a simulator's ``truth``) are left out: features
    never read them.

    Raises
    ------
    FeatureError
        When tables come from different libraries and no ``backend`` is given, when a
        required table or column is missing, or when a time column is not a timestamp.
    BackendNotAvailable
        When ``backend`` names a library that is not installed.
    """
    if not isinstance(tables, Mapping):
        raise FeatureError(
            f"tables must be a mapping of table name to DataFrame; got {type(tables).__name__}"
        )
    missing = [n for n, spec in CONTRACT.items() if spec.required and n not in tables]
    if missing:
        raise FeatureError(
            f"required table(s) {', '.join(missing)} missing (got: {', '.join(map(str, tables))}); "
            "pass every required table (sellers, listings, orders)"
        )
    given = {name: tables[name] for name in CONTRACT if name in tables}
    libraries = {name: library_of(native) for name, native in given.items()}
    if backend is None:
        kinds = {lib for lib, _ in libraries.values()}
        if len(kinds) > 1:
            found = ", ".join(f"{n}: {lib}" for n, (lib, _) in libraries.items())
            raise FeatureError(
                f"tables come from different libraries ({found}); pass backend='pandas' "
                "(or 'polars', 'duckdb', 'spark') to convert them all to one"
            )
        target: Backend = kinds.pop()
        output = Output(target, lazy=any(lazy for _, lazy in libraries.values()))
    else:
        target = require(backend)
        output = Output(target, lazy=False)
    require(target)
    if target == "spark":
        _check_spark_time_zone()
    frames: dict[str, nw.LazyFrame] = {}
    problems: list[str] = []
    for name, native in given.items():
        converted = _convert(native, libraries[name][0], target)
        frame = nw.from_native(converted)
        lazy = frame.lazy() if isinstance(frame, nw.DataFrame) else frame
        frames[name] = _check_columns(name, lazy, problems)
    if problems:
        raise FeatureError(
            "the tables cannot be used for features:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nrun riskscore.validate(tables) for a full check and typed copies"
        )
    return frames, output


def _check_spark_time_zone() -> None:
    session = _spark_session()
    zone = session.conf.get("spark.sql.session.timeZone")
    if zone not in ("UTC", "Etc/UTC", "GMT", "Z", "+00:00"):
        raise FeatureError(
            f"the Spark session time zone is {zone!r}; features count days in UTC, so set "
            "spark.conf.set('spark.sql.session.timeZone', 'UTC') before building features"
        )


def _check_columns(name: str, frame: nw.LazyFrame, problems: list[str]) -> nw.LazyFrame:
    spec = CONTRACT[name]
    schema = frame.collect_schema()
    for col in spec.columns:
        if col.name not in schema:
            if col.required:
                problems.append(
                    f"{name}.{col.name}: required column is missing (got columns: "
                    f"{', '.join(schema.names())}); add it or rename the column that holds it"
                )
            continue
        dtype = schema[col.name]
        if col.kind == "datetime" and not isinstance(dtype, nw.Datetime):
            problems.append(
                f"{name}.{col.name}: expected timestamps, got {dtype}; parse the column as "
                "timestamps (riskscore.validate does this for ISO 8601 strings)"
            )
        elif col.kind in ("float", "int") and not dtype.is_numeric():
            problems.append(f"{name}.{col.name}: expected numbers, got {dtype}")
        elif (
            col.kind == "str"
            and dtype not in (nw.String, nw.Unknown)
            and not (isinstance(dtype, nw.Categorical | nw.Enum))
        ):
            problems.append(f"{name}.{col.name}: expected text, got {dtype}")
    aware = [
        c.name
        for c in spec.columns
        if c.kind == "datetime"
        and c.name in schema
        and isinstance(schema[c.name], nw.Datetime)
        and getattr(schema[c.name], "time_zone", None) is not None
    ]
    if aware and not nwd.is_pyspark_dataframe(frame.to_native()):
        # Spark timestamps are instants shown in the session zone (checked to be UTC).
        frame = frame.with_columns(
            nw.col(c).dt.convert_time_zone("UTC").dt.replace_time_zone(None) for c in aware
        )
    return frame


def to_native(frame: nw.LazyFrame, output: Output, key: str) -> Any:
    """Return the result in the caller's library.

    pandas gets a DataFrame indexed by ``key``; Polars a DataFrame (LazyFrame when the
    inputs were lazy); DuckDB a relation; Spark a DataFrame, each with a ``key`` column.
    """
    if output.backend == "pandas":
        result = frame.collect().to_native()
        return result.set_index(key)
    if output.backend == "polars":
        return frame.to_native() if output.lazy else frame.collect().to_native()
    return frame.to_native()


def python_name_is_free(relation: Any, name: str) -> None:
    """Raise unless DuckDB will find ``name`` among Python's variables, not its catalogue.

    A query on ``relation`` that names a Python variable finds it by DuckDB's
    replacement scan, which comes after the connection's own tables and views: a table
    of that name there would be read instead, silently. Names are compared as DuckDB
    compares them, without case.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> python_name_is_free(con.sql("SELECT 1"), "_riskscore_frame")
    >>> _ = con.execute("CREATE TABLE _RiskScore_Frame AS SELECT 1 AS x")
    >>> python_name_is_free(con.sql("SELECT 1"), "_riskscore_frame")
    Traceback (most recent call last):
    ...
    riskscore.exceptions.FeatureError: table or view '_riskscore_frame' ...
    """
    found = relation.query(
        "_riskscore_catalogue",
        "SELECT table_name FROM duckdb_tables() UNION ALL "
        "SELECT view_name FROM duckdb_views() WHERE NOT internal",
    ).fetchall()
    if any(str(row[0]).lower() == name.lower() for row in found):
        raise FeatureError(
            f"table or view {name!r} in this DuckDB connection's catalogue: riskscore "
            "hands DuckDB a Python table under that name, and the catalogue's would be "
            "read in its place. Rename or drop that table or view"
        )


def lazy_like(frame: pd.DataFrame, like: nw.LazyFrame) -> nw.LazyFrame:
    """Return a pandas ``frame`` as a LazyFrame on the backend of ``like``.

    For families that compute part of their work in pandas (e.g. graph algorithms) and
    must hand a frame back that joins with the others: same library, and for DuckDB the
    same connection, for Spark the same session.

    Examples
    --------
    >>> import narwhals as nw, pandas as pd
    >>> like = nw.from_native(pd.DataFrame({"a": [1]})).lazy()
    >>> lazy_like(pd.DataFrame({"b": [2.0]}), like).collect()["b"].to_list()
    [2.0]
    """
    native = like.to_native()
    eager = nw.from_native(frame, eager_only=True)
    if isinstance(native, pd.DataFrame):
        return eager.lazy()
    if nwd.is_polars_lazyframe(native) or nwd.is_polars_dataframe(native):
        return eager.lazy(backend="polars")
    if nwd.is_duckdb_relation(native):
        import pyarrow as pa

        # Runs on ``native``'s own connection; the name is found by DuckDB's replacement
        # scan of this function's locals (relations of two connections cannot be joined).
        python_name_is_free(native, "_riskscore_frame")
        _riskscore_frame = pa.Table.from_pandas(frame, preserve_index=False)
        relation = native.query("_riskscore_like", "SELECT * FROM _riskscore_frame")
        if relation is None:  # pragma: no cover - a SELECT always returns a relation
            raise FeatureError("DuckDB returned no relation for a SELECT")
        return nw.from_native(relation.set_alias("_riskscore_converted"))
    if nwd.is_pyspark_dataframe(native) or nwd.is_pyspark_connect_dataframe(native):
        import pyarrow as pa

        table = pa.Table.from_pandas(frame, preserve_index=False)
        return nw.from_native(native.sparkSession.createDataFrame(table))
    raise FeatureError(f"cannot build a frame like a {type(native).__name__}")


def checkpoint(frame: nw.LazyFrame) -> nw.LazyFrame:
    """Compute a Spark frame now and cut its lineage; other backends: ``frame`` unchanged.

    Used for what a feature build reads more than once: each family's output (the
    network family reads the pricing and complaint features, the final join reads every
    family), the intermediate frames families share through ``AsOfContext.memo`` (e.g.
    priced listings, per-seller order counts) and the network's membership table. A
    lazy Spark plan would recompute them at each use, and every later plan would carry
    their whole lineage, which Spark analyses again at each DataFrame call (seconds per
    call on the deep plans of a full build). ``localCheckpoint`` computes the rows once,
    keeps them in the executors' block managers (memory, spilling to disk) and hands
    back a plan that reads them. The blocks are freed when the frame is garbage
    collected; like any local checkpoint they are not replicated, so a lost executor
    fails the build instead of recomputing it.

    Examples
    --------
    >>> import narwhals as nw, pandas as pd
    >>> frame = nw.from_native(pd.DataFrame({"a": [1]})).lazy()
    >>> checkpoint(frame) is frame
    True
    """
    native = frame.to_native()
    if nwd.is_pyspark_dataframe(native):
        from riskscore._spark import python_pass

        # a plan may hold riskscore's partition passes (features._grouped)
        with python_pass("the feature build's Spark plans"):
            return nw.from_native(native.localCheckpoint(eager=True))
    return frame
