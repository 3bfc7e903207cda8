"""Spark plans of a feature build: each family is computed once, not once per reader.

A lazy Spark plan is a tree: a family output read by a later family and by the final
join would run again at each read, scanning the input tables each time. On Spark,
family outputs and shared intermediates are checkpointed, so the plan of the result
reads the checkpointed rows and never the input tables.
"""

from __future__ import annotations

import narwhals as nw
import pandas as pd
import pyarrow as pa
import pytest

from riskscore.features import build_features
from riskscore.features._backend import checkpoint

pytestmark = pytest.mark.spark

AS_OF = "2024-06-30"


def _input_scans(frame: object) -> int:
    """Leaf nodes of the optimised plan that read an input table (a local relation)."""
    plan = frame._jdf.queryExecution().optimizedPlan().toString()  # type: ignore[attr-defined]
    return plan.count("LocalRelation")


@pytest.mark.slow
def test_the_result_reads_checkpointed_families_not_the_inputs(market, spark) -> None:
    tables = {
        k: spark.createDataFrame(pa.Table.from_pandas(v, preserve_index=False))
        for k, v in market.items()
        if k != "truth"
    }
    result = build_features(tables, "seller", as_of=AS_OF, families=["pricing", "buyers"])
    assert _input_scans(result) == 0
    assert result.count() == len(build_features(market, "seller", as_of=AS_OF))


def test_a_lazy_frame_reads_its_inputs_until_checkpointed(spark) -> None:
    # the check above can fail: an unchecked plan reads its input relation
    native = spark.createDataFrame(pa.Table.from_pandas(pd.DataFrame({"a": [1, 2]})))
    frame = nw.from_native(native).lazy().filter(nw.col("a") > 1)
    assert _input_scans(frame.to_native()) == 1
    assert _input_scans(checkpoint(frame).to_native()) == 0
    assert checkpoint(frame).collect()["a"].to_list() == [2]
