"""The sorted-pair kernel of the seller web against a brute-force count of the same pairs.

:func:`riskscore.features._network_sparse.pairs_from_codes` packs pairs into int64 sort
keys and drops singleton runs before summing weights; the reference below loops over
values and seller pairs in plain Python, so any slip in the packing, the hub cap, the
run detection or the weights shows up as a differing pair.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from riskscore.exceptions import FeatureError
from riskscore.features import _network_sparse
from riskscore.features._network_pairs import hub_weight
from riskscore.features._network_sparse import _sorted, fits_kernel, pairs_from_codes


def _reference(
    pos: list[int], key: list[int], n: int, cap: int, min_shared: int
) -> tuple[dict[tuple[int, int], tuple[int, float]], list[int], float, float]:
    holders: dict[int, set[int]] = defaultdict(set)
    for p, k in zip(pos, key, strict=True):
        if p >= 0 and k >= 0:
            holders[k].add(p)
    kept = {k: s for k, s in holders.items() if len(s) <= cap}
    degree = [sum(p in s for s in kept.values()) for p in range(n)]
    count: Counter[tuple[int, int]] = Counter()
    weight: defaultdict[tuple[int, int], float] = defaultdict(float)
    for s in kept.values():
        for a, b in itertools.combinations(sorted(s), 2):
            count[a, b] += 1
            weight[a, b] += float(hub_weight(len(s)))
    pairs = {ab: (c, weight[ab]) for ab, c in count.items() if c >= min_shared}
    sizes = [len(s) for s in kept.values()]
    return pairs, degree, float(sum(sizes)), float(sum(h * h for h in sizes))


# few sellers and values, so that pairs sharing two or three values are common
rows = st.lists(st.tuples(st.integers(-1, 6), st.integers(-1, 4)), min_size=4, max_size=60)


@settings(max_examples=200, deadline=None)
@given(rows=rows, cap=st.integers(2, 6), min_shared=st.integers(1, 3))
def test_kernel_equals_brute_force(rows: list[tuple[int, int]], cap: int, min_shared: int) -> None:
    n = 7
    pos = [r[0] for r in rows]
    key = [r[1] for r in rows]
    pos_in, key_in = np.array(pos, dtype=np.int64), np.array(key, dtype=np.int64)
    got = pairs_from_codes(pos_in, key_in, n, cap, min_shared)
    assert (pos_in.tolist(), key_in.tolist()) == (pos, key)  # the inputs stay as they are
    # codes given up to the kernel (packed in their own pages): the same pairs
    given_up = pairs_from_codes(pos_in, key_in.copy(), n, cap, min_shared, overwrite_codes=True)
    for field in ("a", "b", "n_shared", "weight", "degree"):
        np.testing.assert_array_equal(getattr(given_up, field), getattr(got, field))
    want, degree, s1, s2 = _reference(pos, key, n, cap, min_shared)
    assert list(zip(got.a.tolist(), got.b.tolist(), strict=True)) == sorted(want)
    assert got.n_shared.tolist() == [want[ab][0] for ab in sorted(want)]
    np.testing.assert_allclose(got.weight, [want[ab][1] for ab in sorted(want)], rtol=1e-12)
    assert got.degree.tolist() == degree
    assert (got.s1, got.s2) == (s1, s2)


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.integers(0, 2**64 - 1), max_size=300),
    signed=st.booleans(),
)
def test_polars_and_numpy_sort_the_same(values: list[int], signed: bool) -> None:
    array = np.array(values, dtype=np.uint64)
    if signed:
        array = array.view(np.int64)
    got = _sorted(array)
    want = _sorted(array, engine="numpy")
    assert got.dtype == want.dtype == array.dtype
    assert got.tolist() == want.tolist() == sorted(array.tolist())


def test_kernel_without_polars_gives_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    pos = rng.integers(-1, 3_000, 200_000)
    key = rng.integers(-1, 20_000, 200_000)
    with_polars = pairs_from_codes(pos, key, 3_000, 25, 2)
    monkeypatch.setattr(_network_sparse, "_polars_sort", lambda: None)
    with_numpy = pairs_from_codes(pos, key, 3_000, 25, 2)
    assert with_polars.a.size > 100  # pairs sharing two values exist
    for field in ("a", "b", "n_shared", "weight", "degree"):
        np.testing.assert_array_equal(getattr(with_polars, field), getattr(with_numpy, field))
    assert (with_polars.s1, with_polars.s2) == (with_numpy.s1, with_numpy.s2)


def test_kernel_counts_and_weighs_a_pair_sharing_two_values() -> None:
    # sellers 0 and 1 share values 3 (held by 0, 1, 2) and 4 (held by 0, 1); 2 shares one
    got = pairs_from_codes(np.array([0, 1, 2, 0, 1, 0]), np.array([3, 3, 3, 4, 4, 4]), 3, 25, 2)
    assert (got.a.tolist(), got.b.tolist(), got.n_shared.tolist()) == ([0], [1], [2])
    assert got.weight.tolist() == pytest.approx([float(hub_weight(3) + hub_weight(2))])


def test_kernel_refuses_what_does_not_pack() -> None:
    assert fits_kernel(100_000, 25)
    assert not fits_kernel(2**31, 25)
    with pytest.raises(FeatureError, match="method='join'"):
        pairs_from_codes(np.zeros(1, np.int64), np.zeros(1, np.int64), 2**31, 25, 1)


# -- the orders handed over as hashes (Polars, DuckDB) ------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.integers(0, 2**64 - 1) | st.none(), min_size=1, max_size=40),
    key_bits=st.integers(1, 8),
    data=st.data(),
)
def test_hashed_codes_are_equal_exactly_when_the_hashes_are(
    values: list[int | None], key_bits: int, data: st.DataObject
) -> None:
    """Codes fit ``key_bits`` bits (as many as needed), missing is -1, and the clashes of
    the truncated hashes (frequent with so few bits) get codes of their own. A missing
    value's hashes are one more value to the check: a value sharing its first hash is a
    collision."""
    from riskscore.features._network_sparse import _hashed_codes

    distinct = sorted({v for v in values if v is not None})
    # the second hash: any function of the first (no collision to find)
    second = {v: data.draw(st.integers(0, 2**64 - 1)) for v in distinct}
    # the missing value's pair: sometimes sharing a value's first hash
    m1 = data.draw(
        st.sampled_from(distinct) | st.integers(0, 2**64 - 1)
        if distinct
        else st.integers(0, 2**64 - 1)
    )
    m2 = data.draw(st.integers(0, 2**64 - 1))
    assume(second.get(m1) != m2)  # a value hashing to both: the 2**-128 case, not coded
    valid = np.array([v is not None for v in values])
    h1 = np.array([m1 if v is None else v for v in values], dtype=np.uint64)
    h2 = np.array([m2 if v is None else second[v] for v in values], dtype=np.uint64)
    pairs = {(v, second[v]) for v in distinct} | ({(m1, m2)} if not valid.all() else set())
    bits = max(key_bits, len(pairs).bit_length())
    codes = _hashed_codes(h1, h2, (m1, m2), bits)
    mixed = {(a ^ (b * 0x9E3779B97F4A7C15)) % 2**64 for a, b in pairs}
    firsts = {a for a, _ in pairs}
    if len(mixed) != len(firsts):  # a first hash shared (by the missing value), or a
        assert codes is None  # false alarm of the check's mix: the strings decide
        return
    # a shared first hash whose mix collides too leaves both counts alike: the collision
    # the docstring says goes undetected (1e-13 at three million values)
    assume(len(firsts) == len(pairs))
    assert codes is not None
    assert (codes[~valid] == -1).all() and (codes[valid] >= 0).all()
    assert (codes < 2**bits).all()
    for i, j in itertools.combinations(np.flatnonzero(valid), 2):
        assert (codes[i] == codes[j]) == (values[i] == values[j])


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=4),
    key_bits=st.integers(1, 8),
)
def test_hashed_codes_of_chunks_equal_those_of_one_array(
    values: list[int], cuts: list[int], key_bits: int
) -> None:
    """The backend's chunks are coded as they come (no join): the same codes, the same
    refusals, as the joined array's."""
    from riskscore.features._network_sparse import _hashed_codes

    h1 = np.array(values, dtype=np.uint64)
    h2 = h1 * np.uint64(3) + np.uint64(1)  # a function of the first: no collision to find
    bits = max(key_bits, len(set(values)).bit_length())
    whole = _hashed_codes(h1, h2, None, bits)
    edges = sorted({min(c, h1.size) for c in cuts} | {0, h1.size})
    pieces = [(h1[a:b], h2[a:b]) for a, b in itertools.pairwise(edges)]
    chunked = _hashed_codes([p[0] for p in pieces], [p[1] for p in pieces], None, bits)
    if whole is None:
        assert chunked is None
    else:
        assert chunked is not None and chunked.tolist() == whole.tolist()


