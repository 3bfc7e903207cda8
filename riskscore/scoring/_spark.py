"""Spark scoring: :func:`score_spark` through MLflow's ``spark_udf``, and the Spark batch.

:func:`score_spark` applies the logged riskscore pyfunc to a Spark DataFrame of features
with :func:`riskscore.registry.spark_udf` (MLflow's ``spark_udf`` in the local
environment; the registry is the one module that calls MLflow). The pyfunc's ``predict`` is
:meth:`Scorer.score_many`, so each Spark partition goes through the same code path as
``score_one``, ``score_many`` and the MLflow server, and returns the same columns.

:func:`score_batch_spark` is ``riskscore score --engine spark``: it reads the tables into
Spark, builds the features with the same narwhals builders on Spark, accounts for every
id (unknown, no activity before as_of, invalid value) with Spark joins, scores with
:func:`score_spark` and writes the same two files as the pandas engine.

PySpark is imported inside these functions only; MLflow only through the registry.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from riskscore.exceptions import ScoringError
from riskscore.registry._contract import REASON_FIELDS

__all__ = ["score_batch_spark", "score_spark"]


def score_spark(
    spark_df: Any,
    model_uri: str,
    *,
    explain: str = "flagged",
    as_of: Any = None,
    scored_at: Any = None,
) -> Any:
    """Score a Spark DataFrame of features with the riskscore model at ``model_uri``.

    Parameters
    ----------
    spark_df : pyspark.sql.DataFrame
        One row per entity: the id column (``seller_id`` / ``listing_id``) and the
        model's feature columns, e.g. from ``build_features(..., backend="spark")``.
        Extra columns are ignored.
    model_uri : str
        An MLflow model URI of a riskscore pyfunc (``models:/name@alias``,
        ``runs:/...``, or a local pyfunc folder).
    explain : {"flagged", "all", "none"}, default "flagged"
    as_of, scored_at : timestamp-like, optional
        Written on every row (``scored_at`` defaults to now, UTC).

    Returns
    -------
    pyspark.sql.DataFrame
        The columns of :meth:`Scorer.score_many`, one row per input row.

    Raises
    ------
    ScoringError
        Missing feature columns (with a diff of expected vs received), bad ``explain``.
    """
    return _score_spark(spark_df, model_uri, explain=explain, as_of=as_of, scored_at=scored_at)


def _score_spark(
    spark_df: Any,
    model_uri: str,
    *,
    explain: str,
    as_of: Any,
    scored_at: Any,
    keep: Sequence[str] = (),
) -> Any:
    """:func:`score_spark`, carrying the ``keep`` columns of the input through."""
    from pyspark.sql import functions as F

    from riskscore.registry import spark_udf
    from riskscore.scoring._checks import column_diff
    from riskscore.scoring._load import load_scorer
    from riskscore.scoring._scorer import _EXPLAIN_MODES, _iso, _now

    if explain not in _EXPLAIN_MODES:
        raise ScoringError(f"explain must be one of {_EXPLAIN_MODES}; got {explain!r}")
    scorer = load_scorer(model_uri)
    present = set(spark_df.columns)
    layout = scorer.layout
    missing = [n for n in layout.names if n not in present and n not in layout.optional_fill]
    if missing:
        raise ScoringError(
            f"the Spark DataFrame is missing {len(missing)} feature column(s) the model needs: "
            f"{', '.join(missing[:10])}; expected vs received columns:\n"
            + column_diff(layout.names, [c for c in spark_df.columns if c != scorer.id_col])
        )
    inputs = [c for c in layout.names if c in present]
    udf = spark_udf(spark_df.sparkSession, model_uri, explain=explain)
    scored = spark_df.select(
        *keep,
        (F.col(scorer.id_col) if scorer.id_col in present else F.lit(None))
        .cast("string")
        .alias("_id"),
        udf(F.struct(*[F.col(c) for c in inputs])).alias("_risk"),
    )
    reasons = F.col("_risk.reasons")  # an array of reason structs (the pyfunc contract)
    columns = [
        F.col("_id").alias(scorer.id_col),
        F.lit(scorer.model_name).alias("model_name"),
        F.lit(scorer.model_version).alias("model_version"),
        F.col("_risk.score").alias("score"),
        F.col("_risk.risk_score").alias("risk_score"),
        F.col("_risk.band").alias("band"),
    ]
    for k in range(1, scorer.top_k + 1):
        item = F.try_element_at(reasons, F.lit(k))
        columns += [item.getField(f).alias(f"reason_{k}_{f}") for f in REASON_FIELDS]
    stamp = _iso(scored_at) or _now()
    columns += [F.lit(_iso(as_of)).cast("string").alias("as_of"), F.lit(stamp).alias("scored_at")]
    return scored.select(*keep, *columns)


def _read_tables(spark: Any, data: Path) -> dict[str, Any]:
    """Read a folder of tables into Spark: Parquet directly, CSV through validation."""
    from riskscore.io import load_tables
    from riskscore.schema import CONTRACT

    files = {p.stem: p for p in sorted(data.iterdir()) if p.suffix in (".parquet", ".csv")}
    if not files:
        load_tables(data)  # raises the library's error about the folder
    if all(p.suffix == ".parquet" for p in files.values()):
        return {n: spark.read.parquet(str(p)) for n, p in files.items() if n in CONTRACT}
    tables = load_tables(data)
    return {n: spark.createDataFrame(t) for n, t in tables.items() if n in CONTRACT}


def score_batch_spark(
    model_uri: str,
    data: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    as_of: Any,
    ids: Sequence[str] | None = None,
    explain: str = "flagged",
    scored_at: Any = None,
    spark: Any = None,
) -> Any:
    """Score ``ids`` (default: every entity) with Spark; write ``out`` and its rejects.

    Parameters
    ----------
    model_uri : str
        An MLflow model URI of a riskscore pyfunc.
    data : path
        Folder of tables (Parquet read by Spark directly; CSV validated first).
    out : path
        ``.parquet`` or ``.csv``; rejects go to ``<stem>.rejects<suffix>``.
    as_of, ids, explain, scored_at
        As in :func:`riskscore.scoring.score_batch`.
    spark : pyspark.sql.SparkSession, optional
        Default: the active session, or a new ``local[*]`` one.

    Returns
    -------
    BatchSummary
    """
    import time

    from pyspark.sql import functions as F

    from riskscore.features import build_features
    from riskscore.scoring._batch import (
        REJECT_REASONS,
        BatchSummary,
        _add_run_columns,
        _check_out,
        rejects_path,
        write_frame,
    )
    from riskscore.scoring._entities import _TIME, check_ids
    from riskscore.scoring._load import load_scorer
    from riskscore.scoring._scorer import _iso, _now

    started = time.perf_counter()
    out_path = Path(out)
    _check_out(out_path)
    scorer = load_scorer(model_uri)
    key, entity = scorer.id_col, scorer.entity
    stamp = _iso(scored_at) or _now()
    cutoff = pd.Timestamp(as_of)
    spark = spark or _session()
    tables = _read_tables(spark, Path(data))
    table_name, time_col = _TIME[entity]
    known = tables[table_name].select(F.col(key).cast("string").alias(key), time_col)
    if ids is None:
        wanted = known.select(key).withColumn("_pos", F.monotonically_increasing_id())
        n_input = wanted.count()
    else:
        id_list = check_ids(ids)
        n_input = len(id_list)
        wanted = spark.createDataFrame(
            pd.DataFrame({key: id_list, "_pos": range(len(id_list))}),
            schema=f"{key} STRING, _pos BIGINT",
        )
    features = build_features(tables, entity, as_of=cutoff.to_pydatetime(), backend="spark")  # type: ignore[arg-type]
    features = features.withColumn(key, F.col(key).cast("string"))
    joined = wanted.join(known, on=key, how="left").join(
        features.withColumn("_built", F.lit(True)), on=key, how="left"
    )
    invalid = _invalid_expr(scorer, [c for c in features.columns if c != key])
    reason = (
        F.when(F.col(time_col).isNull(), F.lit("unknown id"))
        .when(F.col(time_col) >= F.lit(cutoff.to_pydatetime()), "no activity before as_of")
        .when(F.col("_built").isNull(), "no activity before as_of")
        .when(invalid, "invalid value")
    )
    joined = joined.withColumn("_reason", reason).cache()
    rejects = (
        joined.where(F.col("_reason").isNotNull())
        .select(key, F.col("_reason").alias("reason"), "_pos")
        .toPandas()
        .sort_values("_pos", kind="stable")
    )
    live = joined.where(F.col("_reason").isNull()).select("_pos", *features.columns)
    scored_sdf = _score_spark(
        live, model_uri, explain=explain, as_of=cutoff, scored_at=stamp, keep=("_pos",)
    )
    scored = scored_sdf.toPandas().sort_values("_pos", kind="stable")
    scored = _pandas_dtypes(scored.drop(columns="_pos").reset_index(drop=True))
    joined.unpersist()
    rejects_out = rejects_frame_spark(rejects, key, time_col, cutoff)
    write_frame(scored, out_path)
    write_frame(_add_run_columns(rejects_out, scorer, _iso(cutoff)), rejects_path(out_path))
    counts = dict.fromkeys(REJECT_REASONS, 0)
    for r, n in rejects_out["reason"].value_counts().items():
        counts[str(r)] = int(n)
    summary = BatchSummary(
        n_input=n_input,
        n_scored=len(scored),
        rejected=counts,
        out=str(out_path),
        rejects_out=str(rejects_path(out_path)),
        n_chunks=1,
        seconds=time.perf_counter() - started,
    )
    if summary.n_scored + summary.n_rejected != summary.n_input:  # pragma: no cover
        raise RuntimeError(f"row accounting does not add up: {summary.line()}")
    return summary


def _pandas_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a collected frame the dtypes of a ``score_many`` frame."""
    out = frame.copy()
    for c in out.columns:
        if c == "risk_score":
            out[c] = out[c].astype("float64")
        elif c.endswith("_impact"):
            out[c] = out[c].astype("Int64")
        elif c == "score" or c.endswith(("_value", "_contribution")):
            out[c] = out[c].astype("float64")
        else:
            out[c] = out[c].astype("str").where(out[c].notna())
    return out


