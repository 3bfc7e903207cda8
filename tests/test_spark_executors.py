"""Executors whose Python lacks riskscore: a FeatureError with the fix, not a Java trace.

The network family's Spark links and the pricing family's grouped statistics
(``features._grouped``) run riskscore's Python on the executors (``mapInArrow`` passes
pickled by reference). On a cluster an executor without riskscore fails the job;
:func:`riskscore._spark.collect_python_pass` and every checkpoint of a feature build
(:func:`riskscore._spark.python_pass`) turn that failure into a
:class:`~riskscore.exceptions.FeatureError` naming the module and the fix.

The executor here is real: a Spark session in a subprocess whose workers get a
``sitecustomize`` (``spark.executorEnv.PYTHONPATH``) that refuses to import riskscore,
as a worker without it installed would; the driver imports riskscore as usual.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

#: Put first on the workers' import path: riskscore cannot be imported there.
SITECUSTOMIZE = textwrap.dedent(
    """
    import sys


    class _NoRiskscore:
        def find_spec(self, name, path=None, target=None):
            if name == "riskscore" or name.startswith("riskscore."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, _NoRiskscore())
    """
)

#: The pricing family on Spark, in a session whose workers cannot import riskscore.
SCRIPT = textwrap.dedent(
    """
    import sys
    from riskscore._spark import local_spark_session
    from riskscore.datasets import make_marketplace
    from riskscore.exceptions import FeatureError
    from riskscore.features import build_features

    conf = {"spark.executorEnv.PYTHONPATH": sys.argv[1], "spark.sql.shuffle.partitions": "2"}
    spark = local_spark_session("no-riskscore", cores=1, log_level="ERROR", conf=conf)
    tables = make_marketplace(n_sellers=60, seed=3)
    tables.pop("truth")
    frames = {name: spark.createDataFrame(frame) for name, frame in tables.items()}
    try:
        build_features(frames, "seller", as_of="2024-06-01", families=["pricing"]).toPandas()
    except FeatureError as err:
        print("FeatureError:", err)
        print("cause:", type(err.__cause__).__name__, "ModuleNotFoundError" in str(err.__cause__))
    else:
        print("built")
    spark.stop()
    """
)


@pytest.mark.spark
@pytest.mark.slow
def test_executors_without_riskscore_get_a_feature_error_with_the_fix(tmp_path: Path) -> None:
    workers = tmp_path / "workers"
    workers.mkdir()
    (workers / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    script = tmp_path / "no_riskscore.py"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYTHONPATH")}
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(script), str(workers)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=root,
        env={**env, "PYTHONPATH": str(root)},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    message = next((line for line in lines if line.startswith("FeatureError:")), "")
    # the pricing family's passes on Spark (features._grouped.attach) run in the build's
    # checkpoint (python_pass); the network's links report theirs through
    # collect_python_pass, the same translation
    assert "the feature build's Spark plans run riskscore's Python on the Spark" in message
    assert "could not import 'riskscore" in message, message
    assert "pip install 'riskscore[spark]'" in message and "spark.archives" in message
    # the worker's own error is kept as the cause, for whoever needs the trace
    assert "cause: " in done.stdout and done.stdout.rstrip().endswith("True"), done.stdout


def _pass_raising(spark: Any, error: Exception) -> Any:
    """A ``mapInArrow`` plan whose worker raises ``error`` on its first batch."""

    def fails(batches: Any) -> Any:
        for _ in batches:
            raise error
        yield from ()

    return spark.range(3).mapInArrow(fails, "id long")


@pytest.mark.spark
def test_other_executor_errors_are_raised_as_spark_raised_them(spark: Any) -> None:
    from riskscore._spark import collect_python_pass
    from riskscore.exceptions import FeatureError

    plan = _pass_raising(spark, ValueError("a bad partition"))
    with pytest.raises(Exception, match="a bad partition") as raised:
        collect_python_pass(plan, "a test pass")
    assert not isinstance(raised.value, FeatureError)
    good = collect_python_pass(spark.range(3).mapInArrow(lambda b: b, "id long"), "a test pass")
    assert sorted(good["id"].tolist()) == [0, 1, 2]


@pytest.mark.spark
def test_a_feature_error_in_a_worker_reaches_the_caller_as_one(spark: Any) -> None:
    # e.g. the Spark links' guard against a seller list longer than an Arrow list holds
    from riskscore._spark import collect_python_pass
    from riskscore.exceptions import FeatureError

    refused = FeatureError("seller position 7 has too many later holders; raise the partitions")
    plan = _pass_raising(spark, refused)
    with pytest.raises(FeatureError) as raised:
        collect_python_pass(plan, "a test pass")
    assert str(raised.value) == "seller position 7 has too many later holders; raise the partitions"
    assert "PythonException" in type(raised.value.__cause__).__name__  # Spark's, kept as cause


@pytest.mark.spark
def test_a_checkpoint_reports_a_worker_without_riskscore_as_a_collect_does(spark: Any) -> None:
    import narwhals as nw

    from riskscore.exceptions import FeatureError
    from riskscore.features._backend import checkpoint

    plan = _pass_raising(spark, ModuleNotFoundError("No module named 'riskscore'"))
    with pytest.raises(FeatureError, match=r"the feature build's Spark plans run riskscore's Py"):
        checkpoint(nw.from_native(plan))
    # an error of another kind is Spark's own, untouched
    with pytest.raises(Exception, match="a bad partition") as raised:
        checkpoint(nw.from_native(_pass_raising(spark, ValueError("a bad partition"))))
    assert not isinstance(raised.value, FeatureError)
