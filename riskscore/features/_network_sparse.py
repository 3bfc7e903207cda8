"""The seller web's kernel on local backends: the network family's one hand-off.

On a local backend (pandas, Polars, DuckDB, PyArrow) the backend itself filters the
tables to the cutoff and keeps the columns the links read; that result is handed over
once, as Arrow, to this kernel, which

1. turns each value column into integer codes (Arrow dictionary encoding) and each
   ``seller_id`` into its node position;
2. packs each (value, seller) row into one int64 and sorts them: the distinct rows give
   the sparse seller x value incidence (a seller holding a value on many orders holds
   it once) grouped by value, so each value's holders are counted and **hub values
   (more holders than the cap) are dropped before any pair is formed**: a device shared
   by 10,000 sellers costs 10,000 rows, never 50 million pairs;
3. writes each remaining value's seller pairs as one int64 each (pair and holder count)
   and sorts them once: a pair's run is the values it shares, its length the shared
   count, its summed hub weights the link weight. Link types run in one thread per core
   (numpy's sort and arithmetic release the GIL).

Distributed backends (Spark) never hand the orders to one machine: they build the same
pairs with narwhals joins (:mod:`riskscore.features._network_links`), the cap applied
before the self-join as here. ``docs/architecture.md`` says why the kernel beats a
self-join in Polars and DuckDB and a scipy sparse product ``B @ B.T`` (measured in
``bench/bench_network.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskscore._threads import parallel_map
from riskscore.exceptions import FeatureError
from riskscore.features._network_pairs import _Pairs, hub_weight

__all__ = ["LOCAL_BACKENDS", "fits_kernel"]

#: Backends whose tables live on this machine: their links go through the sparse kernel.
LOCAL_BACKENDS: frozenset[str] = frozenset({"pandas", "modin", "polars", "duckdb", "pyarrow"})


def _strings(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """``column`` decoded from a dictionary, string views and 32-bit offsets to ``large_string``."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    if pa.types.is_string(kind) or pa.types.is_string_view(kind):
        return column.cast(pa.large_string())  # offsets that cannot overflow
    return column


