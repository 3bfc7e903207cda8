"""The seller web's pairs on Spark: one aggregation per value, pairs written from arrays.

The narwhals path (:func:`riskscore.features._network_links._join_links`) forms pairs
with a self-join on the shared value: every value's holders meet every holder, ``n**2``
rows per value (a seller with itself, both orders) before ``a < b`` keeps
``n (n - 1) / 2``, each row carrying two string ids through a sort-merge join. On Spark
this module builds the same pairs in three jobs that never join the orders with
themselves:

1. the seller ids become node positions (a broadcast join with the ``n``-row position
   table, which also drops sellers unknown at the cutoff), and one ``group by (link,
   value)`` collects each value's distinct holders as a sorted array of positions
   (``collect_set``: a seller holding a value on many orders holds it once). Hub values
   (more holders than the cap) are dropped here, before any pair exists: a device shared
   by 10,000 sellers is one array of 10,000 positions, never 50 million pairs. The
   result (one row per non-hub value) is computed once (``localCheckpoint``);
2. the per-seller figures the chance test needs (distinct non-hub values and their
   summed holders) are one aggregation over the exploded arrays, collected (one row per
   seller and link type);
3. each shared value's pairs are written by Spark's own higher-order functions
   (``transform`` over ``slice``, no Python UDF) as one ``long`` each, ``a * n + b``,
   exploded and summed per (link, pair): the shared count and the summed hub weights.
   Only pairs sharing enough values are collected.

The result equals the join path's (the tests compare them); measured in
``bench/results/network_spark.json`` and ``docs/architecture.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore.features._network_pairs import _Pairs

__all__ = ["SPARK_BACKENDS", "fits_spark_pairs", "spark_links"]

#: Backends whose links go through this module when ``NetworkParams.method="auto"``.
SPARK_BACKENDS: frozenset[str] = frozenset({"pyspark"})


def fits_spark_pairs(n_sellers: int) -> bool:
    """Whether a seller pair ``a * n + b`` fits one signed 64-bit ``long``.

    Examples
    --------
    >>> fits_spark_pairs(100_000), fits_spark_pairs(4_000_000_000)
    (True, False)
    """
    return n_sellers <= 1 or (n_sellers - 1) * n_sellers + (n_sellers - 1) < 2**63


def _positions(spark: Any, field: Any, ids: pd.Index) -> Any:
    """Return a Spark frame of (``seller_id``, ``pos``): each known seller's node position."""
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType([StructField("seller_id", field.dataType), StructField("pos", LongType())])
    table = pd.DataFrame(
        {"seller_id": ids.to_numpy(dtype=object), "pos": np.arange(len(ids), dtype=np.int64)}
    )
    return spark.createDataFrame(table, schema=schema)


def _memberships(
    sellers: Any,
    orders: Any | None,
    identifier_columns: Sequence[str],
    order_columns: Mapping[str, str],
    links: Sequence[str],
) -> Any | None:
    """One (seller_id, link code, key) Spark frame over every link type; missing keys dropped."""
    from pyspark.sql import functions as F

    parts = [
        sellers.select(
            "seller_id", F.lit(links.index(c)).alias("link"), F.col(c).cast("string").alias("key")
        )
        for c in identifier_columns
    ]
    if orders is not None:
        parts += [
            orders.select(
                "seller_id",
                F.lit(links.index(link)).alias("link"),
                F.col(column).cast("string").alias("key"),
            )
            for link, column in order_columns.items()
        ]
    if not parts:
        return None
    members = parts[0]
    for part in parts[1:]:
        members = members.unionByName(part)
    return members.dropna(subset=["seller_id", "key"])