def rejects_frame_spark(
    rejects: pd.DataFrame, key: str, time_col: str, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Turn collected Spark rejects into the reject rows of the pandas engine."""
    from riskscore.scoring._entities import rejects_frame

    details = {
        "unknown id": "not found in the entity table",
        "no activity before as_of": f"{time_col} is not before as_of {cutoff.isoformat()}",
        "invalid value": "a feature is infinite, or NaN where the catalog forbids it",
    }
    return rejects_frame(
        key,
        rejects[key].astype("str").tolist(),
        rejects["reason"].tolist(),
        [details[r] for r in rejects["reason"]],
    )


def _invalid_expr(scorer: Any, columns: Sequence[str]) -> Any:
    """Return a Spark boolean: a feature is infinite, or NaN/null where the catalog forbids it."""
    from pyspark.sql import functions as F

    layout = scorer.layout
    expr = F.lit(False)
    for name, nan_ok in zip(layout.names, layout.nan_ok, strict=True):
        if name not in columns or name in layout.categories:
            continue
        c = F.col(name)
        bad = (c == float("inf")) | (c == float("-inf"))
        if not nan_ok:
            bad = bad | F.isnan(c) | c.isNull()
        expr = expr | F.coalesce(bad, F.lit(False))
    return expr


def _session() -> Any:
    """Return the default Spark session set to UTC, else a new local one."""
    from riskscore._spark import local_spark_session

    return local_spark_session("riskscore-score", reuse_active=False, log_level="ERROR")
