"""Spark local mode: score_spark and ``--engine spark`` give the pandas answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore.cli import main
from riskscore.scoring import load_scorer, score_spark
from riskscore.scoring._load import clear_cache
from tests.scoring.conftest import AS_OF, SCORED_AT

pytestmark = pytest.mark.spark


@pytest.fixture
def model_uri(logged, monkeypatch):
    tracking, uri = logged
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking)
    clear_cache()
    yield uri
    clear_cache()


def _compare(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got.iloc[:, 0].tolist() == expected.iloc[:, 0].tolist()
    for col in expected.columns:
        if col == "score" or col.endswith(("_value", "_contribution")):
            np.testing.assert_allclose(
                got[col].to_numpy(float), expected[col].to_numpy(float), rtol=1e-9, atol=1e-12
            )
        else:
            assert (
                got[col].astype(object).where(got[col].notna(), None).tolist()
                == expected[col].astype(object).where(expected[col].notna(), None).tolist()
            ), col


def test_score_spark_equals_score_many(spark, model_uri, seller_features):
    scorer = load_scorer(model_uri)
    sdf = spark.createDataFrame(seller_features)
    got = (
        score_spark(sdf, model_uri, explain="flagged", as_of=AS_OF, scored_at=SCORED_AT)
        .toPandas()
        .set_index("seller_id")
        .loc[seller_features["seller_id"]]
        .reset_index()
    )
    expected = scorer.score_many(
        seller_features, explain="flagged", as_of=AS_OF, scored_at=SCORED_AT
    )
    _compare(got, expected)


def test_engine_spark_writes_the_pandas_files(spark, model_uri, data_dir, tmp_path):
    outs = {}
    for engine in ("pandas", "spark"):
        out = tmp_path / engine / "scores.parquet"
        out.parent.mkdir()
        args = [
            "score",
            "--model",
            model_uri,
            "--data",
            str(data_dir),
            "--as-of",
            AS_OF,
            "--out",
            str(out),
            "--scored-at",
            SCORED_AT,
            "--engine",
            engine,
            "--no-progress",
        ]
        assert main(args) == 0
        outs[engine] = (
            pd.read_parquet(out),
            pd.read_parquet(out.parent / "scores.rejects.parquet"),
        )
    (scores_p, rejects_p), (scores_s, rejects_s) = outs["pandas"], outs["spark"]
    _compare(scores_s, scores_p)
    assert (
        rejects_s[["seller_id", "reason"]].values.tolist()
        == rejects_p[["seller_id", "reason"]].values.tolist()
    )
