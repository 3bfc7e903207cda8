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
3. each holder ``a`` of a shared value becomes one row carrying the value's later
   holders (``slice`` of the sorted array), the rows are partitioned by ``(link, a)``
   and each partition counts its pairs with the local kernel's arithmetic
   (:func:`_count_pairs` through ``mapInArrow``: one call per partition on Arrow
   batches, not a per-row UDF): ``(a * n + b) << bits(cap) | h`` sorted, runs counted,
   hub weights summed in ascending ``h`` as the local kernel does. A pair's values all
   meet in the partition of its first seller, so no pair is split. Only pairs sharing
   enough values leave the partitions and are collected.

The result equals the join path's (the tests compare them); measured in
``bench/results/network_spark.json`` and ``docs/architecture.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskscore.features._network_pairs import _Pairs, hub_weight
from riskscore.features._network_sparse import _bits, _run_starts, _sorted

__all__ = ["SPARK_BACKENDS", "spark_links"]

#: Backends whose links go through this module when ``NetworkParams.method="auto"``.
SPARK_BACKENDS: frozenset[str] = frozenset({"pyspark"})


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


def _count_pairs(
    batches: Iterator[pa.RecordBatch],
    *,
    n_sellers: int,
    n_identifier: int,
    min_shared: int,
    hub_bits: int,
) -> Iterator[pa.RecordBatch]:
    """Count the pairs of one partition of (``link``, ``n``, ``a``, ``later``) rows.

    Each row is a holder ``a`` of a value held by ``n`` sellers and the value's later
    holders ``later`` (every ``b > a``). All rows of a seller ``a`` are in this
    partition, so every value a pair ``a < b`` shares is here. Per link type the pairs
    are packed as the local kernel packs them, ``(a * n_sellers + b) << hub_bits | n``,
    sorted, and their runs counted; runs shorter than ``min_shared`` (1 for the first
    ``n_identifier`` link codes, the identifier links) are dropped. Yields (``link``,
    ``pair`` = ``a * n_sellers + b``, ``n_shared``, ``weight``) batches.

    Examples
    --------
    Sellers 0 and 2 share two order values (link code 1), 1 and 2 one:

    >>> batch = pa.RecordBatch.from_pydict({"link": [1, 1, 1, 1], "n": [2, 3, 3, 2],
    ...     "a": [0, 0, 1, 1], "later": [[2], [1, 2], [2], [2]]})
    >>> out = next(_count_pairs(iter([batch]), n_sellers=3, n_identifier=1, min_shared=2,
    ...                         hub_bits=5))
    >>> out.to_pydict()["pair"], out.to_pydict()["n_shared"]
    ([2, 5], [2, 2])
    """
    rows = [b for b in batches if b.num_rows]
    if not rows:
        return
    table = pa.Table.from_batches(rows).combine_chunks()
    del rows
    link = table["link"].to_numpy()
    first = table["a"].to_numpy().astype(np.int64, copy=False)
    holders = table["n"].to_numpy().astype(np.int64, copy=False)
    later = table["later"].chunk(0)
    lengths = pc.list_value_length(later).to_numpy(zero_copy_only=False).astype(np.int64)
    second = pc.list_flatten(later).to_numpy().astype(np.int64, copy=False)
    del table, later
    weight_of = np.zeros((1 << hub_bits) + 1)
    weight_of[2:] = hub_weight(np.arange(2, weight_of.size))
    for code in np.unique(link):
        mine = link == code
        each = lengths[mine]
        key = np.repeat(first[mine] * n_sellers, each)
        key += second[np.repeat(mine, lengths)]
        key <<= hub_bits
        key |= np.repeat(holders[mine], each)
        key = _sorted(key)
        starts = np.flatnonzero(_run_starts(key, hub_bits))
        shared = np.diff(np.append(starts, key.size))
        weights = np.add.reduceat(weight_of[key & ((1 << hub_bits) - 1)], starts)
        keep = shared >= (1 if code < n_identifier else min_shared)
        yield pa.RecordBatch.from_pydict(
            {
                "link": pa.array(np.full(int(keep.sum()), code, dtype=np.int32)),
                "pair": pa.array(key[starts[keep]] >> hub_bits),
                "n_shared": pa.array(shared[keep]),
                "weight": pa.array(weights[keep]),
            }
        )


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
    # holders are sorted and distinct: holder i meets the later holders i + 1 .. n - 1
    later = (
        values.filter(F.col("n") >= 2)
        .select("link", "n", "holders", F.posexplode("holders").alias("i", "a"))
        .filter(F.col("i") < F.col("n") - 1)
        .select("link", "n", "a", F.expr("slice(holders, i + 2, n - i - 1)").alias("later"))
    )
    partitions = int(values.sparkSession.conf.get("spark.sql.shuffle.partitions"))
    count = functools.partial(
        _count_pairs,
        n_sellers=n,
        n_identifier=len(identifier_columns),
        min_shared=min_shared,
        hub_bits=_bits(max(caps)),
    )
    got = (
        later.repartition(partitions, "link", "a")
        .mapInArrow(count, "link int, pair long, n_shared long, weight double")
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