def _encode(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Return integer codes of ``column`` (-1 where missing) and its distinct values.

    Examples
    --------
    >>> codes, values = _encode(pa.chunked_array([["x", None], ["y", "x"]]))
    >>> codes.tolist(), values.to_pylist()
    ([0, -1, 1, 0], ['x', 'y'])
    """
    column = _strings(column)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()  # one dictionary for the whole column
    encoded = pc.dictionary_encode(column)
    codes: np.ndarray = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64), encoded.dictionary


def _codes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Return integer codes of ``column``'s distinct values (-1 where missing)."""
    return _encode(column)[0]


def _positions(column: pa.ChunkedArray | pa.Array, ids: pd.Index) -> np.ndarray:
    """Node position of each row's seller in ``ids`` (-1 for sellers not in ``ids``).

    A lookup in the set of known sellers (hashing the few known ids, not the many rows).

    Examples
    --------
    >>> _positions(pa.array(["b", "z", None, "b"]), pd.Index(["a", "b"])).tolist()
    [1, -1, -1, 1]
    >>> _positions(pa.array([], type=pa.float64()), pd.Index(["a", "b"])).tolist()
    []
    """
    column = _strings(column)
    known = _strings(pa.array(ids.to_numpy(dtype=object)))
    if known.type != column.type:  # e.g. an empty column typed double: match as pandas does
        codes, values = _encode(column)
        at = ids.get_indexer(pd.Index(values.to_pylist()))
        return np.append(at, -1)[codes]  # code -1 (missing) picks the appended -1
    found = pc.index_in(column, value_set=known).fill_null(-1)
    return np.asarray(found.to_numpy(), dtype=np.int64)


def _bits(n: int) -> int:
    """Bits an unsigned integer up to ``n`` needs (at least 1)."""
    return max(1, int(n).bit_length())


def fits_kernel(n_sellers: int, cap: int) -> bool:
    """Whether a seller pair and a holder count pack into one int64 sort key.

    The kernel sorts ``(a * n_sellers + b) << bits(cap) | holders``: 29 bits per seller
    position with the default caps (up to 536 million sellers).

    Examples
    --------
    >>> fits_kernel(100_000, 25), fits_kernel(2**31, 25)
    (True, False)
    """
    return 2 * _bits(max(n_sellers - 1, 1)) + _bits(cap) <= 62


def _holdings(
    seller_pos: np.ndarray, key_codes: np.ndarray, n_sellers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (value, seller) rows sorted by value then seller, and each value's run.

    Returns the sellers of the distinct rows, the start of each value's run in them and
    its number of holders. Rows with a negative position or code are ignored.
    """
    ok = (key_codes >= 0) & (seller_pos >= 0)
    seller_bits = _bits(max(n_sellers - 1, 1))
    keys = key_codes[ok].astype(np.int64)
    if keys.size and _bits(int(keys.max())) + seller_bits > 62:
        raise FeatureError(  # pragma: no cover - needs billions of distinct values
            f"the network kernel cannot pack {int(keys.max()) + 1} values x {n_sellers} "
            "sellers into one sort key; use NetworkParams(method='join')"
        )
    packed = (keys << seller_bits) | seller_pos[ok].astype(np.int64)
    del keys
    packed.sort()  # numpy's vectorised sort of int64: no argsort needed anywhere
    new = np.empty(packed.size, dtype=bool)
    new[:1] = True
    np.not_equal(packed[1:], packed[:-1], out=new[1:])
    packed = packed[new]  # distinct (value, seller): a seller holding a value on many orders
    value = packed >> seller_bits
    seller = packed & ((1 << seller_bits) - 1)
    del packed
    start = np.flatnonzero(np.concatenate(([True], value[1:] != value[:-1])))
    holders = np.diff(np.append(start, value.size))
    return seller, start, holders


def pairs_from_codes(
    seller_pos: np.ndarray,
    key_codes: np.ndarray,
    n_sellers: int,
    cap: int,
    min_shared: int,
) -> _Pairs:
    """Pairs of sellers sharing values, from (seller position, value code) rows.

    Rows may repeat (one per order); rows with a negative position or code are ignored.
    Values held by more than ``cap`` sellers are dropped before any pair is formed. Every
    value held by ``h`` sellers (``2 <= h <= cap``) gives its ``h (h - 1) / 2`` pairs as
    one int64 each, ``(a * n_sellers + b) << bits(cap) | h``; one sort of those keys
    puts the values a pair shares next to each other, so the run lengths are the shared
    counts and the summed :func:`hub_weight` of the run's ``h`` the weights. Runs shorter
    than ``min_shared`` are dropped before any weight is summed.

    Examples
    --------
    >>> pairs = pairs_from_codes(np.array([0, 1, 1, 2]), np.array([5, 5, 5, 7]), 3, 25, 1)
    >>> pairs.a.tolist(), pairs.b.tolist(), pairs.n_shared.tolist(), pairs.degree.tolist()
    ([0], [1], [1], [1.0, 1.0, 1.0])
    """
    if not fits_kernel(n_sellers, cap):
        raise FeatureError(
            f"the network kernel packs a seller pair and a holder count into 62 bits; "
            f"{n_sellers} sellers with a hub cap of {cap} do not fit. Lower the cap or use "
            "NetworkParams(method='join')"
        )
    seller, start, holders = _holdings(seller_pos, key_codes, n_sellers)
    not_hub = holders <= cap  # the cap, before any pair exists
    kept_holders = holders[not_hub].astype(np.float64)
    degree = np.bincount(seller[np.repeat(not_hub, holders)], minlength=n_sellers)
    hub_bits = _bits(cap)
    sizes = [(h, start[holders == h]) for h in range(2, min(cap, int(holders.max(initial=0))) + 1)]
    total = sum(s.size * h * (h - 1) // 2 for h, s in sizes)
    code = np.empty(total, dtype=np.int64)
    at = 0
    for h, starts in sizes:  # the values held by h sellers, as a (values, h) matrix
        if starts.size == 0:
            continue
        held = seller[starts[:, None] + np.arange(h)]  # ascending within a row: a < b
        first, second = np.triu_indices(h, 1)
        out = code[at : at + starts.size * first.size].reshape(starts.size, first.size)
        np.multiply(held[:, first], n_sellers, out=out)
        out += held[:, second]
        out <<= hub_bits
        out |= h
        at += out.size
    code.sort()
    pair = code >> hub_bits
    run_start = np.ones(pair.size, dtype=bool)
    np.not_equal(pair[1:], pair[:-1], out=run_start[1:])
    if min_shared > 1:  # only values of pairs sharing two or more go on
        in_run = ~run_start
        in_run[:-1] |= ~run_start[1:]
        code, pair, run_start = code[in_run], pair[in_run], run_start[in_run]
    starts = np.flatnonzero(run_start)
    count = np.diff(np.append(starts, pair.size))
    keep = count >= min_shared
    weight_of = np.zeros(cap + 1)
    weight_of[2:] = hub_weight(np.arange(2, cap + 1))
    weights = (
        np.add.reduceat(weight_of[code & ((1 << hub_bits) - 1)], starts)
        if starts.size
        else np.zeros(0)
    )
    first_pair = pair[starts[keep]]
    return _Pairs(
        first_pair // n_sellers,
        first_pair % n_sellers,
        count[keep].astype(np.int64),
        weights[keep],
        degree.astype(np.float64),
        float(kept_holders.sum()),
        float((kept_holders**2).sum()),
    )


def _arrow(frame: nw.LazyFrame, columns: Sequence[str]) -> pa.Table:
    """Run ``frame`` on its backend (cutoff filter, projection) and hand over Arrow."""
    table: Any = frame.select(*columns).collect(backend="pyarrow").to_native()
    return table


def sparse_links(
    sellers: nw.LazyFrame,
    orders: nw.LazyFrame | None,
    ids: pd.Index,
    identifier_columns: Sequence[str],
    order_columns: Mapping[str, str],
    caps: tuple[int, int],
    min_shared: int,
) -> dict[str, _Pairs]:
    """Pairs per link type through the sparse kernel: each table handed over once.

    Parameters
    ----------
    sellers, orders : narwhals.LazyFrame
        The as-of tables (``orders`` may be None).
    ids : pandas.Index
        The sellers known at the cutoff; positions in it are the node ids.
    identifier_columns : sequence of str
        Identifier link types (columns of ``sellers``).
    order_columns : mapping of str to str
        Order link type -> the ``orders`` column it is built from.
    caps : (int, int)
        Hub caps of identifier values and of order values.
    min_shared : int
        Shared values an order link needs (identifier links need one).

    Examples
    --------
    >>> sellers = nw.from_native(pd.DataFrame({"seller_id": ["a", "b", "c"],
    ...     "device_id": ["D", "D", None]})).lazy()
    >>> got = sparse_links(sellers, None, pd.Index(["a", "b", "c"]), ["device_id"], {},
    ...                    (25, 25), 2)
    >>> got["device_id"].a.tolist(), got["device_id"].b.tolist()
    ([0], [1])
    """
    n = len(ids)
    table = _arrow(sellers, ["seller_id", *identifier_columns])
    pos = _positions(table["seller_id"], ids)
    encoded = parallel_map(_codes, [table[c] for c in identifier_columns])
    jobs = [
        (link, pos, key, caps[0], 1) for link, key in zip(identifier_columns, encoded, strict=True)
    ]
    if orders is not None and order_columns:
        table = _arrow(orders, ["seller_id", *order_columns.values()])
        # the seller lookup and the value encodings run side by side
        found = parallel_map(
            lambda c: _positions(table[c], ids) if c == "seller_id" else _codes(table[c]),
            ["seller_id", *order_columns.values()],
        )
        del table
        jobs += [
            (link, found[0], key, caps[1], min_shared)
            for link, key in zip(order_columns, found[1:], strict=True)
        ]
        del found
    names = [job[0] for job in jobs]
    # the large order links first, so that the threads finish together
    jobs.sort(key=lambda job: -job[2].size)
    pairs = parallel_map(lambda job: pairs_from_codes(job[1], job[2], n, job[3], job[4]), jobs)
    got = {job[0]: result for job, result in zip(jobs, pairs, strict=True)}
    return {link: got[link] for link in names}