def test_hashed_codes_refuse_a_first_hash_shared_by_two_values() -> None:
    from riskscore.features._network_sparse import _hashed_codes

    h1 = np.array([5, 5, 6], dtype=np.uint64)
    assert _hashed_codes(h1, np.array([1, 1, 2], dtype=np.uint64), None, 40) is not None
    assert _hashed_codes(h1, np.array([1, 9, 2], dtype=np.uint64), None, 40) is None
    # a missing value (hashed 6, 7) whose first hash is a value's: a collision when a
    # row is missing, a value like any other when none is
    assert _hashed_codes(h1, np.array([1, 1, 2], dtype=np.uint64), (6, 7), 40) is not None
    four = np.array([5, 5, 6, 6], dtype=np.uint64)
    assert _hashed_codes(four, np.array([1, 1, 2, 7], dtype=np.uint64), (6, 7), 40) is None
    got = _hashed_codes(h1, np.array([1, 1, 2], dtype=np.uint64), (5, 1), 40)
    assert got is not None and got.tolist() == [-1, -1, 1]  # 5 and 6 clash: 6 takes 1
    # three values, one bit of code (and a clash): no codes, the values decide (and raise)
    three = np.array([0, 1 << 63, (1 << 63) + 1], dtype=np.uint64)
    assert _hashed_codes(three, three, None, 1) is None


