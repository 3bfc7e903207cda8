"""The seller web's kernel on local backends: the network family's one hand-off.

On a local backend (pandas, Polars, DuckDB, PyArrow) the backend itself filters the
tables to the cutoff and keeps the columns the links read; that result is handed over
once, as Arrow, to this kernel, which

1. turns each value column into integer codes and each ``seller_id`` into its node
   position. Polars and DuckDB hand the orders over as two 64-bit hashes per value,
   computed on all cores (:func:`_native_hashes`; 0.03 s per column of ten million in
   Polars, where encoding the strings took 4-5 s): the code is the top bits of the first
   hash (:func:`_hashed_codes`), the seller's position found by a join in the same
   query, and a count of
   distinct hashes checks that no two values share one (if they do, the values
   themselves are handed over). Other backends hand over the values and Arrow's
   dictionary encoding codes them;
2. packs each (value, seller) row into one int64 and sorts them: the distinct rows give
   the sparse seller x value incidence (a seller holding a value on many orders holds
   it once) grouped by value, so each value's holders are counted and **hub values
   (more holders than the cap) are dropped before any pair is formed**: a device shared
   by 10,000 sellers costs 10,000 rows, never 50 million pairs;
3. writes each remaining value's seller pairs as one int64 each (pair and holder count)
   and sorts them once: a pair's run is the values it shares, its length the shared
   count, its summed hub weights the link weight. Link types run in one thread per core
   (numpy's arithmetic and Polars' sort release the GIL); a hashed order link is coded
   and paired by one task, so no link waits for another's codes. The sorts are Polars' when it
   is installed (:func:`_sorted`), and no step writes a temporary the size of its
   input that it can avoid: fresh memory is what the kernel mostly waits for.

Spark never hands the orders to one machine: it runs this arithmetic per partition, the
rows partitioned by value and then by seller (:mod:`riskscore.features._network_spark`),
other distributed backends
with narwhals joins (:mod:`riskscore.features._network_links`), the cap applied before
any pair as here. ``docs/architecture.md`` says why the kernel beats a
self-join in Polars and DuckDB and a scipy sparse product ``B @ B.T`` (measured in
``bench/bench_network.py``).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskscore._threads import parallel_map
from riskscore.exceptions import FeatureError
from riskscore.features._backend import python_name_is_free
from riskscore.features._network_pairs import _Pairs, hub_weight

__all__ = ["LOCAL_BACKENDS", "fits_kernel", "shared_runs"]

#: Backends whose tables live on this machine: their links go through the sparse kernel.
LOCAL_BACKENDS: frozenset[str] = frozenset({"pandas", "modin", "polars", "duckdb", "pyarrow"})
#: Local backends that hash a column themselves (two independent 64-bit hashes, on all
#: cores): their orders are handed over as hashes, not strings (see :func:`_hashed_codes`).
HASHING_BACKENDS: frozenset[str] = frozenset({"polars", "duckdb"})

#: Odd multiplier mixing the second hash into the first for the collision check.
_MIX = np.uint64(0x9E3779B97F4A7C15)
#: Held by a link task that queries the backend (a DuckDB connection serves one thread).
_QUERY_LOCK = threading.Lock()
#: Hashes of one column as they came from the backend: one numpy view per Arrow chunk.
_Chunks = Sequence[np.ndarray]


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

    The kernel sorts ``(a * n_sellers + b) << bits(cap) | holders``: 28 bits per seller
    position with the default caps (up to 2**28, 268 million sellers).

    Examples
    --------
    >>> fits_kernel(100_000, 25), fits_kernel(2**31, 25)
    (True, False)
    """
    return 2 * _bits(max(n_sellers - 1, 1)) + _bits(cap) <= 62