def spark_links(
    sellers: nw.LazyFrame,
    orders: nw.LazyFrame | None,
    ids: pd.Index,
    identifier_columns: Sequence[str],
    order_columns: Mapping[str, str],
    caps: tuple[int, int],
    min_shared: int,
) -> dict[str, _Pairs]:
    """Pairs per link type on Spark: value arrays, no self-join (see the module docstring).

    The Spark twin of :func:`riskscore.features._network_sparse.sparse_links`: the same
    arguments (``sellers`` and ``orders`` on Spark) and the same result, link type ->
    its pairs ``a < b`` as node positions in ``ids``.

    Examples
    --------
    >>> from riskscore._spark import local_spark_session
    >>> spark = local_spark_session("doc", cores=1)  # doctest: +SKIP
    >>> frame = pd.DataFrame({"seller_id": ["a", "b", "c"], "device_id": ["D", "D", None]})
    >>> sellers = nw.from_native(spark.createDataFrame(frame))  # doctest: +SKIP
    >>> ids = pd.Index(["a", "b", "c"])
    >>> got = spark_links(sellers, None, ids, ["device_id"], {}, (25, 25), 2)  # doctest: +SKIP
    >>> got["device_id"].a.tolist(), got["device_id"].b.tolist()  # doctest: +SKIP
    ([0], [1])
    """
    from pyspark.sql import functions as F

    links = [*identifier_columns, *order_columns]
    native_sellers = nw.to_native(sellers)
    native_orders = None if orders is None else nw.to_native(orders)
    members = _memberships(native_sellers, native_orders, identifier_columns, order_columns, links)
    if members is None:
        return {}
    n = len(ids)
    positions = _positions(native_sellers.sparkSession, native_sellers.schema["seller_id"], ids)
    is_order = F.col("link") >= len(identifier_columns)
    cap = F.when(is_order, F.lit(caps[1])).otherwise(F.lit(caps[0]))
    values = (
        members.join(F.broadcast(positions), on="seller_id", how="inner")
        .groupBy("link", "key")
        .agg(F.array_sort(F.collect_set("pos")).alias("holders"))
        .select("link", "holders", F.size("holders").alias("n"))
        .filter(F.col("n") <= cap)
        .localCheckpoint(eager=True)  # read twice below
    )
    per_seller = (
        values.select("link", "n", F.explode("holders").alias("pos"))
        .groupBy("link", "pos")
        .agg(F.count(F.lit(1)).alias("d"), F.sum("n").alias("n_sum"))
        .toPandas()
    )
    # holders are sorted and distinct: pair (holders[i], b) for every later holder b
    pairs_of_value = F.expr(
        "flatten(transform(sequence(0, n - 2), "
        f"i -> transform(slice(holders, i + 2, n - i - 1), b -> holders[i] * {n}L + b)))"
    )
    need = F.when(is_order, F.lit(min_shared)).otherwise(F.lit(1))
    got = (
        values.filter(F.col("n") >= 2)
        .select(
            "link",
            (1.0 / F.log(F.col("n") + 1.0)).alias("w"),
            F.explode(pairs_of_value).alias("pair"),
        )
        .groupBy("link", "pair")
        .agg(F.count(F.lit(1)).alias("n_shared"), F.sum("w").alias("weight"))
        .filter(F.col("n_shared") >= need)
        .toPandas()
    )
    out: dict[str, _Pairs] = {}
    for code in sorted(int(c) for c in per_seller["link"].unique()):
        mine = per_seller[per_seller["link"] == code]
        found = got[got["link"] == code]
        pair = found["pair"].to_numpy(dtype=np.int64)
        # pairs sorted as the kernel's are, so the links do not depend on partitioning
        order = np.argsort(pair, kind="stable")
        out[links[code]] = _Pairs.with_seller_counts(
            pair[order] // n,
            pair[order] % n,
            found["n_shared"].to_numpy(dtype=np.int64)[order],
            found["weight"].to_numpy(dtype=np.float64)[order],
            n,
            mine["pos"].to_numpy(dtype=np.int64),
            mine["d"].to_numpy(dtype=np.float64),
            mine["n_sum"].to_numpy(dtype=np.float64),
        )
    return out
