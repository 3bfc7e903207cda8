"""The one way riskscore starts a local Spark session: :func:`local_spark_session`.

Used by the Spark feature backend, ``riskscore score --engine spark``, the benchmarks
and the test fixture, so they all get the same settings: ``local[<cores>]``, the session
time zone UTC (the feature builders refuse any other), no Spark UI, and the workers
running this interpreter (``PYSPARK_PYTHON``). PySpark is imported inside the function.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["local_spark_session"]


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
        Extra Spark settings, e.g. ``{"spark.sql.shuffle.partitions": "16"}``.
    log_level : str, optional
        ``"ERROR"``, ``"WARN"``, ...; default: leave Spark's.
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
    )
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if log_level is not None:
        session.sparkContext.setLogLevel(log_level)
    return session