def _holdings(
    seller_pos: np.ndarray,
    key_codes: np.ndarray,
    n_sellers: int,
    *,
    overwrite_codes: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (value, seller) rows sorted by value then seller, and each value's run.

    Returns the sellers of the distinct rows, the start of each value's run in them and
    its number of holders. Rows with a negative position or code are ignored. With
    ``overwrite_codes`` an int64 ``key_codes`` with no row ignored is packed in place
    (its pages re-used), and its values are lost.
    """
    ok = key_codes >= 0
    ok &= seller_pos >= 0
    seller_bits = _bits(max(n_sellers - 1, 1))
    if ok.all():  # nothing missing: no copies of the rows
        keys, sellers = key_codes.astype(np.int64, copy=False), seller_pos
    else:
        keys, sellers = key_codes[ok].astype(np.int64, copy=False), seller_pos[ok]
    if keys.size and _bits(int(keys.max())) + seller_bits > 62:
        raise FeatureError(  # pragma: no cover - needs billions of distinct values
            f"the network kernel cannot pack {int(keys.max()) + 1} values x {n_sellers} "
            "sellers into one sort key; use NetworkParams(method='join')"
        )
    # in place when ``keys`` is a copy of ours or the caller gave its codes up; a new
    # array otherwise: the inputs stay as they are
    in_place = overwrite_codes or keys is not key_codes
    packed = np.left_shift(keys, seller_bits, out=keys if in_place else None)
    packed |= sellers.astype(np.int64, copy=False)
    del keys, sellers
    # distinct (value, seller): a seller holding a value on many orders holds it once
    packed = _distinct(packed)
    start = np.flatnonzero(_run_starts(packed, seller_bits))  # where the value changes
    holders = np.diff(np.append(start, packed.size))
    seller = np.bitwise_and(packed, (1 << seller_bits) - 1, out=packed)  # in place
    return seller, start, holders


#: Rows per block where the kernel walks a long array through a small scratch buffer.
_BLOCK = 1 << 20


def _run_starts(code: np.ndarray, low_bits: int) -> np.ndarray:
    """Where a sorted ``code`` starts a new run of ``code >> low_bits``.

    Two neighbours are in one run when they differ only in the low bits, i.e. when
    their XOR is below ``2**low_bits``; computed in blocks through one scratch buffer
    (no array the size of ``code`` besides the result).

    Examples
    --------
    >>> _run_starts(np.array([4, 5, 8, 9, 12]), 2).tolist()
    [True, False, True, False, True]
    """
    starts = np.empty(code.size, dtype=bool)
    starts[:1] = True
    scratch = np.empty(min(_BLOCK, max(code.size - 1, 0)), dtype=code.dtype)
    for lo in range(1, code.size, _BLOCK):
        hi = min(lo + _BLOCK, code.size)
        diff = scratch[: hi - lo]
        np.bitwise_xor(code[lo:hi], code[lo - 1 : hi - 1], out=diff)
        np.greater_equal(diff, 1 << low_bits, out=starts[lo:hi])
    return starts


def _pair_codes(
    seller: np.ndarray, start: np.ndarray, holders: np.ndarray, n_sellers: int, cap: int
) -> np.ndarray:
    """Every seller pair of every value held by 2 to ``cap`` sellers, as one int64 each.

    ``seller`` lists each value's holders in ascending order (the runs ``start``,
    ``holders`` of :func:`_holdings`); a pair ``a < b`` of a value with ``h`` holders is
    ``(a * n_sellers + b) << bits(cap) | h``. Values of one size form an (h, values)
    matrix; for each holder row ``i`` the pairs with the later rows are written straight
    into the result as ``A[i] + B[i + 1:]`` with ``A = (held * n) << bits`` and
    ``B = held << bits | h`` (contiguous blocks, no temporary the size of the result).

    Examples
    --------
    Value 0 held by sellers 0 and 2, value 1 by 1, 2 and 3 (4 sellers, cap 25, 5 bits):

    >>> code = _pair_codes(np.array([0, 2, 1, 2, 3]), np.array([0, 2]), np.array([2, 3]), 4, 25)
    >>> sorted((int(c >> 5) // 4, int(c >> 5) % 4, int(c & 31)) for c in code)
    [(0, 2, 2), (1, 2, 3), (1, 3, 3), (2, 3, 3)]
    """
    hub_bits = _bits(cap)
    top = min(cap, int(holders.max(initial=0)))
    sizes = [(h, start[holders == h]) for h in range(2, top + 1)]
    total = sum(s.size * h * (h - 1) // 2 for h, s in sizes)
    code = np.empty(total, dtype=np.int64)
    at = 0
    for h, starts in sizes:  # the values held by h sellers, as an (h, values) matrix
        if starts.size == 0:
            continue
        held = seller[np.arange(h)[:, None] + starts]  # ascending down a column: a < b
        first = (held * n_sellers) << hub_bits
        second = (held << hub_bits) | h
        out = code[at : at + starts.size * h * (h - 1) // 2].reshape(-1, starts.size)
        row = 0
        for i in range(h - 1):  # the pairs (i, j) for j > i: one block of rows each
            np.add(first[i], second[i + 1 :], out=out[row : row + h - 1 - i])
            row += h - 1 - i
        at += out.size
    return code


def shared_runs(
    code: np.ndarray, hub_bits: int, min_shared: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs sharing at least ``min_shared`` values, from packed pair keys.

    ``code`` holds one ``pair << hub_bits | h`` per (pair, shared value) in any order,
    ``h`` the value's holder count. One sort puts a pair's values next to each other:
    the run lengths are the shared counts, and the :func:`hub_weight` of the run's
    ``h``, summed in ascending ``h``, the weights. Runs shorter than ``min_shared`` are
    dropped before any weight is summed. Returns the kept pairs (``code >> hub_bits``,
    ascending), their shared counts (int64) and weights. Used by the local kernel and,
    per partition, by Spark's (:mod:`riskscore.features._network_spark`).

    Examples
    --------
    Pair 3 shares values held by 2 and 4 sellers, pair 5 one value:

    >>> pair, count, weight = shared_runs(np.array([3 << 5 | 4, 5 << 5 | 2, 3 << 5 | 2]), 5, 2)
    >>> pair.tolist(), count.tolist(), weight.round(3).tolist()
    ([3], [2], [1.532])
    """
    code = _sorted(code)
    run_start = _run_starts(code, hub_bits)
    if min_shared > 1:  # only values of pairs sharing two or more go on
        in_run = ~run_start
        in_run[:-1] |= in_run[1:].copy()
        code = code[in_run]
        run_start = _run_starts(code, hub_bits)
    starts = np.flatnonzero(run_start)
    count = np.diff(np.append(starts, code.size))
    keep = count >= min_shared
    weight_of = np.zeros(1 << hub_bits)
    weight_of[2:] = hub_weight(np.arange(2, 1 << hub_bits))
    weights = (
        np.add.reduceat(weight_of[code & ((1 << hub_bits) - 1)], starts)
        if starts.size
        else np.zeros(0)
    )
    first_pair = code[starts[keep]] >> hub_bits  # the kept pairs only: no full-size shift
    return first_pair, count[keep].astype(np.int64), weights[keep]


def pairs_from_codes(
    seller_pos: np.ndarray,
    key_codes: np.ndarray,
    n_sellers: int,
    cap: int,
    min_shared: int,
    *,
    overwrite_codes: bool = False,
) -> _Pairs:
    """Pairs of sellers sharing values, from (seller position, value code) rows.

    Rows may repeat (one per order); rows with a negative position or code are ignored.
    Values held by more than ``cap`` sellers are dropped before any pair is formed. Every
    value held by ``h`` sellers (``2 <= h <= cap``) gives its ``h (h - 1) / 2`` pairs as
    one int64 each, ``(a * n_sellers + b) << bits(cap) | h``; one sort of those keys
    puts the values a pair shares next to each other, so the run lengths are the shared
    counts and the summed :func:`hub_weight` of the run's ``h`` the weights. Runs shorter
    than ``min_shared`` are dropped before any weight is summed. With
    ``overwrite_codes`` the kernel may write into ``key_codes`` (an int64 array the
    caller no longer needs) instead of fresh memory.

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
    seller, start, holders = _holdings(
        seller_pos, key_codes, n_sellers, overwrite_codes=overwrite_codes
    )
    not_hub = holders <= cap  # the cap, before any pair exists
    kept_holders = holders[not_hub].astype(np.float64)
    degree = np.bincount(seller[np.repeat(not_hub, holders)], minlength=n_sellers)
    hub_bits = _bits(cap)
    code = _pair_codes(seller, start, holders, n_sellers, cap)
    first_pair, count, weights = shared_runs(code, hub_bits, min_shared)
    return _Pairs(
        first_pair // n_sellers,
        first_pair % n_sellers,
        count,
        weights,
        degree.astype(np.float64),
        float(kept_holders.sum()),
        float((kept_holders**2).sum()),
    )


def _native_hashes(
    frame: nw.LazyFrame,
    columns: Sequence[str],
    positions_of: pd.Index | None = None,
) -> pa.Table | None:
    """Two 64-bit hashes of each column's values as text, computed by the backend.

    Columns ``{c}#1`` and ``{c}#2`` (unsigned 64-bit), from two independent hash
    functions: Polars' ``hash`` with two seeds, DuckDB's ``hash`` of the value and of
    the value behind a prefix. A missing value is hashed as the backend hashes a null
    (one fixed pair per column, :func:`_missing_hashes`), not turned into a missing
    hash: a test for nulls per row cost DuckDB 0.2 s, and missing hashes sent ten
    million rows through copies (1.2 s a column). None on other backends.

    ``positions_of`` (the seller ids in node order) adds the column ``#pos``: each row's
    seller position, found by a join on ``seller_id`` in the same query (-1 where the
    seller is unknown). The join's right side is built from those ids themselves (on
    DuckDB on the frame's own connection), so no two queries need to return rows in the
    same order.
    """
    backend = str(frame.implementation.name).lower()
    if backend not in HASHING_BACKENDS:
        return None
    native: Any = nw.to_native(frame)
    if backend == "polars":
        import polars as pl

        exprs = [
            pl.col(c).cast(pl.String).hash(seed).alias(f"{c}#{seed}")
            for c in columns
            for seed in (1, 2)
        ]
        lazy = native.lazy() if isinstance(native, pl.DataFrame) else native
        if positions_of is not None:
            kind = lazy.collect_schema()["seller_id"]
            ids = pl.Series("seller_id", positions_of.to_list(), strict=False).cast(kind)
            known = pl.LazyFrame({"seller_id": ids}).with_row_index("#pos")
            known = known.unique("seller_id", keep="first")  # a repeated id: its first node
            # rows in any order (each keeps its own hashes and position): an ordered
            # join cost 0.4-0.6 s at ten million rows, an unordered one 0.3 s
            lazy = lazy.join(known, on="seller_id", how="left", maintain_order="none")
            exprs.append(pl.col("#pos").cast(pl.Int64).fill_null(-1))
        table: pa.Table = lazy.select(*exprs).collect().to_arrow()
        return table
    parts: list[str] = []
    for c in columns:
        cast = f"CAST(o.{_quoted(c)} AS VARCHAR)"
        parts += [f"hash({cast}) AS {_quoted(f'{c}#1')}"]
        parts += [f"hash('#' || {cast}) AS {_quoted(f'{c}#2')}"]
    if positions_of is None:
        sql = f"SELECT {', '.join(parts)} FROM _riskscore_rows o"
        result: pa.Table = native.query("_riskscore_rows", sql).to_arrow_table()
        return result
    kind = dict(zip(native.columns, native.types, strict=True))["seller_id"]
    # found by DuckDB's replacement scan of this function's locals, on the frame's own
    # connection (relations of two connections cannot be joined)
    python_name_is_free(native, "_riskscore_ids")
    _riskscore_ids = pa.table(
        {
            "seller_id": pa.array(positions_of.to_numpy(dtype=object)),
            "pos": pa.array(np.arange(len(positions_of), dtype=np.int64)),
        }
    )
    sql = (  # a repeated id: its first node
        f'SELECT {", ".join(parts)}, coalesce(k.pos, -1) AS "#pos" FROM _riskscore_rows o '
        f"LEFT JOIN (SELECT CAST(seller_id AS {kind}) AS seller_id, min(pos) AS pos "
        "FROM _riskscore_ids GROUP BY 1) k ON o.seller_id = k.seller_id"
    )
    with _importing_sort_engine():  # the kernel's sorts come next
        result = native.query("_riskscore_rows", sql).to_arrow_table()
    return result


@contextmanager
def _importing_sort_engine() -> Iterator[None]:
    """Import Polars (the kernel's sort engine) in a thread while the block runs.

    For a block that runs no Python, such as a DuckDB query (DuckDB lets go of the GIL
    while it works): Polars' first import (0.11-0.13 s) then costs no wall time, where it
    used to happen in the first link task's first sort with both link threads waiting.
    The thread is joined before the block's caller goes on, so no code of ours can see a
    half-imported module (a library such as narwhals looks Polars up in ``sys.modules``).
    """
    if "polars" in sys.modules:
        yield
        return
    thread = threading.Thread(target=_polars_sort, name="riskscore-import-polars")
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _missing_hashes(frame: nw.LazyFrame, columns: Sequence[str]) -> dict[str, tuple[int, int]]:
    """Return the two hashes :func:`_native_hashes` gives a missing value of each column.

    Computed by the same expressions on one row of nulls typed as ``frame``'s columns
    (on DuckDB on the frame's own connection), so they are the backend's own.
    """
    backend = str(frame.implementation.name).lower()
    native: Any = nw.to_native(frame)
    nulls: Any
    if backend == "polars":
        import polars as pl

        schema = native.collect_schema()
        nulls = pl.DataFrame({c: pl.Series([None], dtype=schema[c]) for c in columns})
    else:
        kind = dict(zip(native.columns, native.types, strict=True))
        row = ", ".join(f"CAST(NULL AS {kind[c]}) AS {_quoted(c)}" for c in columns)
        nulls = native.query("_riskscore_rows", f"SELECT {row}")
    table = _native_hashes(nw.from_native(nulls).lazy(), columns)
    assert table is not None  # called for hashing backends only
    return {c: (table[f"{c}#1"][0].as_py(), table[f"{c}#2"][0].as_py()) for c in columns}


def _quoted(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _polars_sort() -> Any | None:
    """Polars' ``Series`` when Polars is installed (its sort serves :func:`_sorted`)."""
    try:
        import polars as pl
    except ImportError:  # pragma: no cover - Polars is an optional extra
        return None
    return pl.Series


def _sorted(values: np.ndarray | _Chunks, *, engine: str = "auto") -> np.ndarray:
    """Sorted copy of a 1-d integer array (or of its chunks, joined); ``values`` stay.

    With ``engine="auto"`` Polars sorts when it is installed (0.28 s for ten million
    int64 on one core where numpy's ``np.sort`` took 0.8 s on the project's machine,
    ``docs/architecture.md``), numpy otherwise; ``"numpy"`` forces numpy. Integer sorts
    have one answer, so both give the same array (the result may be read-only).

    Examples
    --------
    >>> _sorted(np.array([3, 1, 2])).tolist(), _sorted(np.array([3, 1]), engine="numpy").tolist()
    ([1, 2, 3], [1, 3])
    """
    chunks = [values] if isinstance(values, np.ndarray) else list(values)
    series = _polars_sort() if engine == "auto" else None
    if series is None:
        return np.sort(chunks[0] if len(chunks) == 1 else np.concatenate(chunks))
    import polars as pl

    # the chunks become one Series without being joined first (Polars sorts across them)
    whole = pl.concat([series(values=c) for c in chunks], rechunk=False)
    result: np.ndarray = whole.sort().to_numpy()
    return result


def _distinct(values: np.ndarray | _Chunks) -> np.ndarray:
    """Sorted distinct values (one :func:`_sorted`; ``values`` is left as it is).

    Examples
    --------
    >>> _distinct(np.array([3, 1, 3, 2])).tolist()
    [1, 2, 3]
    """
    values = _sorted(values)
    return values[_run_starts(values, 0)]


def _hash_pair(table: pa.Table, column: str) -> tuple[_Chunks, _Chunks] | None:
    """Return the two hashes of ``column`` in a :func:`_native_hashes` table.

    The hashes stay in the backend's chunks (numpy views, no copy: joining 100 chunks of
    ten million rows into one array took 0.25-0.3 s of fresh memory per hash). None
    when a hash is missing (the backend hashed a null to a null; the values decide).
    """
    h1, h2 = table[f"{column}#1"], table[f"{column}#2"]
    if h1.null_count or h2.null_count:
        return None
    if [len(c) for c in h1.chunks] != [len(c) for c in h2.chunks]:  # chunked apart: join
        h1, h2 = pa.chunked_array([h1.combine_chunks()]), pa.chunked_array([h2.combine_chunks()])
    first, second = (
        [np.asarray(c.to_numpy(zero_copy_only=True), dtype=np.uint64) for c in h.chunks]
        or [np.empty(0, dtype=np.uint64)]  # no rows: one empty chunk
        for h in (h1, h2)
    )
    return first, second


def _hashed_codes(
    h1: np.ndarray | _Chunks,
    h2: np.ndarray | _Chunks,
    missing: tuple[int, int] | None,
    key_bits: int,
) -> np.ndarray | None:
    """Integer codes below ``2**key_bits`` from two hashes per value (-1 where missing).

    Equal values get equal codes; different values get different codes unless both
    64-bit hashes of a pair collide. The code is the top ``key_bits`` bits of the first
    hash; the few distinct hashes that share their top bits with another are given
    unused codes. Two checks make it exact in practice:

    - the count of distinct first hashes must equal the count of distinct
      ``h1 ^ (h2 * odd)``, which separates two values sharing a first hash unless their
      second hash collides too. When the counts differ (a collision of either, about
      ``d**2 / 2**64`` for ``d`` distinct values: 5e-7 at three million) None is
      returned and the caller encodes the values themselves;
    - a collision is left undetected only when both counts drop by the same amount:
      about ``(d**2 / 2**65)**2`` (1e-13 at three million).

    ``h1`` and ``h2`` are arrays or lists of chunks (the rows in order). ``missing`` is
    the pair of hashes the backend gives a missing value (:func:`_missing_hashes`): those
    rows are coded as one more value, checked like the others (a value whose first hash
    is a missing value's is a collision), and then given -1.

    Examples
    --------
    Codes are the top 24 bits here; ``(7 << 40) + 1`` shares them with ``7 << 40`` and
    gets a spare code; the pair ``(0, 0)`` marks a missing value:

    >>> h1 = np.array([7 << 40, 7 << 40, 9 << 40, 0, (7 << 40) + 1], dtype=np.uint64)
    >>> h2 = np.array([1, 1, 2, 0, 3], dtype=np.uint64)
    >>> _hashed_codes(h1, h2, (0, 0), 24).tolist()
    [7, 7, 9, -1, 1]
    >>> _hashed_codes([h1[:2], h1[2:]], [h2[:2], h2[2:]], None, 24).tolist()
    [7, 7, 9, 0, 1]

    The same first hash with two second hashes: two values collide, so no codes.

    >>> _hashed_codes(h1, np.array([1, 5, 2, 0, 3], dtype=np.uint64), None, 24) is None
    True
    """
    first = [h1] if isinstance(h1, np.ndarray) else list(h1)
    second = [h2] if isinstance(h2, np.ndarray) else list(h2)
    n = sum(c.size for c in first)
    seen = _distinct(first)  # a sorted copy: ``first`` stays in row order for the codes
    mixed = np.empty(n, dtype=np.uint64)
    for lo, f, g in _spans(first, second):
        part = mixed[lo : lo + f.size]
        np.multiply(g, _MIX, out=part)
        part ^= f
    if _distinct(mixed).size != seen.size:
        return None  # two values share a first hash: encode the values themselves
    if seen.size > 2**key_bits:
        return None  # more values than codes: the values themselves (and the error)
    shift = np.uint64(64 - key_bits)
    top = seen >> shift
    code_of = top.astype(np.int64)  # each distinct first hash's code
    # below 2**key_bits, so they fit int64; written into ``mixed``'s pages, not fresh ones
    for lo, f in _spans(first):
        np.right_shift(f, shift, out=mixed[lo : lo + f.size])
    codes = mixed.view(np.int64)
    clash = np.flatnonzero(top[1:] == top[:-1]) + 1  # shares its top bits with the one before
    if clash.size:
        used = np.delete(top, clash)  # sorted, distinct
        # among the first ``seen.size`` codes at least ``clash.size`` are unused
        candidates = np.arange(seen.size, dtype=np.uint64)
        near = np.minimum(np.searchsorted(used, candidates), used.size - 1)
        spare = candidates[used[near] != candidates][: clash.size]
        code_of[clash] = spare
        for value, code in zip(seen[clash], spare, strict=True):
            for lo, f in _spans(first):
                codes[lo : lo + f.size][f == value] = int(code)
    if missing is not None:
        at = int(np.searchsorted(seen, np.uint64(missing[0])))
        held = at < seen.size and seen[at] == missing[0]
        if held and _second_of(first, second, seen[at]) == missing[1]:
            # the check above tied each first hash to one second hash: the rows with the
            # missing value's code are the missing rows (unless a value hashes to both)
            codes[codes == code_of[at]] = -1
    return codes


def _second_of(first: _Chunks, second: _Chunks, value: np.uint64) -> int:
    """Return the second hash of the first row whose first hash is ``value``."""
    for _, f, g in _spans(first, second):
        hit = np.flatnonzero(f == value)
        if hit.size:
            return int(g[hit[0]])
    raise AssertionError("no row holds the value")  # pragma: no cover - ``value`` is seen


def _spans(*chunked: _Chunks) -> list[tuple[Any, ...]]:
    """``(start, chunk, ...)`` for chunks of equal sizes side by side, in row order.

    Examples
    --------
    >>> [(lo, a.tolist()) for lo, a in _spans([np.array([1, 2]), np.array([3])])]
    [(0, [1, 2]), (2, [3])]
    """
    starts = np.cumsum([0, *(c.size for c in chunked[0])])[:-1]
    return [(int(lo), *parts) for lo, *parts in zip(starts, *chunked, strict=True)]


def _hashed_orders(
    orders: nw.LazyFrame, sellers: nw.LazyFrame, ids: pd.Index, value_columns: Sequence[str]
) -> tuple[np.ndarray, dict[str, Callable[[], np.ndarray | None]]] | None:
    """Seller positions of the orders from backend hashes, and a coder per value column.

    The orders cross as integer columns instead of string columns, the seller positions
    found by a join with ``ids`` in the query that hashes the values. Each coder returns
    its column's codes (:func:`_hashed_codes`), or None when a check finds a collision,
    and lets go of the column's hashes. None on backends that do not hash, or when
    ``seller_id`` is typed differently in the two tables (equal values would hash
    apart).
    """
    if orders.collect_schema()["seller_id"] != sellers.collect_schema()["seller_id"]:
        return None
    rows = _native_hashes(orders, value_columns, positions_of=ids)
    if rows is None:
        return None
    missing = _missing_hashes(orders, value_columns)
    key_bits = 62 - _bits(max(len(ids) - 1, 1))
    pos = np.asarray(rows["#pos"].to_numpy(), dtype=np.int64)
    # numpy views of the hashes: the table can go, each column's buffers with its coder
    hashes = {c: _hash_pair(rows, c) for c in value_columns}
    del rows

    def coder(column: str) -> Callable[[], np.ndarray | None]:
        def code() -> np.ndarray | None:
            pair = hashes.pop(column)
            return None if pair is None else _hashed_codes(*pair, missing[column], key_bits)

        return code

    return pos, {c: coder(c) for c in value_columns}


def _arrow(frame: nw.LazyFrame, columns: Sequence[str]) -> pa.Table:
    """Run ``frame`` on its backend (cutoff filter, projection) and hand over Arrow."""
    table: Any = frame.select(*columns).collect(backend="pyarrow").to_native()
    return table


def _handed_over(
    orders: nw.LazyFrame, ids: pd.Index, columns: Sequence[str], *, side_by_side: bool
) -> list[np.ndarray]:
    """Hand the orders' values over: seller positions, then each column's codes.

    ``side_by_side`` runs the lookup and the encodings in threads (not from a thread
    that is one of them already).
    """
    table = _arrow(orders, ["seller_id", *columns])

    def encode(column: str) -> np.ndarray:
        return _positions(table[column], ids) if column == "seller_id" else _codes(table[column])

    names = ["seller_id", *columns]
    return parallel_map(encode, names) if side_by_side else [encode(c) for c in names]


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
    del table
    # (link, size, work): each link's codes are its own, so the kernel packs them in place
    tasks: list[tuple[str, int, Callable[[], _Pairs]]] = [
        (link, key.size, partial(pairs_from_codes, pos, key, n, caps[0], 1, overwrite_codes=True))
        for link, key in zip(identifier_columns, encoded, strict=True)
    ]
    del encoded
    if orders is not None and order_columns:
        hashed = _hashed_orders(orders, sellers, ids, list(order_columns.values()))
        if hashed is None:  # not a hashing backend: the values
            # the seller lookup and the value encodings run side by side
            found = _handed_over(orders, ids, list(order_columns.values()), side_by_side=True)
            tasks += [
                (
                    link,
                    key.size,
                    partial(
                        pairs_from_codes,
                        found[0],
                        key,
                        n,
                        caps[1],
                        min_shared,
                        overwrite_codes=True,
                    ),
                )
                for link, key in zip(order_columns, found[1:], strict=True)
            ]
            del found
        else:  # each order link coded and paired in one go: no wait for the other links
            seller_pos, coders = hashed
            tasks += [
                (
                    link,
                    seller_pos.size,
                    _hashed_link(
                        orders, ids, column, seller_pos, coders[column], n, caps[1], min_shared
                    ),
                )
                for link, column in order_columns.items()
            ]
            del seller_pos, coders
        del hashed
    # Arrow's memory pool keeps what the hand-off and the encodings freed; the kernel's
    # arrays come from numpy's allocator, so hand it back first (the links' peak on
    # pandas at 100k: 0.5-0.6 GB lower in interleaved runs, docs/architecture.md)
    pa.default_memory_pool().release_unused()
    names = [task[0] for task in tasks]
    # the large links first, so that the threads finish together (a stable sort)
    tasks.sort(key=lambda task: -task[1])
    pairs = parallel_map(lambda task: task[2](), tasks)
    got = {task[0]: result for task, result in zip(tasks, pairs, strict=True)}
    return {link: got[link] for link in names}


def _hashed_link(
    orders: nw.LazyFrame,
    ids: pd.Index,
    column: str,
    pos: np.ndarray,
    coder: Callable[[], np.ndarray | None],
    n: int,
    cap: int,
    min_shared: int,
) -> Callable[[], _Pairs]:
    """One order link's work from the hashed hand-off: its codes, then its pairs.

    A collision in this column's hashes hands over this column's values instead (with
    their own seller positions: a second query need not return the rows in the same
    order); the other columns keep their hashes.
    """

    def run() -> _Pairs:
        codes = coder()
        seller = pos
        if codes is None:  # two values share a hash: the values themselves decide
            with _QUERY_LOCK:  # one query at a time on the backend's connection
                seller, codes = _handed_over(orders, ids, [column], side_by_side=False)
        return pairs_from_codes(seller, codes, n, cap, min_shared, overwrite_codes=True)

    return run
