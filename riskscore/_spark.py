"""The one way riskscore starts a local Spark session: :func:`local_spark_session`.

Used by the Spark feature backend, ``riskscore score --engine spark``, the benchmarks
and the test fixture, so they all get the same settings: ``local[<cores>]``, the session
time zone UTC (the feature builders refuse any other), no Spark UI, and the workers
running this interpreter (``PYSPARK_PYTHON``). PySpark is imported inside the function.

pandas 3
--------
riskscore runs Spark with pandas 3 (tested: PySpark 4.3.0 with pandas 3.1.1 and pyarrow
25.0.1, the versions in ``requirements/lock.txt``; see ``docs/architecture.md``). PySpark
4.3 warns "PySpark does not yet fully support pandas >= 3.0.0" on every pandas conversion,
in the driver and again in each Python worker, a page of identical warnings per command.
:func:`local_spark_session` ignores that one warning: on the driver (a warnings filter for
its text only) and in the workers (``spark.executorEnv.PYTHONWARNINGS``). Every other
warning is left as it is.

Spark's console progress bar (``[Stage 3:==>  (1 + 1) / 2]``) is off
(``spark.ui.showConsoleProgress``): riskscore reports its own steps
(:mod:`riskscore._progress`); pass ``conf={"spark.ui.showConsoleProgress": "true"}`` for it.

Spark's log. With ``log_level`` set, a session this function starts runs its driver JVM
with riskscore's log4j2 profile (``riskscore/_data/spark-log4j2.properties``) at that
level from the first line, instead of Spark's default profile at WARN: the start-up lines
("Using Spark's default log4j profile", the loopback-hostname and native-hadoop WARNs,
"Setting default log level") are gone. riskscore's commands and internal sessions ask for
``"ERROR"``. The JVM's own "WARNING: Using incubator modules: jdk.incubator.vector"
(Spark 4 on Java 17+) is printed before any logging starts and stays. A session that is
already running only gets ``setLogLevel``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from riskscore.exceptions import FeatureError, ParameterError

__all__ = [
    "LOG4J2_PROFILE",
    "PANDAS3_WARNING",
    "collect_python_pass",
    "driver_log_options",
    "local_defaults",
    "local_spark_session",
    "partition_table",
    "python_pass",
    "quiet_pandas3_warning",
]

#: The start of the FutureWarning PySpark 4 raises on every pandas conversion under pandas 3.
PANDAS3_WARNING = "PySpark does not yet fully support pandas"
#: riskscore's log4j2 profile for the driver JVM (root level from a system property).
LOG4J2_PROFILE = Path(__file__).resolve().parent / "_data" / "spark-log4j2.properties"
_LEVELS = ("ALL", "DEBUG", "ERROR", "FATAL", "INFO", "OFF", "TRACE", "WARN")


def quiet_pandas3_warning() -> str:
    """Ignore PySpark's pandas-3 FutureWarning in this process; return the worker setting.

    The filter matches that warning's text only. The returned ``PYTHONWARNINGS`` value
    does the same in Spark's Python workers (any value already in the environment is
    kept in front of it).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     value = quiet_pandas3_warning()
    ...     warnings.warn(PANDAS3_WARNING + " >= 3.0.0.", FutureWarning)
    ...     warnings.warn("another future change", FutureWarning)
    >>> [str(w.message) for w in seen]
    ['another future change']
    >>> value.endswith("ignore:PySpark does not yet fully support pandas:FutureWarning")
    True
    """
    warnings.filterwarnings("ignore", message=PANDAS3_WARNING, category=FutureWarning)
    rule = f"ignore:{PANDAS3_WARNING}:FutureWarning"
    existing = os.environ.get("PYTHONWARNINGS", "").strip()
    return rule if not existing or rule in existing.split(",") else f"{existing},{rule}"


def local_defaults(cores: int | str = "*") -> dict[str, str]:
    """Return the Spark settings a local session starts with (``conf`` overrides them).

    ``spark.sql.shuffle.partitions``: four per core instead of Spark's 200. A feature
    build runs dozens of small shuffles; on one machine each partition is a task, while
    adaptive execution (``spark.sql.adaptive.enabled``, on by default) still coalesces
    small partitions and splits skewed ones.

    Examples
    --------
    >>> local_defaults(2)["spark.sql.shuffle.partitions"]
    '8'
    """
    n = (os.cpu_count() or 2) if cores == "*" else int(cores)
    return {"spark.sql.shuffle.partitions": str(4 * max(1, n))}


def driver_log_options(log_level: str, existing: str | None = None) -> str:
    """Return ``spark.driver.extraJavaOptions`` that start the driver's log at ``log_level``.

    Parameters
    ----------
    log_level : str
        A log4j level (``"ERROR"``, ``"WARN"``, ``"INFO"``, ...), any case.
    existing : str, optional
        Options already set (kept after riskscore's, so a ``-Dlog4j2...`` of yours wins).

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        When ``log_level`` is not a log4j level.

    Examples
    --------
    >>> driver_log_options("error").split()[1]
    '-Driskscore.spark.log.level=ERROR'
    >>> driver_log_options("WARN", "-Xss4m").endswith(" -Xss4m")
    True
    """
    level = str(log_level).upper()
    if level not in _LEVELS:
        raise ParameterError(
            f"The 'log_level' parameter of local_spark_session must be one of "
            f"{', '.join(_LEVELS)}. Got {log_level!r} instead."
        )
    profile = f"-Dlog4j2.configurationFile={LOG4J2_PROFILE.as_uri()}"
    ours = f"{profile} -Driskscore.spark.log.level={level}"
    return f"{ours} {existing}" if existing else ours


def local_spark_session(
    app: str = "riskscore",
    *,
    cores: int | str = "*",
    conf: Mapping[str, str] | None = None,
    log_level: str | None = None,
    reuse_active: bool = True,
) -> Any:
    """Return the active Spark session, or start a local one with riskscore's settings.

    Parameters
    ----------
    app : str, default "riskscore"
        The application name (shown in Spark's logs).
    cores : int or "*", default "*"
        ``local[<cores>]``.
    conf : mapping, optional
        Extra Spark settings, e.g. ``{"spark.sql.shuffle.partitions": "16"}``; they win
        over :func:`local_defaults`.
    log_level : str, optional
        ``"ERROR"``, ``"WARN"``, ...; default: leave Spark's. A new session logs at this
        level from its first line (see the module docstring); a running one from now on.
    reuse_active : bool, default True
        Return the session already active in this thread unchanged (the caller's own
        settings win). With False, ``getOrCreate`` applies ``conf`` and UTC to it.

    Returns
    -------
    pyspark.sql.SparkSession

    Examples
    --------
    >>> spark = local_spark_session("doc", cores=1)  # doctest: +SKIP
    >>> spark.conf.get("spark.sql.session.timeZone")  # doctest: +SKIP
    'UTC'
    """
    worker_warnings = quiet_pandas3_warning()  # before the import: pyspark warns in it
    from pyspark.sql import SparkSession

    if reuse_active:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.executorEnv.PYTHONWARNINGS", worker_warnings)
    )
    settings = {**local_defaults(cores), **(conf or {})}
    if log_level is not None:
        key = "spark.driver.extraJavaOptions"
        settings[key] = driver_log_options(log_level, settings.get(key))
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if log_level is not None:
        session.sparkContext.setLogLevel(log_level)
    return session


#: How a Python worker's traceback names a module it could not import.
_MISSING_MODULE = re.compile(r"No module named '([^']+)'")
#: How it ends when riskscore's own code refused the data (the message is for the user).
_WORKER_FEATURE_ERROR = re.compile(r"riskscore\.exceptions\.FeatureError: (.+)")


def collect_python_pass(frame: Any, what: str) -> Any:
    """``frame.toPandas()`` for a plan whose partitions run riskscore's Python on executors.

    The network's partition passes (``mapInArrow``) are pickled by reference, so each
    executor's Python imports riskscore (and numpy, pyarrow) to run them. In local mode
    that is the driver's interpreter; on a cluster an executor without riskscore fails
    the job, and Spark shows the worker's ``ModuleNotFoundError`` deep inside a Java
    stack trace. Here that failure becomes a :class:`~riskscore.exceptions.FeatureError`
    naming ``what`` was being computed, the missing module and the fix. A
    :class:`~riskscore.exceptions.FeatureError` raised by riskscore in a worker is raised
    here with its own message. Every other error is raised as Spark raised it (without
    PySpark's warning that repeats its traceback first).

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        The plan to run and collect.
    what : str
        What the plan computes, for the message (e.g. ``"the network family's links"``).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> spark = local_spark_session("doc", cores=1)  # doctest: +SKIP
    >>> collect_python_pass(spark.range(2), "a count")["id"].tolist()  # doctest: +SKIP
    [0, 1]
    """
    with python_pass(what):
        return frame.toPandas()


def partition_table(batches: Iterator[Any]) -> Any:
    """Return the non-empty Arrow batches of one ``mapInArrow`` partition as one table.

    ``None`` when the partition holds no rows. The partition functions of riskscore's
    Spark passes (the network's links, ``features._grouped``) start with it.

    Examples
    --------
    >>> import pyarrow as pa
    >>> batch = pa.RecordBatch.from_pydict({"a": [1, 2]})
    >>> partition_table(iter([batch, batch.slice(0, 0), batch])).num_rows
    4
    >>> partition_table(iter([batch.slice(0, 0)])) is None
    True
    """
    import pyarrow as pa

    rows = [b for b in batches if b.num_rows]
    return pa.Table.from_batches(rows).combine_chunks() if rows else None


@contextlib.contextmanager
def python_pass(what: str) -> Iterator[None]:
    """Run Spark actions whose partitions run riskscore's Python; translate their failures.

    The errors of :func:`collect_python_pass` for any action (a ``localCheckpoint``, a
    write): an executor that cannot import riskscore or a module it needs raises a
    :class:`~riskscore.exceptions.FeatureError` naming ``what`` and the fix; riskscore's
    own refusal in a worker is raised with its message; every other error as Spark
    raised it.

    Examples
    --------
    >>> with python_pass("a count"):
    ...     total = 1 + 1
    >>> total
    2
    """
    try:
        with warnings.catch_warnings():
            # PySpark warns with the worker's traceback before raising it: said once, below
            warnings.filterwarnings("ignore", "toPandas attempted Arrow", UserWarning)
            yield
    except FeatureError:
        raise
    except Exception as err:
        refused = _WORKER_FEATURE_ERROR.search(str(err))
        if refused is not None:
            raise FeatureError(refused.group(1)) from err
        missing = _MISSING_MODULE.search(str(err))
        if missing is None:
            raise
        module = missing.group(1)
        raise FeatureError(
            f"{what} run riskscore's Python on the Spark executors, and an executor's "
            f"Python could not import {module!r} (ModuleNotFoundError in the worker). "
            "Install riskscore and its dependencies in the executors' Python environment "
            "(the driver's version: pip install 'riskscore[spark]' there), or ship a packed "
            "environment with spark.archives and point spark.pyspark.python at it; see "
            "README, 'Spark'"
        ) from err