@pytest.fixture(scope="module")
def small_market() -> dict[str, object]:
    from riskscore.datasets import make_marketplace

    return make_marketplace(n_sellers=300, seed=4)


@pytest.mark.parametrize("library", ["polars", "duckdb"])
def test_hashing_backends_hand_the_orders_over_as_hashes(
    small_market: dict[str, object],
    library: str,
    in_library: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hashed handover is taken, and its links equal the string path's (pandas), also
    when a collision sends it back to the strings."""
    import narwhals as nw
    import pandas as pd

    from riskscore.features import _network_sparse as kernel
    from riskscore.features.network import IDENTIFIER_LINKS, ORDER_LINKS

    sellers_pd = small_market["sellers"]
    assert isinstance(sellers_pd, pd.DataFrame)
    ids = pd.Index(sellers_pd["seller_id"].to_numpy(dtype=object))
    args = (list(IDENTIFIER_LINKS), ORDER_LINKS, (25, 25), 2)
    frames = {
        lib: {k: nw.from_native(v).lazy() for k, v in in_library(small_market, lib).items()}
        for lib in ("pandas", library)
    }
    want = kernel.sparse_links(frames["pandas"]["sellers"], frames["pandas"]["orders"], ids, *args)
    assert min(want[link].a.size for link in ORDER_LINKS) > 1000  # not a vacuous comparison
    sellers, orders = frames[library]["sellers"], frames[library]["orders"]
    hashed = kernel._hashed_orders(orders, sellers, ids, list(ORDER_LINKS.values()))
    assert hashed is not None  # the hashes were used, not the strings
    assert (hashed[0] >= 0).all()  # every order's seller found
    real = kernel._native_hashes
    for collide in ((), ("buyer_id#1",), ("buyer_id#1", "ship_address_id#1")):
        if collide:  # every value hashes alike: the check sees it and that column's
            # strings decide (both columns at once: two link threads query the backend)

            def colliding(
                frame: Any, columns: Any, *args: Any, _hit: Any = collide, **kwargs: Any
            ) -> Any:
                table = real(frame, columns, *args, **kwargs)
                for name in _hit:
                    if table is not None and name in table.column_names:
                        zeros = np.zeros(table.num_rows, dtype=np.uint64)
                        at = table.column_names.index(name)
                        table = table.set_column(at, name, pa.array(zeros))
                return table

            monkeypatch.setattr(kernel, "_native_hashes", colliding)
        got = kernel.sparse_links(sellers, orders, ids, *args)
        assert set(got) == set(want)
        for link, pairs in want.items():
            for field in ("a", "b", "n_shared", "weight", "degree"):
                np.testing.assert_array_equal(getattr(got[link], field), getattr(pairs, field))


def test_seller_ids_typed_apart_go_back_to_the_strings(small_market: dict[str, object]) -> None:
    """Equal ids stored as text and as categories would hash apart: no hashed hand-off."""
    import narwhals as nw
    import pandas as pd
    import polars as pl

    from riskscore.features import _network_sparse as kernel
    from riskscore.features.network import ORDER_LINKS

    sellers_pd, orders_pd = small_market["sellers"], small_market["orders"]
    assert isinstance(sellers_pd, pd.DataFrame) and isinstance(orders_pd, pd.DataFrame)
    ids = pd.Index(sellers_pd["seller_id"].to_numpy(dtype=object))
    sellers = nw.from_native(pl.from_pandas(sellers_pd)).lazy()
    orders = nw.from_native(
        pl.from_pandas(orders_pd).with_columns(pl.col("seller_id").cast(pl.Categorical))
    ).lazy()
    assert kernel._hashed_orders(orders, sellers, ids, list(ORDER_LINKS.values())) is None
    same = nw.from_native(pl.from_pandas(orders_pd)).lazy()
    assert kernel._hashed_orders(same, sellers, ids, list(ORDER_LINKS.values())) is not None


def test_distinct_counts_see_the_top_bit_of_unsigned_hashes() -> None:
    from riskscore.features._network_sparse import _distinct, _run_starts

    values = np.array([1, 2**63, 2**63, 2**63 + 1, 2**64 - 1], dtype=np.uint64)
    assert _run_starts(values, 0).tolist() == [True, True, False, True, True]
    assert _distinct(values[::-1].copy()).size == 4


def test_polars_joins_each_order_to_its_seller_position(small_market: dict[str, object]) -> None:
    """The joined positions equal the string lookup's, -1 for a seller not known."""
    import narwhals as nw
    import pandas as pd
    import polars as pl

    from riskscore.features import _network_sparse as kernel
    from riskscore.features.network import ORDER_LINKS

    sellers_pd, orders_pd = small_market["sellers"], small_market["orders"]
    assert isinstance(sellers_pd, pd.DataFrame) and isinstance(orders_pd, pd.DataFrame)
    orders_pd = orders_pd.copy()
    orders_pd.loc[orders_pd.index[:7], "seller_id"] = "not-a-known-seller"
    ids = pd.Index(sellers_pd["seller_id"].to_numpy(dtype=object)[::-1])  # not the row order
    sellers = nw.from_native(pl.from_pandas(sellers_pd)).lazy()
    orders = nw.from_native(pl.from_pandas(orders_pd)).lazy()
    got = kernel._hashed_orders(orders, sellers, ids, list(ORDER_LINKS.values()))
    assert got is not None
    want = kernel._positions(pa.array(orders_pd["seller_id"].to_numpy(dtype=object)), ids)
    # the join returns rows in any order (each row's own hashes beside its position:
    # ``test_hashing_query_finds_seller_positions`` checks them row by row)
    np.testing.assert_array_equal(np.sort(got[0]), np.sort(want))
    assert (got[0] == -1).sum() == 7


@settings(max_examples=100, deadline=None)
@given(
    codes=st.lists(st.integers(-1, 5), min_size=1, max_size=40),
    top_clash=st.booleans(),
)
def test_hashed_codes_with_missing_rows_match_the_values(codes: list[int], top_clash: bool) -> None:
    """Missing rows get -1 and equal values equal codes, whichever rows are missing."""
    from riskscore.features._network_sparse import _hashed_codes

    value = np.array(codes)
    valid = value >= 0
    # value v hashes to (v + 1) << 40 (v = 0 and 1 share their top 20 bits when top_clash),
    # a missing value to (0, 0)
    h1 = ((value + 1).astype(np.uint64) << np.uint64(40)) * valid
    if top_clash:
        h1[value == 1] = (np.uint64(1) << np.uint64(40)) + np.uint64(7)
    h2 = (value + 100).astype(np.uint64) * valid
    got = _hashed_codes(h1.astype(np.uint64), h2, (0, 0), 20)
    assert got is not None
    assert (got[~valid] == -1).all() and (got[valid] >= 0).all()
    for a in range(value.size):
        for b in range(value.size):
            if valid[a] and valid[b]:
                assert (got[a] == got[b]) == (value[a] == value[b])


@settings(max_examples=150, deadline=None)
@given(
    rows=rows,
    cap=st.integers(2, 6),
    min_shared=st.integers(1, 3),
    cut=st.integers(0, 7),
    identifier=st.booleans(),
)
def test_spark_partition_passes_equal_brute_force(
    rows: list[tuple[int, int]], cap: int, min_shared: int, cut: int, identifier: bool
) -> None:
    # the two passes of the Spark links on the rows Spark would hand them: holdings from
    # (link, key, pos) rows split by key into two partitions, each in two batches, then
    # pairs and seller figures with the holding rows split by first seller into two
    # partitions (any split by value and by seller must give the same pairs, each pair
    # from one partition only; a seller's values may come in a row per first partition)
    from riskscore.features._network_spark import _count_pairs, _holder_rows

    n = 7
    pos = [r[0] for r in rows]
    key = [r[1] for r in rows]
    link = 0 if identifier else 1
    # a value travels as two hashes: values k and k + 3 share the first (``key``), so the
    # second (``check``, in the tag's high bits beside the slot link * n + pos) must tell
    # them apart
    members = [
        {"key": k % 3, "tag": k << 32 | (link * n + p)}
        for p, k in zip(pos, key, strict=True)
        if p >= 0 and k >= 0
    ]
    caps = (cap, cap) if identifier else (99, cap)
    schema = pa.schema(
        [
            ("link", pa.int32()),
            ("a", pa.int64()),
            ("values", pa.int64()),
            ("total", pa.int64()),
            ("later", pa.binary()),
        ]
    )
    holding = []
    for parity in (0, 1):
        part = [m for m in members if m["key"] % 2 == parity]
        batches = [pa.RecordBatch.from_pylist(b) for b in (part[:3], part[3:]) if b]
        holding += pa.Table.from_batches(
            _holder_rows(iter(batches), n_sellers=n, n_identifier=1, caps=caps, hub_bits=3),
            schema=schema,
        ).to_pylist()
    got: dict[tuple[int, int], tuple[int, float]] = {}
    degree = [0] * n
    summed = [0.0] * n
    for part in ([r for r in holding if r["a"] < cut], [r for r in holding if r["a"] >= cut]):
        batches = [pa.RecordBatch.from_pylist(p, schema=schema) for p in (part[:1], part[1:]) if p]
        for out in _count_pairs(
            iter(batches), n_sellers=n, n_identifier=1, min_shared=min_shared, hub_bits=3
        ):
            for row in out.to_pylist():
                if row["seller"]:
                    degree[row["id"]] += row["count"]
                    summed[row["id"]] += row["total"]
                    continue
                ab = (row["id"] // n, row["id"] % n)
                assert ab not in got  # a pair is counted in one partition only
                got[ab] = (row["count"], row["total"])
    want, want_degree, _, s2 = _reference(pos, key, n, cap, 1 if identifier else min_shared)
    assert set(got) == set(want)
    for ab, (c, w) in want.items():
        assert got[ab][0] == c
        assert got[ab][1] == pytest.approx(w, rel=1e-12)
    assert degree == want_degree
    assert sum(summed) == pytest.approx(s2)  # each value: h holders, h each


def test_spark_holder_rows_split_lists_at_the_offset_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches keep each seller's list whole and at most the limit of entries each."""
    from riskscore.features import _network_spark as spark

    monkeypatch.setattr(spark, "_MAX_LIST_ENTRIES", 3)
    later = np.arange(9, dtype=np.int64)
    ends = np.array([2, 5, 5, 9])  # lists of 2, 3, 0 and 4 entries (over the limit)
    batches = list(
        spark._seller_blocks(
            1, np.array([0, 3, 4, 6]), np.array([1, 2, 1, 3]), np.array([4, 5, 2, 9]), ends, later
        )
    )
    assert [b.num_rows for b in batches] == [1, 2, 1]
    rows = pa.Table.from_batches(batches).to_pydict()
    assert rows["a"] == [0, 3, 4, 6]
    assert rows["values"] == [1, 2, 1, 3] and rows["total"] == [4, 5, 2, 9]
    later = [np.frombuffer(value, "<i8").tolist() for value in rows["later"]]
    assert later == [[0, 1], [2, 3, 4], [], [5, 6, 7, 8]]
    assert set(rows["link"]) == {1}


def test_spark_holder_rows_refuse_a_list_longer_than_arrow_offsets(monkeypatch) -> None:
    """One seller's list past 32-bit offsets is an error, not offsets that wrap around."""
    from riskscore.features import _network_spark as spark

    monkeypatch.setattr(spark, "_MAX_LIST_ENTRIES", 3)
    monkeypatch.setattr(spark, "_MAX_OFFSET", 3)
    later = np.arange(9, dtype=np.int64)
    ends = np.array([2, 5, 5, 9])  # the last seller's 4 entries cannot be one list
    blocks = spark._seller_blocks(
        1, np.array([0, 3, 4, 6]), np.array([1, 2, 1, 3]), np.array([4, 5, 2, 9]), ends, later
    )
    assert [b.num_rows for b in itertools.islice(blocks, 2)] == [1, 2]  # the others fit
    with pytest.raises(FeatureError, match="seller position 6 has 4 later holders"):
        next(blocks)


@pytest.mark.parametrize("library", ["polars", "duckdb"])
@pytest.mark.parametrize("kind", ["text", "integer"])
def test_missing_values_hash_to_the_pair_the_codes_leave_out(library: str, kind: str) -> None:
    """A missing value's hashes in a large query are the pair computed on one null row,
    and the codes of those rows are -1 (the others coded as the values themselves)."""
    import narwhals as nw
    import pandas as pd

    from riskscore.features import _network_sparse as kernel

    rng = np.random.default_rng(3)
    raw = rng.integers(0, 50, 5000)
    values = pd.Series(raw).astype("Int64" if kind == "integer" else str).astype(object)
    values[raw % 7 == 0] = None
    frame = pd.DataFrame({"v": values.astype("Int64" if kind == "integer" else object)})
    # in pieces, one of them without a missing value (no validity of its own): a null's
    # hash must not depend on the piece it sits in
    cuts = [0, 700, 701, 3000, 5000]
    frame.loc[700, "v"] = 1 if kind == "integer" else "1"
    raw[700] = 1
    pieces = [frame.iloc[a:b] for a, b in itertools.pairwise(cuts)]
    if library == "polars":
        import polars as pl

        native: object = pl.concat([pl.from_pandas(p) for p in pieces], rechunk=False)
        assert native.n_chunks() == 4
    else:
        import duckdb

        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        whole = pa.concat_tables([arrow.slice(a, z - a) for a, z in itertools.pairwise(cuts)])
        assert whole.num_rows == 5000 and whole["v"].num_chunks == 4
        native = duckdb.connect().from_arrow(whole)
    lazy = nw.from_native(native).lazy()
    table = kernel._native_hashes(lazy, ["v"])
    assert table is not None and table["v#1"].null_count == 0
    missing = kernel._missing_hashes(lazy, ["v"])
    h1 = table["v#1"].to_numpy()
    at_null = h1 == np.uint64(missing["v"][0])
    assert at_null.sum() == (raw % 7 == 0).sum() > 0  # the missing rows and no others
    assert (table["v#2"].to_numpy()[at_null] == np.uint64(missing["v"][1])).all()
    pair = kernel._hash_pair(table, "v")
    assert pair is not None
    codes = kernel._hashed_codes(*pair, missing["v"], 40)
    assert codes is not None
    want = kernel._codes(pa.array(frame["v"].to_numpy(dtype=object), from_pandas=True))
    assert ((codes == -1) == (want == -1)).all()
    for a, b in itertools.combinations(range(0, 5000, 97), 2):
        assert (codes[a] == codes[b]) == (want[a] == want[b])


@pytest.mark.parametrize("library", ["polars", "duckdb"])
@pytest.mark.parametrize("integer_ids", [False, True])
def test_hashing_query_finds_seller_positions(library: str, integer_ids: bool) -> None:
    """The join in the hashing query: unknown and missing sellers -1, a repeated id its
    first node, ids typed as in the orders (text or integers)."""
    import narwhals as nw
    import pandas as pd

    from riskscore.features import _network_sparse as kernel

    sellers = ["b", "a", "zz", None, "a", "c"]
    node_ids = ["c", "a", "b", "a"]  # "a" twice: its first node, 1
    want = [2, 1, -1, -1, 1, 0]
    if integer_ids:
        code = {"a": 1, "b": 2, "c": 3, "zz": 99}
        sellers = [None if v is None else code[v] for v in sellers]
        node_ids = [code[v] for v in node_ids]
    rows = [f"row{i}" for i in range(len(sellers))]  # tells the rows apart by their hash

    def hashed(frame: pd.DataFrame, ids: pd.Index | None) -> pa.Table:
        if integer_ids:
            frame = frame.astype({"seller_id": "Int64"})
        if library == "polars":
            import polars as pl

            native: object = pl.from_pandas(frame)
        else:
            import duckdb

            native = duckdb.connect().from_arrow(pa.Table.from_pandas(frame, preserve_index=False))
        table = kernel._native_hashes(nw.from_native(native).lazy(), ["row"], ids)
        assert table is not None
        return table

    table = hashed(pd.DataFrame({"seller_id": sellers, "row": rows}), pd.Index(node_ids))
    row_of = {
        hashed(pd.DataFrame({"seller_id": [None], "row": [r]}), None)["row#1"][0].as_py(): i
        for i, r in enumerate(rows)
    }
    pairs = zip(table["row#1"].to_pylist(), table["#pos"].to_pylist(), strict=True)
    got = {row_of[h]: p for h, p in pairs}
    assert got == dict(enumerate(want))


@pytest.mark.parametrize("name", ["_riskscore_ids", "_RISKSCORE_IDS"])
def test_a_catalogue_table_named_like_the_python_ids_stops_the_build(name: str) -> None:
    """DuckDB reads its own catalogue before Python's variables: a table named as the
    hashing query's id table would be joined in its place, so the build refuses."""
    import duckdb
    import narwhals as nw
    import pandas as pd

    from riskscore.features import _network_sparse as kernel

    con = duckdb.connect()
    frame = pd.DataFrame({"seller_id": ["a", "b"], "row": ["x", "y"]})
    orders = nw.from_native(con.from_arrow(pa.Table.from_pandas(frame))).lazy()
    got = kernel._native_hashes(orders, ["row"], pd.Index(["b", "a"]))
    assert got is not None and sorted(got["#pos"].to_pylist()) == [0, 1]
    con.execute(f"CREATE TABLE {name} AS SELECT 'a' AS seller_id, 7 AS pos")
    with pytest.raises(FeatureError, match=r"_riskscore_ids.*Rename or drop"):
        kernel._native_hashes(orders, ["row"], pd.Index(["b", "a"]))


def test_duckdb_hashing_query_imports_the_sort_engine_before_it_returns() -> None:
    """On DuckDB, Polars (the kernel's sort) is imported in a thread during the hashing
    query, and that thread is done when the query returns: in a fresh interpreter, Polars
    is in ``sys.modules`` afterwards and no import thread is left running."""
    import subprocess
    import sys
    import textwrap

    pytest.importorskip("polars")  # an optional extra: without it numpy sorts
    script = textwrap.dedent(
        """
        import sys, threading
        import duckdb, narwhals as nw, pandas as pd, pyarrow as pa
        from riskscore.features import _network_sparse as kernel
        assert "polars" not in sys.modules, "imported before the query"
        frame = pa.table({"seller_id": ["a", "b"], "row": ["x", "y"]})
        orders = nw.from_native(duckdb.connect().from_arrow(frame)).lazy()
        got = kernel._native_hashes(orders, ["row"], pd.Index(["b", "a"]))
        assert sorted(got["#pos"].to_pylist()) == [0, 1]
        alive = [t.name for t in threading.enumerate() if t.name == "riskscore-import-polars"]
        print("polars" in sys.modules, alive)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2:] == ["True []", ""]


@pytest.mark.parametrize("kind", [pa.binary(), pa.large_binary()])
def test_spark_later_entries_read_in_place_from_any_offset(kind: pa.DataType) -> None:
    """The later holders come back from a sliced binary column of either offset width."""
    from riskscore.features._network_spark import _later_entries

    values = [[5, 7], [], [9], [11, 13, 15]]
    column = pa.array([np.array(v, "<i8").tobytes() for v in values], kind).slice(1, 3)
    lengths, entries = _later_entries(column)
    assert lengths.tolist() == [0, 1, 3]
    assert entries.tolist() == [9, 11, 13, 15]
    lengths, entries = _later_entries(column.slice(0, 1))  # no later holders at all
    assert lengths.tolist() == [0] and entries.size == 0
