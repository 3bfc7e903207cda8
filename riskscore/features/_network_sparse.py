"""The sparse-matrix kernel of the seller web: the network family's one hand-off.

On a local backend (pandas, Polars, DuckDB, PyArrow) the backend itself filters the
tables to the cutoff and keeps the columns the links read; that result is handed over
once, as Arrow, to this kernel, which

1. turns each value column into integer codes (Arrow dictionary encoding) and each
   ``seller_id`` into its node position;
2. builds the seller x value incidence matrix ``B`` (distinct pairs: a seller holding a
   value on many orders holds it once), counts each value's holders and **drops hub
   values (more holders than the cap) before any pair is formed**: a device shared by
   10,000 sellers costs one row of ``B`` per holder, never 50 million pairs;
3. multiplies ``B @ B.T`` over blocks of rows, in as many threads as the machine has
   cores (scipy releases the GIL in the product).

Distributed backends (Spark) never hand the orders to one machine: they build the same
pairs with narwhals joins (:mod:`riskscore.features._network_links`), the cap applied
before the self-join as here. ``docs/architecture.md`` says why the kernel beats a
self-join in Polars and DuckDB (measured in ``bench/bench_network.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from riskscore.features._network_pairs import _Pairs, hub_weight

__all__ = ["LOCAL_BACKENDS"]

#: Backends whose tables live on this machine: their links go through the sparse kernel.
LOCAL_BACKENDS: frozenset[str] = frozenset({"pandas", "modin", "polars", "duckdb", "pyarrow"})

_T = TypeVar("_T")
_R = TypeVar("_R")


def _threads() -> int:
    """Cores this process may use (the products and encodings run in this many threads)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _parallel(func: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
    """``[func(x) for x in items]``, in threads when there is more than one item and core."""
    workers = min(_threads(), len(items))
    if workers <= 1:
        return [func(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(func, items))


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Return integer codes of ``column`` (-1 where missing) and the distinct values.

    Examples
    --------
    >>> codes, values = _codes(pa.chunked_array([["x", None], ["y", "x"]]))
    >>> codes.tolist(), values.to_pylist()
    ([0, -1, 1, 0], ['x', 'y'])
    """
    if isinstance(column, pa.ChunkedArray):
        if pa.types.is_string(column.type) or pa.types.is_string_view(column.type):
            column = column.cast(pa.large_string())  # offsets that cannot overflow
        column = column.combine_chunks()  # one dictionary for the whole column
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary


def _positions(encoded: tuple[np.ndarray, pa.Array], ids: pd.Index) -> np.ndarray:
    """Node position of each row's seller in ``ids`` (-1 for sellers not in ``ids``).

    Examples
    --------
    >>> _positions(_codes(pa.array(["b", "z", None, "b"])), pd.Index(["a", "b"])).tolist()
    [1, -1, -1, 1]
    """
    codes, values = encoded
    known = ids.get_indexer(pd.Index(values.to_pylist()))
    return np.append(known, -1)[codes]  # code -1 (missing) picks the appended -1


def pairs_from_codes(
    seller_pos: np.ndarray,
    key_codes: np.ndarray,
    n_sellers: int,
    cap: int,
    min_shared: int,
    block: int = 10_000,
) -> _Pairs:
    """Pairs of sellers sharing values, from (seller position, value code) rows.

    Rows may repeat (one per order); rows with a negative position or code are ignored.
    Values held by more than ``cap`` sellers are dropped before any pair is formed.
    One product gives both numbers: ``B`` holds ``1 + i*w`` (``w`` the hub weight of
    the value) and ``B.T`` holds ones, so ``B @ B.T`` has the shared count in its real
    part and the summed hub weights in its imaginary part. Rows go in blocks, in
    threads, so memory stays bounded and every core works.

    Examples
    --------
    >>> pairs = pairs_from_codes(np.array([0, 1, 1, 2]), np.array([5, 5, 5, 7]), 3, 25, 1)
    >>> pairs.a.tolist(), pairs.b.tolist(), pairs.n_shared.tolist(), pairs.degree.tolist()
    ([0], [1], [1], [1.0, 1.0, 1.0])
    """
    ok = (key_codes >= 0) & (seller_pos >= 0)
    rows, cols = seller_pos[ok], key_codes[ok]
    n_keys = int(cols.max()) + 1 if cols.size else 1
    inc = sp.csr_array(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(n_sellers, n_keys)
    )
    inc.sum_duplicates()  # distinct (seller, value)
    holders = np.bincount(inc.indices, minlength=n_keys)
    not_hub = holders <= cap  # the cap, before any pair exists
    kept_holders = holders[not_hub & (holders > 0)].astype(np.float64)
    entry_rows = np.repeat(np.arange(n_sellers), np.diff(inc.indptr))
    degree = np.bincount(entry_rows[not_hub[inc.indices]], minlength=n_sellers).astype(float)
    entry_keep = ((holders >= 2) & not_hub)[inc.indices]
    r, c = entry_rows[entry_keep], inc.indices[entry_keep]
    del inc, entry_rows
    both = sp.csr_array((1.0 + 1j * hub_weight(holders[c]), (r, c)), shape=(n_sellers, n_keys))
    ones_t = sp.csr_array((np.ones(r.size, dtype=np.complex128), (c, r)), shape=(n_keys, n_sellers))
    active = np.flatnonzero(np.diff(both.indptr) > 0)
    chunks = [active[start : start + block] for start in range(0, active.size, block)]

    def product(chunk: np.ndarray) -> tuple[np.ndarray, ...]:
        got = sp.csr_array(both[chunk] @ ones_t)
        a = chunk[np.repeat(np.arange(chunk.size), np.diff(got.indptr))]
        b = got.indices.astype(np.int64)
        count = np.rint(got.data.real).astype(np.int64)
        keep = (b > a) & (count >= min_shared)
        return a[keep].astype(np.int64), b[keep], count[keep], got.data.imag[keep]

    parts = _parallel(product, chunks)
    empty = np.zeros(0, dtype=np.int64)
    return _Pairs(
        np.concatenate([empty, *(p[0] for p in parts)]),
        np.concatenate([empty, *(p[1] for p in parts)]),
        np.concatenate([empty, *(p[2] for p in parts)]),
        np.concatenate([np.zeros(0), *(p[3] for p in parts)]),
        degree,
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
    encoded = _parallel(_codes, [table[c] for c in ("seller_id", *identifier_columns)])
    pos = _positions(encoded[0], ids)
    out = {
        link: pairs_from_codes(pos, key, n, caps[0], 1)
        for link, (key, _) in zip(identifier_columns, encoded[1:], strict=True)
    }
    if orders is not None and order_columns:
        table = _arrow(orders, ["seller_id", *order_columns.values()])
        columns = [table["seller_id"], *(table[c] for c in order_columns.values())]
        del table
        encoded = _parallel(_codes, columns)
        del columns
        pos = _positions(encoded[0], ids)
        for link, (key, _) in zip(order_columns, encoded[1:], strict=True):
            out[link] = pairs_from_codes(pos, key, n, caps[1], min_shared)
    return out
