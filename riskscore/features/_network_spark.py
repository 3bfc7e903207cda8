"""The seller web's pairs on Spark: two partitioned passes, no self-join, no row UDF.

The narwhals path (:func:`riskscore.features._network_links._join_links`) forms pairs
with a self-join on the shared value: every value's holders meet every holder, ``n**2``
rows per value (a seller with itself, both orders) before ``a < b`` keeps
``n (n - 1) / 2``, each row carrying two string ids through a sort-merge join. On Spark
this module builds the same pairs in two shuffles that never join the orders with
themselves, each partition handled by one vectorised call on Arrow batches
(``mapInArrow``; one Python call per partition, not a per-row UDF) with the local
kernel's arithmetic (:mod:`riskscore.features._network_sparse`):

1. the seller ids become node positions (a broadcast join with the ``n``-row position
   table, which also drops sellers unknown at the cutoff); each (link, value, position)
   row travels as two ``long`` values, the value's two hashes and the link and position
   packed beside one of them (:func:`_memberships`; never the value's text), and the
   rows are partitioned by the value's hash, so each value's holders meet in one
   partition, and :func:`_holder_rows` finds each value's distinct holders
   (codes from the two hashes, one sort) and drops hub values (more holders than the cap)
   before any pair exists: a device shared by 10,000 sellers is 10,000 rows, never 50
   million pairs. It writes one row per seller ``a`` and link type holding kept values
   in the partition: their number, their summed holder counts and, as the bytes of one
   int64 array (a ``binary`` value, which Spark copies whole where an ``array<long>``
   goes element by element), their later holders (every ``b > a``, each with the
   value's holder count ``h``: ``b << bits(cap) | h``). One row per seller and
   partition, not one per holding: 1.84 million rows instead of 19.9 million at 100k
   sellers with eight partitions (the later holders are the same 42.5 million);
2. those rows are partitioned by (link, ``a``), so every value a pair ``a < b`` shares
   is in the partition of ``a``, and :func:`_count_pairs` packs the pairs as the local
   kernel does, ``(a * n + b) << bits(cap) | h``, sorts them, counts the runs and sums
   the hub weights in ascending ``h``; it also sums each seller's figures for the
   chance test (distinct non-hub values and their summed holders). Only pairs sharing
   enough values leave the partitions and are collected, with one row per seller and
   link type.

A ``group by (link, value)`` collecting holder arrays (``collect_set``) and a 21-million
row aggregation of pair codes did the same at 100k sellers in twice the time
(``docs/architecture.md``). The result equals the join path's (the tests compare
them) unless two values share both hashes (:func:`_value_codes`: about 6e-16 at ten
million distinct values); measured in ``bench/results/network_spark.json``.
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

from riskscore._spark import collect_python_pass, partition_table
from riskscore.exceptions import FeatureError
from riskscore.features._network_pairs import _Pairs
from riskscore.features._network_sparse import _bits, _holdings, _run_starts, shared_runs

__all__ = ["SPARK_BACKENDS", "fits_spark", "spark_links"]

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
    positions: Any,
    identifier_columns: Sequence[str],
    order_columns: Mapping[str, str],
    links: Sequence[str],
    n_sellers: int,
) -> Any | None:
    """One (key, tag) Spark frame over every link type's memberships; missing values dropped.

    Each table is read once: its rows meet the position table (a broadcast join, which
    drops sellers unknown at the cutoff) and then become one row per link type
    (``explode``). A value travels as two hashes of its text, never as the text:
    ``key`` is its xxHash64, and ``tag`` packs the rest in one ``long``, its Murmur3
    (Spark's ``hash``) in the high 32 bits and the slot ``link * n_sellers + pos`` in
    the low 32 (:func:`_untag` reads it back; :func:`fits_spark` says when that fits).
    :func:`_value_codes` tells values apart by both hashes. Two ``long`` columns instead
    of a string, a link code and a position took the links at 100k sellers from 19-25 s
    to 17-18 s (``docs/architecture.md``).
    """
    from pyspark.sql import functions as F

    def rows(table: Any, columns: Mapping[str, str]) -> Any:
        members = []
        for link, column in columns.items():
            text = F.col(column).cast("string")
            slot = F.col("pos") + F.lit(links.index(link) * n_sellers)
            tag = F.shiftleft(F.hash(text).cast("long"), 32).bitwiseOR(slot)
            key = F.when(text.isNotNull(), F.xxhash64(text))
            members.append(F.struct(key.alias("key"), tag.alias("tag")))
        return (
            table.select("seller_id", *dict.fromkeys(columns.values()))
            .join(F.broadcast(positions), on="seller_id", how="inner")
            .select(F.explode(F.array(*members)).alias("m"))
            .select("m.key", "m.tag")
            .dropna(subset=["key"])
        )

    parts = []
    if identifier_columns:
        parts.append(rows(sellers, {c: c for c in identifier_columns}))
    if orders is not None and order_columns:
        parts.append(rows(orders, order_columns))
    if not parts:
        return None
    members = parts[0]
    for part in parts[1:]:
        members = members.unionByName(part)
    return members


#: The schema of the rows :func:`_holder_rows` writes: one per seller ``a`` and link type
#: in a partition (``values`` and ``total``: its kept values there and their summed
#: holder counts; ``later``: the later holders of those values, ``b << hub_bits | h``,
#: as the raw bytes of little-endian int64s: Spark moves a ``binary`` value with one
#: copy, an ``array<long>`` element by element, in every Arrow and shuffle hand-off).
HOLDER_ROWS = "link int, a long, values long, total long, later binary"

#: The schema of the rows :func:`_count_pairs` writes: a pair (``seller`` false; ``id``
#: ``a * n + b``, ``count`` the shared values, ``total`` the summed hub weights) or a
#: seller's figures (``seller`` true; ``id`` its position, ``count`` its distinct
#: non-hub values, ``total`` their summed holders).
PAIR_ROWS = "link int, seller boolean, id long, count long, total double"

#: Bytes of one later holder in ``later`` (an int64).
_ENTRY_BYTES = 8
#: Most later holders in one batch of :func:`_holder_rows` (Arrow binary has 32-bit byte
#: offsets: 2**27 entries are 1 GiB).
_MAX_LIST_ENTRIES = 1 << 27
#: Most later holders one seller's ``later`` can hold: more have no 32-bit byte offset.
_MAX_OFFSET = ((1 << 31) - 1) // _ENTRY_BYTES


def _seller_blocks(
    code: int,
    a: np.ndarray,
    values: np.ndarray,
    total: np.ndarray,
    ends: np.ndarray,
    later: np.ndarray,
) -> Iterator[pa.RecordBatch]:
    """``HOLDER_ROWS`` batches: seller ``a[i]``'s ``later`` is ``later[ends[i - 1]:ends[i]]``.

    Each seller's later holders go out as the bytes of their int64s, whole, in batches
    of at most ``_MAX_LIST_ENTRIES`` entries.
    """
    first = 0
    while first < a.size:
        begin = int(ends[first - 1]) if first else 0
        # as many sellers as fit 32-bit byte offsets (at least one)
        last = max(first + 1, int(np.searchsorted(ends, begin + _MAX_LIST_ENTRIES, "right")))
        if int(ends[last - 1]) - begin > _MAX_OFFSET:  # one seller alone: would wrap, not fail
            raise FeatureError(
                f"the network's links on Spark: seller position {int(a[first])} has "
                f"{int(ends[last - 1]) - begin:,} later holders of its shared values in one "
                f"partition, more than one Arrow binary value holds ({_MAX_OFFSET:,}); raise "
                "spark.sql.shuffle.partitions so its values spread over more partitions, "
                "or lower NetworkParams' caps"
            )
        offsets = (np.append(0, ends[first:last] - begin) * _ENTRY_BYTES).astype(np.int32)
        entries = np.ascontiguousarray(later[begin : int(ends[last - 1])], dtype="<i8")
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(np.full(last - first, code, dtype=np.int32)),
                pa.array(a[first:last]),
                pa.array(values[first:last]),
                pa.array(total[first:last]),
                pa.Array.from_buffers(
                    pa.binary(),
                    last - first,
                    [None, pa.py_buffer(offsets), pa.py_buffer(entries)],
                ),
            ],
            names=["link", "a", "values", "total", "later"],
        )
        first = last


def _holder_rows(
    batches: Iterator[pa.RecordBatch],
    *,
    n_sellers: int,
    n_identifier: int,
    caps: tuple[int, int],
    hub_bits: int,
) -> Iterator[pa.RecordBatch]:
    """One row per seller and link type of a partition of :func:`_memberships` rows.

    Every row of a value (its ``key``) is in this partition. Per link type the values
    become integer codes (:func:`_value_codes`, from their two hashes) and
    :func:`~riskscore.features._network_sparse._holdings` gives each value's distinct
    holders in ascending order; values held by more than the cap
    (``caps[0]`` for the first ``n_identifier`` link codes, the identifier links,
    ``caps[1]`` for the order links) are dropped. A value held by ``h`` sellers
    ``s_0 < ... < s_{h-1}`` is one of the ``values`` of each ``s_i`` (``total`` sums
    their ``h``) and gives ``s_i`` its later holders ``s_{i+1}, ..., s_{h-1}``, each
    written to ``later`` as ``s_j << hub_bits | h``. A seller's row gathers all its
    values of the partition: one row per seller and link type, not one per holding.

    Examples
    --------
    Value "x" (hashes 11 and 1) held by sellers 2 and 0 (twice by 2), "y" (hashes 12 and
    2) by 1 alone, all of link 0 (a tag's slot is the position):

    >>> tag = [1 << 32 | 2, 2 << 32 | 1, 1 << 32 | 0, 1 << 32 | 2]
    >>> batch = pa.RecordBatch.from_pydict({"key": [11, 12, 11, 11], "tag": tag})
    >>> rows = pa.Table.from_batches(_holder_rows(iter([batch]), n_sellers=3, n_identifier=1,
    ...                                           caps=(25, 25), hub_bits=5))
    >>> rows = rows.sort_by("a").to_pydict()
    >>> rows["a"], rows["values"], rows["total"]
    ([0, 1, 2], [1, 1, 1], [2, 1, 2])
    >>> [np.frombuffer(later, "<i8").tolist() for later in rows["later"]]
    [[66], [], []]

    Seller 0's later holder is seller 2 of a value held by two: ``2 << 5 | 2`` = 66.
    """
    table = partition_table(batches)
    if table is None:
        return
    key = table["key"].to_numpy()
    link, pos, check = _untag(table["tag"].to_numpy(), n_sellers)
    del table
    for code in np.unique(link):
        mine = link == code
        seller, start, holders = _holdings(
            pos[mine], _value_codes(key[mine], check[mine]), n_sellers
        )
        cap = caps[0] if code < n_identifier else caps[1]
        kept = np.repeat(holders <= cap, holders)  # per holding: its value is no hub
        at = np.flatnonzero(kept)  # the holdings of kept values, in `seller`
        if at.size == 0:
            continue
        h = np.repeat(holders, holders)[kept]
        n_later = h - 1 - (at - np.repeat(start, holders)[kept])
        a = seller[at]
        # a seller's holdings next to each other, in any order (the count pass sorts the
        # pairs); unstable: 0.05 s instead of 0.15 s for 1.5 million holdings
        order = np.argsort(a)
        a, h, at, n_later = a[order], h[order], at[order], n_later[order]
        ends = np.cumsum(n_later)
        # holding k's later holders are seller[at[k] + 1 : at[k] + 1 + n_later[k]]
        entry = np.repeat(at + 1 - (ends - n_later), n_later) + np.arange(ends[-1])
        later = seller[entry] << hub_bits
        later |= np.repeat(h, n_later)
        first = np.flatnonzero(_run_starts(a, 0))  # each seller's first holding
        last = np.append(first[1:], a.size) - 1
        yield from _seller_blocks(
            int(code),
            a[first],
            np.diff(np.append(first, a.size)),
            np.add.reduceat(h, first),
            ends[last],
            later,
        )


def fits_spark(n_sellers: int, n_links: int) -> bool:
    """Whether every link type's slot ``link * n_sellers + pos`` fits the 32 bits of a tag.

    Up to 715 million sellers with the six link types; beyond, the links take the
    narwhals join path.

    Examples
    --------
    >>> fits_spark(100_000, 6), fits_spark(10**9, 6)
    (True, False)
    """
    return n_links * n_sellers <= 1 << 32


def _untag(tag: np.ndarray, n_sellers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the link code, seller position and Murmur3 check a membership's tag packs.

    Examples
    --------
    Link 2, position 7 of 10 sellers, check -5:

    >>> link, pos, check = _untag(np.array([-5 << 32 | (2 * 10 + 7)]), 10)
    >>> link.tolist(), pos.tolist(), check.tolist()
    ([2], [7], [-5])
    """
    slot = tag & 0xFFFFFFFF
    return slot // n_sellers, slot % n_sellers, tag >> 32


def _value_codes(key: np.ndarray, check: np.ndarray) -> np.ndarray:
    """Return an integer code per row, equal for rows of one value, from the value's hashes.

    ``key`` (the value's xxHash64) codes the values (Arrow's dictionary encoding); where
    two values share a ``key`` but not a ``check`` (its Murmur3), the pair of hashes
    tells them apart. Two values get one code only when both hashes collide: about
    ``d**2 / 2**97`` for ``d`` distinct values of a link type (6e-16 at ten million),
    where the local kernel's two 64-bit hashes leave about ``(d**2 / 2**65)**2``
    (:func:`~riskscore.features._network_sparse._hashed_codes`).

    Examples
    --------
    Keys 5 and 7; three rows share key 5, one of them with another check:

    >>> _value_codes(np.array([5, 7, 5, 5]), np.array([1, 2, 1, 3])).tolist()
    [0, 1, 0, 2]
    """

    def encode(values: np.ndarray) -> np.ndarray:
        codes = pc.dictionary_encode(pa.array(values)).indices
        return codes.to_numpy(zero_copy_only=False).astype(np.int64)

    codes = encode(key)
    one_check = np.zeros(int(codes.max()) + 1 if codes.size else 0, dtype=check.dtype)
    one_check[codes] = check  # one of each code's checks
    if np.array_equal(one_check[codes], check):
        return codes
    return encode(codes << 32 | (check.astype(np.int64) & 0xFFFFFFFF))


def _later_entries(later: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's number of later holders and all of them, in row order.

    ``later`` is :data:`HOLDER_ROWS`' binary column (32- or 64-bit offsets): each value
    the bytes of little-endian int64s, read in place.

    Examples
    --------
    >>> later = pa.array([np.array([5, 7]).astype("<i8").tobytes(), b"",
    ...                   np.array([9]).astype("<i8").tobytes()], pa.binary())
    >>> lengths, entries = _later_entries(later.slice(0))
    >>> lengths.tolist(), entries.tolist()
    ([2, 0, 1], [5, 7, 9])
    """
    width = 8 if pa.types.is_large_binary(later.type) else 4
    _, offsets_buffer, data = later.buffers()
    offsets = np.frombuffer(
        offsets_buffer, dtype=f"<i{width}", count=len(later) + 1, offset=later.offset * width
    ).astype(np.int64)
    lengths = np.diff(offsets) // _ENTRY_BYTES
    if data is None or offsets[-1] == offsets[0]:
        return lengths, np.zeros(0, dtype=np.int64)
    entries = np.frombuffer(
        data,
        dtype="<i8",
        count=int(offsets[-1] - offsets[0]) // _ENTRY_BYTES,
        offset=int(offsets[0]),
    )
    return lengths, entries.astype(np.int64, copy=False)


def _count_pairs(
    batches: Iterator[pa.RecordBatch],
    *,
    n_sellers: int,
    n_identifier: int,
    min_shared: int,
    hub_bits: int,
) -> Iterator[pa.RecordBatch]:
    """Count the pairs of one partition of :func:`_holder_rows` rows (``PAIR_ROWS``).

    Each row holds a seller ``a``'s values of one partition of the first pass: their
    number, their summed holder counts and their later holders, each ``b << hub_bits | h``.
    All rows of a seller ``a`` are in this partition, so every value a pair ``a < b``
    shares is here. Per link type the pairs are packed as the local kernel packs them,
    ``(a * n_sellers + b) << hub_bits | h``, sorted, and their runs counted; runs
    shorter than ``min_shared`` (1 for the first ``n_identifier`` link codes, the
    identifier links) are dropped. Each seller ``a`` also gets its row of figures: its
    distinct non-hub values and their summed holder counts.

    Examples
    --------
    Sellers 0 and 2 share two order values (link code 1, held by 2 and by 3), 1 and 2
    one; seller 1's values come in two rows (two partitions of the first pass):

    >>> def packed(*later):
    ...     return np.array(later, "<i8").tobytes()
    >>> batch = pa.RecordBatch.from_pydict({"link": [1, 1, 1, 1], "a": [0, 1, 1, 2],
    ...     "values": [2, 1, 1, 2], "total": [5, 3, 2, 5],
    ...     "later": [packed(2 << 5 | 2, 1 << 5 | 3, 2 << 5 | 3), packed(2 << 5 | 3),
    ...               packed(2 << 5 | 2), packed()]})
    >>> out = pa.Table.from_batches(_count_pairs(iter([batch]), n_sellers=3, n_identifier=1,
    ...                                          min_shared=2, hub_bits=5)).to_pydict()
    >>> out["seller"], out["id"], out["count"], out["total"][2:]
    ([False, False, True, True, True], [2, 5, 0, 1, 2], [2, 2, 2, 2, 2], [5.0, 5.0, 5.0])
    """
    table = partition_table(batches)
    if table is None:
        return
    link = table["link"].to_numpy()
    first = table["a"].to_numpy().astype(np.int64, copy=False)
    n_values = table["values"].to_numpy().astype(np.int64, copy=False)
    holder_sums = table["total"].to_numpy().astype(np.int64, copy=False)
    lengths, second = _later_entries(table["later"].chunk(0))
    del table
    for code in np.unique(link):
        mine = link == code
        key = np.repeat((first[mine] * n_sellers) << hub_bits, lengths[mine])
        key += second[np.repeat(mine, lengths)]  # (a * n + b) << bits | h
        need = 1 if code < n_identifier else min_shared
        pairs, shared, weights = shared_runs(key, hub_bits, need)
        del key
        sellers, row_seller = np.unique(first[mine], return_inverse=True)
        values = np.bincount(row_seller, weights=n_values[mine], minlength=sellers.size)
        summed = np.bincount(row_seller, weights=holder_sums[mine], minlength=sellers.size)
        n_pairs = pairs.size
        yield pa.RecordBatch.from_pydict(
            {
                "link": pa.array(np.full(n_pairs + sellers.size, code, dtype=np.int32)),
                "seller": pa.array(np.arange(n_pairs + sellers.size) >= n_pairs),
                "id": pa.array(np.concatenate([pairs, sellers])),
                "count": pa.array(np.concatenate([shared, values]).astype(np.int64)),
                "total": pa.array(np.concatenate([weights, summed])),
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
    links = [*identifier_columns, *order_columns]
    native_sellers = nw.to_native(sellers)
    native_orders = None if orders is None else nw.to_native(orders)
    n = len(ids)
    spark = native_sellers.sparkSession
    positions = _positions(spark, native_sellers.schema["seller_id"], ids)
    members = _memberships(
        native_sellers, native_orders, positions, identifier_columns, order_columns, links, n
    )
    if members is None:
        return {}
    partitions = int(spark.conf.get("spark.sql.shuffle.partitions"))
    hub_bits = _bits(max(caps))
    holdings = functools.partial(
        _holder_rows,
        n_sellers=n,
        n_identifier=len(identifier_columns),
        caps=caps,
        hub_bits=hub_bits,
    )
    count = functools.partial(
        _count_pairs,
        n_sellers=n,
        n_identifier=len(identifier_columns),
        min_shared=min_shared,
        hub_bits=hub_bits,
    )
    plan = (
        members.repartition(partitions, "key")  # a value's holders in one partition
        .mapInArrow(holdings, HOLDER_ROWS)
        .repartition(partitions, "link", "a")  # a seller's values in one partition
        .mapInArrow(count, PAIR_ROWS)
    )
    # executors without riskscore: a FeatureError with the fix, not a Java stack trace
    got = collect_python_pass(plan, "the network family's links")
    is_seller = got["seller"].to_numpy(dtype=bool)
    per_seller, got = got[is_seller], got[~is_seller]
    out: dict[str, _Pairs] = {}
    for code in sorted(int(c) for c in per_seller["link"].unique()):
        mine = per_seller[per_seller["link"] == code]
        found = got[got["link"] == code]
        pair = found["id"].to_numpy(dtype=np.int64)
        # pairs sorted as the kernel's are, so the links do not depend on partitioning
        order = np.argsort(pair, kind="stable")
        out[links[code]] = _Pairs.with_seller_counts(
            pair[order] // n,
            pair[order] % n,
            found["count"].to_numpy(dtype=np.int64)[order],
            found["total"].to_numpy(dtype=np.float64)[order],
            n,
            mine["id"].to_numpy(dtype=np.int64),
            mine["count"].to_numpy(dtype=np.float64),
            mine["total"].to_numpy(dtype=np.float64),
        )
    return out
